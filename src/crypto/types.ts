/**
 * Crypto provider contract (DESIGN.md rule 6).
 *
 * Every algorithm tsipsec uses sits behind these interfaces. Two providers implement them:
 * `node.ts` (node:crypto / OpenSSL, the fast path) and `noble.ts` (@noble/*, portable pure JS and
 * the test oracle). Cores (`src/esp`, `src/ike`) receive a `CryptoProvider` and never import one.
 *
 * Contracts shared by every method:
 * - Inputs are `Uint8Array` views; implementations never keep references to caller buffers
 *   beyond the call, except key material copied at construction.
 * - Authentication failures return `false` / `null`; they never throw. Wrong key or IV *lengths*
 *   are programmer errors and do throw (at SA construction, not per packet).
 * - Randomness is never drawn inside a provider method that a core calls: anything random is
 *   passed in (`RandomSource`), so exchanges are reproducible in tests.
 */

/** Source of randomness injected into the cores (nonces, SPIs, IVs, DH private keys). */
export interface RandomSource {
  /** Fills `out` with random bytes and returns it. */
  fill(out: Uint8Array): Uint8Array;
}

/**
 * An AEAD keyed once (per SA direction) and used per packet.
 * AES-GCM-16 (RFC 4106 / RFC 5282) and ChaCha20-Poly1305 (RFC 7634): nonce 12 bytes, ICV 16 bytes.
 */
export interface AeadCipher {
  readonly nonceLength: number; // 12
  readonly tagLength: number; // 16
  /**
   * Encrypts `plaintext` into `dst` (same length; `dst` may be exactly the same region as `plaintext`)
   * and writes the ICV into `tag` (tagLength bytes).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, dst: Uint8Array, tag: Uint8Array): void;
  /**
   * Verifies `tag` and decrypts `ciphertext` into `dst` (may be the same region).
   * Returns false when the ICV does not verify; `dst` content is then unspecified. Never throws.
   */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, dst: Uint8Array): boolean;
  /**
   * Releases native state (an OpenSSL EVP context in `node-evp.ts`) when the SA is removed. Optional:
   * providers holding only JS objects omit it. After dispose, seal throws and open returns false.
   */
  dispose?(): void;
}

