/**
 * A lab for the hostile end-to-end tests (test/e2e/hostile-*.test.ts; not a test file): network
 * namespaces `tsh-<run>-a` / `-b` / `-x` (initiator, responder, attacker) on veths in 198.18.40.0/24
 * and 198.18.41.0/24, "LANs" 198.19.1.1 (a) and 198.19.2.1 (b) on loopback, and real `tsipsec up`
 * processes (the built CLI) with key logs. `cleanup()` kills what it started (by PID) and deletes the
 * namespaces, also after a failure.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../../../src/runtime/control.js';
import { NetnsLab } from '../../../src/runtime/netns.js';
import type { TunnelStatus } from '../../../src/runtime/tunnel.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
export const ADDR = { a: '198.18.40.1', b: '198.18.40.2', bx: '198.18.41.1' } as const;
export const LAN = { a: '198.19.1.1', b: '198.19.2.1' } as const;
/** The attacker's addresses on the b–x link (198.18.41.10 …). */
export const ATTACKER_ADDRS = Array.from({ length: 16 }, (_, i) => `198.18.41.${10 + i}`);

/** Root, iproute2, /dev/net/tun and a built CLI; otherwise the caller skips (and says why). */
export function labAvailable(): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  if (!existsSync(CLI)) missing.push('dist/ (npm run build)');
  if (spawnSync('ip', ['-V']).status !== 0) missing.push('iproute2');
  return missing.length === 0 ? undefined : missing.join(', ');
}

export interface SideOptions {
  psk: string;
  /** Both sides propose only this (the fuzz session's recorded IKE_SA_INIT uses aes128-sha256-x25519). */
  proposals?: string;
  esp?: string;
  startAction?: 'start' | 'none' | 'trap';
  dpdDelaySec?: number;
  dpdAction?: 'clear' | 'restart' | 'none';
  rekeyTime?: string;
  /** B accepts any peer address (so the attacker's IKE_SA_INIT create half-open state). */
  anyRemote?: boolean;
  idLocal?: string;
  idRemote?: string;
  /** Raw swanctl lines added to the connection / the child section. */
  connExtra?: string;
  childExtra?: string;
}

export function swanctlConf(side: 'a' | 'b', o: SideOptions): string {
  const me = ADDR[side];
  const peer = side === 'a' ? ADDR.b : ADDR.a;
  const idL = o.idLocal ?? `${side}.hostile.tsipsec`;
  const idR = o.idRemote ?? `${side === 'a' ? 'b' : 'a'}.hostile.tsipsec`;
  return `connections {
  gw {
    version = 2
    local_addrs = ${me}
    ${side === 'b' && o.anyRemote ? '' : `remote_addrs = ${peer}`}
    proposals = ${o.proposals ?? 'aes128-sha256-x25519'}
    encap = yes
    ${o.dpdDelaySec !== undefined ? `dpd_delay = ${o.dpdDelaySec}s` : ''}
    ${o.rekeyTime ? `rekey_time = ${o.rekeyTime}` : ''}
    ${o.connExtra ?? ''}
    local {
      auth = psk
      id = ${idL}
    }
    remote {
      auth = psk
      id = ${idR}
    }
    children {
      net {
        local_ts = ${side === 'a' ? '198.19.1.0/24' : '198.19.2.0/24'}
        remote_ts = ${side === 'a' ? '198.19.2.0/24' : '198.19.1.0/24'}
        esp_proposals = ${o.esp ?? 'aes256gcm16'}
        mode = tunnel
        start_action = ${o.startAction ?? (side === 'a' ? 'start' : 'none')}
        ${o.dpdAction ? `dpd_action = ${o.dpdAction}` : ''}
        ${o.rekeyTime ? `rekey_time = ${o.rekeyTime}` : ''}
        ${o.childExtra ?? ''}
      }
    }
  }
}
secrets {
  ike-1 {
    id-a = ${side === 'a' ? idL : idR}
    id-b = ${side === 'a' ? idR : idL}
    secret = ${o.psk}
  }
}
`;
}

export interface Daemon {
  readonly side: 'a' | 'b' | 'x';
  readonly child: ChildProcess;
  readonly dir: string;
  readonly socket: string;
  readonly keylog: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  exited(): Promise<number | null>;
}

