/**
 * IKE establishment benchmark: two in-memory IkeEndpoints (no sockets, no timers) wired back to back.
 *
 *   npm run build && node --expose-gc dist/bench/ike.js [--seconds 3] [--memory-n 1000] [--reps 2] [--readme bench/README.md]
 *
 * 1. Establishments per second on one core (the one Node thread runs both sides), each a full
 *    IKE_SA_INIT + IKE_AUTH with the first CHILD_SA (4 messages):
 *      - PSK + X25519 (aes256gcm16-prfsha256-x25519, ESP aes256gcm16)
 *      - certificates (RSA-2048 leaf ↔ ECDSA P-256 leaf, test PKI) + MODP-2048 (aes256gcm16-prfsha256-modp2048)
 *    Each establishment is a new IKE SA of a distinct connection; the SAs are kept (as a gateway keeps them).
 * 2. Heap per established IKE SA with one child: establish N PSK + X25519 SAs, gc, heap delta / N, per
 *    side (each establishment creates one IKE SA on each endpoint; the figure is the delta / (2N)).
 *    Memory rows: `nodeCrypto`, the daemon configuration (the IKE provider daemon.ts passes since
 *    a2b73e5) and `withEvpAead(nodeCrypto)` (what it passed before: per-SA EVP contexts).
 *    Rate providers (PSK + X25519): `nodeCrypto` (native KDF and AEAD, node-native-*.ts),
 *    `withEvpAead(nodeCrypto)`, and `nodeCryptoJs` (node:crypto alone), alternating, each row in a fresh
 *    process (`--rate-row`), after a warm-up of 1,500 establishments.
 * Targets (the issue): ≥ 1,000 PSK + X25519 establishments/s, ≤ 8 KiB per IKE SA with one child. Reported, not asserted.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeCrypto, nodeCryptoJs, nodeRandom } from '../src/crypto/node.js';
import { withEvpAead } from '../src/crypto/node-evp.js';
import { cryptoProvider } from '../src/crypto/index.js';
import { loadNativeKdf, nativeKdfLoadError } from '../src/crypto/node-native-kdf.js';
import type { AeadName, CryptoProvider, DhGroup, HashName, PrfName } from '../src/crypto/types.js';
import { IkeEndpoint } from '../src/ike/endpoint.js';
import type { IkeConfigInput, IkeConnectionInput } from '../src/ike/config.js';
import type { Datagram } from '../src/ike/events.js';
import { machineInfo, machineLine, median, replaceSection, type MachineInfo } from './machine.js';

const ADDR_A = '198.18.0.1';
const ADDR_B = '198.18.0.2';
const PSK = new TextEncoder().encode('tsipsec bench pre-shared key, 32 bytes or more');
const PKI = fileURLToPath(new URL('../../test/fixtures/pki/', import.meta.url));

export type IkeBenchCase = 'psk-x25519' | 'cert-modp2048';

/**
 * Providers measured: `nodeCrypto` (node:crypto with the PRF, prf+, hashes and X25519 on libcrypto through
 * koffi, node-native-kdf.ts; what `cryptoProvider('node')` and the runtime's Tunnel default to), the
 * daemon's ESP provider `withEvpAead(nodeCrypto)` (AEAD on per-SA EVP contexts; its IKE provider too
 * before a2b73e5), `nodeCryptoJs` (node:crypto alone: the fallback when libcrypto.so.3 does not load, and
 * the state before the native KDF), and 'daemon': the IKE provider daemon.ts passes now.
 */
export type IkeBenchProvider = 'node' | 'node+evp' | 'node-js' | 'daemon';
export function benchProvider(p: IkeBenchProvider): CryptoProvider {
  if (p === 'node-js') return nodeCryptoJs;
  if (p === 'node+evp') return withEvpAead(nodeCrypto);
  // What daemon.ts hands the IKE endpoint since TunnelOptions.ikeProvider/espProvider (a2b73e5): the
  // configured provider as is; withEvpAead goes to the ESP data path only.
  if (loadNativeKdf() === undefined) throw new Error(`ike bench: libcrypto.so.3 did not load (${nativeKdfLoadError() ?? '?'}); nodeCrypto would be node:crypto only`);
  return p === 'daemon' ? daemonIkeProvider() : nodeCrypto;
}

