/**
 * The mutation loop shared by the CLI (run.ts, inside a worker) and the CI test (ci.test.ts):
 * every seed once, then mutated inputs until the time or execution budget is spent. Each input is
 * timed; one slower than `slowMs` is a failure like an invariant violation or an exception.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { nextInput, Prng } from './mutate.js';
import { repoRoot } from './fixtures.js';
import type { FuzzTarget } from './targets.js';

export interface Failure {
  readonly target: string;
  readonly message: string;
  readonly input: Uint8Array;
}

export interface LoopOptions {
  readonly seed: number;
  /** Wall-clock budget for the mutation phase. */
  readonly seconds: number;
  /** Stop after this many executions (seeds included). Default: unlimited. */
  readonly maxExecs?: number;
  /** An input taking longer than this is a failure (default 1000 ms). */
  readonly slowMs?: number;
  /** Stop collecting after this many distinct failure messages (default 5). */
  readonly maxFailures?: number;
  /** Called before each execution (the CLI copies the input to shared memory for the watchdog). */
  readonly beforeRun?: (input: Uint8Array) => void;
  readonly onFailure?: (f: Failure) => void;
}

const MIN_MUTATIONS = 32;

export interface LoopResult {
  readonly target: string;
  readonly execs: number;
  readonly seconds: number;
  readonly failures: Failure[];
  readonly slowestMs: number;
}

/** One timed execution: the failure message (undefined when fine) and the time it took. */
function timedRun(target: FuzzTarget, input: Uint8Array): { msg: string | undefined; ms: number } {
  const t0 = performance.now();
  try {
    // Targets may modify their input (espOpen decrypts in place); the mutator's inputs are fresh
    // arrays already, but seeds and replayed files must stay intact.
    target.run(input.slice());
  } catch (e) {
    return { msg: e instanceof Error ? `${e.name}: ${e.message}` : `threw ${String(e)}`, ms: performance.now() - t0 };
  }
  return { msg: undefined, ms: performance.now() - t0 };
}

/**
 * Runs `target` on `input`; returns the failure message or undefined. An input slower than
 * `slowMs` is timed twice more and fails only if every run was slow: a GC pause or a busy machine
 * must not be reported as a hang (seen on a loaded 2-core CI box: 1.2 s for a 0.1 ms input).
 */
export function runOne(target: FuzzTarget, input: Uint8Array, slowMs = 1000): string | undefined {
  const first = timedRun(target, input);
  if (first.msg !== undefined || first.ms <= slowMs) return first.msg;
  let best = first.ms;
  for (let i = 0; i < 2 && best > slowMs; i++) best = Math.min(best, timedRun(target, input).ms);
  return best > slowMs ? `slow input: ${best.toFixed(0)} ms > ${slowMs} ms (fastest of 3 runs)` : undefined;
}

/** A stable seed per target so `--seed S --all` differs per target but stays reproducible. */
export function targetSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0);
  return h;
}

export function fuzzLoop(target: FuzzTarget, opts: LoopOptions): LoopResult {
  const seeds = target.seeds();
  const rng = new Prng(targetSeed(opts.seed, target.name));
  const slowMs = opts.slowMs ?? 1000;
  const maxFailures = opts.maxFailures ?? 5;
  const maxExecs = opts.maxExecs ?? Number.POSITIVE_INFINITY;
  const failures: Failure[] = [];
  const seen = new Set<string>();
  let execs = 0;
  let slowest = 0;
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  const exec = (input: Uint8Array): void => {
    opts.beforeRun?.(input);
    // One timed run; only an input over slowMs is re-timed (runOne) before it counts as slow.
    const first = timedRun(target, input);
    let msg = first.msg;
    if (msg === undefined && first.ms > slowMs) msg = runOne(target, input, slowMs);
    if (first.ms > slowest) slowest = first.ms;
    execs++;
    if (msg !== undefined) {
      // Deduplicate by message without numbers (offsets, counts) so one bug is reported once.
      const key = msg.replace(/\d+/g, '#');
      if (!seen.has(key)) {
        seen.add(key);
        const f = { target: target.name, message: msg, input };
        failures.push(f);
        opts.onFailure?.(f);
      }
    }
  };
  for (const s of seeds) {
    if (execs >= maxExecs || failures.length >= maxFailures) break;
    exec(s);
  }
  // At least MIN_MUTATIONS mutated inputs even when the seeds used up the budget (a loaded machine).
  const seedExecs = execs;
  while (execs < maxExecs && failures.length < maxFailures) {
    const mutated = execs - seedExecs;
    // Check the clock every 16 executions (cheap targets run ~100k/s).
    if (mutated >= MIN_MUTATIONS && (mutated & 15) === 0 && performance.now() >= deadline) break;
    exec(nextInput(rng, seeds));
  }
  return { target: target.name, execs, seconds: (performance.now() - start) / 1000, failures, slowestMs: slowest };
}

export function corpusDir(target?: string): string {
  const base = join(repoRoot(), 'fuzz', 'corpus');
  return target === undefined ? base : join(base, target);
}

/** Writes `fuzz/corpus/<target>/crash-<hash>.bin`; returns the path. */
export function saveCrash(target: string, input: Uint8Array): string {
  const dir = corpusDir(target);
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(input).digest('hex').slice(0, 16);
  const path = join(dir, `crash-${hash}.bin`);
  if (!existsSync(path)) writeFileSync(path, input);
  return path;
}
