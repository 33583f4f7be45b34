#!/usr/bin/env node
/**
 * tsipsec command line: a thin shell over the library. Each command lives in commands/<name>.ts and is
 * loaded on demand, so `tsipsec mtu` does not load the runtime.
 */
import { CliError, ExitCode } from './errors.js';

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
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => { process.stderr.write(String(e) + '\n'); process.exitCode = 1; });
}
