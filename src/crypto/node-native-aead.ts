/**
 * AES-GCM-16 (RFC 4106 / RFC 5282) and ChaCha20-Poly1305 (RFC 7634) for `nodeCrypto.aead`: OpenSSL EVP
 * (libcrypto.so.3) through koffi, keyed per call on one shared EVP_CIPHER_CTX per algorithm:
 *
 *   seal: EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, 1)  CipherUpdate(aad)  CipherUpdate(pt → dst)
 *         CipherFinal_ex  CIPHER_CTX_ctrl(AEAD_GET_TAG)
 *   open: EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, 0)  ctrl(AEAD_SET_TAG)  CipherUpdate(aad)
 *         CipherUpdate(ct → dst)  CipherFinal_ex (0 = ICV mismatch)
 *
 * A cipher object holds only its key (no native state per SA): IKE makes two per IKE SA and
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
import type { AeadCipher, AeadName } from './types.js';
import { evpAeadAlgorithm, evpLoadError, loadEvp, type EvpAeadAlgorithm } from './node-evp.js';
import { lazyBinding } from './libcrypto.js';

/** openssl/evp.h (OpenSSL 3): EVP_CTRL_AEAD_GET_TAG / EVP_CTRL_AEAD_SET_TAG. */
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

type Ptr = object;
type Algo = EvpAeadAlgorithm;

interface Lib {
  init(ctx: Ptr, cipher: Ptr | null, key: Uint8Array | null, iv: Uint8Array | null, enc: number): number;
  update(ctx: Ptr, out: Uint8Array | null, outl: Int32Array, input: Uint8Array, inl: number): number;
  final(ctx: Ptr, out: Uint8Array, outl: Int32Array): number;
  ctrl(ctx: Ptr, type: number, arg: number, ptr: Uint8Array): number;
  /** One context per algorithm, made at first use with the cipher set (no key yet). */
  context(algo: Algo): Ptr;
}

