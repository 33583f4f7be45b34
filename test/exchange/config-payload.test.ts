/**
 * CP payload for a road warrior and its gateway (RFC 7296 §2.19, §3.15), two endpoints in memory:
 *
 *   A (vips = 0.0.0.0)   HDR, SK {IDi, AUTH, CP(CFG_REQUEST){INTERNAL_IP4_ADDRESS()}, SAi2, TSi(0.0.0.0/0), TSr}  -->
 *   B (pools = rw)                    <--  HDR, SK {IDr, AUTH, CP(CFG_REPLY){INTERNAL_IP4_ADDRESS(198.18.200.1)}, SAr2, TSi(198.18.200.1/32), TSr}
 *   exhausted pool:                   <--  HDR, SK {IDr, AUTH, N(INTERNAL_ADDRESS_FAILURE)}      (§3.10.1: no Child SA)
 */
import { describe, expect, it } from 'vitest';
import type { IkeConfigInput } from '../../src/ike/config.js';
import { formatTs } from '../../src/ike/traffic-selectors.js';
import { Pair, pskConn } from './harness.js';

const POOL = { name: 'rw', addrs: '198.18.200.0/24', dns: ['198.18.200.53'] };

function roadWarrior(opts: { vips?: string[]; pools?: IkeConfigInput['pools']; secondConn?: boolean } = {}): Pair {
  const aConn = pskConn('a', { vips: opts.vips ?? ['0.0.0.0'] }, { localTs: ['dynamic'], remoteTs: ['198.19.2.0/24'] });
  const cfgA: IkeConfigInput = { connections: opts.secondConn ? [aConn, { ...aConn, name: 'gw2' }] : [aConn] };
  const cfgB: IkeConfigInput = {
    connections: [pskConn('b', { pools: ['rw'] }, { localTs: ['198.19.2.0/24'], remoteTs: ['dynamic'] })],
    pools: opts.pools ?? [POOL],
  };
  return new Pair(cfgA, cfgB, { delayMs: 5 });
}

