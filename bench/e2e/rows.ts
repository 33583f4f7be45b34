/**
 * The rows of the end-to-end bench: how LAN A reaches LAN B in each. `setup` leaves a working path
 * (checked by the caller with a ping) and returns the PIDs whose CPU time is the tunnel's cost, and a
 * teardown that stops exactly those processes.
 *
 *   plaintext           kernel routes over the veth, no tunnel (the ceiling)
 *   tsipsec             tsipsec ↔ tsipsec: IKEv2 PSK + X25519, ESP AES-256-GCM, tunnel mode, ESP-in-UDP
 *   tsipsec-strongswan  tsipsec (initiator, A) ↔ strongSwan charon with kernel-libipsec (B), same proposals
 *   strongswan          charon kernel-libipsec ↔ charon kernel-libipsec (userspace ESP through a TUN)
 *   wireguard           wireguard-go ↔ wireguard-go (userspace WireGuard through a TUN), if installed
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/runtime/control.js';
import type { TunnelStatus } from '../../src/runtime/tunnel.js';
import { inNs, must, sh, spawnIn, stop, waitFor, type Proc } from './proc.js';
import { LAN_A, LAN_A_NET, LAN_B, LAN_B_NET, LINK_A, LINK_B, NS_A, NS_B } from './topology.js';

export const ROW_NAMES = ['plaintext', 'tsipsec', 'tsipsec-strongswan', 'strongswan', 'wireguard', 'tsipsec-dgram', 'tsipsec-v0', 'tsipsec-uvpoll', 'tsipsec-nooffload', 'tsipsec-nogso', 'tsipsec-main', 'tsipsec-v8budget'] as const;
/** Rows run by default; the ablation rows (tsipsec-dgram, tsipsec-v0, tsipsec-uvpoll) only when asked for with --rows. */
export const DEFAULT_ROWS: readonly RowName[] = ['plaintext', 'tsipsec', 'tsipsec-strongswan', 'strongswan', 'wireguard'];
/**
 * Environment of the tsipsec processes per row: the ablation rows switch levers off (daemon.ts).
 *   tsipsec-dgram  node-evp AEAD, node:dgram sockets (no sendmmsg/recvmmsg)
 *   tsipsec-v0     node:crypto createCipheriv per packet and node:dgram: the data plane before issue 6
 *   tsipsec-uvpoll the data plane on the main thread, TUN readability from a libuv poll handle on the main loop instead of poll(2) on a pool thread
 *   tsipsec-nooffload  no TUN offloads (IFF_VNET_HDR/TSO, tun/offload.ts) and no UDP GSO: the data plane of round 1
 *   tsipsec-nogso  TUN offloads but one datagram per sendmmsg slot (no UDP_SEGMENT)
 *   tsipsec-main   the data plane on the main thread (TUN async-poll), not in the worker thread (round 2's default)
 *   tsipsec-v8budget  V8's default tier-up budget (67584) instead of the worker's 8192 (TSIPSEC_INTERRUPT_BUDGET)
 */
const TSIPSEC_ENV: Partial<Record<RowName, Record<string, string>>> = {
  'tsipsec-dgram': { TSIPSEC_UDP: 'dgram' },
  'tsipsec-v0': { TSIPSEC_UDP: 'dgram', TSIPSEC_AEAD: 'node' },
  'tsipsec-uvpoll': { TSIPSEC_DATAPLANE: 'main', TSIPSEC_TUN_READ: 'uv-poll' },
  'tsipsec-nooffload': { TSIPSEC_TUN_OFFLOAD: '0', TSIPSEC_UDP_GSO: '0' },
  'tsipsec-nogso': { TSIPSEC_UDP_GSO: '0' },
  'tsipsec-main': { TSIPSEC_DATAPLANE: 'main' },
  'tsipsec-v8budget': { TSIPSEC_INTERRUPT_BUDGET: '67584' },
};
export type RowName = (typeof ROW_NAMES)[number];

export interface RowRun {
  /** Processes that carry the traffic (CPU is summed over them); empty for the kernel path. */
  readonly procs: readonly Proc[];
  /** Extra facts for the report (e.g. the negotiated algorithms). */
  readonly note: string;
  /** tsipsec rows: the inbound SPIs of the installed child SAs on side A (a change = a rekey). */
  childSpis?(): Promise<string[]>;
  /** tsipsec rows: the status of each tsipsec process (A first), for drop counters around rekeys. */
  statuses?(): Promise<TunnelStatus[]>;
  teardown(): Promise<void>;
}

