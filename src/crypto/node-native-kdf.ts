/**
 * IKE key-derivation crypto on OpenSSL (libcrypto.so.3) through koffi, for the IKE establishment rate
 * (bench/ike.ts): the HMAC-SHA2 PRF (RFC 4868 §2.1.2) with prf+ in one keyed context (RFC 7296 §2.13),
 * X25519 on raw EVP_PKEY keys (RFC 7748, RFC 8031) and SHA-1/SHA-2 through SHA*_Init/Update/Final on a
 * scratch context (NAT detection, RFC 7296 §2.23; OpenSSL 3.0's one-shot SHA1() fetches the algorithm
 * per call). The same OpenSSL as node:crypto, without Node's per-call JavaScript layer:
 *
 *   prf(K, S):     HMAC_Init_ex(ctx, K, EVP_MD)  HMAC_Update(S)  HMAC_Final            (one reused HMAC_CTX)
 *   prf+(K, S):    HMAC_Init_ex(ctx, K) once, then per block
 *                  HMAC_Init_ex(ctx, NULL) [reuses the keyed pads]  HMAC_Update(T(i-1) | S | i)  HMAC_Final
 *   X25519 keygen: EVP_PKEY_new_raw_private_key(d) [computes X25519(d, 9)]  EVP_PKEY_get_raw_public_key
 *   X25519 g^ir:   EVP_PKEY_new_raw_public_key(peer)  EVP_PKEY_CTX_new(own)  derive_init  derive_set_peer
 *                  EVP_PKEY_derive  [OpenSSL fails on an all-zero result, RFC 7748 §6.1]
 *
 * node:crypto's createHmac (a JS Hmac object per PRF call) measured 5.5 µs per HMAC-SHA-256 of ~120 bytes
 * here, this path 2.1 µs; node:crypto's X25519 needs a JWK import per key (JS base64url and validation)
 * or a PKCS#8 decode (1-4 ms on OpenSSL 3.0): 66 + 75 µs per key generation + shared secret, this path
 * 48 + 52 µs.
 *
 * The EVP_PKEY made at generate() is kept for computeSecret (importing the private key again would
 * compute the public key again, a second scalar multiplication); it is freed after the first
 * computeSecret, or by a FinalizationRegistry if the pair is dropped unused. A later computeSecret on the
 * same pair re-imports the private bytes. When libcrypto.so.3 or koffi cannot be loaded, `loadNativeKdf()`
 * returns undefined and node.ts keeps node:crypto (`nativeKdfLoadError()` says why).
 *
 * One HMAC_CTX per digest serves every call: each call keys, feeds and finishes it synchronously, so
 * sharing is safe on one JS thread (a worker thread has its own module instance).
 */
import koffi from 'koffi';
import { PRF_BY_NAME } from './algorithms.js';
import { lazyBinding, libcrypto } from './libcrypto.js';
import { X25519_LENGTH, isAllZero } from './dh-params.js';
import type { DhGroup, DhKeyPair, HashName, Prf, PrfName, RandomSource } from './types.js';

type Ptr = object;

/** openssl/obj_mac.h NID_X25519 (= EVP_PKEY_X25519). */
const NID_X25519 = 1034;
/** Room for any of openssl/sha.h's SHA_CTX (96 bytes on LP64), SHA256_CTX (112), SHA512_CTX (216). */
const SHA_CTX_MAX = 256;

interface NativeLib {
  readonly version: string;
  hmacCtxNew(): Ptr | null;
  hmacInit(ctx: Ptr, key: Uint8Array | null, keyLength: number, md: Ptr | null): number;
  hmacUpdate(ctx: Ptr, data: Uint8Array, length: number): number;
  hmacFinal(ctx: Ptr, out: Uint8Array, outLength: Uint32Array): number;
  mdFetch(name: string): Ptr | null;
  /** SHA-1/SHA-2 of `data[0..length)` into `out`; 1 on success. */
  digest(name: HashName, data: Uint8Array, length: number, out: Uint8Array): number;
  newRawPrivate(key: Uint8Array): Ptr | null;
  newRawPublic(key: Uint8Array): Ptr | null;
  rawPublic(pkey: Ptr, out: Uint8Array, length: BigUint64Array): number;
  pkeyFree(pkey: Ptr): void;
  pkeyCtxNew(pkey: Ptr): Ptr | null;
  pkeyCtxFree(ctx: Ptr): void;
  deriveInit(ctx: Ptr): number;
  deriveSetPeer(ctx: Ptr, peer: Ptr): number;
  derive(ctx: Ptr, out: Uint8Array, length: BigUint64Array): number;
}