describe('CP: virtual IP for a road-warrior client (RFC 7296 §2.19)', () => {
  it('CFG_REQUEST with INTERNAL_IP4_ADDRESS is answered from the pool; TSi is narrowed to the address', () => {
    const p = roadWarrior();
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1 && p.count('b', 'child-up') === 1)).toBe(true);
    // The first host address of 198.18.200.0/24 (network address excluded).
    expect(p.of('a', 'ike-up')[0]!.localVips).toEqual(['198.18.200.1']);
    expect(p.of('b', 'ike-up')[0]!.remoteVips).toEqual(['198.18.200.1']);
    const ca = p.of('a', 'child-up')[0]!;
    const cb = p.of('b', 'child-up')[0]!;
    expect(ca.localVips).toEqual(['198.18.200.1']);
    expect(ca.tsLocal.map(formatTs)).toEqual(['198.18.200.1/32']);
    expect(cb.tsRemote.map(formatTs)).toEqual(['198.18.200.1/32']);
    expect(cb.tsLocal.map(formatTs)).toEqual(['198.19.2.0/24']);
    expect(p.b.pools.leasesOf(p.of('b', 'ike-up')[0]!.ikeId)).toEqual(['198.18.200.1']);
  });

  it('a concrete vips address is requested and granted when free', () => {
    const p = roadWarrior({ vips: ['198.18.200.77'] });
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1)).toBe(true);
    expect(p.of('a', 'ike-up')[0]!.localVips).toEqual(['198.18.200.77']);
    expect(p.of('a', 'child-up')[0]!.tsLocal.map(formatTs)).toEqual(['198.18.200.77/32']);
  });

  it('IPv4 and IPv6 together: one address per family, TSi narrowed to both', () => {
    const q = new Pair(
      { connections: [pskConn('a', { vips: ['0.0.0.0', '::'] }, { localTs: ['dynamic'], remoteTs: ['198.19.2.0/24'] })] },
      { connections: [pskConn('b', { pools: ['rw', 'rw6'] }, { localTs: ['198.19.2.0/24'], remoteTs: ['dynamic'] })], pools: [POOL, { name: 'rw6', addrs: '2001:db8:200::/120' }] },
      { delayMs: 5 },
    );
    q.a.initiate(q.now, 'gw');
    expect(q.runUntil(() => q.count('a', 'child-up') === 1)).toBe(true);
    expect(q.of('a', 'ike-up')[0]!.localVips).toEqual(['198.18.200.1', '2001:db8:200::']);
    expect(q.of('a', 'child-up')[0]!.tsLocal.map(formatTs).sort()).toEqual(['198.18.200.1/32', '2001:db8:200::/128']);
  });

  it('the lease is released when the IKE SA is deleted, and handed out again', () => {
    const p = roadWarrior();
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1)).toBe(true);
    expect(p.b.pools.status()[0]!.leased).toBe(1);
    p.a.terminateIke(p.now, p.of('a', 'ike-up')[0]!.ikeId);
    expect(p.runUntil(() => p.count('b', 'ike-down') === 1)).toBe(true);
    expect(p.of('b', 'ike-down')[0]!.reason).toBe('peer');
    expect(p.b.pools.status()[0]!.leased).toBe(0);
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 2)).toBe(true);
    expect(p.of('a', 'ike-up')[1]!.localVips).toEqual(['198.18.200.2']); // next-fit: the next free address
    expect(p.b.pools.status()[0]!.leased).toBe(1);
  });

  it('the lease survives an IKE SA rekey and a later CREATE_CHILD_SA uses the virtual IP as dynamic', () => {
    const p = roadWarrior();
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1)).toBe(true);
    const id = p.of('a', 'ike-up')[0]!.ikeId;
    p.a.rekeyIke(p.now, id);
    expect(p.runUntil(() => p.count('a', 'ike-rekeyed') === 1 && p.count('b', 'ike-rekeyed') === 1)).toBe(true);
    p.run(20_000);
    expect(p.b.pools.status()[0]!.leased).toBe(1);
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 2)).toBe(true);
    const second = p.of('a', 'child-up')[1]!;
    expect(second.tsLocal.map(formatTs)).toEqual(['198.18.200.1/32']);
    expect(second.localVips).toEqual(['198.18.200.1']);
  });

  it('pool exhausted: N(INTERNAL_ADDRESS_FAILURE), no child on either side, the client deletes the IKE SA', () => {
    const p = roadWarrior({ pools: [{ name: 'rw', addrs: '198.18.200.10-198.18.200.10' }], secondConn: true });
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1)).toBe(true);
    p.a.initiate(p.now, 'gw2');
    expect(p.runUntil(() => p.count('a', 'child-failed') === 1 && p.count('b', 'ike-down') === 1 && p.count('a', 'ike-down') === 1)).toBe(true);
    expect(p.of('a', 'child-failed')[0]!.reason).toBe('INTERNAL_ADDRESS_FAILURE');
    expect(p.of('b', 'child-failed')[0]!.reason).toBe('INTERNAL_ADDRESS_FAILURE');
    expect(p.count('b', 'child-up')).toBe(1);
    expect(p.of('a', 'ike-down')[0]!.ikeName).toBe('gw2');
    // The first client keeps its address.
    expect(p.b.pools.status()[0]!.leased).toBe(1);
    expect(p.a.status().map((s) => s.name)).toEqual(['gw']);
  });

  it('a responder without pools sends no CFG_REPLY: the client gives the IKE SA up', () => {
    const p = new Pair(
      { connections: [pskConn('a', { vips: ['0.0.0.0'] }, { localTs: ['dynamic'], remoteTs: ['198.19.2.0/24'] })] },
      { connections: [pskConn('b', {}, { localTs: ['198.19.2.0/24'], remoteTs: ['0.0.0.0/0'] })] },
      { delayMs: 5 },
    );
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'ike-down') === 1 && p.count('b', 'ike-down') === 1)).toBe(true);
    expect(p.of('a', 'child-failed')[0]!.reason).toBe('peer assigned no virtual IP');
    expect(p.count('a', 'child-up')).toBe(0);
  });
});

describe('CP config (resolveConfig)', () => {
  it('rejects a connection naming an undefined pool, a bad pool range and a non-IP vip', async () => {
    const { resolveConfig } = await import('../../src/ike/config.js');
    expect(() => resolveConfig({ connections: [pskConn('b', { pools: ['nope'] })] })).toThrow(/connections\[gw\]\.pools.*'nope'/);
    expect(() => resolveConfig({ connections: [pskConn('b')], pools: [{ name: 'x', addrs: '198.18.200.9-198.18.200.1' }] })).toThrow(/pools\[0\]\.addrs/);
    expect(() => resolveConfig({ connections: [pskConn('a', { vips: ['any'] })] })).toThrow(/connections\[gw\]\.vips/);
    expect(() => resolveConfig({ connections: [pskConn('b')], pools: [POOL, POOL] })).toThrow(/pools\.rw is defined twice/);
  });
});