/** The IKE endpoint's provider in the daemon (daemon.ts: `provider: cryptoProvider(opts.provider ?? 'node')`). */
function daemonIkeProvider(): CryptoProvider {
  return cryptoProvider('node');
}

function conn(name: string, side: 'a' | 'b', kind: IkeBenchCase): IkeConnectionInput {
  const child = {
    name: 'net', localTs: [side === 'a' ? '198.19.1.0/24' : '198.19.2.0/24'], remoteTs: [side === 'a' ? '198.19.2.0/24' : '198.19.1.0/24'],
    espProposals: ['aes256gcm16'],
  };
  const base = {
    name, localAddrs: [side === 'a' ? ADDR_A : ADDR_B], remoteAddrs: [side === 'a' ? ADDR_B : '%any'], children: [child],
  };
  if (kind === 'psk-x25519') {
    return {
      ...base, proposals: ['aes256gcm16-prfsha256-x25519'],
      local: { auth: 'psk', id: side === 'a' ? 'a.ipx.test' : 'b.ipx.test', psk: PSK },
      remote: { auth: 'psk', id: side === 'a' ? 'b.ipx.test' : 'a.ipx.test', psk: PSK },
    };
  }
  // A: RSA-2048 leaf "a.ipx.test"; B: ECDSA P-256 leaf "ec.ipx.test"; both issued by ca-rsa.
  const file = (f: string) => new Uint8Array(readFileSync(PKI + f));
  const leaf = side === 'a' ? 'leaf-rsa' : 'leaf-ec';
  return {
    ...base, proposals: ['aes256gcm16-prfsha256-modp2048'],
    local: { auth: 'pubkey', id: side === 'a' ? 'a.ipx.test' : 'ec.ipx.test', certs: [file(`${leaf}.pem`)], privateKey: file(`${leaf}.key`) },
    remote: { auth: 'pubkey', id: side === 'a' ? 'ec.ipx.test' : 'a.ipx.test', cacerts: [file('ca-rsa.pem')] },
  };
}

/** Two endpoints; A has `n` connections (c0…), so each initiate makes a new IKE SA; B answers them all. */
export class BackToBack {
  readonly a: IkeEndpoint;
  readonly b: IkeEndpoint;
  childUpA = 0;
  childUpB = 0;
  other = 0;
  now = 0;

  constructor(kind: IkeBenchCase, n: number, provider: CryptoProvider = nodeCrypto) {
    const limits = { ikeSasPerPeerMax: n + 10, halfOpenMax: n + 10 };
    const cfgA: IkeConfigInput = { connections: Array.from({ length: n }, (_, i) => conn(`c${i}`, 'a', kind)), limits };
    const cfgB: IkeConfigInput = { connections: [conn('gw', 'b', kind)], limits };
    const wallClockMs = () => Date.now();
    this.a = new IkeEndpoint({ provider, rng: nodeRandom, config: cfgA, wallClockMs });
    this.b = new IkeEndpoint({ provider, rng: nodeRandom, config: cfgB, wallClockMs });
  }

  private static swap(d: Datagram): Datagram {
    return { data: d.data, local: d.remote, remote: d.local };
  }

  /** Moves datagrams both ways until both sides are quiet (bounded), counting events. */
  pump(): void {
    for (let round = 0; round < 100; round++) {
      let moved = 0;
      for (let d = this.a.pollTransmit(); d; d = this.a.pollTransmit()) { this.b.handleDatagram(this.now, BackToBack.swap(d)); moved++; }
      for (let d = this.b.pollTransmit(); d; d = this.b.pollTransmit()) { this.a.handleDatagram(this.now, BackToBack.swap(d)); moved++; }
      for (let e = this.a.pollEvent(); e; e = this.a.pollEvent()) if (e.type === 'child-up') this.childUpA++; else if (e.type !== 'ike-up') this.other++;
      for (let e = this.b.pollEvent(); e; e = this.b.pollEvent()) if (e.type === 'child-up') this.childUpB++; else if (e.type !== 'ike-up') this.other++;
      if (moved === 0) return;
    }
  }

