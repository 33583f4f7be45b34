/**
 * End-to-end throughput bench: real tunnels between two network namespaces, measured with iperf3 and ping.
 *
 *   npm run build && node dist/bench/e2e/run.js [--seconds 10] [--reps 3]
 *       [--rows plaintext,tsipsec,tsipsec-strongswan,strongswan,wireguard] [--udp-seconds 3] [--udp-steps 5]
 *       [--udp-len 1372] [--readme bench/README.md] [--cpu-prof DIR] [--keep] [--rekey SEC]
 *
 * --rows also takes the ablation rows tsipsec-dgram (node:dgram instead of sendmmsg/recvmmsg) and
 * tsipsec-v0 (node:dgram and node:crypto's createCipheriv per packet: the data plane before issue 6).
 * --rekey SEC sets every row's CHILD_SA rekey_time to SEC (rand_time 0): for tsipsec rows the bench
 * watches side A's child SPIs during the TCP test and reports each rekey's 1-s iperf3 interval against
 * its neighbours (the issue's "no collapse during a rekey": ≥ 0.8).
 *
 * Per repetition every row is set up, measured and torn down, rows in a rotated order each repetition so
 * drift on a shared machine spreads over all of them; the table shows the median over repetitions.
 * Columns: iperf3 TCP single stream; iperf3 UDP (the highest offered rate with < 1 % loss, bisected);
 * CPU seconds (utime + stime of the tunnel processes, both sides) per GB the TCP test carried; ping RTT
 * (20 pings, 50 ms apart); TCP relative to strongSwan libipsec ↔ libipsec. Needs root, iproute2, iperf3,
 * strongSwan (charon + kernel-libipsec) and optionally wireguard-go + wg.
 *
 * UDP datagrams are 1372 bytes by default: 1400-byte IP packets, which fit every row's tunnel MTU
 * (libipsec's TUN has MTU 1400), so no row measures IP fragmentation.
 *
 * Namespaces are tsbe-a / tsbe-b (198.18.30.0/24 link, LANs 198.19.31.1 and 198.19.32.1); they and every
 * started process (by PID) are removed on exit, on failure and on SIGINT/SIGTERM.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineInfo, machineLine, median, replaceSection, type MachineInfo } from '../machine.js';
import { measurePing, measureTcp, measureUdp, startIperfServer, stopIperfServer, waitPath, type PingResult, type TcpInterval, type TcpResult, type UdpResult } from './measure.js';
import { initClockTicks, killAllSync, sh, stop, stopAll } from './proc.js';
import { DEFAULT_ROWS, ROW_NAMES, rowAvailable, setupRow, type RowName } from './rows.js';
import { createTopology, destroyTopology } from './topology.js';
import type { TunnelStatus } from '../../src/runtime/tunnel.js';

export interface E2eOptions {
  seconds: number;
  reps: number;
  rows: readonly RowName[];
  udpSeconds: number;
  udpSteps: number;
  udpLen: number;
  cpuProfDir?: string;
  keep: boolean;
  /** CHILD_SA rekey_time (s, rand_time 0) in every row's IKE config, so rekeys happen during the TCP test. */
  rekeySec?: number;
  log?: (msg: string) => void;
}

/**
 * A child rekey seen during the TCP test (tsipsec rows: a new inbound SPI on side A's status, polled
 * every 100 ms): the iperf3 interval it fell in, and that interval's rate ÷ the mean of its two
 * neighbours (the issue's criterion: ≥ 0.8).
 */
export interface RekeyDip { atSec: number; interval: number; ratio: number; drops?: Array<Record<string, number>> }

export interface E2eSample { rep: number; tcp: TcpResult; udp: UdpResult; ping: PingResult; note: string; rekeys?: RekeyDip[]; rekeyTrace?: RekeyTracePoint[] }
export interface E2eRowResult {
  row: RowName;
  skipped?: string;
  errors: string[];
  samples: E2eSample[];
  median: { tcpGbps: number; udpGbps: number; udpPps: number; cpuSecPerGB: number; rttMs: number; tcpRatioToStrongswan: number };
}
export interface E2eReport { date: string; machine: MachineInfo; options: Omit<E2eOptions, 'log'>; rows: E2eRowResult[] }