function bind(): NativeLib {
  const lib = libcrypto();
  const hmacCtxNew = lib.func('void *HMAC_CTX_new()');
  const hmacInit = lib.func('int HMAC_Init_ex(void *ctx, const void *key, int len, const void *md, void *impl)');
  const hmacUpdate = lib.func('int HMAC_Update(void *ctx, const void *data, size_t len)');
  const hmacFinal = lib.func('int HMAC_Final(void *ctx, void *md, void *len)');
  const mdFetch = lib.func('void *EVP_MD_fetch(void *libctx, const char *algorithm, const char *properties)');
  // The low-level SHA*_Init/Update/Final on a caller-owned context: OpenSSL 3.0's one-shot SHA1()
  // etc. go through EVP_Q_digest, which fetches the algorithm on every call (~1 µs more here).
  const shaFns = (n: string) => ({
    init: lib.func(`int ${n}_Init(void *c)`),
    update: lib.func(`int ${n}_Update(void *c, const void *data, size_t len)`),
    final: lib.func(`int ${n}_Final(void *md, void *c)`),
  });
  const sha = { sha1: shaFns('SHA1'), sha256: shaFns('SHA256'), sha384: shaFns('SHA384'), sha512: shaFns('SHA512') } as const;
  const shaCtx = new Uint8Array(SHA_CTX_MAX);
  const newRawPrivate = lib.func('void *EVP_PKEY_new_raw_private_key(int type, void *e, const void *key, size_t keylen)');
  const newRawPublic = lib.func('void *EVP_PKEY_new_raw_public_key(int type, void *e, const void *key, size_t keylen)');
  const rawPublic = lib.func('int EVP_PKEY_get_raw_public_key(const void *pkey, void *pub, void *len)');
  const pkeyFree = lib.func('void EVP_PKEY_free(void *pkey)');
  const pkeyCtxNew = lib.func('void *EVP_PKEY_CTX_new(void *pkey, void *e)');
  const pkeyCtxFree = lib.func('void EVP_PKEY_CTX_free(void *ctx)');
  const deriveInit = lib.func('int EVP_PKEY_derive_init(void *ctx)');
  const deriveSetPeer = lib.func('int EVP_PKEY_derive_set_peer(void *ctx, void *peer)');
  const derive = lib.func('int EVP_PKEY_derive(void *ctx, void *key, void *keylen)');
  const versionFn = lib.func('const char *OpenSSL_version(int t)');
  return {
    version: String(versionFn(0)),
    hmacCtxNew: () => hmacCtxNew() as Ptr | null,
    hmacInit: (ctx, key, keyLength, md) => hmacInit(ctx, key, keyLength, md, null) as number,
    hmacUpdate: (ctx, data, length) => hmacUpdate(ctx, data, length) as number,
    hmacFinal: (ctx, out, outLength) => hmacFinal(ctx, out, outLength) as number,
    mdFetch: (name) => mdFetch(null, name, null) as Ptr | null,
    digest: (name, data, length, out) => {
      const f = sha[name];
      const ok = (f.init(shaCtx) as number) & (f.update(shaCtx, data, length) as number) & (f.final(out, shaCtx) as number);
      shaCtx.fill(0);
      return ok;
    },
    newRawPrivate: (key) => newRawPrivate(NID_X25519, null, key, key.length) as Ptr | null,
    newRawPublic: (key) => newRawPublic(NID_X25519, null, key, key.length) as Ptr | null,
    rawPublic: (pkey, out, length) => rawPublic(pkey, out, length) as number,
    pkeyFree: (pkey) => void pkeyFree(pkey),
    pkeyCtxNew: (pkey) => pkeyCtxNew(pkey, null) as Ptr | null,
    pkeyCtxFree: (ctx) => void pkeyCtxFree(ctx),
    deriveInit: (ctx) => deriveInit(ctx) as number,
    deriveSetPeer: (ctx, peer) => deriveSetPeer(ctx, peer) as number,
    derive: (ctx, out, length) => derive(ctx, out, length) as number,
  };
}

/** What node.ts swaps in when libcrypto loads. */
export interface NativeKdf {
  /** OpenSSL_version(OPENSSL_VERSION) of the loaded libcrypto. */
  readonly version: string;
  prf(name: PrfName): Prf;
  hash(name: HashName, data: Uint8Array): Uint8Array;
  readonly x25519: DhGroup;
}

