/**
 * ESP Security Association state (RFC 4303 §3, RFC 4301 §4.4.2) for one direction.
 *
 * Algorithms (each with its RFC; IANA "Transform Type 1/3" numbers live in src/crypto/algorithms.ts):
 *   aes-gcm-16 (128/192/256)   RFC 4106: KEYMAT = key ‖ 4-byte salt (§8.1), IV 8, ICV 16, pad to 4
 *   chacha20-poly1305          RFC 7634: KEYMAT = 32-byte key ‖ 4-byte salt (§4), IV 8, ICV 16, pad to 4
 *   aes-cbc (128/192/256)      RFC 3602: IV 16 (random, injected), pad to 16; with an INTEG of
 *     hmac-sha256-128 / hmac-sha384-192 / hmac-sha512-256   RFC 4868: ICV 16 / 24 / 32, key 32 / 48 / 64
 *
 * The 64-bit sequence number is two uint32 halves (`seqHi`, `seqLo`; no BigInt on the hot path).
 * Outbound: the last number sent (0 before the first packet; the first packet carries 1). Inbound:
 * mirrored by the replay window's top.
 *
 * Counters are typed arrays indexed by constants (`EspStat`, `Drop`), lifetimes raise bits in a polled
 * event word (`EspSaEvent`): nothing allocates or calls back per packet.
 */
import type { AeadCipher, CbcCipher, CryptoProvider, IntegName, Mac, RandomSource } from '../crypto/types.js';
import { DROP_COUNT } from './drop.js';
import { REPLAY_WINDOW_DEFAULT, ReplayWindow } from './replay.js';
import { type EspTrafficSelector, validateSelector } from './selector.js';

export type EspEncr = 'aes-gcm-16' | 'chacha20-poly1305' | 'aes-cbc';
export type EspMode = 'tunnel' | 'transport';
export type EspDirection = 'in' | 'out';

/** The ESP cipher suite: an AEAD, or AES-CBC with an HMAC-SHA2 integrity algorithm. */
export interface EspAlgorithm {
  readonly encr: EspEncr;
  /** AES key size in bits (128, 192, 256); ignored for chacha20-poly1305 (always 256). */
  readonly keyBits?: number;
  /** Required for aes-cbc, forbidden for AEADs (RFC 7296 §3.3.3: no INTEG with combined modes). */
  readonly integ?: IntegName;
}

/** Per-algorithm lengths in bytes. */
export interface EspAlgorithmInfo {
  readonly aead: boolean;
  /** Encryption key without salt. */
  readonly keyLength: number;
  /** Salt appended to the encryption KEYMAT (AEADs only). */
  readonly saltLength: number;
  /** Explicit IV carried in each packet. */
  readonly ivLength: number;
  readonly icvLength: number;
  /** The ciphertext (payload ‖ padding ‖ Pad Length ‖ Next Header) is padded to a multiple of this. */
  readonly padAlign: number;
  /** HMAC key length (0 for AEADs). */
  readonly integKeyLength: number;
}

const INTEG: Record<IntegName, { key: number; icv: number }> = {
  'hmac-sha256-128': { key: 32, icv: 16 }, // RFC 4868 §2.1
  'hmac-sha384-192': { key: 48, icv: 24 },
  'hmac-sha512-256': { key: 64, icv: 32 },
};

