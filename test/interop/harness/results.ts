/**
 * The interop matrix: every scenario run appends one JSON line (scenario × direction → pass/fail,
 * seconds, notes such as lost packets) to test/interop/results/results.jsonl, tagged with the id of
 * the vitest run, so files running in parallel workers all land in one table.
 * `node scripts/interop-report.mjs` prints the table of the latest run and writes
 * test/interop/results/latest.md; each file's afterAll (`finishMatrix`) refreshes latest.md and prints
 * its own rows.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { it } from 'vitest';

export const RESULTS_DIR = join(import.meta.dirname, '..', 'results');
export const RESULTS_FILE = join(RESULTS_DIR, 'results.jsonl');
export const REPORT_SCRIPT = join(import.meta.dirname, '..', '..', '..', 'scripts', 'interop-report.mjs');

export interface MatrixRow {
  run: string;
  file: string;
  scenario: string;
  /** The side in the role (the matrix column): 'tsipsec', 'strongswan' or 'libreswan'. */
  direction: string;
  /** What the side in the column does in this scenario: 'initiates', 'deletes', 'rekeys', … */
  role: string;
  ok: boolean;
  seconds: number;
  notes: string[];
  error?: string;
  at: string;
}

/**
 * One id per `vitest run`: workers are forks of the vitest main process, so its pid plus its start
 * time (/proc/<pid>/stat field 22) names the run. TSIPSEC_INTEROP_RUN overrides it.
 */
export function runId(): string {
  if (process.env.TSIPSEC_INTEROP_RUN) return process.env.TSIPSEC_INTEROP_RUN;
  const ppid = process.ppid;
  try {
    const stat = readFileSync(`/proc/${ppid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${ppid}-${fields[19]}`; // field 22 overall = index 19 after "pid (comm)"
  } catch {
    return `${ppid}`;
  }
}

export interface ScenarioContext {
  /** Adds a note to this row of the matrix (e.g. "lost 0/500"). */
  note(text: string): void;
  /**
   * Records this many seconds for the cell instead of the test's own duration: for cells whose work
   * ran earlier in a batch (the kernel-ESP cells share one user-mode-linux boot per file).
   */
  seconds(s: number): void;
}

export interface Matrix {
  /** Declares a vitest test that is also a matrix cell: `side` is the column, `role` what it does. */
  cell(scenario: string, side: 'tsipsec' | 'strongswan' | 'libreswan', role: string, fn: (ctx: ScenarioContext) => Promise<void>, timeoutMs: number): void;
  /** Call from afterAll: records unfinished cells as failed, prints this file's rows, refreshes latest.md. */
  finish(): Promise<void>;
}

export function matrix(file: string): Matrix {
  const run = runId();
  const rows: MatrixRow[] = [];
  const started = new Map<string, { scenario: string; direction: string; role: string; t0: number; notes: string[] }>();
  const record = (r: MatrixRow): void => {
    rows.push(r);
    mkdirSync(RESULTS_DIR, { recursive: true });
    appendFileSync(RESULTS_FILE, JSON.stringify(r) + '\n');
  };
  return {
    cell(scenario, direction, role, fn, timeoutMs) {
      it(`${scenario} (${direction} ${role})`, async () => {
        const key = `${scenario}\u0000${direction}`;
        const s = { scenario, direction, role, t0: Date.now(), notes: [] as string[], seconds: undefined as number | undefined };
        started.set(key, s);
        let error: string | undefined;
        try {
          await fn({ note: (t) => s.notes.push(t), seconds: (n) => { s.seconds = n; } });
        } catch (e) {
          error = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
          throw e;
        } finally {
          // A cell vitest already timed out was recorded as failed by finish(); its late end changes nothing.
          if (started.get(key) === s) {
            started.delete(key);
            const took = (Date.now() - s.t0) / 1000;
            const seconds = s.seconds ?? took;
            // Ended after vitest's timeout (vitest failed it already): a late success is still a failure.
            if (error === undefined && took * 1000 > timeoutMs) error = `exceeded the ${timeoutMs} ms test timeout`;
            record({ run, file, scenario, direction, role, ok: error === undefined, seconds, notes: s.notes, error, at: new Date().toISOString() });
          }
        }
      }, timeoutMs);
    },
    async finish() {
      for (const s of started.values()) {
        record({ run, file, scenario: s.scenario, direction: s.direction, role: s.role, ok: false, seconds: (Date.now() - s.t0) / 1000, notes: s.notes, error: 'did not finish (timeout)', at: new Date().toISOString() });
      }
      started.clear();
      const lines = rows.map((r) => `  ${r.ok ? 'pass' : 'FAIL'}  ${r.seconds.toFixed(1).padStart(5)} s  ${r.scenario} (${r.direction} ${r.role})${r.notes.length ? `  [${r.notes.join('; ')}]` : ''}${r.error ? `  ${r.error}` : ''}`);
      console.log(`interop matrix, ${file}:\n${lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        execFile(process.execPath, [REPORT_SCRIPT, '--run', run, '--quiet'], { timeout: 10_000 }, () => resolve());
      });
    },
  };
}
