/**
 * Configuration reload: the pure diff (planReload), and applyReload on two running Tunnels over a
 * MemoryNetwork: unchanged SAs keep their SPIs, added children come up, removed ones go, a changed
 * connection gets a new IKE SA, a removed one is deleted on both sides.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../src/net/memory.js';
import { MemoryTun } from '../../../src/tun/memory.js';
import { Tunnel, type TunnelEvent } from '../../../src/runtime/tunnel.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import { resolveConfig, type IkeChildConfigInput, type IkeConfig } from '../../../src/ike/config.js';
import { applyReload, planReload, sameConfigValue } from '../../../src/runtime/reload.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const PSK = new TextEncoder().encode('reload test pre-shared key');

function child(name: string, side: 'a' | 'b', octet: number, start = true): IkeChildConfigInput {
  const l = side === 'a' ? 1 : 2;
  const r = side === 'a' ? 2 : 1;
  return { name, localTs: [`198.19.${l}.${octet}/32`], remoteTs: [`198.19.${r}.${octet}/32`], espProposals: ['aes128gcm16'], mode: 'tunnel', startAction: side === 'a' && start ? 'start' : 'none' };
}

function config(side: 'a' | 'b', o: { children?: string[]; proposals?: string; conns?: string[] } = {}): IkeConfig {
  const me = side === 'a' ? A : B;
  const peer = side === 'a' ? B : A;
  return resolveConfig({
    connections: (o.conns ?? ['gw']).map((name, ci) => ({
      name, localAddrs: [me], remoteAddrs: [peer], proposals: [o.proposals ?? 'aes128gcm16-prfsha256-x25519'], encap: true,
      local: { auth: 'psk' as const, id: `${side}.${name}.test`, psk: PSK },
      remote: { auth: 'psk' as const, id: `${side === 'a' ? 'b' : 'a'}.${name}.test`, psk: PSK },
      children: (o.children ?? ['net']).map((c, i) => child(ci === 0 ? c : `${name}-${c}`, side, 10 * ci + i + 1)),
    })),
  });
}

describe('planReload', () => {
  it('sorts connections into added, removed, changed and unchanged, and children of unchanged ones', () => {
    const old = config('a', { conns: ['gw', 'old', 'mod'], children: ['net', 'gone', 'same'] }).connections;
    const nextCfg = config('a', { conns: ['gw', 'mod', 'new'], children: ['net', 'same', 'extra'] });
    // 'mod' changes its own settings: dpd
    const next = nextCfg.connections.map((c) => (c.name === 'mod' ? { ...c, dpdDelayMs: 30_000 } : c));
    // 'gw.same' changes its selectors
    const gw = next.find((c) => c.name === 'gw')!;
    const changedGw = { ...gw, children: gw.children.map((ch) => (ch.name === 'same' ? { ...ch, remoteTs: ['198.19.2.99/32'] } : ch)) };
    const plan = planReload(old, next.map((c) => (c.name === 'gw' ? changedGw : c)));
    expect(plan.added).toEqual(['new']);
    expect(plan.removed).toEqual(['old']);
    expect(plan.changed).toEqual(['mod']);
    expect(plan.unchanged).toEqual(['gw']);
    expect(plan.childrenRemoved).toEqual(['gw.gone']);
    expect(plan.childrenAdded).toEqual(['gw.extra']);
    expect(plan.childrenChanged).toEqual(['gw.same']);
  });

  it('treats a new PSK as a change and equal bytes in a new array as no change', () => {
    const a = config('a').connections;
    const same = config('a').connections;
    expect(a[0]).not.toBe(same[0]);
    expect(planReload(a, same).unchanged).toEqual(['gw']);
    const psk = same.map((c) => ({ ...c, local: { ...c.local, psk: new TextEncoder().encode('another key') } }));
    expect(planReload(a, psk).changed).toEqual(['gw']);
    expect(sameConfigValue(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameConfigValue({ x: undefined, y: 1 }, { y: 1 })).toBe(true);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('applyReload on running tunnels (in memory)', () => {
  let tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels) await t.close();
    tunnels = [];
  });

  async function pair() {
    const net = new MemoryNetwork({ clock: systemClock });
    const udpA = net.endpoint(A);
    const udpB = net.endpoint(B);
    await udpA.bind({ ports: [500, 4500] });
    await udpB.bind({ ports: [500, 4500] });
    const a = new Tunnel({ config: config('a'), udp: udpA, tun: new MemoryTun({ name: 'a0' }), rng: seededRandom(21), keepaliveSec: 0 });
    const b = new Tunnel({ config: config('b'), udp: udpB, tun: new MemoryTun({ name: 'b0' }), rng: seededRandom(22), keepaliveSec: 0 });
    tunnels.push(a, b);
    const events: { a: TunnelEvent[]; b: TunnelEvent[] } = { a: [], b: [] };
    a.on((e) => events.a.push(e));
    b.on((e) => events.b.push(e));
    const settle = async (until: () => boolean) => {
      for (let i = 0; i < 300 && !until(); i++) { net.deliverUntil(systemClock.now()); await sleep(2); }
      for (let i = 0; i < 5; i++) { net.deliverUntil(systemClock.now()); await sleep(2); }
      expect(until()).toBe(true);
    };
    a.start();
    await settle(() => children(a).includes('gw.net') && children(b).includes('gw.net'));
    return { a, b, events, settle };
  }

  const children = (t: Tunnel) => t.status().ikeSas.flatMap((s) => s.children.filter((c) => c.state === 'installed').map((c) => `${s.name}.${c.name}`)).sort();
  const spis = (t: Tunnel) => t.status().ikeSas.map((s) => `${s.name}:${s.spiI}`).sort();
  const childSpi = (t: Tunnel, name: string) => t.status().ikeSas.flatMap((s) => s.children).find((c) => c.name === name)?.spiIn;

  it('adds and removes a child on the running IKE SA without touching the other child', async () => {
    const { a, b, settle } = await pair();
    const ike = spis(a);
    const net = childSpi(a, 'net');
    const rb = applyReload(b, config('b', { children: ['net', 'net2'] }));
    expect(rb.unchanged).toEqual(['gw']);
    expect(rb.childrenAdded).toEqual(['gw.net2']);
    expect(rb.initiated).toEqual([]); // responder side: start_action none
    const ra = applyReload(a, config('a', { children: ['net', 'net2'] }));
    expect(ra.initiated).toEqual(['gw.net2']);
    await settle(() => children(a).join() === 'gw.net,gw.net2' && children(b).join() === 'gw.net,gw.net2');
    expect(spis(a)).toEqual(ike);
    expect(childSpi(a, 'net')).toBe(net);

    const rm = applyReload(a, config('a'));
    expect(rm.childrenRemoved).toEqual(['gw.net2']);
    expect(rm.childSasDeleted).toBe(1);
    applyReload(b, config('b'));
    await settle(() => children(a).join() === 'gw.net' && children(b).join() === 'gw.net');
    expect(spis(a)).toEqual(ike);
    expect(childSpi(a, 'net')).toBe(net);
    // A reload of the same file changes nothing.
    const same = applyReload(a, config('a'));
    expect(same).toMatchObject({ unchanged: ['gw'], ikeSasDeleted: 0, childSasDeleted: 0, initiated: [] });
  });

  it('replaces a changed connection with a new IKE SA and deletes a removed one', async () => {
    const { a, b, events, settle } = await pair();
    const before = spis(a);
    applyReload(b, config('b', { proposals: 'aes256gcm16-prfsha384-ecp256', conns: ['gw', 'gw2'] }));
    const r = applyReload(a, config('a', { proposals: 'aes256gcm16-prfsha384-ecp256', conns: ['gw', 'gw2'] }));
    expect(r.changed).toEqual(['gw']);
    expect(r.added).toEqual(['gw2']);
    expect(r.ikeSasDeleted).toBe(1);
    expect(r.initiated).toEqual(['gw.net', 'gw2.gw2-net']);
    await settle(() => children(a).join() === 'gw.net,gw2.gw2-net' && children(b).join() === 'gw.net,gw2.gw2-net' && a.status().ikeSas.length === 2);
    const after = spis(a);
    expect(after.find((s) => s.startsWith('gw:'))).not.toBe(before[0]);
    expect(a.status().ikeSas.find((s) => s.name === 'gw')?.algorithms).toMatch(/AES_GCM_16_256.*ECP_256/);

    const down = events.b.length;
    const r2 = applyReload(a, config('a', { proposals: 'aes256gcm16-prfsha384-ecp256', conns: ['gw'] }));
    expect(r2.removed).toEqual(['gw2']);
    await settle(() => children(a).join() === 'gw.net' && children(b).join() === 'gw.net');
    expect(events.b.slice(down).some((e) => e.type === 'ike-down' && e.ikeName === 'gw2' && e.reason === 'peer')).toBe(true);
    expect(a.status().connections.map((c) => c.name)).toEqual(['gw']);
  });
});