  /** One full establishment of connection c<i>; throws if it did not come up. */
  establish(i: number): void {
    const before = this.childUpA;
    this.a.initiate(this.now, `c${i}`);
    this.pump();
    if (this.childUpA !== before + 1 || this.childUpB !== before + 1) {
      throw new Error(`establishment ${i} failed (A child-up ${this.childUpA}, B ${this.childUpB}, other events ${this.other}, A internal errors ${this.a.internalErrors}: ${this.a.lastInternalError ?? ''}, B: ${this.b.lastInternalError ?? ''})`);
    }
  }
}

export interface IkeRate {
  kind: IkeBenchCase; provider: IkeBenchProvider; loadStart: number; loadEnd: number;
  /** CPU µs of one native X25519 key generation, timed just before and after the row (how contended the core was). */
  x25519UsBefore: number; x25519UsAfter: number;
  establishments: number; seconds: number; perSecond: number; msEach: number; cpuMsEach: number; perCpuSecond: number }
export interface IkeMemory { provider: IkeBenchProvider; n: number; gcAvailable: boolean; heapDeltaBytes: number; bytesPerPair: number; bytesPerIkeSa: number; externalPerIkeSa: number }
/** The crypto one establishment needs (counted through a wrapping provider), timed alone in the same run. */
export interface IkeFloor { ops: { op: string; perEstablishment: number; usEach: number }[]; floorMsEach: number; floorPerSecond: number }
export interface IkeReport { date: string; machine: MachineInfo; rates: IkeRate[]; memory: IkeMemory[]; floor: IkeFloor }

/** A provider that counts calls of the operations an establishment spends native crypto on. */
function countingProvider(base: CryptoProvider, counts: Map<string, number>): CryptoProvider {
  const bump = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
  const group = (g: DhGroup): DhGroup => ({
    id: g.id, publicLength: g.publicLength,
    generate: (rng) => (bump(`dh${g.id}-generate`), g.generate(rng)),
    computeSecret: (pair, peer) => (bump(`dh${g.id}-compute`), g.computeSecret(pair, peer)),
  });
  return {
    ...base,
    prf: (name: PrfName) => {
      const p = base.prf(name);
      return { outputLength: p.outputLength, keyLength: p.keyLength, compute: (k, d) => (bump(`prf-${name}`), p.compute(k, d)) };
    },
    hash: (name: HashName, data: Uint8Array) => (bump(`hash-${name}`), base.hash(name, data)),
    dhGroup: (id: number) => { const g = base.dhGroup(id); return g && group(g); },
    aead: (name: AeadName, key: Uint8Array) => {
      bump(`aead-${name}-key`);
      const a = base.aead(name, key);
      return {
        nonceLength: a.nonceLength, tagLength: a.tagLength,
        seal: (n, aad, pt, dst, tag) => (bump(`aead-${name}-seal`), a.seal(n, aad, pt, dst, tag)),
        open: (n, aad, ct, tag, dst) => (bump(`aead-${name}-open`), a.open(n, aad, ct, tag, dst)),
      };
    },
  };
}

/** CPU µs per call (process CPU time, like the rate table's CPU column: a loaded machine's preemption is not counted). */
function timeUs(fn: () => void, minCpuMs = 200): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const c0 = process.cpuUsage();
  for (;;) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    const c = process.cpuUsage(c0);
    const us = c.user + c.system;
    if (us >= minCpuMs * 1000) return us / n;
  }
}