export interface RowOptions {
  /** Work directory for configs and logs of this setup (created, removed by teardown unless kept). */
  work: string;
  /** Extra node flags for the tsipsec processes (e.g. --cpu-prof --cpu-prof-dir=…). */
  nodeArgs: readonly string[];
  keep: boolean;
  /** CHILD_SA rekey_time in seconds (rand_time 0) on side A (3× on B, so A initiates every rekey); undefined = defaults. */
  childRekeySec?: number;
}

const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CHARON = '/usr/lib/ipsec/charon';

export function rowAvailable(row: RowName): string | undefined {
  if (row === 'wireguard' && !['/usr/bin/wireguard-go', '/usr/sbin/wireguard-go'].some(existsSync)) return 'wireguard-go is not installed';
  if ((row === 'strongswan' || row === 'tsipsec-strongswan') && !existsSync(CHARON)) return `${CHARON} is missing`;
  if (row.startsWith('tsipsec') && !existsSync(MAIN_JS)) return `${MAIN_JS} is missing (npm run build)`;
  return undefined;
}

export async function setupRow(row: RowName, o: RowOptions): Promise<RowRun> {
  rmSync(o.work, { recursive: true, force: true });
  mkdirSync(o.work, { recursive: true });
  childRekeySec = o.childRekeySec;
  const cleanWork = () => { if (!o.keep) rmSync(o.work, { recursive: true, force: true }); };
  switch (row) {
    case 'plaintext': return plaintext(cleanWork);
    case 'tsipsec': case 'tsipsec-dgram': case 'tsipsec-v0': case 'tsipsec-uvpoll': case 'tsipsec-nooffload': case 'tsipsec-nogso': case 'tsipsec-main': case 'tsipsec-v8budget': return tsipsecPair(o, cleanWork, TSIPSEC_ENV[row] ?? {});
    case 'tsipsec-strongswan': return tsipsecStrongswan(o, cleanWork);
    case 'strongswan': return strongswanPair(o, cleanWork);
    case 'wireguard': return wireguard(o, cleanWork);
  }
}

// ---- plaintext ----

async function plaintext(clean: () => void): Promise<RowRun> {
  await must('ip', ['-n', NS_A, 'route', 'add', LAN_B_NET, 'via', LINK_B, 'src', LAN_A]);
  await must('ip', ['-n', NS_B, 'route', 'add', LAN_A_NET, 'via', LINK_A, 'src', LAN_B]);
  return {
    procs: [], note: 'kernel routing over the veth',
    async teardown() {
      await sh('ip', ['-n', NS_A, 'route', 'del', LAN_B_NET]);
      await sh('ip', ['-n', NS_B, 'route', 'del', LAN_A_NET]);
      clean();
    },
  };
}

// ---- swanctl.conf shared by tsipsec and charon ----

const IKE_PROPOSAL = 'aes256gcm16-prfsha256-x25519';
const ESP_PROPOSAL = 'aes256gcm16';

let childRekeySec: number | undefined;

function swanctlConf(side: 'a' | 'b', psk: string, start: boolean, charon: boolean): string {
  const me = side === 'a' ? LINK_A : LINK_B;
  const peer = side === 'a' ? LINK_B : LINK_A;
  return `connections {
  bench {
    version = 2
    local_addrs = ${me}
    remote_addrs = ${peer}
    proposals = ${IKE_PROPOSAL}
    encap = yes
${charon ? '    mobike = no\n' : ''}    local {
      auth = psk
      id = ${side}.bench.tsipsec
    }
    remote {
      auth = psk
      id = ${side === 'a' ? 'b' : 'a'}.bench.tsipsec
    }
    children {
      net {
        local_ts = ${side === 'a' ? LAN_A_NET : LAN_B_NET}
        remote_ts = ${side === 'a' ? LAN_B_NET : LAN_A_NET}
        esp_proposals = ${ESP_PROPOSAL}
        mode = tunnel
        start_action = ${start ? 'start' : 'none'}
${childRekeySec !== undefined ? `        rekey_time = ${side === 'a' ? childRekeySec : 3 * childRekeySec}s
        rand_time = 0s
        life_time = ${(side === 'a' ? 3 : 9) * childRekeySec}s
` : ''}      }
    }
  }
}
secrets {
  ike-bench {
    id-a = a.bench.tsipsec
    id-b = b.bench.tsipsec
    secret = ${psk}
  }
}
`;
}

function newPsk(): string {
  return `0s${randomBytes(32).toString('base64')}`;
}

