/**
 * Real, as root, in a namespace (prefix `tst-`): `tsipsec up` started with only `encap = yes`
 * connections has no raw ESP socket (`status --json` rawEsp null); a reload that adds an `encap = no`
 * connection opens one (rawEsp counters appear) and the new connection is loaded.
 *
 * Outside CI without root it does not run, and says so; in CI it must run.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, deleteNamespacesWithPrefix } from '../../src/runtime/netns.js';
import { controlRequest } from '../../src/runtime/control.js';
import type { TunnelStatus } from '../../src/runtime/tunnel.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const PREFIX = 'tst-';

function enabled(): boolean {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  if (!existsSync(cli)) missing.push('dist/ (npm run build)');
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`real reload raw e2e: missing in CI: ${missing.join(', ')}`);
  console.warn(`\n!!! real reload raw e2e NOT RUN: missing ${missing.join(', ')} !!!\n`);
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function conn(name: string, encap: 'yes' | 'no', octet: number): string {
  return `  ${name} {
    local_addrs = 198.18.48.1
    remote_addrs = 198.18.48.${octet}
    encap = ${encap}
    local { auth = psk
            id = a.tst.test }
    remote { auth = psk
             id = ${name}.tst.test }
    children { ${name}-net { local_ts = 198.19.48.1/32
                             remote_ts = 198.19.48.${octet}/32 } }
  }
`;
}
const SECRETS = 'secrets { ike-1 { secret = "tst reload raw test pre-shared key" } }\n';

describe.runIf(enabled())('real: reload adds the first encap = no connection', () => {
  const lab = new NetnsLab(PREFIX);
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-rraw-'));
  const confPath = join(work, 'swanctl.conf');
  const socket = join(work, 'ctl.sock');
  let child: ChildProcess | undefined;
  let out = '';

  beforeAll(async () => {
    await deleteNamespacesWithPrefix(`${PREFIX}rr`);
  });
  afterAll(async () => {
    await lab.cleanup();
    rmSync(work, { recursive: true, force: true });
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/tst-rr/);
  });

  it('opens the raw ESP socket on reload', async () => {
    await lab.createNamespace('rr');
    await lab.execIn('rr', 'ip', ['addr', 'add', '198.18.48.1/32', 'dev', 'lo']);
    writeFileSync(confPath, `connections {\n${conn('udp', 'yes', 2)}}\n${SECRETS}`, { mode: 0o600 });
    child = lab.spawnIn('rr', process.execPath, [cli, 'up', '--config', confPath, '--socket', socket, '--tun', 'tstrr%d']);
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(100);
    const status = () => controlRequest(socket, { cmd: 'status' }, 3000) as Promise<TunnelStatus>;
    expect((await status()).rawEsp, out).toBeNull();

    writeFileSync(confPath, `connections {\n${conn('udp', 'yes', 2)}${conn('raw', 'no', 3)}}\n${SECRETS}`, { mode: 0o600 });
    const r = spawnSync('ip', ['netns', 'exec', `${PREFIX}rr`, process.execPath, cli, 'reload', '--socket', socket], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, `${r.stdout}${r.stderr}\n${out}`).toBe(0);
    const st = await status();
    expect(st.connections.map((c) => c.name)).toEqual(['udp', 'raw']);
    expect(st.rawEsp, out).toEqual({ rxPackets: 0, rxBytes: 0, rxBatches: 0, rxDrops: 0, txPackets: 0, txBytes: 0, txErrors: 0 });
    expect(out).toMatch(/raw ESP socket opened for encap = no/);
    child.kill('SIGTERM');
    await new Promise<void>((res) => { if (child!.exitCode !== null) res(); else child!.once('exit', () => res()); });
  }, 60_000);
});