/** Times each counted operation alone with node:crypto (typical sizes: 32-byte keys, 100-300-byte inputs). */
export function measureFloor(): IkeFloor {
  const nodeCrypto = benchProvider('node');
  const counts = new Map<string, number>();
  const p = new BackToBack('psk-x25519', 30, countingProvider(nodeCrypto, counts));
  for (let i = 0; i < 10; i++) p.establish(i);
  counts.clear();
  for (let i = 10; i < 30; i++) p.establish(i);
  const x = nodeCrypto.dhGroup(31)!;
  const pairA = x.generate(nodeRandom);
  const pairB = x.generate(nodeRandom);
  const key32 = nodeRandom.fill(new Uint8Array(32));
  const data = nodeRandom.fill(new Uint8Array(120));
  const aead = nodeCrypto.aead('aes-gcm-16', key32);
  const buf = new Uint8Array(300);
  const tag = new Uint8Array(16);
  const nonce = new Uint8Array(12);
  aead.seal(nonce, data, buf, buf, tag);
  const sealed = buf.slice();
  const sealedTag = tag.slice();
  // An establishment computes each key pair's secret once, right after the exchange: time that case
  // (generate + computeSecret on the fresh pair) and subtract the generate time measured alone.
  let generateUs = 0;
  const timers: Record<string, () => void> = {
    'dh31-generate': () => x.generate(nodeRandom),
    'dh31-compute': () => x.computeSecret(x.generate(nodeRandom), pairB.publicKey),
    'prf-hmac-sha256': () => nodeCrypto.prf('hmac-sha256').compute(key32, data),
    'hash-sha1': () => nodeCrypto.hash('sha1', data.subarray(0, 28)),
    'aead-aes-gcm-16-key': () => nodeCrypto.aead('aes-gcm-16', key32),
    'aead-aes-gcm-16-seal': () => aead.seal(nonce, data, buf, buf, tag),
    'aead-aes-gcm-16-open': () => { buf.set(sealed); aead.open(nonce, data, buf, sealedTag, buf); },
  };
  const ops: IkeFloor['ops'] = [];
  let us = 0;
  for (const [op, n] of [...counts].sort()) {
    const t = timers[op];
    let usEach = t ? timeUs(t) : 0;
    if (op === 'dh31-generate') generateUs = usEach;
    if (op === 'dh31-compute') usEach = Math.max(0, usEach - (generateUs || timeUs(timers['dh31-generate']!)));
    ops.push({ op, perEstablishment: n / 20, usEach });
    us += (n / 20) * usEach;
  }
  return { ops, floorMsEach: us / 1000, floorPerSecond: 1e6 / us };
}

/**
 * A yardstick for how fast this core is right now: CPU µs of one libcrypto X25519 key generation
 * (fixed work). On this shared VM it ranged from ~47 µs (load ~3) to ~150 µs (load ~10): CPU time
 * itself stretches under contention, so rows are compared through it too.
 */
export function x25519Reference(): number {
  const g = benchProvider('node').dhGroup(31)!;
  return timeUs(() => g.generate(nodeRandom), 150);
}

export function measureRate(kind: IkeBenchCase, seconds: number, max = 100_000, providerName: IkeBenchProvider = 'node'): IkeRate {
  const provider = benchProvider(providerName);
  // Warm-up: past V8's optimizing tiers, and past the first growth of the old generation (SAs are
  // kept): measured without it, the first row of a run came out ~2× slower than the same row later.
  const warmN = kind === 'psk-x25519' ? 1500 : 100;
  const warm = new BackToBack(kind, warmN, provider);
  for (let i = 0; i < warmN; i++) warm.establish(i);
  const cap = Math.min(max, kind === 'psk-x25519' ? 10_000 : 1_000);
  const p = new BackToBack(kind, cap, provider);
  const loadStart = loadavg()[0]!;
  const x25519UsBefore = x25519Reference();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < cap && performance.now() - t0 < seconds * 1000) p.establish(n++);
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  const x25519UsAfter = x25519Reference();
  return { kind, provider: providerName, loadStart, loadEnd: loadavg()[0]!, x25519UsBefore, x25519UsAfter, establishments: n, seconds: s, perSecond: n / s, msEach: (s * 1000) / n, cpuMsEach: cpuMs / n, perCpuSecond: (n * 1000) / cpuMs };
}

export function measureMemory(n: number, providerName: IkeBenchProvider = 'node'): IkeMemory {
  const g = (globalThis as { gc?: () => void }).gc;
  const collect = () => { if (g) for (let i = 0; i < 3; i++) g(); };
  const p = new BackToBack('psk-x25519', n + 1, benchProvider(providerName));
  p.establish(0); // warm code paths and lazily built tables before the baseline
  collect();
  const h0 = process.memoryUsage();
  for (let i = 1; i <= n; i++) p.establish(i);
  collect();
  const h1 = process.memoryUsage();
  const delta = h1.heapUsed - h0.heapUsed;
  // Keep the endpoints alive until after the measurement.
  if (p.childUpA < n + 1) throw new Error('memory bench: not every SA came up');
  return {
    provider: providerName, n, gcAvailable: g !== undefined, heapDeltaBytes: delta, bytesPerPair: delta / n, bytesPerIkeSa: delta / (2 * n),
    externalPerIkeSa: (h1.external + h1.arrayBuffers - h0.external - h0.arrayBuffers) / (2 * n),
  };
}