/** Lengths for `alg`; throws naming the field when the combination is invalid. */
export function espAlgorithmInfo(alg: EspAlgorithm, field = 'algorithm'): EspAlgorithmInfo {
  if (alg === null || typeof alg !== 'object') throw new TypeError(`${field}: must be an object`);
  if (alg.encr === 'aes-gcm-16' || alg.encr === 'chacha20-poly1305') {
    if (alg.integ !== undefined) throw new RangeError(`${field}.integ: must be absent for AEAD ${alg.encr} (RFC 7296 §3.3.3)`);
    let keyLength = 32;
    if (alg.encr === 'aes-gcm-16') {
      const bits = alg.keyBits ?? 128;
      if (bits !== 128 && bits !== 192 && bits !== 256) throw new RangeError(`${field}.keyBits: aes-gcm-16 takes 128, 192 or 256, got ${String(bits)}`);
      keyLength = bits / 8;
    } else if (alg.keyBits !== undefined && alg.keyBits !== 256) {
      throw new RangeError(`${field}.keyBits: chacha20-poly1305 is 256 only`);
    }
    return { aead: true, keyLength, saltLength: 4, ivLength: 8, icvLength: 16, padAlign: 4, integKeyLength: 0 };
  }
  if (alg.encr === 'aes-cbc') {
    const bits = alg.keyBits ?? 128;
    if (bits !== 128 && bits !== 192 && bits !== 256) throw new RangeError(`${field}.keyBits: aes-cbc takes 128, 192 or 256, got ${String(bits)}`);
    const integ = alg.integ === undefined ? undefined : INTEG[alg.integ];
    if (integ === undefined) throw new RangeError(`${field}.integ: aes-cbc needs hmac-sha256-128, hmac-sha384-192 or hmac-sha512-256`);
    return { aead: false, keyLength: bits / 8, saltLength: 0, ivLength: 16, icvLength: integ.icv, padAlign: 16, integKeyLength: integ.key };
  }
  throw new RangeError(`${field}.encr: unknown ${String((alg as { encr: unknown }).encr)}`);
}

/** Indices into `EspSa.stats` (a Float64Array: exact integers up to 2^53). */
export const EspStat = { packets: 0, bytes: 1 } as const;
export type EspStat = (typeof EspStat)[keyof typeof EspStat];

/** Bits of `EspSa.flags` (sticky) and of the word returned by `EspSa.pollEvents()` (new since last poll). */
export const EspSaEvent = {
  softBytes: 1,
  hardBytes: 2,
  softPackets: 4,
  hardPackets: 8,
  /** Outbound: fewer than ESP_SEQ_SOFT_REMAINING sequence numbers left: rekey now. */
  seqSoft: 16,
  /** Outbound: sequence numbers exhausted; espSeal refuses (RFC 4303 §3.3.3). */
  seqHard: 32,
} as const;
export type EspSaEvent = (typeof EspSaEvent)[keyof typeof EspSaEvent];

/** Events after which the SA carries no more traffic. */
export const ESP_SA_HARD_EVENTS = EspSaEvent.hardBytes | EspSaEvent.hardPackets | EspSaEvent.seqHard;

/** The seqSoft event fires when this many (or fewer) sequence numbers remain (2^24 ≈ 16.7 M packets). */
export const ESP_SEQ_SOFT_REMAINING = 0x1000000;

export interface EspLifetime {
  readonly softBytes?: number;
  readonly hardBytes?: number;
  readonly softPackets?: number;
  readonly hardPackets?: number;
}

export interface EspSaParams {
  readonly direction: EspDirection;
  /** 32-bit SPI; 0 and 1..255 are reserved (RFC 4303 §2.1) unless `allowReservedSpi`. */
  readonly spi: number;
  readonly algorithm: EspAlgorithm;
  /** Encryption KEYMAT: key ‖ 4-byte salt for AEADs, the AES key for aes-cbc (RFC 7296 §2.17 order). */
  readonly encKey: Uint8Array;
  /** Integrity key (aes-cbc only). */
  readonly integKey?: Uint8Array;
  readonly provider: CryptoProvider;
  readonly mode: EspMode;
  /** Extended Sequence Numbers (RFC 4303 §2.2.1). Default false. */
  readonly esn?: boolean;
  /** Inbound anti-replay window in packets, 32..65536 (default 128). */
  readonly replayWindow?: number;
  /** Inbound policy check (RFC 4301 §5.2): destination ∈ tsLocal, source ∈ tsRemote. Empty/absent = any. */
  readonly tsLocal?: readonly EspTrafficSelector[];
  readonly tsRemote?: readonly EspTrafficSelector[];
  readonly lifetime?: EspLifetime;
  /** Randomness for AES-CBC IVs (RFC 3602 §2: unpredictable). Required for outbound aes-cbc. */
  readonly rng?: RandomSource;
  /** Permits SPI 0..255 (test vectors use SPI 0). */
  readonly allowReservedSpi?: boolean;
}

