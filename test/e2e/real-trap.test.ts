/**
 * Real end to end as root: trap policies. Two namespaces (prefix `tst-`) joined by a veth link, two
 * `node dist/src/cli/main.js up` processes, both with `start_action = trap`: nothing is negotiated at
 * start, yet each side already routes the peer's subnet into its TUN device (the trap); a ping raises an
 * acquire, which brings up one IKE SA and the child, and later pings pass. `status --json` lists the
 * traps; on exit the routes are gone. The `up` process runs with a 16-thread libuv pool (cli/main.ts).
 *
 * Outside CI without root it does not run, and says so; in CI it must run.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, deleteNamespacesWithPrefix } from '../../src/runtime/netns.js';
import { controlRequest } from '../../src/runtime/control.js';
import type { TunnelStatus } from '../../src/runtime/tunnel.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const PREFIX = 'tst-';

function enabled(): boolean {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  if (!existsSync(cli)) missing.push('dist/ (npm run build)');
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`real trap e2e: missing in CI: ${missing.join(', ')}`);
  console.warn(`\n!!! real trap e2e NOT RUN: missing ${missing.join(', ')} !!!\n`);
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Side { name: 'a' | 'b'; ns: string; socket: string; conf: string; addr: string; lan: string; veth: string; tun: string; child?: ChildProcess; out: string }

function conf(me: Side, peer: Side): string {
  return `connections {
  tst {
    local_addrs = ${me.addr}
    remote_addrs = ${peer.addr}
    proposals = aes128gcm16-prfsha256-x25519
    encap = yes
    local {
      auth = psk
      id = ${me.name}.tst.test
    }
    remote {
      auth = psk
      id = ${peer.name}.tst.test
    }
    children {
      net {
        local_ts = ${me.lan}/32
        remote_ts = ${peer.lan}/32
        esp_proposals = aes128gcm16
        start_action = trap
      }
    }
  }
}
secrets {
  ike-tst {
    id-a = a.tst.test
    id-b = b.tst.test
    secret = "tst trap test pre-shared key of enough length"
  }
}
`;
}

describe.runIf(enabled())('real namespaces: start_action = trap on both sides', () => {
  const lab = new NetnsLab(PREFIX);
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-trap-'));
  const mk = (name: 'a' | 'b', i: number): Side => ({
    name, ns: name, socket: join(work, `${name}.sock`), conf: join(work, `${name}.conf`),
    addr: `198.18.47.${i}`, lan: `198.19.47.${i}`, veth: `tst${name}0`, tun: `tst${name}%d`, out: '',
  });
  const a = mk('a', 1);
  const b = mk('b', 2);
  const log = () => `--- A ---\n${a.out.slice(-5000)}\n--- B ---\n${b.out.slice(-5000)}`;

  beforeAll(async () => {
    await deleteNamespacesWithPrefix(PREFIX);
  });
  afterAll(async () => {
    await lab.cleanup();
    rmSync(work, { recursive: true, force: true });
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/tst-/);
  });

  const status = (s: Side) => controlRequest(s.socket, { cmd: 'status' }, 3000) as Promise<TunnelStatus>;
  const routeDev = async (s: Side, to: string, from: string) => {
    const r = await lab.execIn(s.ns, 'ip', ['-j', 'route', 'get', to, 'from', from]);
    return (JSON.parse(r.stdout) as Array<{ dev?: string }>)[0]?.dev ?? '';
  };
  async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try { if (await cond()) return; } catch (e) { last = (e as Error).message; }
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what} (${last})\n${log()}`);
  }
  const ping = async (count: number) => {
    const r = await lab.execIn('a', 'ping', ['-c', String(count), '-i', '0.2', '-W', '3', '-I', a.lan, b.lan], { timeoutMs: 30_000 }).catch((e: Error) => ({ stdout: e.message }));
    return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  };

  it('a ping triggers the IKE SA; the first and later pings pass; routes go on exit', async () => {
    await lab.createNamespace('a');
    await lab.createNamespace('b');
    await lab.vethPair('a', a.veth, `${a.addr}/24`, 'b', b.veth, `${b.addr}/24`);
    for (const s of [a, b]) {
      await lab.execIn(s.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']).catch(() => undefined);
      await lab.execIn(s.ns, 'ip', ['addr', 'add', `${s.lan}/32`, 'dev', 'lo']);
    }
    writeFileSync(a.conf, conf(a, b), { mode: 0o600 });
    writeFileSync(b.conf, conf(b, a), { mode: 0o600 });
    for (const s of [b, a]) {
      s.child = lab.spawnIn(s.ns, process.execPath, [cli, 'up', '--config', s.conf, '--socket', s.socket, '--tun', s.tun, '--log-level', 'info']);
      s.child.stdout?.on('data', (d: Buffer) => { s.out += d.toString(); });
      s.child.stderr?.on('data', (d: Buffer) => { s.out += d.toString(); });
      await waitFor(`${s.name} control socket`, () => existsSync(s.socket), 20_000);
    }

    // main.ts re-executed `up` in place (same PID) with a 16-thread libuv pool: 1 main + 16 pool + V8/koffi threads.
    expect(readdirSync(`/proc/${a.child!.pid}/task`).length, 'threads of the up process').toBeGreaterThanOrEqual(17);

    // Trap installed on both sides, nothing negotiated yet.
    for (const s of [a, b]) {
      const st = await status(s);
      expect(st.ikeSas).toEqual([]);
      expect(st.traps).toEqual([expect.objectContaining({ connection: 'tst', child: 'net', reason: 'start_action', acquires: 0 })]);
    }
    // The trap's route already sends the peer's subnet into the TUN device, before any SA.
    const tunA = (await status(a)).tun!.name;
    const tunB = (await status(b)).tun!.name;
    await waitFor('trap routes on both sides', async () => (await routeDev(a, b.lan, a.lan)) === tunA && (await routeDev(b, a.lan, b.lan)) === tunB, 10_000);

    // The first ping raises the acquire; its packet is held and sent once the child is up.
    const first = await ping(1);
    await waitFor('child up on both sides', async () => {
      for (const s of [a, b]) if ((await status(s)).ikeSas.flatMap((x) => x.children).filter((c) => c.state === 'installed').length !== 1) return false;
      return true;
    }, 15_000);
    expect(await ping(3), log()).toBe(3);
    expect(first, `first ping (held while the SA was negotiated)\n${log()}`).toBe(1);

    const sa = await status(a);
    const sb = await status(b);
    expect(sa.ikeSas).toHaveLength(1);
    expect(sb.ikeSas).toHaveLength(1);
    expect(sa.ikeSas[0]!.initiator).toBe(true);
    expect(sa.traps[0]).toMatchObject({ acquires: 1, acquiring: false });
    expect(sa.traps[0]!.released).toBeGreaterThanOrEqual(1);
    expect(sb.traps[0]!.acquires).toBe(0);
    expect(sa.ikeSas[0]!.childCounters[0]!.packetsOut).toBeGreaterThanOrEqual(4);

    // On exit the routes (trap and child) go with the TUN device.
    for (const s of [a, b]) {
      s.child!.kill('SIGTERM');
      await new Promise<void>((r) => { if (s.child!.exitCode !== null) r(); else s.child!.once('exit', () => r()); });
    }
    const left = await lab.execIn('a', 'ip', ['-j', 'route', 'show', 'table', 'all']);
    expect(left.stdout).not.toContain(b.lan);
  }, 90_000);
});
