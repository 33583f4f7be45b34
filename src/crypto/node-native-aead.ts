/**
 * AES-GCM-16 (RFC 4106 / RFC 5282) and ChaCha20-Poly1305 (RFC 7634) for `nodeCrypto.aead`: OpenSSL EVP
 * (libcrypto.so.3) through koffi, keyed per call on one shared EVP_CIPHER_CTX per algorithm:
 *
 *   seal: EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, 1)  CipherUpdate(aad)  CipherUpdate(pt → dst)
 *         CipherFinal_ex  CIPHER_CTX_ctrl(AEAD_GET_TAG)
 *   open: EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, 0)  ctrl(AEAD_SET_TAG)  CipherUpdate(aad)
 *         CipherUpdate(ct → dst)  CipherFinal_ex (0 = ICV mismatch)
 *
 * A cipher object holds only a copy of its key (no native state per SA): IKE makes two per IKE SA and
 * uses each a few times (SK payloads), where node:crypto's createCipheriv per message (a new EVP context
 * and key schedule, ~8 µs) plus a KeyObject per key cost more than the AES-GCM itself, and node-evp.ts's
 * two EVP contexts per cipher (the ESP datapath's choice: key schedule once, nonce per packet) cost
 * ~1.8 KiB of heap per IKE SA. Setting the key per call costs one AES key expansion (AES-NI) per message.
 *
 * Sharing a context is safe on one JS thread: every call initialises, uses and finishes it
 * synchronously (a worker thread has its own module instance). open() decrypts into `dst` before the
 * tag is checked (OpenSSL verifies in CipherFinal_ex): on a mismatch `dst` holds unauthenticated bytes,
 * which the AeadCipher contract leaves unspecified. When libcrypto.so.3 cannot be loaded,
 * `loadNativeAead()` returns undefined and node.ts keeps node:crypto.
 */
import koffi from 'koffi';
import type { AeadCipher, AeadName } from './types.js';

/** openssl/evp.h (OpenSSL 3): EVP_CTRL_AEAD_GET_TAG / EVP_CTRL_AEAD_SET_TAG. */
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

type Ptr = object;
type Algo = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

interface Lib {
  init(ctx: Ptr, cipher: Ptr | null, key: Uint8Array | null, iv: Uint8Array | null, enc: number): number;
  update(ctx: Ptr, out: Uint8Array | null, outl: Int32Array, input: Uint8Array, inl: number): number;
  final(ctx: Ptr, out: Uint8Array, outl: Int32Array): number;
  ctrl(ctx: Ptr, type: number, arg: number, ptr: Uint8Array): number;
  /** One context per algorithm, made at first use with the cipher set (no key yet). */
  context(algo: Algo): Ptr;
}

function bind(): Lib {
  const lib = koffi.load('libcrypto.so.3');
  const newCtx = lib.func('void *EVP_CIPHER_CTX_new()');
  const byName = lib.func('const void *EVP_get_cipherbyname(const char *name)');
  const init = lib.func('int EVP_CipherInit_ex(void *ctx, const void *cipher, void *engine, const void *key, const void *iv, int enc)');
  const update = lib.func('int EVP_CipherUpdate(void *ctx, void *out, void *outl, const void *in, int inl)');
  const final = lib.func('int EVP_CipherFinal_ex(void *ctx, void *out, void *outl)');
  const ctrl = lib.func('int EVP_CIPHER_CTX_ctrl(void *ctx, int type, int arg, void *ptr)');
  const contexts = new Map<Algo, Ptr>();
  const l: Lib = {
    init: (ctx, cipher, key, iv, enc) => init(ctx, cipher, null, key, iv, enc) as number,
    update: (ctx, out, outl, input, inl) => update(ctx, out, outl, input, inl) as number,
    final: (ctx, out, outl) => final(ctx, out, outl) as number,
    ctrl: (ctx, type, arg, ptr) => ctrl(ctx, type, arg, ptr) as number,
    context(algo) {
      let ctx = contexts.get(algo);
      if (ctx === undefined) {
        const cipher = byName(algo) as Ptr | null;
        const c = newCtx() as Ptr | null;
        if (cipher === null || c === null || l.init(c, cipher, null, null, 1) !== 1) throw new Error(`aead: OpenSSL has no ${algo}`);
        ctx = c;
        contexts.set(algo, ctx);
      }
      return ctx;
    },
  };
  l.context('aes-256-gcm'); // fail at load (and fall back to node:crypto) rather than at the first SK payload
  return l;
}