const IV_POOL_BYTES = 4096;
const EMPTY = new Uint8Array(0);

/** One direction of an ESP SA. Create with `createEspSa`. Monomorphic: every field set in the constructor. */
export class EspSa {
  readonly direction: EspDirection;
  readonly outbound: boolean;
  readonly spi: number;
  readonly algorithm: EspAlgorithm;
  readonly info: EspAlgorithmInfo;
  readonly mode: EspMode;
  readonly tunnel: boolean;
  readonly esn: boolean;
  readonly providerName: string;

  /** Null for CBC SAs, and after `wipe()`. */
  aead: AeadCipher | null;
  cbc: CbcCipher | null;
  mac: Mac | null;
  readonly ivLength: number;
  readonly icvLength: number;
  readonly padAlign: number;
  /** SPI ‖ Sequence Number ‖ IV: bytes of headroom `espSeal` needs before the payload. */
  readonly headerLength: number;

  /** Outbound: last sequence number sent. Inbound: the replay window's top after each open. */
  seqHi = 0;
  seqLo = 0;
  readonly replay: ReplayWindow | null;

  /** AEAD nonce scratch: salt ‖ 8-byte IV (RFC 4106 §4). */
  readonly nonce: Uint8Array;
  /** AAD scratch: SPI ‖ seq (8) or SPI ‖ seq_hi ‖ seq_lo (12) (RFC 4106 §5). */
  readonly aad: Uint8Array;
  /** `aad` view of the length this SA uses. */
  readonly aadView: Uint8Array;
  /** CBC + ESN: seq_hi appended to the ICV input only (RFC 4303 §2.2.1). */
  readonly seqHiBytes: Uint8Array;
  /** Reused `Mac` input list. */
  readonly macParts: Uint8Array[];
  /** CBC: pool of random IV bytes refilled from `rng` every IV_POOL_BYTES/16 packets. */
  readonly ivPool: Uint8Array;
  ivPoolPos: number;
  readonly rng: RandomSource | null;

  readonly tsLocal: readonly EspTrafficSelector[];
  readonly tsRemote: readonly EspTrafficSelector[];

  /**
   * One-entry cache of the `subarray` views handed to the provider (V8 makes each view for ~50-200 ns,
   * as much as the rest of ESP processing). Hit when the same buffer comes back with the same bounds —
   * a runtime reusing its per-SA buffer with MTU-sized packets. Keeps a reference to that one buffer.
   */
  viewBuf: Uint8Array | null = null;
  viewStart = -1;
  viewEnd = -1;
  /** Ciphertext, ICV, IV and MAC-input views of `viewBuf` for the cached bounds. */
  viewCt: Uint8Array = EMPTY;
  viewIcv: Uint8Array = EMPTY;
  viewIv: Uint8Array = EMPTY;
  viewMacIn: Uint8Array = EMPTY;

  readonly softBytes: number;
  readonly hardBytes: number;
  readonly softPackets: number;
  readonly hardPackets: number;

  /** Packets and payload bytes processed (EspStat indices). */
  readonly stats: Float64Array;
  /** Drops by `Drop` code. */
  readonly drops: Uint32Array;
  /** Sticky `EspSaEvent` bits. */
  flags = 0;
  /** `EspSaEvent` bits raised since the last `pollEvents()`. */
  pending = 0;

