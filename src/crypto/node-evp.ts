/**
 * A native AEAD for the ESP hot path: OpenSSL's EVP interface (libcrypto.so.3) through koffi, one
 * EVP_CIPHER_CTX per direction of an SA with the key schedule set once (RFC 4106 AES-GCM-16,
 * RFC 7634 ChaCha20-Poly1305: 12-byte nonce, 16-byte ICV). Per packet only the nonce changes:
 *
 *   seal: EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 1)  CipherUpdate(aad)  CipherUpdate(pt → dst)
 *         CipherFinal_ex  CIPHER_CTX_ctrl(AEAD_GET_TAG)
 *   open: EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 0)  CIPHER_CTX_ctrl(AEAD_SET_TAG)
 *         CipherUpdate(aad)  CipherUpdate(ct → dst)  CipherFinal_ex (0 = ICV mismatch)
 *
 * node:crypto has no reusable GCM context: its `createCipheriv` per packet builds a new EVP context
 * and key schedule each time (~7 µs of the ~8 µs per 1400-byte packet measured in bench/esp.ts).
 *
 * Everything else (CBC, MAC, PRF, DH, certificates) is node:crypto: `withEvpAead(nodeCrypto)` swaps
 * only `aead`. When libcrypto.so.3 cannot be loaded (another OS, no OpenSSL 3, koffi missing), the
 * loader returns undefined and the caller keeps node:crypto. Contexts are freed by `dispose()` (the
 * runtime calls it when an SA is removed) or, failing that, when the cipher object is collected.
 *
 * open() decrypts into `dst` before the tag is checked (OpenSSL verifies in CipherFinal_ex); on a
 * mismatch `dst` holds unauthenticated plaintext, which the AeadCipher contract leaves unspecified —
 * callers must not use it (espOpen drops the packet).
 */
import koffi from 'koffi';
import { lazyBinding, libcrypto } from './libcrypto.js';
import type { AeadCipher, AeadName, CryptoProvider } from './types.js';

/** openssl/evp.h (OpenSSL 3): EVP_CTRL_AEAD_GET_TAG / EVP_CTRL_AEAD_SET_TAG (= the GCM ones). */
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

type Ptr = object;

/** The libcrypto EVP functions both native AEADs use (this file's per-SA contexts, node-native-aead's shared ones). */
export interface Evp {
  readonly version: string;
  newCtx(): Ptr | null;
  freeCtx(ctx: Ptr): void;
  cipher(name: 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'): Ptr | null;
  init(ctx: Ptr, cipher: Ptr | null, key: Uint8Array | null, iv: Uint8Array | null, enc: number): number;
  update(ctx: Ptr, out: Uint8Array | null, outl: Int32Array, input: Uint8Array, inl: number): number;
  final(ctx: Ptr, out: Uint8Array, outl: Int32Array): number;
  ctrl(ctx: Ptr, type: number, arg: number, ptr: Uint8Array): number;
}

const binding = lazyBinding(bind);

function bind(): Evp {
  const lib = libcrypto();
  const newCtx = lib.func('void *EVP_CIPHER_CTX_new()');
  const freeCtx = lib.func('void EVP_CIPHER_CTX_free(void *ctx)');
  const byName = lib.func('const void *EVP_get_cipherbyname(const char *name)');
  const init = lib.func('int EVP_CipherInit_ex(void *ctx, const void *cipher, void *engine, const void *key, const void *iv, int enc)');
  const update = lib.func('int EVP_CipherUpdate(void *ctx, void *out, void *outl, const void *in, int inl)');
  const final = lib.func('int EVP_CipherFinal_ex(void *ctx, void *out, void *outl)');
  const ctrl = lib.func('int EVP_CIPHER_CTX_ctrl(void *ctx, int type, int arg, void *ptr)');
  const versionFn = lib.func('const char *OpenSSL_version(int t)');
  return {
    version: String(versionFn(0)),
    newCtx: () => newCtx() as Ptr | null,
    freeCtx: (ctx) => { freeCtx(ctx); },
    cipher: (name) => byName(name) as Ptr | null,
    init: (ctx, cipher, key, iv, enc) => init(ctx, cipher, null, key, iv, enc) as number,
    update: (ctx, out, outl, input, inl) => update(ctx, out, outl, input, inl) as number,
    final: (ctx, out, outl) => final(ctx, out, outl) as number,
    ctrl: (ctx, type, arg, ptr) => ctrl(ctx, type, arg, ptr) as number,
  };
}

/** Binds libcrypto.so.3 once; undefined (with `evpLoadError()` saying why) when it cannot be loaded. */
export function loadEvp(): Evp | undefined {
  return binding.get();
}

/** Why libcrypto could not be loaded (undefined if it was, or was not tried yet). */
export function evpLoadError(): string | undefined {
  return binding.error();
}

/** OpenSSL_version(OPENSSL_VERSION) of the loaded libcrypto, e.g. "OpenSSL 3.0.19 …", or undefined. */
export function evpVersion(): string | undefined {
  return loadEvp()?.version;
}

const registry = new FinalizationRegistry<{ evp: Evp; ctxs: Ptr[] }>((held) => {
  for (const c of held.ctxs) held.evp.freeCtx(c);
  held.ctxs.length = 0;
});

/**
 * An AeadCipher on two EVP_CIPHER_CTX (seal, open), both created with the key at construction (the key
 * copy is zeroed at once). Creating them lazily put a branch in seal/open that ran once per SA: V8
 * deoptimized the warm per-packet code at the first packet of every new SA (datapath.ts warmUp).
 */
export class EvpAead implements AeadCipher {
  readonly nonceLength = NONCE_LENGTH;
  readonly tagLength = TAG_LENGTH;
  private sealCtx: Ptr | null;
  private openCtx: Ptr | null;
  private readonly outl = new Int32Array(1);
  /** Scratch for CipherFinal_ex (writes nothing for GCM / ChaCha20-Poly1305, but wants a pointer). */
  private readonly finalOut = new Uint8Array(32);
  private readonly tagIn = new Uint8Array(TAG_LENGTH);
  private key: Uint8Array | null;
  private readonly held: { evp: Evp; ctxs: Ptr[] };
  private disposed = false;

