/**
 * Ping latency through each row's tunnel, in more detail than run.ts's 20 pings: for each row (set up
 * as in run.ts), `--count` pings `--interval` seconds apart, idle and then while a TCP stream runs (the
 * row's throughput test as background load), reporting min / median / p90 / max per phase. Rows
 * alternate per repetition, like run.ts.
 *
 *   npm run build && node dist/bench/e2e/rtt.js [--rows tsipsec,tsipsec-main,strongswan] [--reps 2]
 *       [--count 100] [--interval 0.02] [--load-seconds 6] [--hold SEC] [--node-args '--flag …']
 *
 * --hold SEC: after the idle pings, print the tunnel PIDs and keep pinging (every 50 ms) for SEC seconds,
 * for strace / perf on the daemons.
 *
 * Prints one line per row, phase and repetition, then the medians; writes nothing else.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sh, stopAll, initClockTicks, killAllSync } from './proc.js';
import { measureTcp, startIperfServer, stopIperfServer, waitPath } from './measure.js';
import { ROW_NAMES, rowAvailable, setupRow, type RowName } from './rows.js';
import { createTopology, destroyTopology, LAN_A, LAN_B, NS_A } from './topology.js';

interface Phase { min: number; median: number; p90: number; max: number; lost: number }

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** `count` pings from LAN A to LAN B; per-reply RTTs parsed from ping's output. */
async function pings(count: number, intervalSec: number): Promise<Phase> {
  const r = await sh('ip', ['netns', 'exec', NS_A, 'ping', '-n', '-c', String(count), '-i', String(intervalSec), '-W', '2', '-I', LAN_A, LAN_B], { timeoutMs: 120_000 });
  const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  return { min: quantile(rtts, 0), median: quantile(rtts, 0.5), p90: quantile(rtts, 0.9), max: quantile(rtts, 1), lost: count - rtts.length };
}

function fmt(p: Phase): string {
  return `min ${p.min.toFixed(3)} median ${p.median.toFixed(3)} p90 ${p.p90.toFixed(3)} max ${p.max.toFixed(3)} ms${p.lost ? `, ${p.lost} lost` : ''}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
  };
  const rows = opt('rows', 'tsipsec,tsipsec-main,strongswan').split(',') as RowName[];
  for (const r of rows) if (!ROW_NAMES.includes(r)) throw new Error(`--rows: unknown row ${r}`);
  const reps = Number(opt('reps', '2'));
  const count = Number(opt('count', '100'));
  const interval = Number(opt('interval', '0.02'));
  const loadSec = Number(opt('load-seconds', '6'));
  const holdSec = Number(opt('hold', '0'));
  const nodeArgs = opt('node-args', '').split(' ').filter((x) => x !== '');
  await initClockTicks();
  const results = new Map<string, Phase[]>();
  process.on('SIGINT', () => { killAllSync(); process.exit(130); });
  try {
    await createTopology();
    for (let rep = 0; rep < reps; rep++) {
      const order = rows.map((_, i) => rows[(i + rep) % rows.length]!);
      for (const row of order) {
        const why = rowAvailable(row);
        if (why) { process.stderr.write(`rtt: ${row} skipped: ${why}\n`); continue; }
        const run = await setupRow(row, { work: join(tmpdir(), `tsbe-rtt-${row}`), nodeArgs, keep: false });
        try {
          await waitPath();
          const s0 = await run.statuses?.().catch(() => undefined);
          const idle = await pings(count, interval);
          const s1 = await run.statuses?.().catch(() => undefined);
          if (s0 && s1) {
            // Worker rows: handling time per wake-up during the idle pings, per side (A first).
            const per = s1.map((st, i) => {
              const a = s0[i]?.dataplane;
              const b = st.dataplane;
              if (!a || !b || b.wakeups === a.wakeups) return '–';
              const h = b.busyHistogram.map((v, k) => v - (a.busyHistogram[k] ?? 0));
              return `${(((b.busyMs - a.busyMs) * 1000) / (b.wakeups - a.wakeups)).toFixed(1)} µs × ${b.wakeups - a.wakeups} (<25/50/100/200/500/1000/5000/more µs: ${h.join('/')})`;
            });
            process.stderr.write(`rtt: ${row}: worker busy per wake-up during idle pings: ${per.join(', ')}\n`);
          }
          if (holdSec > 0) {
            // For strace/perf on the tunnel processes: pings keep running meanwhile.
            process.stderr.write(`rtt: ${row}: holding ${holdSec} s; tunnel PIDs ${run.procs.map((p) => `${p.name}=${p.pid}`).join(' ')}\n`);
            await pings(Math.floor(holdSec / 0.05), 0.05);
          }
          const server = await startIperfServer();
          const tcp = measureTcp(loadSec, run.procs);
          await new Promise((r) => setTimeout(r, 1000));
          const loaded = await pings(Math.min(count, Math.floor((loadSec - 2) / interval)), interval);
          await tcp;
          await stopIperfServer(server);
          const load = (await sh('cat', ['/proc/loadavg'])).stdout.split(' ')[0];
          process.stderr.write(`rtt: rep ${rep + 1} ${row} (load ${load}): idle ${fmt(idle)}; under TCP ${fmt(loaded)}\n`);
          for (const [k, v] of [['idle', idle], ['tcp', loaded]] as const) results.set(`${row} ${k}`, [...(results.get(`${row} ${k}`) ?? []), v]);
        } finally {
          await run.teardown();
        }
      }
    }
  } finally {
    await stopAll();
    await destroyTopology();
  }
  for (const [k, v] of results) {
    const med = (f: (p: Phase) => number) => quantile(v.map(f), 0.5).toFixed(3);
    process.stdout.write(`${k}: median over ${v.length} reps: min ${med((p) => p.min)} median ${med((p) => p.median)} p90 ${med((p) => p.p90)} ms\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`rtt: ${(err as Error).stack ?? String(err)}\n`);
    killAllSync();
    process.exitCode = 1;
  });
}
