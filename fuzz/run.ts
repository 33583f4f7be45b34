/**
 * Fuzz runner CLI:
 *
 *   node dist/fuzz/run.js --target NAME [--target NAME…] | --all  [--seconds N] [--execs N] [--seed S] [--slow-ms MS]
 *   node dist/fuzz/run.js --list
 *   node dist/fuzz/run.js --replay FILE --target NAME      (re-run one saved input, print the verdict)
 *
 * Each target runs in a worker thread. The worker copies every input into shared memory before it
 * runs it, so when an input never returns (an infinite loop cannot be interrupted from inside) the
 * main thread's watchdog still knows which input it was: it saves it, terminates the worker and
 * counts a hang. Inside the worker each input is timed (> --slow-ms, default 1000 ms, is a failure)
 * and the heap after GC is compared at the end with the heap after the seeds ran (growth beyond
 * --max-heap-growth-mb, default 64, is a failure).
 *
 * Failing inputs go to fuzz/corpus/<target>/crash-<sha256/16>.bin (replayed by fuzz/ci.test.ts as
 * regression tests); the exit code is 1 when anything failed.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { MAX_MUTATED_LENGTH } from './mutate.js';
import { fuzzLoop, runOne, saveCrash, type LoopResult } from './loop.js';
import { findTarget, TARGETS } from './targets.js';

interface Args {
  targets: string[];
  seconds: number;
  /** Stop each target after this many executions (seeds included); 0 = no limit. */
  execs: number;
  /** Print a progress line to stderr this often (0 = never). */
  progressSeconds: number;
  seed: number;
  slowMs: number;
  hangMs: number;
  maxHeapGrowthMb: number;
  list: boolean;
  replay: string | undefined;
}

interface WorkerInput {
  readonly target: string;
  readonly seconds: number;
  readonly execs: number;
  readonly seed: number;
  readonly slowMs: number;
  readonly maxHeapGrowthMb: number;
  readonly shared: SharedArrayBuffer;
}

type WorkerMessage =
  | { readonly type: 'failure'; readonly message: string; readonly input: Uint8Array }
  | { readonly type: 'done'; readonly execs: number; readonly seconds: number; readonly slowestMs: number; readonly heapGrowthMb: number };

/** Shared memory layout: Int32 [0] = executions started, [1] = input length; then the input bytes. */
const HEADER_BYTES = 8;

