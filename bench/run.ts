/**
 * All benchmarks, one report:
 *
 *   npm run bench                       ESP micro-bench (quick) + IKE bench
 *   node dist/bench/run.js --e2e [e2e options: --seconds 10 --reps 3 --rows …] [--full] [--readme bench/README.md]
 *
 * The ESP micro-bench (bench/esp.ts) runs as its own process (`node --expose-gc dist/bench/esp.js`,
 * it has no exported entry point and runs on import); the IKE bench runs in a child process too so
 * it gets --expose-gc; the end-to-end bench (root, namespaces) only with --e2e. With --readme the IKE
 * and End to end sections of that file are rewritten (the ESP section only with --full, as esp.ts owns it).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mainE2e } from './e2e/run.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function runNode(script: string, args: readonly string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', script, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    const t = setTimeout(() => { process.stderr.write(`bench: ${script} timed out after ${timeoutMs} ms\n`); child.kill('SIGKILL'); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(t); resolve(code ?? 1); });
    child.once('error', (e) => { clearTimeout(t); process.stderr.write(`bench: ${e.message}\n`); resolve(1); });
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const full = argv.includes('--full');
  const e2e = argv.includes('--e2e');
  const ri = argv.indexOf('--readme');
  const readme = ri >= 0 ? argv[ri + 1] : undefined;
  const rest = argv.filter((a, i) => a !== '--full' && a !== '--e2e' && a !== '--readme' && (ri < 0 || i !== ri + 1));
  let failed = 0;

  process.stdout.write('# tsipsec benchmarks\n');
  const espArgs = [...(full ? [] : ['--quick']), ...(full && readme ? ['--readme', readme] : [])];
  if (await runNode(here('./esp.js'), espArgs, 10 * 60_000) !== 0) failed++;
  if (await runNode(here('./ike.js'), [...(full ? [] : ['--seconds', '2', '--memory-n', '1000']), ...(readme ? ['--readme', readme] : [])], 20 * 60_000) !== 0) failed++;
  if (e2e) {
    try {
      if (await mainE2e([...rest, ...(readme ? ['--readme', readme] : [])]) !== 0) failed++;
    } catch (e) {
      process.stderr.write(`bench: e2e: ${(e as Error).message}\n`);
      failed++;
    }
  } else {
    process.stdout.write('\n(end-to-end bench skipped: pass --e2e, as root)\n');
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e: Error) => { process.stderr.write(`bench: ${e.stack ?? e.message}\n`); process.exit(1); });