let loaded: Lib | null | undefined;
let loadError: string | undefined;

function load(): Lib | undefined {
  if (loaded === undefined) {
    try {
      loaded = bind();
    } catch (err) {
      loaded = null;
      loadError = (err as Error).message;
    }
  }
  return loaded ?? undefined;
}

/** Scratch shared by every cipher (single-threaded, synchronous use). */
const outl = new Int32Array(1);
const finalOut = new Uint8Array(32);
const tagScratch = new Uint8Array(TAG_LENGTH);

/** An AEAD keyed per call on the shared context of its algorithm (see the file comment). */
class NativeAead implements AeadCipher {
  readonly nonceLength = NONCE_LENGTH;
  readonly tagLength = TAG_LENGTH;
  private key: Uint8Array | null;

  constructor(private readonly lib: Lib, private readonly ctx: Ptr, key: Uint8Array) {
    this.key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, dst: Uint8Array, tag: Uint8Array): void {
    if (nonce.length !== NONCE_LENGTH) throw new Error(`aead seal: nonce must be 12 bytes, got ${nonce.length}`);
    if (tag.length < TAG_LENGTH) throw new Error(`aead seal: tag buffer must be 16 bytes, got ${tag.length}`);
    if (dst.length < plaintext.length) throw new Error('aead seal: dst shorter than plaintext');
    if (this.key === null) throw new Error('aead seal: used after dispose()');
    const { lib, ctx } = this;
    let ok = lib.init(ctx, null, this.key, nonce, 1);
    if (aad.length > 0) ok &= lib.update(ctx, null, outl, aad, aad.length);
    if (plaintext.length > 0) ok &= lib.update(ctx, dst, outl, plaintext, plaintext.length);
    ok &= lib.final(ctx, finalOut, outl);
    ok &= lib.ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LENGTH, tag.length === TAG_LENGTH ? tag : tagScratch);
    if (tag.length !== TAG_LENGTH) tag.set(tagScratch);
    if (ok !== 1) throw new Error('aead seal: OpenSSL EVP call failed');
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, dst: Uint8Array): boolean {
    if (nonce.length !== NONCE_LENGTH || tag.length !== TAG_LENGTH || dst.length < ciphertext.length || this.key === null) return false;
    const { lib, ctx } = this;
    // SET_TAG reads from the pointer: copy, so a tag that aliases dst (in-place callers) is not clobbered.
    tagScratch.set(tag);
    let ok = lib.init(ctx, null, this.key, nonce, 0);
    ok &= lib.ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LENGTH, tagScratch);
    if (aad.length > 0) ok &= lib.update(ctx, null, outl, aad, aad.length);
    if (ciphertext.length > 0) ok &= lib.update(ctx, dst, outl, ciphertext, ciphertext.length);
    ok &= lib.final(ctx, finalOut, outl);
    return ok === 1;
  }

  /** Zeroes the key copy; later seal throws, open returns false. */
  dispose(): void {
    this.key?.fill(0);
    this.key = null;
  }
}

const GCM_BY_KEY: Readonly<Record<number, Algo>> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' };

/** `CryptoProvider.aead` on libcrypto, or undefined when it cannot be loaded (`nativeAeadLoadError()`). */
export function loadNativeAead(): ((name: AeadName, key: Uint8Array) => AeadCipher) | undefined {
  if (aeadFn !== undefined) return aeadFn;
  const lib = load();
  if (lib === undefined) return undefined;
  return (aeadFn = (name, key) => {
    let algo: Algo;
    if (name === 'aes-gcm-16') {
      const a = GCM_BY_KEY[key.length];
      if (a === undefined) throw new Error(`aes-gcm-16 key must be 16/24/32 bytes, got ${key.length}`);
      algo = a;
    } else if (name === 'chacha20-poly1305') {
      if (key.length !== 32) throw new Error(`chacha20-poly1305 key must be 32 bytes, got ${key.length}`);
      algo = 'chacha20-poly1305';
    } else {
      throw new Error(`unknown aead name: ${String(name)}`);
    }
    return new NativeAead(lib, lib.context(algo), key);
  });
}
let aeadFn: ((name: AeadName, key: Uint8Array) => AeadCipher) | undefined;

/** Why libcrypto could not be loaded (undefined if it was, or was not tried yet). */
export function nativeAeadLoadError(): string | undefined {
  return loadError;
}
