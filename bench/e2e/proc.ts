/**
 * Process helpers for the end-to-end bench: bounded commands, child processes tracked by PID so the
 * bench stops exactly what it started (never by name), and per-process CPU time from /proc/<pid>/stat.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CmdResult { code: number; stdout: string; stderr: string }

/** Runs a command without a shell; never throws (code -1 when it could not start or timed out). */
export function sh(cmd: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CmdResult> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: opts.timeoutMs ?? 15_000, env: opts.env ?? process.env, maxBuffer: 32 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const c = (err as { code?: unknown }).code;
      resolve({ code: typeof c === 'number' ? c : -1, stdout: stdout ?? '', stderr: (stderr ?? '') || err.message });
    });
  });
}

/** Like `sh` but throws with the command line and stderr on a non-zero exit. */
export async function must(cmd: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${(r.stderr || r.stdout).trim().slice(-1500)}`);
  return r.stdout;
}

export function inNs(ns: string, cmd: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return must('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** A started process with its last output kept for error messages. */
export interface Proc { child: ChildProcess; pid: number; name: string; output(): string }

const live = new Set<Proc>();

/**
 * Spawns `ip netns exec NS cmd args…`. `ip netns exec` and `unshare` exec their command, so the PID is
 * the tunnel process itself (its /proc stat is what the CPU column reads).
 */
export function spawnIn(name: string, ns: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString()).slice(-8000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (e) => { out += `\nspawn error: ${e.message}`; });
  const p: Proc = { child, pid: child.pid ?? -1, name, output: () => out };
  live.add(p);
  child.once('exit', () => live.delete(p));
  return p;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited (bounded). */
export function stop(p: Proc | undefined, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) { if (p) live.delete(p); return resolve(); }
    const hard = setTimeout(() => { try { p.child.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
    const give = setTimeout(() => resolve(), graceMs + 3000);
    p.child.once('exit', () => { clearTimeout(hard); clearTimeout(give); live.delete(p); resolve(); });
    try { p.child.kill('SIGTERM'); } catch { clearTimeout(hard); clearTimeout(give); resolve(); }
  });
}

/** Stops every process this module started and has not seen exit. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => stop(p)));
}

/** Synchronous last resort for process exit: SIGKILL by PID. */
export function killAllSync(): void {
  for (const p of live) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
}

let clkTck = 100;
export async function initClockTicks(): Promise<void> {
  const r = await sh('getconf', ['CLK_TCK']);
  const n = Number(r.stdout.trim());
  if (r.code === 0 && n > 0) clkTck = n;
}

/** utime + stime of a process (all its threads) in seconds, or NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces: parse after its closing parenthesis. utime/stime are fields 14/15.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / clkTck;
  } catch {
    return NaN;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `stepMs` until it holds or `timeoutMs` passes (bounded by both). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, stepMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (await check()) return;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