  constructor(private readonly evp: Evp, private readonly cipher: Ptr, key: Uint8Array) {
    this.key = key.slice();
    this.held = { evp, ctxs: [] };
    registry.register(this, this.held, this);
    this.sealCtx = this.context(1);
    this.openCtx = this.context(0);
  }

  private context(enc: 0 | 1): Ptr {
    if (this.disposed) throw new Error('EvpAead: used after dispose()');
    const ctx = this.evp.newCtx();
    if (ctx === null) throw new Error('EvpAead: EVP_CIPHER_CTX_new failed');
    this.held.ctxs.push(ctx);
    if (this.evp.init(ctx, this.cipher, this.key, null, enc) !== 1) throw new Error('EvpAead: EVP_CipherInit_ex (key) failed');
    if (enc === 0 && this.key !== null) {
      this.key.fill(0);
      this.key = null;
    }
    return ctx;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, dst: Uint8Array, tag: Uint8Array): void {
    if (nonce.length !== NONCE_LENGTH) throw new Error(`aead seal: nonce must be 12 bytes, got ${nonce.length}`);
    if (tag.length < TAG_LENGTH) throw new Error(`aead seal: tag buffer must be 16 bytes, got ${tag.length}`);
    if (dst.length < plaintext.length) throw new Error('aead seal: dst shorter than plaintext');
    const evp = this.evp;
    const ctx = this.sealCtx;
    if (ctx === null) throw new Error('EvpAead: used after dispose()');
    const outl = this.outl;
    let ok = evp.init(ctx, null, null, nonce, 1);
    if (aad.length > 0) ok &= evp.update(ctx, null, outl, aad, aad.length);
    if (plaintext.length > 0) ok &= evp.update(ctx, dst, outl, plaintext, plaintext.length);
    ok &= evp.final(ctx, this.finalOut, outl);
    ok &= evp.ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LENGTH, tag.length === TAG_LENGTH ? tag : this.tagIn);
    if (tag.length !== TAG_LENGTH) tag.set(this.tagIn);
    if (ok !== 1) throw new Error('aead seal: OpenSSL EVP call failed');
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, dst: Uint8Array): boolean {
    if (nonce.length !== NONCE_LENGTH || tag.length !== TAG_LENGTH || dst.length < ciphertext.length) return false;
    if (this.disposed) return false;
    const evp = this.evp;
    const ctx = this.openCtx;
    if (ctx === null) return false;
    const outl = this.outl;
    // SET_TAG reads from the pointer: copy so a tag that aliases dst (in-place callers) is not clobbered.
    this.tagIn.set(tag);
    let ok = evp.init(ctx, null, null, nonce, 0);
    ok &= evp.ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LENGTH, this.tagIn);
    if (aad.length > 0) ok &= evp.update(ctx, null, outl, aad, aad.length);
    if (ciphertext.length > 0) ok &= evp.update(ctx, dst, outl, ciphertext, ciphertext.length);
    ok &= evp.final(ctx, this.finalOut, outl);
    return ok === 1;
  }

  /** Frees the EVP contexts now (idempotent); later seal throws, open returns false. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    registry.unregister(this);
    for (const c of this.held.ctxs) this.evp.freeCtx(c);
    this.held.ctxs.length = 0;
    this.sealCtx = null;
    this.openCtx = null;
    this.key?.fill(0);
    this.key = null;
  }
}

const GCM_BY_KEY: Record<number, 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm'> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' };

/** OpenSSL's name for an AEAD and its key (salt already split off). Throws (naming the field) on a wrong key length. */
export type EvpAeadAlgorithm = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

export function evpAeadAlgorithm(name: AeadName, key: Uint8Array): EvpAeadAlgorithm {
  if (name === 'aes-gcm-16') {
    const a = GCM_BY_KEY[key.length];
    if (a === undefined) throw new Error(`aes-gcm-16 key must be 16/24/32 bytes, got ${key.length}`);
    return a;
  }
  if (name === 'chacha20-poly1305') {
    if (key.length !== 32) throw new Error(`chacha20-poly1305 key must be 32 bytes, got ${key.length}`);
    return 'chacha20-poly1305';
  }
  throw new Error(`unknown aead name: ${String(name)}`);
}

/** `CryptoProvider.aead` on OpenSSL EVP contexts. Throws (naming the field) on a wrong key length. */
export function evpAead(evp: Evp, name: AeadName, key: Uint8Array): EvpAead {
  const algo = evpAeadAlgorithm(name, key);
  const cipher = evp.cipher(algo);
  if (cipher === null) throw new Error(`aead ${name}: OpenSSL has no ${algo}`);
  return new EvpAead(evp, cipher, key);
}

/**
 * `base` with `aead` served by OpenSSL EVP contexts when libcrypto.so.3 loads, else `base` itself
 * (check `evpLoadError()` for why). The result keeps `base.name`.
 */
export function withEvpAead(base: CryptoProvider): CryptoProvider {
  const evp = loadEvp();
  if (evp === undefined) return base;
  return { ...base, aead: (name: AeadName, key: Uint8Array): AeadCipher => evpAead(evp, name, key) };
}
