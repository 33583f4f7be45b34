/**
 * The README's first command, run for real: `tsipsec demo` (built CLI) as root — two namespaces, two
 * tsipsec processes, ping and a TCP transfer through the TUN devices, status, and tsipsec's own decode of
 * the capture. Outside CI without root it does not run, and says so loudly; in CI it must run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

function enabled(): boolean {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/usr/bin/tcpdump') && !existsSync('/usr/sbin/tcpdump')) missing.push('tcpdump');
  if (!existsSync(cli)) missing.push('dist/ (npm run build)');
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`demo e2e: missing in CI: ${missing.join(', ')}`);
  console.warn(`\n!!! tsipsec demo e2e NOT RUN: missing ${missing.join(', ')} !!!\n`);
  return false;
}

describe.runIf(enabled())('tsipsec demo (real namespaces, TUN, UDP)', () => {
  it('passes every check and leaves no namespace behind', () => {
    const r = spawnSync(process.execPath, [cli, 'demo', '--pings', '3', '--bytes', '200000'], { encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/PASS ping 198\.19\.1\.1 -> 198\.19\.2\.1 through the tunnel: 3\/3 replies/);
    expect(out).toMatch(/PASS TCP transfer of 200000 bytes/);
    expect(out).toMatch(/PASS every captured ESP packet decrypts with the logged keys/);
    expect(out).toMatch(/all \d+ checks passed/);
    const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(ns).not.toMatch(/tsdemo-/);
  }, 150_000);

  it('fails with a usage error on bad arguments', () => {
    const r = spawnSync(process.execPath, [cli, 'demo', '--pings', 'many'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--pings must be an integer/);
  });
});