  constructor(p: EspSaParams, info: EspAlgorithmInfo) {
    this.direction = p.direction;
    this.outbound = p.direction === 'out';
    this.spi = p.spi >>> 0;
    this.algorithm = p.algorithm;
    this.info = info;
    this.mode = p.mode;
    this.tunnel = p.mode === 'tunnel';
    this.esn = p.esn === true;
    this.providerName = p.provider.name;
    this.ivLength = info.ivLength;
    this.icvLength = info.icvLength;
    this.padAlign = info.padAlign;
    this.headerLength = 8 + info.ivLength;

    this.nonce = new Uint8Array(12);
    this.aad = new Uint8Array(12);
    this.aadView = this.esn ? this.aad : this.aad.subarray(0, 8);
    writeU32(this.aad, 0, this.spi);
    this.seqHiBytes = new Uint8Array(4);
    this.macParts = this.esn ? [this.aad, this.seqHiBytes] : [this.aad];

    if (info.aead) {
      const key = p.encKey.subarray(0, info.keyLength);
      this.nonce.set(p.encKey.subarray(info.keyLength, info.keyLength + 4), 0);
      const name = p.algorithm.encr === 'chacha20-poly1305' ? 'chacha20-poly1305' : 'aes-gcm-16';
      this.aead = p.provider.aead(name, key);
      this.cbc = null;
      this.mac = null;
    } else {
      this.aead = null;
      this.cbc = p.provider.cbc(p.encKey.slice());
      this.mac = p.provider.mac(p.algorithm.integ!, p.integKey!.slice());
    }
    this.rng = p.rng ?? null;
    this.ivPool = new Uint8Array(!info.aead && this.outbound ? IV_POOL_BYTES : 0);
    this.ivPoolPos = IV_POOL_BYTES;

    this.replay = this.outbound ? null : new ReplayWindow(p.replayWindow ?? REPLAY_WINDOW_DEFAULT);
    this.tsLocal = p.tsLocal ?? [];
    this.tsRemote = p.tsRemote ?? [];

    const lt = p.lifetime ?? {};
    this.hardBytes = lt.hardBytes ?? Infinity;
    this.hardPackets = lt.hardPackets ?? Infinity;
    // Without a soft limit the soft event fires together with the hard one.
    this.softBytes = Math.min(lt.softBytes ?? Infinity, this.hardBytes);
    this.softPackets = Math.min(lt.softPackets ?? Infinity, this.hardPackets);

    this.stats = new Float64Array(2);
    this.drops = new Uint32Array(DROP_COUNT);
  }

  /**
   * The SA is deleted: zeroes the salt (nonce scratch) and the other per-SA scratch, frees the
   * provider's native context (`dispose`), drops the cipher/MAC objects (and the KeyObjects inside
   * them) and the cached packet views, and marks the SA hard-expired so `espOpen`/`espSeal` refuse
   * it (Drop.lifetimeExpired / seqExhausted) instead of touching a cipher. The keys themselves were
   * copied into the provider (KeyObject); what JS cannot zero is listed in SECURITY.md. Idempotent.
   */
  wipe(): void {
    this.flags |= ESP_SA_HARD_EVENTS;
    this.nonce.fill(0);
    this.aad.fill(0);
    this.seqHiBytes.fill(0);
    this.ivPool.fill(0);
    this.aead?.dispose?.();
    this.aead = null;
    this.cbc = null;
    this.mac = null;
    this.viewBuf = null;
    this.viewStart = -1;
    this.viewEnd = -1;
    this.viewCt = this.viewIcv = this.viewIv = this.viewMacIn = EMPTY;
  }

  /** True once a hard lifetime or the sequence space is exhausted: the SA must be replaced. */
  get expired(): boolean {
    return (this.flags & ESP_SA_HARD_EVENTS) !== 0;
  }

  /** Returns the `EspSaEvent` bits raised since the last call, and clears them. */
  pollEvents(): number {
    const e = this.pending;
    this.pending = 0;
    return e;
  }

  /** Raises event bits (idempotent: each bit is reported once). */
  raise(bits: number): void {
    const fresh = bits & ~this.flags;
    this.flags |= fresh;
    this.pending |= fresh;
  }

  /**
   * Outbound: sets the last sequence number sent (the next packet carries the following number).
   * For resuming a migrated SA and for known-answer tests.
   */
  setOutboundSeq(hi: number, lo: number): void {
    if (!this.outbound) throw new Error('setOutboundSeq: SA is inbound');
    if (!isUint32(hi) || !isUint32(lo)) throw new RangeError('setOutboundSeq: hi/lo must be uint32');
    if (!this.esn && hi !== 0) throw new RangeError('setOutboundSeq: hi must be 0 without ESN');
    this.seqHi = hi;
    this.seqLo = lo;
  }
}

function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function checkLimit(v: number | undefined, field: string): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`${field}: must be a positive number`);
}

/**
 * Validates `params` and builds the SA. Throws (config error, DESIGN.md rule 8) with a message naming
 * the offending field.
 */
