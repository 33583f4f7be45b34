/**
 * A strongSwan charon instance in a namespace (../shared/INTEROP.md §4). On a kernel without ESP (this
 * machine) charon uses kernel-libipsec: userspace ESP through a TUN device, tunnel mode, UDP-encapsulated.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { killPid, run, spawnLogged, waitFor } from './sh.js';

export interface CharonOptions {
  name: string;
  ns: string;
  dir: string; // work directory (not under /run)
  swanctlConf: string;
  libipsec: boolean;
  files?: Record<string, string | Uint8Array>; // relative to etc/swanctl (x509/a.pem, private/a.key, ...)
  /** Extra lines for the charon { } section of strongswan.conf (they override the defaults above them). */
  charonSettings?: string;
}

/**
 * charon's strongswan.conf (INTEROP.md §4): kernel-netlink (kernel ESP), with kernel-libipsec in front of
 * it on a kernel without ESP; ike = 4 and chd = 4 in the log, so the keys are there too. `swanctlLoad`
 * limits the plugins swanctl loads (its default list costs seconds per call in user-mode-linux).
 */
export function strongswanConf(o: { name: string; vici: string; logFile: string; libipsec: boolean; charonSettings?: string | undefined; swanctlLoad?: string }): string {
  const kernel = o.libipsec ? 'kernel-libipsec kernel-netlink' : 'kernel-netlink';
  return `charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey aes sha1 sha2 hmac gcm kdf gmp curve25519 ${kernel} socket-default vici
  install_routes = yes
  retransmit_tries = 3
${o.charonSettings ?? ''}
  plugins { vici { socket = ${o.vici} } }
  filelog {
    main {
      path = ${o.logFile}
      time_format = %H:%M:%S
      ike_name = yes
      append = no
      flush_line = yes
      default = 1
      ike = 4
      chd = 4
      cfg = 2
      knl = 2
      net = 2
      enc = 1
      esp = 2
      lib = 1
    }
  }
  syslog {
    identifier = charon-${o.name}
    daemon {
      default = -1
    }
  }
}
swanctl {
  socket = ${o.vici}${o.swanctlLoad ? `\n  load = ${o.swanctlLoad}` : ''}
}
`;
}

export class Charon {
  private child: ChildProcess | undefined;
  readonly etc: string;
  readonly runDir: string;
  readonly logFile: string;
  constructor(readonly opts: CharonOptions) {
    this.etc = join(opts.dir, 'etc');
    this.runDir = join(opts.dir, 'run');
    this.logFile = join(opts.dir, 'log', 'charon.log');
  }

  get vici(): string { return `unix://${this.runDir}/charon.vici`; }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, STRONGSWAN_CONF: join(this.etc, 'strongswan.conf'), SWANCTL_DIR: join(this.etc, 'swanctl') };
  }

  async start(): Promise<void> {
    const { dir, libipsec } = this.opts;
    rmSync(dir, { recursive: true, force: true });
    for (const d of ['etc/swanctl/x509', 'etc/swanctl/x509ca', 'etc/swanctl/private', 'run', 'log']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(this.etc, 'strongswan.conf'), strongswanConf({ name: this.opts.name, vici: this.vici, logFile: this.logFile, libipsec, charonSettings: this.opts.charonSettings }));
    writeFileSync(join(this.etc, 'swanctl', 'swanctl.conf'), this.opts.swanctlConf);
    for (const [rel, content] of Object.entries(this.opts.files ?? {})) writeFileSync(join(this.etc, 'swanctl', rel), content);
    this.child = spawnLogged('ip', ['netns', 'exec', this.opts.ns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c',
      `mount --bind ${this.runDir} /run && exec /usr/lib/ipsec/charon`], this.env());
    let output = '';
    this.child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    this.child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
    try {
      await waitFor(`charon ${this.opts.name} vici socket`, async () => existsSync(join(this.runDir, 'charon.vici')), 15_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}\ncharon output: ${output}\nlog: ${this.log().slice(-2000)}`);
    }
    const r = await this.swanctl(['--load-all', '--file', join(this.etc, 'swanctl', 'swanctl.conf')]);
    if (r.code !== 0) throw new Error(`swanctl --load-all failed: ${r.stderr || r.stdout}`);
  }

  swanctl(args: string[], timeoutMs = 30_000) {
    return run('swanctl', [...args, '--uri', this.vici], { env: this.env(), timeoutMs });
  }

  async listSas(): Promise<string> { return (await this.swanctl(['--list-sas'])).stdout; }

  log(): string { try { return readFileSync(this.logFile, 'utf8'); } catch { return ''; } }

  async stop(): Promise<void> { await killPid(this.child); this.child = undefined; }

  /** Kills charon without letting it send Deletes (SIGKILL): the peer only learns of it by DPD. */
  async kill(): Promise<void> { await killPid(this.child, 'SIGKILL'); this.child = undefined; }

  /**
   * swanctl --list-sas, parsed to the IKE SA lines ("ipx: #1, ESTABLISHED, ...") and child lines, and
   * each child's state and SPIs (`childSas`).
   */
  async sas(): Promise<{ ike: string[]; children: string[]; childSas: CharonChild[]; text: string }> {
    const text = await this.listSas();
    const lines = text.split('\n');
    return {
      ike: lines.filter((l) => /^\S+: #\d+, /.test(l)),
      children: lines.filter((l) => /^\s+\S+: #\d+, reqid/.test(l)),
      childSas: parseChildSas(text),
      text,
    };
  }
}

/** One CHILD_SA of `swanctl --list-sas`: its state (INSTALLED, REKEYED, DELETED, ...) and SPIs. */
export interface CharonChild { id: number; state: string; spiIn: number | undefined; spiOut: number | undefined }

/**
 *     ipx: #7, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256
 *       installed 0s ago, rekeying in 8s, expires in 11s
 *       in  60e756fd,      0 bytes,     0 packets
 *       out 91158581,      0 bytes,     0 packets
 */
export function parseChildSas(text: string): CharonChild[] {
  const out: CharonChild[] = [];
  let cur: CharonChild | undefined;
  for (const l of text.split('\n')) {
    const head = /^\s+\S+: #(\d+), reqid \d+, (\w+)/.exec(l);
    if (head) { cur = { id: Number(head[1]), state: head[2]!, spiIn: undefined, spiOut: undefined }; out.push(cur); continue; }
    if (/^\S/.test(l)) { cur = undefined; continue; }
    const spi = /^\s+(in|out) +([0-9a-f]{8})\b/.exec(l);
    if (cur && spi) cur[spi[1] === 'in' ? 'spiIn' : 'spiOut'] = parseInt(spi[2]!, 16);
  }
  return out;
}
