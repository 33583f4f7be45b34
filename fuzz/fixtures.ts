/**
 * Shared state for the fuzz targets: the repository root (seed files live in test/fixtures and
 * test/vectors/data), fixed-key ESP SAs with packets sealed for them, and the recorded IKE session.
 * Everything is built once, lazily, and deterministically (seededRandom, fixed keys).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nodeCrypto } from '../src/crypto/node.js';
import { seededRandom } from '../src/crypto/seeded-random.js';
import { Drop } from '../src/esp/drop.js';
import { createEspSa, espAlgorithmInfo, type EspAlgorithm, type EspSa, type EspSaParams } from '../src/esp/sa.js';
import { Sad } from '../src/esp/sad.js';
import { espSeal, espTailroom } from '../src/esp/seal.js';
import { selectorFromPrefix } from '../src/esp/selector.js';
import { writeIpv4Header } from '../src/wire/ip.js';
import { recordSession, type Session } from './session.js';

/** The directory holding package.json (works from fuzz/ under vitest and from dist/fuzz/). */
export function repoRoot(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`fuzz: cannot find the repository root above ${import.meta.dirname}`);
}

export function readRepoFile(rel: string): Uint8Array {
  const b = readFileSync(join(repoRoot(), rel));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Every file below `rel` (recursive), sorted. */
export function listRepoFiles(rel: string): string[] {
  const root = join(repoRoot(), rel);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${rel}/${prefix}${e.name}`);
    }
  };
  walk(root, '');
  return out;
}

export function hexBytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** `name = hex` of section `[section]` in a test/vectors/data file. */
export function vectorField(file: string, section: string, name: string): string {
  const text = new TextDecoder().decode(readRepoFile(`test/vectors/data/${file}`));
  let inSection = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      inSection = sec[1] === section;
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (inSection && kv && kv[1] === name) return kv[2]!;
  }
  throw new Error(`fuzz: ${file} [${section}] has no ${name}`);
}

// ---- ESP ------------------------------------------------------------------------------------------

export interface EspSaSpec {
  readonly name: string;
  readonly spi: number;
  readonly algorithm: EspAlgorithm;
  readonly encKey: Uint8Array;
  readonly integKey?: Uint8Array;
  readonly mode: 'tunnel' | 'transport';
  readonly esn: boolean;
  readonly replayWindow: number;
  readonly tunnelSelectors: boolean;
}

function keysFor(alg: EspAlgorithm, seed: number): { encKey: Uint8Array; integKey?: Uint8Array } {
  const info = espAlgorithmInfo(alg);
  const rng = seededRandom(seed);
  const encKey = rng.fill(new Uint8Array(info.keyLength + info.saltLength));
  return info.aead ? { encKey } : { encKey, integKey: rng.fill(new Uint8Array(info.integKeyLength)) };
}

const ip4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));

/** The SAs the esp-open target installs (fresh per input). */
export function espSpecs(): EspSaSpec[] {
  const gcm: EspAlgorithm = { encr: 'aes-gcm-16', keyBits: 128 };
  const cbc: EspAlgorithm = { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha256-128' };
  const chacha: EspAlgorithm = { encr: 'chacha20-poly1305' };
  const mcgrew: EspAlgorithm = { encr: 'aes-gcm-16', keyBits: 128 };
  // draft-mcgrew-gcm-test-01 case 2: key ‖ salt (the first 4 nonce bytes), SPI 0xa5f8, seq 10.
  const mKey = hexBytes(vectorField('esp-aes-gcm-draft-mcgrew-gcm-test-01.txt', 'case-2-aes128', 'key'));
  const mNonce = hexBytes(vectorField('esp-aes-gcm-draft-mcgrew-gcm-test-01.txt', 'case-2-aes128', 'nonce'));
  const mEnc = new Uint8Array(20);
  mEnc.set(mKey, 0);
  mEnc.set(mNonce.subarray(0, 4), 16);
  return [
    { name: 'gcm-tunnel', spi: 0x1001, algorithm: gcm, ...keysFor(gcm, 11), mode: 'tunnel', esn: false, replayWindow: 32, tunnelSelectors: true },
    { name: 'cbc-transport-esn', spi: 0x1002, algorithm: cbc, ...keysFor(cbc, 12), mode: 'transport', esn: true, replayWindow: 64, tunnelSelectors: false },
    { name: 'chacha-tunnel', spi: 0x1003, algorithm: chacha, ...keysFor(chacha, 13), mode: 'tunnel', esn: false, replayWindow: 128, tunnelSelectors: false },
    { name: 'mcgrew-case-2', spi: 0xa5f8, algorithm: mcgrew, encKey: mEnc, mode: 'transport', esn: false, replayWindow: 32, tunnelSelectors: false },
  ];
}

function params(spec: EspSaSpec, direction: 'in' | 'out'): EspSaParams {
  const base = {
    direction,
    spi: spec.spi,
    algorithm: spec.algorithm,
    encKey: spec.encKey,
    integKey: spec.integKey,
    provider: nodeCrypto,
    mode: spec.mode,
    esn: spec.esn,
  };
  if (direction === 'out') return { ...base, rng: seededRandom(spec.spi) };
  const sel = spec.tunnelSelectors
    ? { tsLocal: [selectorFromPrefix(ip4('198.19.1.0'), 24)], tsRemote: [selectorFromPrefix(ip4('198.19.2.0'), 24)] }
    : spec.mode === 'transport' && spec.esn
      ? { tsRemote: [selectorFromPrefix(ip4('0.0.0.0'), 0, { ipProtocol: 17 })] }
      : {};
  return { ...base, replayWindow: spec.replayWindow, ...sel };
}

/** A fresh SAD with one inbound SA per spec. */
export function freshSad(specs: readonly EspSaSpec[]): Sad {
  const sad = new Sad();
  for (const s of specs) sad.add(createEspSa(params(s, 'in')));
  return sad;
}

function ipv4Udp(src: string, dst: string, payloadLen: number, srcPort = 4000, dstPort = 53): Uint8Array {
  const total = 28 + payloadLen;
  const p = new Uint8Array(total).fill(0x5a);
  writeIpv4Header(p, 0, { totalLength: total, protocol: 17, src: ip4(src), dst: ip4(dst) });
  p[20] = srcPort >>> 8;
  p[21] = srcPort & 0xff;
  p[22] = dstPort >>> 8;
  p[23] = dstPort & 0xff;
  p[24] = (8 + payloadLen) >>> 8;
  p[25] = (8 + payloadLen) & 0xff;
  return p;
}

function seal(sa: EspSa, payload: Uint8Array, nextHeader: number): Uint8Array {
  const head = sa.headerLength;
  const buf = new Uint8Array(head + payload.length + espTailroom(sa, payload.length));
  buf.set(payload, head);
  const n = espSeal(sa, buf, head, head + payload.length, nextHeader);
  if (n < 0) throw new Error(`fuzz: espSeal failed with drop ${-n}`);
  return buf.slice(0, n);
}

export interface EspPacket {
  readonly spec: string;
  readonly bytes: Uint8Array;
  /** What a fresh SAD returns the first time it sees this packet. */
  readonly expected: Drop;
  /** Authentic (sealed with the SA's keys, inner packet within policy): may be accepted once. */
  readonly authentic: boolean;
}

/**
 * Packets sealed for each spec with the outbound twin of the SA: accepted ones, ones that decrypt
 * but fail later checks (policy, dummy, inner header), plus the draft-mcgrew case 2 packet.
 */
export function espPackets(specs: readonly EspSaSpec[]): EspPacket[] {
  const out: EspPacket[] = [];
  for (const spec of specs) {
    if (spec.name === 'mcgrew-case-2') {
      out.push({ spec: spec.name, bytes: hexBytes(vectorField('esp-aes-gcm-draft-mcgrew-gcm-test-01.txt', 'case-2-aes128', 'packet')), expected: Drop.ok, authentic: true });
      continue;
    }
    const sa = createEspSa(params(spec, 'out'));
    const add = (payload: Uint8Array, nh: number, expected: Drop): void => {
      out.push({ spec: spec.name, bytes: seal(sa, payload, nh), expected, authentic: expected === Drop.ok || expected === Drop.replay || expected === Drop.icv });
    };
    if (spec.mode === 'tunnel') {
      for (let i = 0; i < 4; i++) add(ipv4Udp('198.19.2.10', '198.19.1.20', 1 + i * 37), 4, Drop.ok);
      add(ipv4Udp('10.0.0.1', '198.19.1.20', 16), 4, spec.tunnelSelectors ? Drop.policy : Drop.ok);
      add(new Uint8Array(24).fill(0x45), 4, Drop.innerHeader);
      add(new Uint8Array(0), 59, Drop.dummy);
    } else {
      const udp = new Uint8Array(40).fill(0x11);
      udp[0] = 0x0f;
      udp[2] = 0x01;
      for (let i = 0; i < 3; i++) add(udp.subarray(0, 8 + i * 16), 17, Drop.ok);
      add(new Uint8Array(20).fill(0x22), 6, spec.esn ? Drop.policy : Drop.ok);
    }
    // ESN (RFC 4303 App. A.2): packets 2^31, 2^32 - 15, then (1, 0), (1, 1) across the wrap. In
    // order they are all accepted; alone on a fresh window (top 0) 2^32 - 15 lies in the previous
    // subspace (Seqh = -1: replay), (1, 0) is taken as (0, 0) (replay) and (1, 1) as (0, 1) (ICV fails).
    if (spec.esn) {
      sa.setOutboundSeq(0, 0x7fffffff);
      add(udp8(), 17, Drop.ok);
      sa.setOutboundSeq(0, 0xfffffff0);
      add(udp8(), 17, Drop.replay);
      sa.setOutboundSeq(0, 0xffffffff);
      add(udp8(), 17, Drop.replay); // taken as (0, 0): sequence number 0 is never valid
      add(udp8(), 17, Drop.icv);
    }
  }
  return out;
}

function udp8(): Uint8Array {
  return Uint8Array.of(0x0f, 0xa0, 0x01, 0xf4, 0, 8, 0, 0);
}

let espCache: { specs: EspSaSpec[]; packets: EspPacket[]; okHex: Set<string> } | undefined;

export function espFixture(): { specs: EspSaSpec[]; packets: EspPacket[]; okHex: Set<string> } {
  if (!espCache) {
    const specs = espSpecs();
    const packets = espPackets(specs);
    espCache = { specs, packets, okHex: new Set(packets.filter((p) => p.authentic).map((p) => toHex(p.bytes))) };
  }
  return espCache;
}

// ---- IKE session ------------------------------------------------------------------------------------

let sessionCache: Session | undefined;

export function ikeSession(): Session {
  sessionCache ??= recordSession();
  return sessionCache;
}