export function createEspSa(params: EspSaParams): EspSa {
  const p = params;
  if (p === null || typeof p !== 'object') throw new TypeError('params: must be an object');
  if (p.direction !== 'in' && p.direction !== 'out') throw new RangeError(`direction: must be 'in' or 'out'`);
  if (!isUint32(p.spi)) throw new RangeError('spi: must be a uint32');
  if (p.spi < 256 && p.allowReservedSpi !== true) throw new RangeError(`spi: ${p.spi} is reserved (RFC 4303 §2.1: 0 local use, 1-255 IANA)`);
  const info = espAlgorithmInfo(p.algorithm);
  if (!(p.encKey instanceof Uint8Array)) throw new TypeError('encKey: must be a Uint8Array');
  const encLen = info.keyLength + info.saltLength;
  if (p.encKey.length !== encLen) {
    throw new RangeError(`encKey: ${p.algorithm.encr} needs ${encLen} bytes${info.aead ? ' (key ‖ 4-byte salt)' : ''}, got ${p.encKey.length}`);
  }
  if (info.aead) {
    if (p.integKey !== undefined && p.integKey.length !== 0) throw new RangeError('integKey: must be absent for an AEAD');
  } else {
    if (!(p.integKey instanceof Uint8Array)) throw new TypeError('integKey: required for aes-cbc');
    if (p.integKey.length !== info.integKeyLength) throw new RangeError(`integKey: ${p.algorithm.integ} needs ${info.integKeyLength} bytes, got ${p.integKey.length}`);
    if (p.direction === 'out' && (p.rng === undefined || typeof p.rng.fill !== 'function')) throw new TypeError('rng: required for outbound aes-cbc (random IVs, RFC 3602 §2)');
  }
  if (p.provider === null || typeof p.provider !== 'object' || typeof p.provider.aead !== 'function') throw new TypeError('provider: must be a CryptoProvider');
  if (p.mode !== 'tunnel' && p.mode !== 'transport') throw new RangeError(`mode: must be 'tunnel' or 'transport'`);
  if (p.esn !== undefined && typeof p.esn !== 'boolean') throw new TypeError('esn: must be a boolean');
  if (p.replayWindow !== undefined && p.direction === 'out') throw new RangeError('replayWindow: only for inbound SAs');
  (p.tsLocal ?? []).forEach((ts, i) => validateSelector(ts, `tsLocal[${i}]`));
  (p.tsRemote ?? []).forEach((ts, i) => validateSelector(ts, `tsRemote[${i}]`));
  const lt = p.lifetime ?? {};
  checkLimit(lt.softBytes, 'lifetime.softBytes');
  checkLimit(lt.hardBytes, 'lifetime.hardBytes');
  checkLimit(lt.softPackets, 'lifetime.softPackets');
  checkLimit(lt.hardPackets, 'lifetime.hardPackets');
  if ((lt.softBytes ?? 0) > (lt.hardBytes ?? Infinity)) throw new RangeError('lifetime.softBytes: must not exceed hardBytes');
  if ((lt.softPackets ?? 0) > (lt.hardPackets ?? Infinity)) throw new RangeError('lifetime.softPackets: must not exceed hardPackets');
  return new EspSa(p, info); // ReplayWindow validates replayWindow (message names it)
}

/** Accounts one packet of `bytes` payload bytes and raises lifetime events. Hot path helper. */
export function accountPacket(sa: EspSa, bytes: number): void {
  const stats = sa.stats;
  const packets = stats[0]! + 1;
  const total = stats[1]! + bytes;
  stats[0] = packets;
  stats[1] = total;
  if (packets >= sa.softPackets || total >= sa.softBytes) {
    let ev = 0;
    if (packets >= sa.softPackets) ev |= EspSaEvent.softPackets;
    if (total >= sa.softBytes) ev |= EspSaEvent.softBytes;
    if (packets >= sa.hardPackets) ev |= EspSaEvent.hardPackets;
    if (total >= sa.hardBytes) ev |= EspSaEvent.hardBytes;
    if ((ev & ~sa.flags) !== 0) sa.raise(ev);
  }
}
