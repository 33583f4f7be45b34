/**
 * Running OS commands (`ip`, `sysctl`, …) for the adapters and the runtime.
 *
 * `run` uses execFile (no shell, so arguments are never re-parsed), a timeout, and throws a
 * `CommandError` whose message carries the command line, exit status and stderr, because "exit code 2"
 * alone never says why `ip route add` refused.
 */
import { execFile } from 'node:child_process';

export interface RunOptions {
  /** Kill the command after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Text written to the command's stdin. */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Signature of `run`, so adapters can take a fake in tests. */
export type RunCommand = (cmd: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** A command that could not start, exited non-zero, or timed out. */
export class CommandError extends Error {
  readonly cmd: string;
  readonly args: readonly string[];
  /** Exit code, or null when killed by a signal or it never started. */
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly stdout: string;

  constructor(cmd: string, args: readonly string[], exitCode: number | null, stdout: string, stderr: string, why: string) {
    const line = [cmd, ...args].join(' ');
    const detail = stderr.trim() || (stdout.trim() ? `${why.split('\n')[0]}; stdout: ${stdout.trim().slice(-500)}` : why);
    super(`command failed: ${line}: ${detail}${exitCode !== null ? ` (exit ${exitCode})` : ''}`);
    this.name = 'CommandError';
    this.cmd = cmd;
    this.args = args;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/** Runs `cmd args…` without a shell. Resolves with its output; rejects with `CommandError`. */
export const run: RunCommand = (cmd, args, opts = {}) =>
  new Promise<RunResult>((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string | null };
        const exitCode = typeof e.code === 'number' ? e.code : null;
        const why = e.killed ? `timed out or killed (${e.signal ?? 'signal'})` : e.message;
        reject(new CommandError(cmd, args, exitCode, stdout ?? '', stderr ?? '', why));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });

/** Runs a command and swallows any failure; for cleanup paths that must never throw. */
export async function runQuiet(cmd: string, args: readonly string[], opts?: RunOptions): Promise<boolean> {
  try {
    await run(cmd, args, opts);
    return true;
  } catch {
    return false;
  }
}