function bind(): Lib {
  // The EVP bindings are node-evp's (one koffi.load of libcrypto per process); this file adds the shared contexts.
  const evp = loadEvp();
  if (evp === undefined) throw new Error(evpLoadError() ?? 'libcrypto.so.3 could not be loaded');
  const contexts = new Map<Algo, Ptr>();
  const l: Lib = {
    init: evp.init,
    update: evp.update,
    final: evp.final,
    ctrl: evp.ctrl,
    context(algo) {
      let ctx = contexts.get(algo);
      if (ctx === undefined) {
        const cipher = evp.cipher(algo);
        const c = evp.newCtx();
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

const binding = lazyBinding(bind);
const load = (): Lib | undefined => binding.get();

/** Scratch shared by every cipher (single-threaded, synchronous use). */
const outl = new Int32Array(1);
/** The key of the cipher in use, written before and zeroed after each call. */
const keyScratch = new Uint8Array(32);
const keyView = new DataView(keyScratch.buffer);
const finalOut = new Uint8Array(32);
const tagScratch = new Uint8Array(TAG_LENGTH);

/**
 * An AEAD keyed per call on the shared context of its algorithm (see the file comment). The key is kept
 * as eight int32 fields, not a Uint8Array copy: a typed array and its ArrayBuffer cost ~200 bytes of
 * heap each, and IKE keeps two ciphers per IKE SA (bench/ike.ts memory target).
 */
class NativeAead implements AeadCipher {
  readonly nonceLength = NONCE_LENGTH;
  readonly tagLength = TAG_LENGTH;
  private disposed = false;
  private k0: number;
  private k1: number;
  private k2: number;
  private k3: number;
  private k4: number;
  private k5: number;
  private k6: number;
  private k7: number;

  constructor(private readonly lib: Lib, private readonly ctx: Ptr, key: Uint8Array) {
    const v = new DataView(key.buffer, key.byteOffset, key.byteLength);
    const n = key.length; // 16, 24 or 32 (checked by the caller)
    this.k0 = v.getInt32(0);
    this.k1 = v.getInt32(4);
    this.k2 = v.getInt32(8);
    this.k3 = v.getInt32(12);
    this.k4 = n > 16 ? v.getInt32(16) : 0;
    this.k5 = n > 16 ? v.getInt32(20) : 0;
    this.k6 = n > 24 ? v.getInt32(24) : 0;
    this.k7 = n > 24 ? v.getInt32(28) : 0;
  }

  /** Writes the key into the shared scratch (the context's cipher reads its own key length of it). */
  private get key(): Uint8Array | null {
    if (this.disposed) return null;
    keyView.setInt32(0, this.k0);
    keyView.setInt32(4, this.k1);
    keyView.setInt32(8, this.k2);
    keyView.setInt32(12, this.k3);
    keyView.setInt32(16, this.k4);
    keyView.setInt32(20, this.k5);
    keyView.setInt32(24, this.k6);
    keyView.setInt32(28, this.k7);
    return keyScratch;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, dst: Uint8Array, tag: Uint8Array): void {
    if (nonce.length !== NONCE_LENGTH) throw new Error(`aead seal: nonce must be 12 bytes, got ${nonce.length}`);
    if (tag.length < TAG_LENGTH) throw new Error(`aead seal: tag buffer must be 16 bytes, got ${tag.length}`);
    if (dst.length < plaintext.length) throw new Error('aead seal: dst shorter than plaintext');
    const key = this.key;
    if (key === null) throw new Error('aead seal: used after dispose()');
    const { lib, ctx } = this;
    let ok = lib.init(ctx, null, key, nonce, 1);
    keyScratch.fill(0);
    if (aad.length > 0) ok &= lib.update(ctx, null, outl, aad, aad.length);
    if (plaintext.length > 0) ok &= lib.update(ctx, dst, outl, plaintext, plaintext.length);
    ok &= lib.final(ctx, finalOut, outl);
    ok &= lib.ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LENGTH, tag.length === TAG_LENGTH ? tag : tagScratch);
    if (tag.length !== TAG_LENGTH) tag.set(tagScratch);
    if (ok !== 1) throw new Error('aead seal: OpenSSL EVP call failed');
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, dst: Uint8Array): boolean {
    if (nonce.length !== NONCE_LENGTH || tag.length !== TAG_LENGTH || dst.length < ciphertext.length || this.disposed) return false;
    const { lib, ctx } = this;
    // SET_TAG reads from the pointer: copy, so a tag that aliases dst (in-place callers) is not clobbered.
    tagScratch.set(tag);
    let ok = lib.init(ctx, null, this.key, nonce, 0);
    keyScratch.fill(0);
    ok &= lib.ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LENGTH, tagScratch);
    if (aad.length > 0) ok &= lib.update(ctx, null, outl, aad, aad.length);
    if (ciphertext.length > 0) ok &= lib.update(ctx, dst, outl, ciphertext, ciphertext.length);
    ok &= lib.final(ctx, finalOut, outl);
    return ok === 1;
  }

  /** Zeroes the key; later seal throws, open returns false. */
  dispose(): void {
    this.disposed = true;
    this.k0 = this.k1 = this.k2 = this.k3 = this.k4 = this.k5 = this.k6 = this.k7 = 0;
  }
}

/** `CryptoProvider.aead` on libcrypto, or undefined when it cannot be loaded (`nativeAeadLoadError()`). */
export function loadNativeAead(): ((name: AeadName, key: Uint8Array) => AeadCipher) | undefined {
  if (aeadFn !== undefined) return aeadFn;
  const lib = load();
  if (lib === undefined) return undefined;
  return (aeadFn = (name, key) => new NativeAead(lib, lib.context(evpAeadAlgorithm(name, key)), key));
}
let aeadFn: ((name: AeadName, key: Uint8Array) => AeadCipher) | undefined;

/** Why libcrypto could not be loaded (undefined if it was, or was not tried yet). */
export function nativeAeadLoadError(): string | undefined {
  return binding.error();
}