export const DEFAULT_E2E: E2eOptions = { seconds: 10, reps: 3, rows: DEFAULT_ROWS, udpSeconds: 3, udpSteps: 5, udpLen: 1372, keep: false };

export async function runE2e(opts: E2eOptions): Promise<E2eReport> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`e2e: ${m}\n`));
  if (process.getuid?.() !== 0) throw new Error('the end-to-end bench needs root (network namespaces, TUN devices)');
  for (const tool of ['iperf3', 'ping', 'ip']) if ((await sh('which', [tool])).code !== 0) throw new Error(`${tool} is not installed`);
  await initClockTicks();
  const machine = machineInfo();
  const results = new Map<RowName, E2eRowResult>();
  for (const row of opts.rows) {
    results.set(row, { row, skipped: rowAvailable(row), errors: [], samples: [], median: { tcpGbps: NaN, udpGbps: NaN, udpPps: NaN, cpuSecPerGB: NaN, rttMs: NaN, tcpRatioToStrongswan: NaN } });
  }
  const runnable = opts.rows.filter((r) => results.get(r)!.skipped === undefined);
  for (const r of opts.rows) { const s = results.get(r)!.skipped; if (s) log(`skipping ${r}: ${s}`); }
  const work = join(tmpdir(), `tsipsec-bench-e2e-${process.pid}`);
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(opts.cpuProfDir)}`] : [];

  const onSignal = () => {
    log('interrupted: stopping processes and deleting namespaces');
    void stopAll().then(destroyTopology).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAllSync);
  try {
    await createTopology();
    for (let rep = 0; rep < opts.reps; rep++) {
      const order = runnable.map((_, i) => runnable[(i + rep) % runnable.length]!);
      for (const row of order) {
        const res = results.get(row)!;
        log(`rep ${rep + 1}/${opts.reps}: ${row}`);
        let tunnel;
        let server;
        try {
          tunnel = await setupRow(row, { work: join(work, `${row}-${rep}`), nodeArgs, keep: opts.keep, childRekeySec: opts.rekeySec });
          await waitPath();
          server = await startIperfServer();
          const ping = await measurePing();
          const watch = opts.rekeySec !== undefined && tunnel.childSpis ? watchRekeys(tunnel.childSpis, tunnel.statuses) : undefined;
          const tcp = await measureTcp(opts.seconds, tunnel.procs, () => watch?.start());
          const watched = watch ? await watch.stop() : undefined;
          const rekeys = watched ? rekeyDips(watched.at, tcp.intervals).map((d) => ({ ...d, drops: dropsAround(watched.trace, d.atSec) })) : undefined;
          // iperf3's own UDP sender tops out at a few Gbit/s here: start no higher than 4 Gbit/s.
          const startMbps = Math.min(4000, Math.max(100, Math.round(tcp.gbps * 1000 * 1.5)));
          const udp = await measureUdp(startMbps, opts.udpLen, opts.udpSeconds, opts.udpSteps);
          res.samples.push({ rep, tcp, udp, ping, note: tunnel.note, ...(rekeys ? { rekeys, rekeyTrace: watched!.trace } : {}) });
          log(`  TCP ${tcp.gbps.toFixed(3)} Gbit/s (${tcp.cpuSecPerGB.toFixed(2)} CPU s/GB), UDP ${udp.gbps.toFixed(3)} Gbit/s ${Math.round(udp.pps)} pps, RTT ${ping.avgMs} ms`
            + (rekeys ? `, rekeys ${rekeys.map((r) => `@${r.atSec.toFixed(1)}s ×${r.ratio.toFixed(2)} drops ${JSON.stringify(r.drops)}`).join(' ') || 'none seen'}` : '')
            + `; intervals ${tcp.intervals.map((x) => `${x.gbps.toFixed(2)}${x.retransmits ? `(r${x.retransmits})` : ''}`).join(' ')}`);
        } catch (e) {
          res.errors.push(`rep ${rep + 1}: ${(e as Error).message}`);
          log(`  FAILED: ${(e as Error).message.slice(0, 2000)}`);
        } finally {
          await stop(server);
          await tunnel?.teardown().catch((e: Error) => log(`teardown ${row}: ${e.message}`));
        }
      }
    }
  } finally {
    await stopAll();
    await destroyTopology();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('exit', killAllSync);
  }
  const ss = results.get('strongswan');
  for (const r of results.values()) {
    const s = r.samples;
    r.median = {
      tcpGbps: median(s.map((x) => x.tcp.gbps)), udpGbps: median(s.map((x) => x.udp.gbps)), udpPps: median(s.map((x) => x.udp.pps)),
      cpuSecPerGB: median(s.map((x) => x.tcp.cpuSecPerGB)), rttMs: median(s.map((x) => x.ping.avgMs)), tcpRatioToStrongswan: NaN,
    };
  }
  const base = ss?.median.tcpGbps;
  for (const r of results.values()) r.median.tcpRatioToStrongswan = base && base > 0 ? r.median.tcpGbps / base : NaN;
  const { log: _log, ...options } = opts;
  return { date: new Date().toISOString(), machine, options, rows: [...results.values()] };
}

/** One poll of the rekey watcher: seconds from the test start, and per tsipsec process its drop counters and child SAs. */
export interface RekeyTracePoint {
  t: number;
  sides: Array<{ drops: Record<string, number>; children: Array<{ spiIn: string; packetsIn: number; packetsOut: number }> }>;
}

/**
 * Polls the child SPIs every 100 ms from `start()`; `stop()` gives the seconds (from start) at which new
 * SPIs appeared and, when `statuses` is given, a trace of both sides' drop counters (ESP by reason, TUN,
 * TUN device rx/tx drops) and per-SA packet counters at each poll.
 */
function watchRekeys(spis: () => Promise<string[]>, statuses?: () => Promise<TunnelStatus[]>): { start(): void; stop(): Promise<{ at: number[]; trace: RekeyTracePoint[] }> } {
  let t0 = 0;
  let running = false;
  const seen = new Set<string>();
  const at: number[] = [];
  const trace: RekeyTracePoint[] = [];
  let loop: Promise<void> = Promise.resolve();
  void spis().then((s) => s.forEach((x) => seen.add(x)), () => undefined);
  return {
    start() {
      t0 = performance.now();
      running = true;
      loop = (async () => {
        while (running) {
          try {
            for (const x of await spis()) if (!seen.has(x)) { seen.add(x); at.push((performance.now() - t0) / 1000); }
            if (statuses) {
              const all = await statuses();
              trace.push({
                t: (performance.now() - t0) / 1000,
                sides: all.map((st) => ({
                  drops: {
                    ...prefixed('esp.', st.drops.esp), ...prefixed('tun.', st.drops.tun),
                    ...(st.tun ? { 'dev.rxDrops': st.tun.rxDrops, 'dev.txDrops': st.tun.txDrops } : {}),
                  },
                  children: st.ikeSas.flatMap((sa) => sa.childCounters.map((c) => ({ spiIn: c.spiIn, packetsIn: c.packetsIn, packetsOut: c.packetsOut }))),
                })),
              });
            }
          } catch { /* control socket busy */ }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
    },
    async stop() { running = false; await loop; return { at, trace }; },
  };
}

function prefixed(p: string, r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) if (v !== 0) out[p + k] = v;
  return out;
}

/** Drop counters that grew between the trace points just before and 1.5 s after `t` (per side, A first). */
export function dropsAround(trace: readonly RekeyTracePoint[], t: number): Array<Record<string, number>> {
  const before = [...trace].reverse().find((p) => p.t <= t - 0.1);
  const after = [...trace].reverse().find((p) => p.t <= t + 1.5);
  if (!before || !after) return [];
  return after.sides.map((s, i) => {
    const d: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.drops)) { const g = v - (before.sides[i]?.drops[k] ?? 0); if (g > 0) d[k] = g; }
    return d;
  });
}

/** For each rekey inside the test: its 1-s interval's rate ÷ the mean of the intervals before and after. */
export function rekeyDips(atSec: readonly number[], intervals: readonly TcpInterval[]): RekeyDip[] {
  const out: RekeyDip[] = [];
  for (const t of atSec) {
    const k = intervals.findIndex((x) => t >= x.start && t < x.end);
    if (k < 0) continue;
    const nb = [intervals[k - 1], intervals[k + 1]].filter((x): x is TcpInterval => x !== undefined);
    const mean = nb.reduce((s, x) => s + x.gbps, 0) / (nb.length || 1);
    out.push({ atSec: t, interval: k, ratio: mean > 0 ? intervals[k]!.gbps / mean : NaN });
  }
  return out;
}

const LABEL: Record<RowName, string> = {
  plaintext: '1 plaintext (kernel routing, no tunnel)',
  tsipsec: '2 tsipsec ↔ tsipsec',
  'tsipsec-strongswan': '3 tsipsec ↔ strongSwan libipsec',
  strongswan: '4 strongSwan libipsec ↔ libipsec',
  wireguard: '5 wireguard-go ↔ wireguard-go',
  'tsipsec-dgram': '2b tsipsec ↔ tsipsec, node:dgram sockets',
  'tsipsec-v0': '2c tsipsec ↔ tsipsec, node:dgram + node:crypto (before issue 6)',
  'tsipsec-uvpoll': '2d tsipsec ↔ tsipsec, TUN uv-poll reads',
  'tsipsec-nooffload': '2e tsipsec ↔ tsipsec, no TUN offload, no UDP GSO (round 1)',
  'tsipsec-nogso': '2f tsipsec ↔ tsipsec, TUN offload, no UDP GSO',
  'tsipsec-main': '2g tsipsec ↔ tsipsec, data plane on the main thread (round 2)',
  'tsipsec-v8budget': '2h tsipsec ↔ tsipsec, V8 default tier-up budget',
};

function f(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

export function formatE2e(r: E2eReport): string {
  const o = r.options;
  const lines = [
    `Machine: ${machineLine(r.machine)}. Run: \`npm run build && node dist/bench/e2e/run.js --seconds ${o.seconds} --reps ${o.reps}${o.rows.join(',') !== DEFAULT_ROWS.join(',') ? ` --rows ${o.rows.join(',')}` : ''}${o.rekeySec !== undefined ? ` --rekey ${o.rekeySec}` : ''}\` (${r.date.slice(0, 10)}).`,
    '',
    `Two namespaces on a veth link; traffic from LAN A to LAN B through each row's tunnel. IKEv2 PSK with ${'aes256gcm16-prfsha256-x25519'}, ESP AES-256-GCM-16, tunnel mode, ESP-in-UDP (rows 2–4). ` +
    `TCP: iperf3, one stream, ${o.seconds} s. UDP: iperf3 ${o.udpLen}-byte datagrams (${o.udpLen + 28}-byte IP packets), highest offered rate with < 1 % loss (${o.udpSteps}-step bisection, ${o.udpSeconds} s each); received Gbit/s (UDP payload) and packets/s. ` +
    `CPU: utime+stime of both tunnel processes during the TCP test per GB carried. RTT: 20 pings, 50 ms apart. Median of ${o.reps} repetitions, rows alternating.`,
    '',
    '| row | TCP Gbit/s | UDP Gbit/s | UDP kpps | CPU s/GB | RTT ms | TCP ÷ row 4 |' + (o.rekeySec !== undefined ? ' worst rekey interval ÷ neighbours |' : ''),
    '|---|---:|---:|---:|---:|---:|---:|' + (o.rekeySec !== undefined ? '---:|' : ''),
  ];
  for (const row of r.rows) {
    if (row.skipped) { lines.push(`| ${LABEL[row.row]} | skipped: ${row.skipped} | | | | | |`); continue; }
    const m = row.median;
    const n = row.samples.length;
    const udpOk = m.udpGbps > 0;
    const dips = row.samples.flatMap((x) => x.rekeys ?? []);
    const rekeyCell = o.rekeySec === undefined ? '' : ` ${dips.length ? `${f(Math.min(...dips.map((d) => d.ratio)), 2)} (${dips.length} rekeys)` : '–'} |`;
    lines.push(`| ${LABEL[row.row]}${n < o.reps ? ` (${n}/${o.reps} runs)` : ''} | ${f(m.tcpGbps, 3)} | ${udpOk ? f(m.udpGbps, 3) : 'no rate < 1 % loss'} | ${udpOk ? f(m.udpPps / 1000, 1) : '–'} | ${f(m.cpuSecPerGB, 2)} | ${f(m.rttMs, 3)} | ${f(m.tcpRatioToStrongswan, 2)} |${rekeyCell}`);
  }
  const errs = r.rows.flatMap((row) => row.errors.map((e) => `${row.row}: ${e.split('\n')[0]!.slice(0, 300)}`));
  if (errs.length) lines.push('', 'Failures:', ...errs.map((e) => `- ${e}`));
  return lines.join('\n');
}

