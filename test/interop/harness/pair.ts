/**
 * One tsipsec ↔ charon pair on a topology: tsipsec in <p>-a (198.18.10.1, a.ipx.test, LAN 198.19.1.0/24),
 * charon with kernel-libipsec in <p>-b (198.18.10.2, b.ipx.test, LAN 198.19.2.0/24), both from
 * scenarioConf with per-side overrides; plus the checks the scenarios share (SA lists, ping, bounded
 * waits). Every wait here is bounded.
 */
import { join } from 'node:path';
import type { Topology } from './topology.js';
import { Charon } from './strongswan.js';
import { TsipsecProc } from './tsipsec.js';
import { run, waitFor } from './sh.js';
import { scenarioConf, type ScenarioConf } from './conf.js';

export type Side = 'tsipsec' | 'strongswan';
type Overrides = Partial<Omit<ScenarioConf, 'local' | 'remote' | 'localId' | 'remoteId' | 'localTs' | 'remoteTs'>>;

export interface Pair {
  ts: TsipsecProc;
  ss: Charon;
  dir: string;
  t: Topology;
}

export function makePair(t: Topology, dir: string, tsOpts: Overrides = {}, ssOpts: Overrides = {}, charonSettings?: string): Pair {
  const ts = new TsipsecProc(t.nsA, join(dir, 'a'), scenarioConf({ local: t.addrA, remote: t.addrB, localId: 'a.ipx.test', remoteId: 'b.ipx.test', localTs: '198.19.1.0/24', remoteTs: '198.19.2.0/24', encap: true, ...tsOpts }));
  const ss = new Charon({ name: 'b', ns: t.nsB, dir: join(dir, 'b'), libipsec: true, charonSettings,
    swanctlConf: scenarioConf({ local: t.addrB, remote: t.addrA, localId: 'b.ipx.test', remoteId: 'a.ipx.test', localTs: '198.19.2.0/24', remoteTs: '198.19.1.0/24', ...ssOpts }) });
  return { ts, ss, dir, t };
}

export async function startPair(p: Pair): Promise<void> {
  await p.ss.start();
  await p.ts.start();
}

export async function stopPair(p: Pair): Promise<void> {
  await p.ts.stop();
  await p.ss.stop();
}

/** swanctl --initiate --child ipx (bounded by charon's own --timeout). */
export async function ssInitiate(p: Pair, timeoutSec = 15): Promise<{ code: number; out: string }> {
  const r = await p.ss.swanctl(['--initiate', '--child', 'ipx', '--timeout', String(timeoutSec)], (timeoutSec + 5) * 1000);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Brings the tunnel up from `initiator` and waits until both sides list the child and routes are in. */
export async function bringUp(p: Pair, initiator: Side): Promise<void> {
  if (initiator === 'tsipsec') await p.ts.initiate('ipx', 20_000);
  else {
    const r = await ssInitiate(p);
    if (r.code !== 0) throw new Error(`swanctl --initiate failed: ${r.out}\n${p.ts.output().slice(-3000)}`);
  }
  await waitFor('tsipsec child SA', async () => (await p.ts.status()).ikeSas.some((s) => s.children.length > 0), 10_000);
  await waitFor('charon child SA', async () => (await p.ss.sas()).children.length > 0, 10_000);
  await waitFor('route via the TUN', async () => (await run('ip', ['-n', p.t.nsA, 'route', 'get', p.t.lanB])).stdout.includes('tsipx'), 5000);
}

/** Pings LAN B from LAN A; returns how many of `count` came back. */
export async function ping(p: Pair, count: number, intervalSec = 0.2, waitSec = 1): Promise<{ sent: number; received: number; out: string }> {
  const r = await run('ip', ['netns', 'exec', p.t.nsA, 'ping', '-n', '-q', '-c', String(count), '-i', String(intervalSec), '-W', String(waitSec), '-I', p.t.lanA, p.t.lanB],
    { timeoutMs: Math.ceil(count * intervalSec * 1000 + waitSec * 1000 + 15_000) });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  return { sent: m ? Number(m[1]) : 0, received: m ? Number(m[2]) : 0, out: r.stdout + r.stderr };
}

export async function tsIkeCount(p: Pair): Promise<number> {
  return (await p.ts.status()).ikeSas.length;
}

/** Waits until neither side has an IKE SA left. */
export async function waitNothingLeft(p: Pair, timeoutMs = 10_000): Promise<void> {
  await waitFor('no IKE SA on either side', async () => (await tsIkeCount(p)) === 0 && (await p.ss.sas()).ike.length === 0, timeoutMs, 200);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last `n` lines of charon's log without the hex dumps of ike = 4 (for failure messages). */
export function charonLogTail(p: Pair, n = 80): string {
  return p.ss.log().split('\n').filter((l) => !/^\S+ \d+\[\w+\] (<[^>]*> )?\s+\d+: /.test(l)).slice(-n).join('\n');
}
