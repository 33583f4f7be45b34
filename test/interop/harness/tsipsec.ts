/** A `tsipsec up` process (the built CLI) in a namespace, with its control socket and key log. */
import { mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { controlRequest } from '../../../src/runtime/control.js';
import type { TunnelStatus } from '../../../src/runtime/tunnel.js';
import { killPid, spawnLogged, waitFor } from './sh.js';

export const CLI = join(import.meta.dirname, '..', '..', '..', 'dist', 'src', 'cli', 'main.js');

export class TsipsecProc {
  private child: ChildProcess | undefined;
  private out = '';
  /** Extra environment for `tsipsec up` (e.g. STRONGSWAN_CONF for the retransmit schedule). */
  env: Record<string, string> = {};
  readonly socket: string;
  readonly keys: string;
  constructor(readonly ns: string, readonly dir: string, readonly swanctlConf: string, readonly files: Record<string, string | Uint8Array> = {}) {
    this.socket = join(dir, 'tsipsec.sock');
    this.keys = join(dir, 'keys');
  }

  async start(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    for (const d of ['keys', 'x509', 'x509ca', 'private']) mkdirSync(join(this.dir, d), { recursive: true });
    writeFileSync(join(this.dir, 'swanctl.conf'), this.swanctlConf, { mode: 0o600 });
    for (const [rel, content] of Object.entries(this.files)) writeFileSync(join(this.dir, rel), content);
    this.child = spawnLogged('ip', ['netns', 'exec', this.ns, process.execPath, CLI, 'up', '--config', join(this.dir, 'swanctl.conf'),
      '--socket', this.socket, '--keylog', this.keys, '--tun', 'tsipx%d', '--log-level', 'debug'], { ...process.env, ...this.env });
    this.child.stdout?.on('data', (d: Buffer) => { this.out = (this.out + d.toString()).slice(-200_000); });
    this.child.stderr?.on('data', (d: Buffer) => { this.out = (this.out + d.toString()).slice(-200_000); });
    await waitFor('tsipsec control socket', async () => {
      if (this.child?.exitCode !== null) throw new Error(`tsipsec exited: ${this.out}`);
      return existsSync(this.socket);
    }, 15_000);
  }

  output(): string { return this.out; }

  status(): Promise<TunnelStatus> { return controlRequest(this.socket, { cmd: 'status' }, 5000) as Promise<TunnelStatus>; }

  initiate(child: string, timeoutMs = 20_000): Promise<unknown> { return controlRequest(this.socket, { cmd: 'initiate', child }, timeoutMs); }

  terminate(what: { ike?: string; child?: string }): Promise<unknown> { return controlRequest(this.socket, { cmd: 'terminate', ...what }, 10_000); }

  async stop(): Promise<void> { await killPid(this.child); this.child = undefined; }

  /** SIGKILL: no Deletes, no route cleanup (the next start removes stale routes). */
  async kill(): Promise<void> { await killPid(this.child, 'SIGKILL'); this.child = undefined; }
}