export function writeE2eJson(r: E2eReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `e2e-${r.date.replace(/[:]/g, '-').slice(0, 19)}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

export function parseE2eArgs(argv: readonly string[]): E2eOptions & { readme?: string; json: boolean } {
  const o: E2eOptions & { readme?: string; json: boolean } = { ...DEFAULT_E2E, json: true };
  const num = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in ${min}..${max}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    switch (a) {
      case '--seconds': o.seconds = num('seconds', v, 1, 600); i++; break;
      case '--reps': o.reps = Math.round(num('reps', v, 1, 50)); i++; break;
      case '--udp-seconds': o.udpSeconds = num('udp-seconds', v, 1, 60); i++; break;
      case '--udp-steps': o.udpSteps = Math.round(num('udp-steps', v, 0, 10)); i++; break;
      case '--udp-len': o.udpLen = Math.round(num('udp-len', v, 16, 8972)); i++; break;
      case '--rows': {
        const rows = (v ?? '').split(',').filter(Boolean);
        for (const r of rows) if (!(ROW_NAMES as readonly string[]).includes(r)) throw new Error(`--rows: unknown row "${r}" (known: ${ROW_NAMES.join(', ')})`);
        o.rows = rows as RowName[];
        i++;
        break;
      }
      case '--readme': o.readme = v; i++; break;
      case '--cpu-prof': o.cpuProfDir = v; i++; break;
      case '--rekey': o.rekeySec = Math.round(num('rekey', v, 2, 3600)); i++; break;
      case '--keep': o.keep = true; break;
      case '--no-json': o.json = false; break;
      default: if (a.startsWith('--e2e-')) break; throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results', import.meta.url));

export async function mainE2e(argv: readonly string[]): Promise<number> {
  const o = parseE2eArgs(argv);
  const report = await runE2e(o);
  const md = formatE2e(report);
  process.stdout.write(`\n## End to end\n\n${md}\n`);
  if (o.json) process.stderr.write(`e2e: wrote ${writeE2eJson(report, RESULTS_DIR)}\n`);
  if (o.readme) writeFileSync(o.readme, replaceSection(readFileSync(o.readme, 'utf8'), 'End to end', md));
  return report.rows.some((r) => r.errors.length > 0 && r.samples.length === 0 && !r.skipped) ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  mainE2e(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => { process.stderr.write(`e2e: ${e.stack ?? e.message}\n`); process.exit(1); });
}