// ---- tsipsec ----

interface Tsipsec { proc: Proc; socket: string }

function startTsipsec(side: 'a' | 'b', dir: string, conf: string, nodeArgs: readonly string[], env: Record<string, string> = {}): Tsipsec {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'swanctl.conf');
  writeFileSync(config, conf, { mode: 0o600 });
  const socket = join(dir, 'tsipsec.sock');
  const proc = spawnIn(`tsipsec-${side}`, side === 'a' ? NS_A : NS_B, process.execPath,
    [...nodeArgs, MAIN_JS, 'up', '--config', config, '--socket', socket, '--tun', `tsbe${side}%d`, '--log-level', 'warn'], { ...process.env, ...env });
  return { proc, socket };
}

async function waitTsipsecChild(t: Tsipsec, peer: () => string): Promise<TunnelStatus> {
  let status: TunnelStatus | undefined;
  await waitFor('tsipsec child SA', async () => {
    if (t.proc.child.exitCode !== null) throw new Error(`tsipsec exited with ${t.proc.child.exitCode}: ${t.proc.output()}\n--- peer ---\n${peer()}`);
    try {
      const s = (await controlRequest(t.socket, { cmd: 'status' }, 2000)) as TunnelStatus;
      if (s.ikeSas.some((sa) => sa.children.length > 0)) { status = s; return true; }
    } catch { /* not up yet */ }
    return false;
  }, 30_000);
  return status!;
}

async function childSpis(t: Tsipsec): Promise<string[]> {
  const s = (await controlRequest(t.socket, { cmd: 'status' }, 2000)) as TunnelStatus;
  return s.ikeSas.flatMap((sa) => sa.childCounters.map((c) => c.spiIn)).sort();
}

async function tsipsecPair(o: RowOptions, clean: () => void, env: Record<string, string>): Promise<RowRun> {
  const psk = newPsk();
  const b = startTsipsec('b', join(o.work, 'b'), swanctlConf('b', psk, false, false), o.nodeArgs, env);
  let a: Tsipsec | undefined;
  try {
    await waitFor('tsipsec B control socket', async () => existsSync(b.socket), 15_000, 100);
    a = startTsipsec('a', join(o.work, 'a'), swanctlConf('a', psk, true, false), o.nodeArgs, env);
    const aa = a;
    const st = await waitTsipsecChild(aa, () => b.proc.output());
    return {
      procs: [aa.proc, b.proc], note: st.ikeSas[0]?.algorithms ?? '', childSpis: () => childSpis(aa),
      statuses: () => Promise.all([aa, b].map((t) => controlRequest(t.socket, { cmd: 'status' }, 2000) as Promise<TunnelStatus>)),
      async teardown() { await stop(aa.proc); await stop(b.proc); clean(); },
    };
  } catch (e) {
    await stop(a?.proc);
    await stop(b.proc);
    throw e;
  }
}

// ---- strongSwan charon (kernel-libipsec) ----

interface Charon { proc: Proc; vici: string; env: NodeJS.ProcessEnv; dir: string }

async function startCharon(side: 'a' | 'b', dir: string, conf: string): Promise<Charon> {
  const etc = join(dir, 'etc');
  const runDir = join(dir, 'run');
  for (const d of ['etc/swanctl/x509', 'etc/swanctl/x509ca', 'etc/swanctl/private', 'run', 'log']) mkdirSync(join(dir, d), { recursive: true });
  const vici = `unix://${runDir}/charon.vici`;
  writeFileSync(join(etc, 'strongswan.conf'), `charon {
  load_modular = no
  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey aes sha1 sha2 hmac gcm kdf curve25519 kernel-libipsec kernel-netlink socket-default vici
  install_routes = yes
  plugins { vici { socket = ${vici} } }
  filelog {
    main {
      path = ${join(dir, 'log', 'charon.log')}
      append = no
      default = 0
      ike = 1
    }
  }
  syslog { daemon { default = -1 } }
}
swanctl { socket = ${vici} }
`);
  writeFileSync(join(etc, 'swanctl', 'swanctl.conf'), conf, { mode: 0o600 });
  const env = { ...process.env, STRONGSWAN_CONF: join(etc, 'strongswan.conf'), SWANCTL_DIR: join(etc, 'swanctl') };
  // A private mount namespace so charon's /run (pid file, sockets) is this directory, not the host's.
  const proc = spawnIn(`charon-${side}`, side === 'a' ? NS_A : NS_B, 'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${runDir} /run && exec ${CHARON}`], env);
  try {
    await waitFor(`charon ${side} vici socket`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`charon ${side} exited: ${proc.output()}`);
      return existsSync(join(runDir, 'charon.vici'));
    }, 15_000, 100);
    await must('swanctl', ['--load-all', '--file', join(etc, 'swanctl', 'swanctl.conf'), '--uri', vici], { env, timeoutMs: 20_000 });
  } catch (e) {
    await stop(proc);
    throw e;
  }
  return { proc, vici, env, dir };
}