/**
 * One rate row in a fresh Node process: rows measured one after another in one process came out
 * ordered (a later row ran on an old generation already grown by the earlier rows' garbage, with
 * fewer major GCs while its SAs pile up: up to 1.5× faster for the same code).
 */
function rateInChild(kind: IkeBenchCase, seconds: number, provider: IkeBenchProvider): IkeRate {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--rate-row', kind, provider, String(seconds)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as IkeRate;
}

/**
 * One memory row in a fresh Node process (with --expose-gc): measured one after another in one process,
 * the first row paid for code and lazily built tables the later ones found ready (two rows of the same
 * provider differed by 0.5 KiB per SA).
 */
function memoryInChild(n: number, provider: IkeBenchProvider): IkeMemory {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--memory-row', provider, String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as IkeMemory;
}

export function runIke(opts: { seconds: number; memoryN: number; reps?: number }): IkeReport {
  const rates: IkeRate[] = [];
  // Providers alternate, so load drifting on a shared machine spreads over all of them.
  for (let r = 0; r < (opts.reps ?? 2); r++) {
    for (const p of ['node', 'node+evp', 'node-js'] as const) rates.push(rateInChild('psk-x25519', opts.seconds, p));
  }
  rates.push(rateInChild('cert-modp2048', opts.seconds, 'node'));
  const memory = (['node', 'daemon', 'node+evp'] as const).map((p) => memoryInChild(opts.memoryN, p));
  const floor = measureFloor();
  return { date: new Date().toISOString(), machine: machineInfo(), rates, memory, floor };
}

const LABEL: Record<IkeBenchCase, string> = {
  'psk-x25519': 'PSK + X25519 (aes256gcm16-prfsha256-x25519)',
  'cert-modp2048': 'RSA-2048 / ECDSA P-256 certificates + MODP-2048 (aes256gcm16-prfsha256-modp2048)',
};

/** CPU cost of one establishment in units of the X25519 keygen timed around its row (load-independent-ish). */
function keygens(x: IkeRate): number {
  return (x.cpuMsEach * 1000) / ((x.x25519UsBefore + x.x25519UsAfter) / 2);
}

const PROVIDER_LABEL: Record<IkeBenchProvider, string> = {
  node: '`nodeCrypto` (native KDF + AEAD)',
  'node+evp': '`withEvpAead(nodeCrypto)` (the daemon\'s IKE provider before a2b73e5, now its ESP provider only)',
  'node-js': '`nodeCryptoJs` (node:crypto only)',
  daemon: 'daemon configuration (`cryptoProvider(\'node\')` for IKE, as daemon.ts passes it)',
};