export class DaemonLab {
  readonly net: NetnsLab;
  readonly work: string;
  readonly ns: { a: string; b: string; x: string };
  /** Every daemon's output, also of stopped ones (the secrets test greps all of it). */
  readonly outputs: string[] = [];
  private readonly daemons: Daemon[] = [];

  constructor(readonly prefix: string) {
    this.net = new NetnsLab(prefix);
    this.work = mkdtempSync(join(tmpdir(), `${prefix}work-`));
    this.ns = { a: `${prefix}a`, b: `${prefix}b`, x: `${prefix}x` };
  }

  async setup(): Promise<void> {
    for (const s of ['a', 'b', 'x']) await this.net.createNamespace(s);
    await this.net.vethPair('a', 'tsha0', `${ADDR.a}/24`, 'b', 'tshb0', `${ADDR.b}/24`);
    await this.net.vethPair('x', 'tshx0', `${ATTACKER_ADDRS[0]}/24`, 'b', 'tshb1', `${ADDR.bx}/24`);
    for (const a of ATTACKER_ADDRS.slice(1)) await this.net.execIn('x', 'ip', ['addr', 'add', `${a}/24`, 'dev', 'tshx0']);
    // The attacker reaches B's IKE address (198.18.40.2) over its own link.
    await this.net.execIn('x', 'ip', ['route', 'add', '198.18.40.0/24', 'via', ADDR.bx]);
    await this.net.execIn('a', 'ip', ['addr', 'add', `${LAN.a}/32`, 'dev', 'lo']);
    await this.net.execIn('b', 'ip', ['addr', 'add', `${LAN.b}/32`, 'dev', 'lo']);
  }

  /** Starts `tsipsec up` in namespace `side` with `conf`; extra CLI args and env (STRONGSWAN_CONF) optional. */
  start(side: 'a' | 'b' | 'x', conf: string, extra: string[] = [], env: Record<string, string> = {}, name: string = side): Daemon {
    const dir = join(this.work, `${name}-${this.daemons.length}`);
    mkdirSync(join(dir, 'keys'), { recursive: true });
    writeFileSync(join(dir, 'swanctl.conf'), conf, { mode: 0o600 });
    const socket = join(dir, 'tsipsec.sock');
    const child = this.net.spawnIn(side, process.execPath, [CLI, 'up', '--config', join(dir, 'swanctl.conf'), '--socket', socket, '--keylog', join(dir, 'keys'), '--tun', `tsh${side}%d`, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    const idx = this.outputs.push('') - 1;
    const add = (d: Buffer): void => {
      out += d.toString();
      this.outputs[idx] = out;
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const d: Daemon = { side: side, child, dir, socket, keylog: join(dir, 'keys'), output: () => out, exited: () => exit };
    this.daemons.push(d);
    return d;
  }

  async status(d: Daemon): Promise<TunnelStatus> {
    return (await controlRequest(d.socket, { cmd: 'status' }, 3000)) as TunnelStatus;
  }

  /** Waits until `pred(status)` holds; throws with both daemons' output on timeout. */
  async waitFor(d: Daemon, pred: (s: TunnelStatus) => boolean, timeoutMs: number, what: string): Promise<TunnelStatus> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      if (d.child.exitCode !== null) throw new Error(`${what}: tsipsec (${d.side}) exited ${d.child.exitCode}\n${d.output().slice(-3000)}`);
      try {
        const s = await this.status(d);
        if (pred(s)) return s;
        last = JSON.stringify(s.ikeSas.map((x) => [x.state, x.children.length]));
      } catch (e) {
        last = (e as Error).message;
      }
      await sleep(200);
    }
    throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})\n${this.daemons.map((x) => `--- ${x.side} ---\n${x.output().slice(-2000)}`).join('\n')}`);
  }

  /** SIGKILL (a crash: no Delete sent, no cleanup). */
  async kill(d: Daemon): Promise<void> {
    if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
    await d.exited();
  }

  /** VmRSS of the daemon in KiB (`ip netns exec` execs node: same PID). */
  rssKb(d: Daemon): number {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : -1;
  }

  async cleanup(): Promise<void> {
    await this.net.cleanup();
    rmSync(this.work, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function childUp(s: TunnelStatus): boolean {
  return s.ikeSas.some((sa) => sa.state === 'established' && sa.children.length > 0);
}
