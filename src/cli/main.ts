#!/usr/bin/env node
/**
 * tsipsec command line: a thin shell over the library. Each command lives in commands/<name>.ts and is
 * loaded on demand, so `tsipsec mtu` does not load the runtime.
 */
import { CliError, ExitCode } from './errors.js';

/**
 * libuv's thread pool (default 4 threads) runs fs, dns and crypto work, and each TUN reader and raw ESP
 * reader parks one pool thread in poll(2) (koffi async calls). With 4 threads a daemon with TUN + raw
 * ESP has 2 left for everything else, and `fs`/`dns` work queues behind them. `up` wants 16.
 *
 * libuv reads UV_THREADPOOL_SIZE once, when the pool first starts, and under Node 20 the ESM loader has
 * already started it before this module runs (it reads this very file through fs/promises): setting
 * process.env here is too late (measured: the pool stays at 4 threads). So for `up`, when the variable
 * is unset, we set it and re-execute the same program with execve(2): same PID (scripts and tests that
 * signal it keep working), same arguments and stdio (Node marks fds 0-2 close-on-exec; cleared first).
 * If that fails the daemon runs with the default pool.
 */
const UV_THREADPOOL_SIZE = 16;

async function reexecWithThreadPool(): Promise<void> {
  if (process.env.UV_THREADPOOL_SIZE !== undefined || process.platform !== 'linux') return;
  process.env.UV_THREADPOOL_SIZE = String(UV_THREADPOOL_SIZE);
  try {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
    const execve = libc.func('int execve(const char *path, const char **argv, const char **envp)');
    const F_SETFD = 2;
    for (const fd of [0, 1, 2]) fcntl(fd, F_SETFD, 0);
    const argv = [process.execPath, ...process.execArgv, ...process.argv.slice(1), null];
    const env = [...Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`), null];
    execve(process.execPath, argv, env); // returns only on failure
  } catch {
    // keep the default pool
  }
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  up: { summary: 'run tunnels from a swanctl.conf in the foreground', load: () => import('./commands/up.js') },
  status: { summary: 'show IKE and child SAs of the running daemon', load: () => import('./commands/status.js') },
  initiate: { summary: 'bring up a child SA: initiate CHILD', load: () => import('./commands/initiate.js') },
  terminate: { summary: 'delete an SA: terminate (--ike NAME | --child NAME)', load: () => import('./commands/terminate.js') },
  reload: { summary: 're-read the config of the running daemon (like swanctl --load-all, SIGHUP)', load: () => import('./commands/reload.js') },
  down: { summary: 'stop the running daemon (deletes all SAs)', load: () => import('./commands/down.js') },
  decode: { summary: 'decode (and decrypt) a pcap/pcapng capture of IKE and ESP', load: () => import('./commands/decode.js') },
  mtu: { summary: 'print ESP overhead and the inner MTU for a cipher and outer MTU', load: () => import('./commands/mtu.js') },
  demo: { summary: 'two namespaces, two tsipsec instances, a real encrypted tunnel (root)', load: () => import('./commands/demo.js') },
  mesh: { summary: 'cluster mesh encryption: mesh up / mesh render --mesh FILE --node NAME', load: () => import('./commands/mesh.js') },
};

/** Every command name, for --help checks. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

export const HELP = `tsipsec — IKEv2 and ESP in userspace TypeScript

Usage: tsipsec <command> [options]     (tsipsec <command> --help for details)

Commands:
${Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(10)} ${v.summary}`).join('\n')}

Global options: --debug (stack traces on errors), --help, --version
Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 daemon not running (no control socket)`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const debug = argv.includes('--debug');
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP + '\n');
    return cmd === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (cmd === '--version' || cmd === 'version') {
    const { existsSync, readFileSync } = await import('node:fs');
    // src/cli/main.ts or dist/src/cli/main.js: the package root is two or three levels up (dist/ has no package.json).
    const url = [new URL('../../package.json', import.meta.url), new URL('../../../package.json', import.meta.url)].find((u) => existsSync(u))!;
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
    process.stdout.write(`tsipsec ${pkg.version}\n`);
    return ExitCode.OK;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    process.stderr.write(`tsipsec: unknown command '${cmd}'\n\n${HELP}\n`);
    return ExitCode.USAGE;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`tsipsec ${cmd}: ${debug && e.stack ? e.stack : e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`tsipsec ${cmd}: ${debug && e instanceof Error ? e.stack : e instanceof Error ? e.message : String(e)}\n`);
    return ExitCode.FAILURE;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, '/dist/'));
if (invokedDirectly || process.argv[1]?.endsWith('tsipsec') || process.argv[1]?.endsWith('main.js')) {
  // Only as the program itself (never when a test imports main): execve replaces the whole process.
  const ready = process.argv[2] === 'up' || (process.argv[2] === 'mesh' && process.argv[3] === 'up') ? reexecWithThreadPool() : Promise.resolve();
  ready.then(() => main(process.argv.slice(2))).then((code) => { process.exitCode = code; }, (e: unknown) => { process.stderr.write(String(e) + '\n'); process.exitCode = 1; });
}