const binding = lazyBinding(() => build(bind()));

/** Binds libcrypto.so.3 once; undefined (with `nativeKdfLoadError()` saying why) when it cannot be loaded. */
export function loadNativeKdf(): NativeKdf | undefined {
  return binding.get();
}

/** Why libcrypto could not be loaded (undefined if it was, or was not tried yet). */
export function nativeKdfLoadError(): string | undefined {
  return binding.error();
}

const DIGEST_NAME: Readonly<Record<PrfName, string>> = { 'hmac-sha256': 'SHA256', 'hmac-sha384': 'SHA384', 'hmac-sha512': 'SHA512' };
const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
/** Stands in for an empty key or input: an empty TypedArray may reach C as NULL, and HMAC_Init_ex(NULL key) means "keep the old key". */
const ONE_BYTE = new Uint8Array(1);

/** HMAC-SHA2 PRF on one reused HMAC_CTX (see the file comment). */
class NativePrf implements Prf {
  readonly outputLength: number;
  readonly keyLength: number;
  private readonly outLength = new Uint32Array(1);
  /** prf+ input: T(i-1) | S | i, grown to the largest seed seen. */
  private input = new Uint8Array(0);
  private readonly block: Uint8Array;

  constructor(private readonly lib: NativeLib, private readonly ctx: Ptr, private readonly md: Ptr, name: PrfName) {
    const info = PRF_BY_NAME[name];
    this.outputLength = info.outputLength;
    this.keyLength = info.keyLength;
    this.block = new Uint8Array(info.outputLength);
  }

  private key(key: Uint8Array): void {
    // HMAC accepts any key length (RFC 2104 §3); a zero-length key is legal here.
    const k = key.length === 0 ? ONE_BYTE : key;
    if (this.lib.hmacInit(this.ctx, k, key.length, this.md) !== 1) throw new Error('prf: HMAC_Init_ex failed');
  }

  private finish(data: Uint8Array, out: Uint8Array): void {
    const lib = this.lib;
    let ok = data.length > 0 ? lib.hmacUpdate(this.ctx, data, data.length) : 1;
    ok &= lib.hmacFinal(this.ctx, out, this.outLength);
    if (ok !== 1 || this.outLength[0] !== this.outputLength) throw new Error('prf: HMAC_Update/HMAC_Final failed');
  }

  compute(key: Uint8Array, data: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.outputLength);
    this.key(key);
    this.finish(data, out);
    return out;
  }

  /** prf+ (RFC 7296 §2.13); prf-plus.ts has checked `length` (1..255 blocks). No views are made per block. */
  plus(key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
    const lib = this.lib;
    const ctx = this.ctx;
    const h = this.outputLength;
    const block = this.block;
    const out = new Uint8Array(length);
    const need = h + seed.length + 1;
    if (this.input.length < need) this.input = new Uint8Array(need);
    const input = this.input; // T(i-1) | S | i; HMAC_Update reads its first `need` bytes
    input.set(seed, h);
    this.key(key);
    // T1 = prf(K, S | 0x01)
    COUNTER[0] = 1;
    let ok = (seed.length > 0 ? lib.hmacUpdate(ctx, seed, seed.length) : 1) & lib.hmacUpdate(ctx, COUNTER, 1) & lib.hmacFinal(ctx, block, this.outLength);
    const n = Math.ceil(length / h);
    for (let i = 1; ; i++) {
      const offset = (i - 1) * h;
      if (length - offset >= h) out.set(block, offset);
      else for (let j = 0; offset + j < length; j++) out[offset + j] = block[j]!;
      if (i === n) break;
      // T(i+1) = prf(K, T(i) | S | i+1), on the keyed pads kept by HMAC_Init_ex(ctx, NULL)
      input.set(block, 0);
      input[need - 1] = i + 1;
      ok &= lib.hmacInit(ctx, null, 0, null) & lib.hmacUpdate(ctx, input, need) & lib.hmacFinal(ctx, block, this.outLength);
    }
    input.fill(0, 0, need);
    block.fill(0);
    if (ok !== 1) throw new Error('prf+: OpenSSL HMAC call failed');
    return out;
  }
}

/** prf+'s one-octet block counter for T1 (the later ones sit at the end of the input buffer). */
const COUNTER = new Uint8Array(1);

