/**
 * A kernel with ESP for the scenarios that need one (../shared/INTEROP.md §2b). This machine's kernel has
 * XFRM but no esp4/gcm, so by default a scenario script runs inside user-mode-linux: Debian's
 * linux.uml (6.1) booted as an ordinary process on the host's / (hostfs, read-only), with
 * test/interop/uml/guest-init.sh as PID 1. The scenario directory is mounted read-write at the same
 * path, which is how configs go in and results come out. On a host kernel that can add an AES-GCM ESP
 * SA the script runs directly on the host instead.
 *
 * scripts/install-system-deps.sh unpacks user-mode-linux and libreswan into UML_CACHE.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './sh.js';

export { UML_CACHE } from '../env.js';
import { UML_CACHE } from '../env.js';
export const UML_ROOT = join(UML_CACHE, 'umlroot');
export const UML_LINUX = join(UML_ROOT, 'usr', 'bin', 'linux.uml');
export const LS_ROOT = join(UML_CACHE, 'lsroot');
export const GUEST_INIT = join(import.meta.dirname, '..', 'uml', 'guest-init.sh');
/** The checkout: the guest mounts it again when its tmpfs mounts hide it (a clone under /tmp). */
const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
export const SCENARIO_SH = join(import.meta.dirname, '..', 'uml', 'scenario.sh');
export const RUN_CELLS_SH = join(import.meta.dirname, '..', 'uml', 'run-cells.sh');

/** What is missing to run a script in user-mode-linux (empty when it can run). */
export function umlPrerequisites(): string[] {
  const missing: string[] = [];
  if (!existsSync(UML_LINUX)) missing.push(`user-mode-linux unpacked in ${UML_ROOT}`);
  else {
    const mods = join(UML_ROOT, 'usr', 'lib', 'uml', 'modules');
    if (!existsSync(mods) || readdirSync(mods).length === 0) missing.push(`UML modules in ${mods}`);
  }
  return missing;
}

let espProbe: Promise<boolean> | undefined;

/**
 * Whether this host's kernel can do ESP itself: adds an AES-GCM ESP SA in a scratch namespace
 * (tsu-probe-<pid>), the check INTEROP.md §0 recommends. Cached for the process.
 */
export function hostKernelHasEsp(): Promise<boolean> {
  espProbe ??= (async () => {
    if (process.env.TSIPSEC_INTEROP_FORCE_UML) return false;
    const n = `tsu-probe-${process.pid}`; // test files run in parallel workers probe at the same time
    await run('ip', ['netns', 'delete', n]);
    if ((await run('ip', ['netns', 'add', n])).code !== 0) return false;
    try {
      const r = await run('ip', ['-n', n, 'xfrm', 'state', 'add', 'src', '198.18.0.1', 'dst', '198.18.0.2', 'proto', 'esp', 'spi', '0x100',
        'mode', 'transport', 'aead', 'rfc4106(gcm(aes))', '0x0102030405060708091011121314151617181920', '128']);
      return r.code === 0;
    } finally {
      await run('ip', ['netns', 'delete', n]);
    }
  })();
  return espProbe;
}

export interface KernelRun {
  /** Exit status of the scenario script (-1: it never reported one: boot failure or timeout). */
  code: number;
  seconds: number;
  where: 'uml' | 'host';
  /** The tail of UML's console (or the script's output on the host). */
  console: string;
  timedOut: boolean;
}

/**
 * Runs `sh script` with OUT=<out> in a kernel with ESP and waits for it, bounded by `timeoutMs`
 * (UML gets SIGTERM, then SIGKILL 5 s later). `out` must be an absolute directory on the host; inside
 * UML it is read-write at the same path, everything else is read-only or guest tmpfs.
 */
export async function runInKernelWithEsp(o: { out: string; script: string; timeoutMs: number; memMb?: number }): Promise<KernelRun> {
  const t0 = Date.now();
  const statusFile = join(o.out, 'exit-status');
  rmSync(statusFile, { force: true });
  if (await hostKernelHasEsp()) {
    const r = await run('sh', [o.script], { timeoutMs: o.timeoutMs, env: { ...process.env, OUT: o.out } });
    return { code: r.code, seconds: (Date.now() - t0) / 1000, where: 'host', console: (r.stdout + r.stderr).slice(-8000), timedOut: false };
  }
  // UML's guest memory file and its umid directory (pid, mconsole socket) live in a private temp dir.
  const tmp = mkdtempSync(join(tmpdir(), 'tsu-uml-'));
  const umid = `tsu-${process.pid}-${Date.now() % 1_000_000}`;
  const args = [
    '-s', 'TERM', '-k', '5', String(Math.ceil(o.timeoutMs / 1000)),
    UML_LINUX, `mem=${o.memMb ?? 768}M`, 'quiet', 'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'ro',
    `init=${GUEST_INIT}`, 'con=null', 'con0=null,fd:1', `uml_dir=${tmp}`, `umid=${umid}`,
    `tsu.umlroot=${UML_ROOT}`, `tsu.out=${o.out}`, `tsu.script=${o.script}`, `tsu.repo=${REPO_ROOT}`,
  ];
  let out = '';
  const code = await new Promise<number>((resolve) => {
    const child = spawn('timeout', args, { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-16_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => { out += String(e); resolve(-2); });
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : -2)));
  });
  rmSync(tmp, { recursive: true, force: true });
  let status = -1;
  try { status = Number(readFileSync(statusFile, 'utf8').trim()); } catch { /* never written */ }
  return { code: Number.isFinite(status) ? status : -1, seconds: (Date.now() - t0) / 1000, where: 'uml', console: out.slice(-8000), timedOut: code === 124 || code === 137 };
}