export function formatIke(r: IkeReport): string {
  const mem = (m: IkeMemory): string =>
    `${PROVIDER_LABEL[m.provider]}: heap delta ${(m.heapDeltaBytes / 1024).toFixed(0)} KiB${m.gcAvailable ? ' after gc()' : ' (no --expose-gc: includes garbage)'} = ` +
    `**${(m.bytesPerIkeSa / 1024).toFixed(1)} KiB per IKE SA with one child** (per side; ${(m.bytesPerPair / 1024).toFixed(1)} KiB for both ends of one), plus ${m.externalPerIkeSa.toFixed(0)} B external/ArrayBuffer.`;
  return [
    `Machine: ${machineLine(r.machine)}. Run: \`npm run build && node --expose-gc dist/bench/ike.js\` (${r.date.slice(0, 10)}).`,
    '',
    'Two in-memory `IkeEndpoint`s back to back on one thread (no sockets, no timers). One establishment = IKE_SA_INIT + IKE_AUTH with the first CHILD_SA (ESP aes256gcm16), both sides\' work; every SA is kept. Target: ≥ 1,000 PSK + X25519 establishments/s on one core.',
    '',
    'Wall-clock rate, and the rate per CPU second of this process (the fairer figure on a shared, loaded machine), with the 1-min load average before and after each row.',
    '',
    '| case | provider | establishments | s | per second (wall) | per CPU second | CPU ms each | load | X25519 keygen µs | CPU each in keygens |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---:|',
    ...r.rates.map((x) => `| ${LABEL[x.kind]} | ${PROVIDER_LABEL[x.provider]} | ${x.establishments} | ${x.seconds.toFixed(2)} | ${x.perSecond.toFixed(0)} | ${x.perCpuSecond.toFixed(0)} | ${x.cpuMsEach.toFixed(2)} | ${x.loadStart.toFixed(1)} → ${x.loadEnd.toFixed(1)} | ${x.x25519UsBefore.toFixed(0)} / ${x.x25519UsAfter.toFixed(0)} | ${keygens(x).toFixed(1)} |`),
    '',
    `Medians over the PSK + X25519 repetitions (each row a fresh process, providers alternating): ${(['node', 'node+evp', 'node-js'] as const)
      .map((p) => {
        const rows = r.rates.filter((x) => x.kind === 'psk-x25519' && x.provider === p);
        return `${PROVIDER_LABEL[p]} **${median(rows.map((x) => x.perCpuSecond)).toFixed(0)} per CPU second** (${median(rows.map((x) => x.perSecond)).toFixed(0)} wall; ${median(rows.map(keygens)).toFixed(1)} keygens each)`;
      })
      .join(', ')}.`,
    '',
    `Memory (target ≤ 8 KiB per IKE SA with one child), ${r.memory[0]?.n ?? 0} PSK + X25519 establishments:`,
    '',
    ...r.memory.map((m) => `- ${mem(m)}`),
    '',
    `Crypto floor of one PSK + X25519 establishment (both sides), same run: the provider calls it makes (counted through a wrapping provider), each timed alone with \`nodeCrypto\` in CPU time (X25519 shared secret: generate + computeSecret on a fresh pair, minus generate). ` +
    `**${r.floor.floorMsEach.toFixed(2)} ms = ${r.floor.floorPerSecond.toFixed(0)} establishments/s at best** with this provider on this machine; the rest of the CPU ms each above is the engine (codec, state, allocation, GC).`,
    '',
    '| operation | per establishment | µs each | µs per establishment |',
    '|---|---:|---:|---:|',
    ...r.floor.ops.map((o) => `| ${o.op} | ${o.perEstablishment.toFixed(1)} | ${o.usEach.toFixed(1)} | ${(o.perEstablishment * o.usEach).toFixed(0)} |`),
  ].join('\n');
}

export async function mainIke(argv: readonly string[]): Promise<number> {
  let seconds = 3;
  let memoryN = 1000;
  let readme: string | undefined;
  let reps = 2;
  if (argv[0] === '--memory-row') {
    process.stdout.write(`${JSON.stringify(measureMemory(Number(argv[2]), argv[1] as IkeBenchProvider))}\n`);
    return 0;
  }
  if (argv[0] === '--rate-row') {
    const r = measureRate(argv[1] as IkeBenchCase, Number(argv[3]), undefined, argv[2] as IkeBenchProvider);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  }
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') seconds = Number(argv[++i]);
    else if (argv[i] === '--memory-n') memoryN = Number(argv[++i]);
    else if (argv[i] === '--readme') readme = argv[++i];
    else if (argv[i] === '--reps') reps = Number(argv[++i]);
    else if (argv[i] === '--quick') { seconds = 1; memoryN = 300; }
  }
  if (!(seconds > 0 && seconds <= 600)) throw new Error('--seconds must be in (0, 600]');
  if (!Number.isInteger(memoryN) || memoryN < 1 || memoryN > 100_000) throw new Error('--memory-n must be an integer in 1..100000');
  if (!Number.isInteger(reps) || reps < 1 || reps > 20) throw new Error('--reps must be an integer in 1..20');
  const r = runIke({ seconds, memoryN, reps });
  const md = formatIke(r);
  process.stdout.write(`\n## IKE\n\n${md}\n`);
  if (readme) writeFileSync(readme, replaceSection(readFileSync(readme, 'utf8'), 'IKE', md));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  mainIke(process.argv.slice(2)).then((c) => process.exit(c), (e: Error) => { process.stderr.write(`ike bench: ${e.stack ?? e.message}\n`); process.exit(1); });
}