function usage(msg?: string): never {
  if (msg) process.stderr.write(`fuzz: ${msg}\n`);
  process.stderr.write('usage: node dist/fuzz/run.js (--target NAME… | --all | --list) [--seconds N] [--execs N] [--seed S] [--slow-ms MS] [--progress S] [--replay FILE]\n');
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { targets: [], seconds: 10, execs: 0, progressSeconds: 0, seed: 1, slowMs: 1000, hangMs: 10_000, maxHeapGrowthMb: 64, list: false, replay: undefined };
  let secondsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${k} needs a non-negative number`);
      return v;
    };
    if (k === '--target') a.targets.push(argv[++i] ?? usage('--target needs a name'));
    else if (k === '--all') a.targets.push(...TARGETS.map((t) => t.name));
    else if (k === '--seconds') {
      a.seconds = num();
      secondsGiven = true;
    } else if (k === '--execs') a.execs = num();
    else if (k === '--progress') a.progressSeconds = num();
    else if (k === '--seed') a.seed = num();
    else if (k === '--slow-ms') a.slowMs = num();
    else if (k === '--hang-ms') a.hangMs = num();
    else if (k === '--max-heap-growth-mb') a.maxHeapGrowthMb = num();
    else if (k === '--list') a.list = true;
    else if (k === '--replay') a.replay = argv[++i] ?? usage('--replay needs a file');
    else usage(`unknown argument ${k}`);
  }
  for (const t of a.targets) if (!findTarget(t)) usage(`unknown target ${t} (try --list)`);
  // `--execs N` alone runs until N executions, however long that takes.
  if (a.execs > 0 && !secondsGiven) a.seconds = Number.POSITIVE_INFINITY;
  return a;
}

// ---- worker -------------------------------------------------------------------------------------

function workerMain(w: WorkerInput): void {
  const target = findTarget(w.target)!;
  const ctl = new Int32Array(w.shared, 0, 2);
  const buf = new Uint8Array(w.shared, HEADER_BYTES);
  setFlagsFromString('--expose-gc');
  // Failure messages carry name and message only: capturing a stack for every error the code under
  // test creates and handles itself (ConfigError, DecodeError objects) was ~15% of swanctl-parse.
  Error.stackTraceLimit = 0;
  const gc = runInNewContext('gc') as () => void;
  // Warm up (build fixtures, run every seed) before the heap baseline.
  for (const s of target.seeds()) runOne(target, s, Number.POSITIVE_INFINITY);
  gc();
  const heapStart = process.memoryUsage().heapUsed;
  const r: LoopResult = fuzzLoop(target, {
    seed: w.seed,
    seconds: w.seconds,
    ...(w.execs > 0 ? { maxExecs: w.execs } : {}),
    slowMs: w.slowMs,
    beforeRun: (input) => {
      const n = Math.min(input.length, buf.length);
      buf.set(input.subarray(0, n));
      Atomics.store(ctl, 1, n);
      Atomics.add(ctl, 0, 1);
    },
    onFailure: (f) => parentPort!.postMessage({ type: 'failure', message: f.message, input: f.input } satisfies WorkerMessage),
  });
  gc();
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapStart) / (1024 * 1024);
  if (heapGrowthMb > w.maxHeapGrowthMb) {
    parentPort!.postMessage({ type: 'failure', message: `heap grew by ${heapGrowthMb.toFixed(1)} MB (limit ${w.maxHeapGrowthMb})`, input: new Uint8Array(0) } satisfies WorkerMessage);
  }
  parentPort!.postMessage({ type: 'done', execs: r.execs, seconds: r.seconds, slowestMs: r.slowestMs, heapGrowthMb } satisfies WorkerMessage);
}

// ---- main ---------------------------------------------------------------------------------------

interface Row {
  target: string;
  execs: number;
  seconds: number;
  failures: number;
  slowestMs: number;
  heapGrowthMb: number;
  notes: string[];
}

function runTarget(args: Args, name: string): Promise<Row> {
  const shared = new SharedArrayBuffer(HEADER_BYTES + MAX_MUTATED_LENGTH + 1024);
  const ctl = new Int32Array(shared, 0, 2);
  const row: Row = { target: name, execs: 0, seconds: 0, failures: 0, slowestMs: 0, heapGrowthMb: 0, notes: [] };
  const data: WorkerInput = { target: name, seconds: args.seconds, execs: args.execs, seed: args.seed, slowMs: args.slowMs, maxHeapGrowthMb: args.maxHeapGrowthMb, shared };
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const started = performance.now();
  return new Promise((resolve) => {
    let lastExecs = -1;
    let lastChange = performance.now();
    let lastProgress = performance.now();
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      if (row.seconds === 0) row.seconds = (performance.now() - started) / 1000;
      resolve(row);
    };
    const timer = setInterval(() => {
      const execs = Atomics.load(ctl, 0);
      const now = performance.now();
      if (args.progressSeconds > 0 && now - lastProgress >= args.progressSeconds * 1000) {
        lastProgress = now;
        const s = (now - started) / 1000;
        process.stderr.write(`fuzz: ${name}: ${execs} executions in ${s.toFixed(0)} s (${Math.round(execs / s)}/s)\n`);
      }
      if (execs !== lastExecs) {
        lastExecs = execs;
        lastChange = now;
        return;
      }
      if (execs > 0 && now - lastChange > args.hangMs) {
        const n = Atomics.load(ctl, 1);
        const input = new Uint8Array(shared, HEADER_BYTES, n).slice();
        const path = saveCrash(name, input);
        row.failures++;
        row.execs = execs;
        row.notes.push(`hang: input ${execs} did not return within ${args.hangMs} ms → ${path}`);
        void worker.terminate().then(finish);
      }
    }, 200);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'failure') {
        row.failures++;
        const path = m.input.length > 0 || !m.message.startsWith('heap grew') ? saveCrash(name, m.input) : '(no input)';
        row.notes.push(`${m.message.split('\n')[0]} → ${path}`);
      } else {
        row.execs = m.execs;
        row.seconds = m.seconds;
        row.slowestMs = m.slowestMs;
        row.heapGrowthMb = m.heapGrowthMb;
      }
    });
    worker.on('error', (e) => {
      row.failures++;
      // Before the first execution the worker failed to load (not an input's fault): no crash file.
      const execs = Atomics.load(ctl, 0);
      const path = execs > 0 ? saveCrash(name, new Uint8Array(shared, HEADER_BYTES, Atomics.load(ctl, 1)).slice()) : '(before the first input)';
      row.notes.push(`worker died: ${e.message} → ${path}`);
      finish();
    });
    worker.on('exit', finish);
  });
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const t of TARGETS) process.stdout.write(`${pad(t.name, 24)} ${t.description}\n`);
    return;
  }
  if (args.targets.length === 0) usage('give --target NAME, --all or --list');
  if (args.replay !== undefined) {
    const input = new Uint8Array(readFileSync(args.replay));
    let bad = false;
    for (const name of args.targets) {
      const msg = runOne(findTarget(name)!, input, args.slowMs);
      process.stdout.write(`${name}: ${msg ?? 'ok'}\n`);
      bad ||= msg !== undefined;
    }
    process.exitCode = bad ? 1 : 0;
    return;
  }
  const rows: Row[] = [];
  for (const name of [...new Set(args.targets)]) rows.push(await runTarget(args, name));
  const head = `${pad('target', 24)} ${pad('executions', 11, true)} ${pad('exec/s', 9, true)} ${pad('failures', 9, true)} ${pad('slowest ms', 11, true)} ${pad('heap Δ MB', 10, true)}`;
  process.stdout.write(`${head}\n${'-'.repeat(head.length)}\n`);
  let total = 0;
  let failures = 0;
  for (const r of rows) {
    total += r.execs;
    failures += r.failures;
    const rate = r.seconds > 0 ? Math.round(r.execs / r.seconds) : 0;
    process.stdout.write(
      `${pad(r.target, 24)} ${pad(String(r.execs), 11, true)} ${pad(String(rate), 9, true)} ${pad(String(r.failures), 9, true)} ${pad(r.slowestMs.toFixed(1), 11, true)} ${pad(r.heapGrowthMb.toFixed(1), 10, true)}\n`,
    );
    for (const n of r.notes) process.stdout.write(`    ${n}\n`);
  }
  process.stdout.write(`${'-'.repeat(head.length)}\n${pad('total', 24)} ${pad(String(total), 11, true)} ${pad('', 9)} ${pad(String(failures), 9, true)}\n`);
  process.exitCode = failures > 0 ? 1 : 0;
}

if (isMainThread) {
  main().catch((e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  });
} else {
  workerMain(workerData as WorkerInput);
}