function build(lib: NativeLib): NativeKdf {
  const prfs = new Map<PrfName, NativePrf>();
  const prf = (name: PrfName): Prf => {
    let p = prfs.get(name);
    if (p === undefined) {
      if (!(name in DIGEST_NAME)) throw new Error(`unknown prf name: ${String(name)}`);
      const md = lib.mdFetch(DIGEST_NAME[name]);
      const ctx = lib.hmacCtxNew();
      if (md === null || ctx === null) throw new Error(`prf ${name}: OpenSSL has no ${DIGEST_NAME[name]} HMAC`);
      p = new NativePrf(lib, ctx, md, name);
      prfs.set(name, p);
    }
    return p;
  };
  const hash = (name: HashName, data: Uint8Array): Uint8Array => {
    const n = HASH_LENGTH[name];
    if (n === undefined) throw new Error(`unknown hash name: ${String(name)}`);
    const out = new Uint8Array(n);
    if (lib.digest(name, data.length === 0 ? ONE_BYTE : data, data.length, out) !== 1) throw new Error(`hash ${name}: OpenSSL failed`);
    return out;
  };
  // Fail at load (and fall back to node:crypto) rather than at the first IKE_SA_INIT.
  prf('hmac-sha256');
  return { version: lib.version, prf, hash, x25519: x25519Group(lib) };
}

/**
 * A key pair from `generate`, carrying the EVP_PKEY made for it (`pkey`, null once used or freed).
 * A field rather than a WeakMap from pair to key: a WeakMap entry per IKE SA (an ephemeron the GC
 * traces) showed in the establishment profile (bench/ike.ts).
 */
class NativeX25519Pair implements DhKeyPair {
  constructor(
    readonly publicKey: Uint8Array,
    readonly privateKey: Uint8Array,
    /** Shared with the FinalizationRegistry (which must not hold the pair itself). */
    readonly held: { pkey: Ptr | null },
  ) {}
}

/** X25519 (RFC 7748 §5, §6.1; RFC 8031 §2.2): 32-byte private, public and shared values. */
function x25519Group(lib: NativeLib): DhGroup {
  const registry = new FinalizationRegistry<{ pkey: Ptr | null }>((held) => {
    if (held.pkey !== null) lib.pkeyFree(held.pkey);
    held.pkey = null;
  });
  const length = new BigUint64Array(1);
  const LEN = BigInt(X25519_LENGTH);
  return {
    id: 31,
    publicLength: X25519_LENGTH,
    generate(rng: RandomSource): DhKeyPair {
      const d = rng.fill(new Uint8Array(X25519_LENGTH));
      const pkey = lib.newRawPrivate(d);
      if (pkey === null) throw new Error('x25519 generate: EVP_PKEY_new_raw_private_key failed');
      const publicKey = new Uint8Array(X25519_LENGTH);
      length[0] = LEN;
      if (lib.rawPublic(pkey, publicKey, length) !== 1 || length[0] !== LEN) {
        lib.pkeyFree(pkey);
        throw new Error('x25519 generate: OpenSSL returned no 32-byte public key');
      }
      const held = { pkey: pkey as Ptr | null };
      const pair = new NativeX25519Pair(publicKey, d, held);
      registry.register(pair, held, held);
      return pair;
    },
    computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null {
      if (peerPublic.length !== X25519_LENGTH || pair.privateKey.length !== X25519_LENGTH) return null;
      const held = pair instanceof NativeX25519Pair ? pair.held : undefined;
      let own = held?.pkey ?? null;
      if (held !== undefined && own !== null) {
        held.pkey = null;
        registry.unregister(held);
      }
      own ??= lib.newRawPrivate(pair.privateKey);
      if (own === null) return null;
      const peer = lib.newRawPublic(peerPublic);
      const ctx = peer === null ? null : lib.pkeyCtxNew(own);
      const out = new Uint8Array(X25519_LENGTH);
      let ok = false;
      if (ctx !== null && peer !== null) {
        length[0] = LEN;
        ok = lib.deriveInit(ctx) === 1 && lib.deriveSetPeer(ctx, peer) === 1 && lib.derive(ctx, out, length) === 1 && length[0] === BigInt(X25519_LENGTH);
      }
      if (ctx !== null) lib.pkeyCtxFree(ctx);
      if (peer !== null) lib.pkeyFree(peer);
      lib.pkeyFree(own);
      // RFC 8031 §2.3 / RFC 7748 §6.1: reject the all-zero output (OpenSSL's derive already fails on it).
      return ok && !isAllZero(out) ? out : null;
    },
  };
}