/** A block cipher in CBC mode without padding (RFC 3602 AES-CBC). Keyed once. */
export interface CbcCipher {
  readonly blockSize: number; // 16
  /** `src.length` must be a multiple of blockSize; writes the same length into `dst` (may alias). */
  encrypt(iv: Uint8Array, src: Uint8Array, dst: Uint8Array): void;
  /** Returns false (never throws) if `src.length` is not a multiple of blockSize. */
  decrypt(iv: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean;
}

/** A keyed MAC truncated to `icvLength` (RFC 4868 HMAC-SHA2-256-128 etc.). Keyed once. */
export interface Mac {
  readonly icvLength: number;
  /** Computes the truncated MAC over the concatenation of `parts` into `out[0..icvLength)`. */
  compute(parts: readonly Uint8Array[], out: Uint8Array): void;
  /** Constant-time-ish comparison of the truncated MAC with `icv`. Never throws. */
  verify(parts: readonly Uint8Array[], icv: Uint8Array): boolean;
}

/** IKEv2 PRF (RFC 7296 §2.13): HMAC-SHA2-256/384/512 (RFC 4868). */
export interface Prf {
  readonly outputLength: number;
  /** Preferred key length (RFC 7296 §2.14: for HMAC PRFs, the output length). */
  readonly keyLength: number;
  compute(key: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * Optional fast path for prf+ (RFC 7296 §2.13): the first `length` bytes of prf+(key, seed), a new
   * array. `prfPlus()` (prf-plus.ts) checks `length` (1 to 255 blocks) before calling it and computes
   * the stream from `compute` when a provider leaves this out.
   */
  plus?(key: Uint8Array, seed: Uint8Array, length: number): Uint8Array;
}

/** Hash functions (used by NAT detection: SHA-1; RFC 7427 signatures: SHA-256/384/512). */
export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** IANA "Transform Type 4 - Key Exchange Method Transform IDs". */
export interface DhGroup {
  readonly id: number;
  /** Length in bytes of the KE payload's key exchange data (RFC 7296 §3.4, RFC 5903 §7, RFC 8031 §3). */
  readonly publicLength: number;
  /** Creates a key pair from injected randomness. */
  generate(rng: RandomSource): DhKeyPair;
  /**
   * Computes the shared secret g^ir from our private key and the peer's KE data.
   * Returns null (never throws) for a malformed or invalid peer value (wrong length, point not on
   * curve, 0/1/p-1 for MODP, all-zero X25519 result).
   */
  computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null;
}

export interface DhKeyPair {
  readonly publicKey: Uint8Array;
  /** Opaque to callers; provider-specific private state. */
  readonly privateKey: Uint8Array;
}

export type AeadName = 'aes-gcm-16' | 'chacha20-poly1305';
export type IntegName = 'hmac-sha256-128' | 'hmac-sha384-192' | 'hmac-sha512-256';
export type PrfName = 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

/** Signature schemes for IKE AUTH (RFC 7296 method 1, RFC 7427 method 14). */
export type SignatureScheme =
  | { readonly kind: 'rsa-pkcs1'; readonly hash: HashName }
  | { readonly kind: 'rsa-pss'; readonly hash: Exclude<HashName, 'sha1'>; readonly saltLength: number }
  | { readonly kind: 'ecdsa'; readonly hash: Exclude<HashName, 'sha1'> }
  | { readonly kind: 'ed25519' };

/** A parsed X.509 certificate (only what IKE needs). */
export interface Certificate {
  readonly der: Uint8Array;
  readonly subject: string; // RFC 4514-ish string, e.g. "C=ZZ, O=tsipsec, CN=a.ipx.test"
  readonly subjectDer: Uint8Array; // DER of the subject Name (for ID_DER_ASN1_DN matching)
  readonly issuer: string;
  readonly subjectAltNames: readonly string[]; // "DNS:a.example", "IP:198.18.0.1", "email:x@y"
  readonly notBeforeMs: number; // Unix ms
  readonly notAfterMs: number;
  readonly isCa: boolean;
  readonly publicKeyType: 'rsa' | 'ec' | 'ed25519' | 'other';
  readonly fingerprintSha256: string; // hex
}

/** Private key handle for signing (opaque; created from PEM/DER by the provider). */
export interface SigningKey {
  readonly type: 'rsa' | 'ec' | 'ed25519';
  readonly bits: number;
}

export interface CryptoProvider {
  readonly name: 'node' | 'noble';
  /** AEAD keyed with `key` (without the salt). AES-GCM: 16/24/32 bytes; ChaCha20: 32 bytes. */
  aead(name: AeadName, key: Uint8Array): AeadCipher;
  /** AES-CBC keyed with 16/24/32 bytes. */
  cbc(key: Uint8Array): CbcCipher;
  mac(name: IntegName, key: Uint8Array): Mac;
  prf(name: PrfName): Prf;
  hash(name: HashName, data: Uint8Array): Uint8Array;
  /** undefined when the provider does not implement the group. */
  dhGroup(id: number): DhGroup | undefined;
  // ---- certificates and signatures (node provider implements these; noble may throw 'unsupported') ----
  parseCertificate(derOrPem: Uint8Array | string): Certificate | null;
  /** True if `cert` is signed by `issuer`'s key and issuer names match. Never throws. */
  verifyCertificateSignature(cert: Certificate, issuer: Certificate): boolean;
  loadPrivateKey(pemOrDer: Uint8Array | string): SigningKey;
  sign(key: SigningKey, scheme: SignatureScheme, data: Uint8Array): Uint8Array;
  /** Verifies with the certificate's public key. Never throws. */
  verify(cert: Certificate, scheme: SignatureScheme, data: Uint8Array, signature: Uint8Array): boolean;
}