async function strongswanPair(o: RowOptions, clean: () => void): Promise<RowRun> {
  const psk = newPsk();
  const started: Charon[] = [];
  try {
    started.push(await startCharon('b', join(o.work, 'b'), swanctlConf('b', psk, false, true)));
    const a = await startCharon('a', join(o.work, 'a'), swanctlConf('a', psk, false, true));
    started.push(a);
    await must('swanctl', ['--initiate', '--child', 'net', '--timeout', '20', '--uri', a.vici], { env: a.env, timeoutMs: 30_000 });
    return {
      procs: started.map((c) => c.proc), note: `${IKE_PROPOSAL}, ESP ${ESP_PROPOSAL}`,
      async teardown() { for (const c of started) await stop(c.proc); clean(); },
    };
  } catch (e) {
    for (const c of started) await stop(c.proc);
    throw e;
  }
}

async function tsipsecStrongswan(o: RowOptions, clean: () => void): Promise<RowRun> {
  const psk = newPsk();
  const b = await startCharon('b', join(o.work, 'b'), swanctlConf('b', psk, false, true));
  let a: Tsipsec | undefined;
  try {
    a = startTsipsec('a', join(o.work, 'a'), swanctlConf('a', psk, true, false), o.nodeArgs);
    const aa = a;
    const st = await waitTsipsecChild(aa, () => b.proc.output());
    return {
      procs: [aa.proc, b.proc], note: st.ikeSas[0]?.algorithms ?? '', childSpis: () => childSpis(aa),
      async teardown() { await stop(aa.proc); await stop(b.proc); clean(); },
    };
  } catch (e) {
    await stop(a?.proc);
    await stop(b.proc);
    throw e;
  }
}

// ---- wireguard-go ----

function x25519Keys(): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const d = privateKey.export({ format: 'jwk' }).d!;
  const x = publicKey.export({ format: 'jwk' }).x!;
  return { priv: Buffer.from(d, 'base64url').toString('base64'), pub: Buffer.from(x, 'base64url').toString('base64') };
}

async function wireguard(o: RowOptions, clean: () => void): Promise<RowRun> {
  const keys = { a: x25519Keys(), b: x25519Keys() };
  const procs: Proc[] = [];
  const env = { ...process.env, WG_PROCESS_FOREGROUND: '1', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' };
  try {
    for (const side of ['a', 'b'] as const) {
      const ns = side === 'a' ? NS_A : NS_B;
      const dev = `tsbewg${side}`;
      const p = spawnIn(`wireguard-go-${side}`, ns, 'wireguard-go', ['-f', dev], env);
      procs.push(p);
      await waitFor(`wireguard-go ${side} interface`, async () => {
        if (p.child.exitCode !== null) throw new Error(`wireguard-go exited: ${p.output()}`);
        return (await sh('ip', ['-n', ns, 'link', 'show', dev])).code === 0
          && (await sh('ip', ['netns', 'exec', ns, 'wg', 'show', dev])).code === 0;
      }, 10_000, 100);
      const keyFile = join(o.work, `${side}.key`);
      writeFileSync(keyFile, keys[side].priv + '\n', { mode: 0o600 });
      const peer = side === 'a' ? keys.b : keys.a;
      await inNs(ns, 'wg', ['set', dev, 'private-key', keyFile, 'listen-port', '51820', 'peer', peer.pub,
        'endpoint', `${side === 'a' ? LINK_B : LINK_A}:51820`, 'allowed-ips', side === 'a' ? LAN_B_NET : LAN_A_NET]);
      await must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      await must('ip', ['-n', ns, 'route', 'add', side === 'a' ? LAN_B_NET : LAN_A_NET, 'dev', dev, 'src', side === 'a' ? LAN_A : LAN_B]);
    }
    return {
      procs, note: 'WireGuard (ChaCha20-Poly1305), default MTU 1420',
      async teardown() { for (const p of procs) await stop(p); clean(); },
    };
  } catch (e) {
    for (const p of procs) await stop(p);
    throw e;
  }
}
