/**
 * IKEv2 transform identifiers and their properties: the single table ESP and IKE use to size keys,
 * IVs, ICVs and padding.
 *
 * Numbers: IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry
 * (https://www.iana.org/assignments/ikev2-parameters), Transform Types 1-5 (RFC 7296 §3.3.2).
 * Properties: RFC 4106 / RFC 5282 (AES-GCM), RFC 7634 (ChaCha20-Poly1305), RFC 3602 (AES-CBC),
 * RFC 4868 (HMAC-SHA2 PRF and integrity), RFC 3526 / RFC 5903 / RFC 8031 (key exchange groups).
 *
 * Conventions:
 * - Lengths are in BYTES unless the name ends in `Bits`.
 * - "key length" is the cipher key without the salt; "KEYMAT length" is what is taken from prf+ per
 *   direction (RFC 7296 §2.17: key ‖ salt for AEADs; RFC 4106 §8.1, RFC 7634 §2 / §4).
 * - Lookups by id return `undefined` for an id this implementation does not support; the helper
 *   functions that return a number throw (a programmer/config error) and name the field.
 */
import type { AeadName, IntegName, PrfName } from './types.js';

/** IANA "Transform Type Values" (RFC 7296 §3.3.2). */
export const TransformType = {
  ENCR: 1,
  PRF: 2,
  INTEG: 3,
  /** "Key Exchange Method" (formerly D-H, RFC 9370 renamed it). */
  KE: 4,
  ESN: 5,
} as const;
export type TransformType = (typeof TransformType)[keyof typeof TransformType];

/** IANA "IKEv2 Transform Attribute Types" (RFC 7296 §3.3.5). TV format; value is the key length in bits. */
export const TransformAttributeType = {
  KEY_LENGTH: 14,
} as const;
export type TransformAttributeType = (typeof TransformAttributeType)[keyof typeof TransformAttributeType];

/** IANA "Transform Type 1 - Encryption Algorithm Transform IDs" (the ones tsipsec implements). */
export const EncrId = {
  /** RFC 3602 (ESP), RFC 7296 (IKE). Needs a separate INTEG transform. */
  AES_CBC: 12,
  /** RFC 4106 (ESP), RFC 5282 (IKE): AES-GCM with a 16-octet ICV. */
  AES_GCM_16: 20,
  /** RFC 7634 (ESP and IKE). */
  CHACHA20_POLY1305: 28,
} as const;
export type EncrId = (typeof EncrId)[keyof typeof EncrId];

/** IANA "Transform Type 2 - Pseudorandom Function Transform IDs" (RFC 4868). */
export const PrfId = {
  HMAC_SHA2_256: 5,
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
} as const;
export type PrfId = (typeof PrfId)[keyof typeof PrfId];

/** IANA "Transform Type 3 - Integrity Algorithm Transform IDs" (RFC 4868). */
export const IntegId = {
  /** "NONE": only meaningful with an AEAD ENCR transform (RFC 7296 §3.3.3, RFC 5282 §8). */
  NONE: 0,
  HMAC_SHA2_256_128: 12,
  HMAC_SHA2_384_192: 13,
  HMAC_SHA2_512_256: 14,
} as const;
export type IntegId = (typeof IntegId)[keyof typeof IntegId];

/** IANA "Transform Type 4 - Key Exchange Method Transform IDs" (a.k.a. Diffie-Hellman group numbers). */
export const KeId = {
  /** RFC 3526 §3, 2048-bit MODP group. */
  MODP_2048: 14,
  /** RFC 5903 §3.1 */
  ECP_256: 19,
  /** RFC 5903 §3.2 */
  ECP_384: 20,
  /** RFC 5903 §3.3 */
  ECP_521: 21,
  /** RFC 8031 (X25519) */
  CURVE25519: 31,
} as const;
export type KeId = (typeof KeId)[keyof typeof KeId];

/** IANA "Transform Type 5 - Extended Sequence Numbers Transform IDs" (RFC 7296 §3.3.2). */
export const EsnId = {
  NO: 0,
  YES: 1,
} as const;
export type EsnId = (typeof EsnId)[keyof typeof EsnId];

// ---------------------------------------------------------------------------------------------
// Encryption (Transform Type 1)

export interface EncrInfo {
  readonly id: EncrId;
  /** IANA name. */
  readonly name: string;
  /** 'aead' → use `CryptoProvider.aead(aead!, key)`; 'cbc' → `CryptoProvider.cbc(key)` plus an INTEG transform. */
  readonly kind: 'aead' | 'cbc';
  /** Provider AEAD name when kind is 'aead'. */
  readonly aead: AeadName | undefined;
  /** Allowed values of the Key Length attribute, in bits. */
  readonly keyLengthsBits: readonly number[];
  /**
   * 'required': the transform MUST carry the Key Length attribute (AES-CBC RFC 3602 / RFC 7296 §3.3.5,
   * AES-GCM RFC 5282 §8 / RFC 4106 §8.4). 'forbidden': it MUST NOT (ChaCha20-Poly1305, RFC 7634 §4).
   */
  readonly keyLengthAttribute: 'required' | 'forbidden';
  /** Salt appended to the key in KEYMAT (RFC 4106 §8.1, RFC 7634 §2): nonce = salt ‖ IV. 0 for CBC. */
  readonly saltLength: number;
  /** IV carried on the wire in each ESP packet / SK payload. */
  readonly ivLength: number;
  /** AEAD nonce length (salt ‖ IV), 0 for CBC. */
  readonly nonceLength: number;
  /** ICV produced by the cipher itself (0 for CBC: the ICV comes from the INTEG transform). */
  readonly icvLength: number;
  /** Cipher block size (1 for stream-like AEADs). */
  readonly blockSize: number;
  /**
   * ESP: the ciphertext (payload ‖ padding ‖ pad length ‖ next header) must end on a multiple of this
   * (RFC 4303 §2.4: max(blockSize, 4)). IKE SK payloads pad the same way (RFC 7296 §3.14).
   */
  readonly padAlign: number;
}

export const ENCR_INFO: ReadonlyMap<number, EncrInfo> = new Map<number, EncrInfo>([
  [
    EncrId.AES_CBC,
    {
      id: EncrId.AES_CBC,
      name: 'ENCR_AES_CBC',
      kind: 'cbc',
      aead: undefined,
      keyLengthsBits: [128, 192, 256],
      keyLengthAttribute: 'required',
      saltLength: 0,
      ivLength: 16,
      nonceLength: 0,
      icvLength: 0,
      blockSize: 16,
      padAlign: 16,
    },
  ],
  [
    EncrId.AES_GCM_16,
    {
      id: EncrId.AES_GCM_16,
      name: 'ENCR_AES_GCM_16',
      kind: 'aead',
      aead: 'aes-gcm-16',
      keyLengthsBits: [128, 192, 256],
      keyLengthAttribute: 'required',
      saltLength: 4,
      ivLength: 8,
      nonceLength: 12,
      icvLength: 16,
      blockSize: 1,
      padAlign: 4,
    },
  ],
  [
    EncrId.CHACHA20_POLY1305,
    {
      id: EncrId.CHACHA20_POLY1305,
      name: 'ENCR_CHACHA20_POLY1305',
      kind: 'aead',
      aead: 'chacha20-poly1305',
      keyLengthsBits: [256],
      keyLengthAttribute: 'forbidden',
      saltLength: 4,
      ivLength: 8,
      nonceLength: 12,
      icvLength: 16,
      blockSize: 1,
      padAlign: 4,
    },
  ],
]);

/** Properties of an ENCR transform, or undefined if unsupported. */
export function encrInfo(id: number): EncrInfo | undefined {
  return ENCR_INFO.get(id);
}

function mustEncr(id: number): EncrInfo {
  const info = ENCR_INFO.get(id);
  if (!info) throw new Error(`encr transform id ${id} is not supported`);
  return info;
}

/**
 * Cipher key length in bytes (without salt). `keyLengthBits` is the Key Length attribute; pass
 * undefined for transforms without one (ChaCha20-Poly1305 → 32). Throws on an invalid combination.
 */
export function encrKeyLength(id: number, keyLengthBits?: number): number {
  const info = mustEncr(id);
  if (keyLengthBits === undefined) {
    if (info.keyLengthAttribute === 'required') throw new Error(`keyLengthBits is required for ${info.name}`);
    return info.keyLengthsBits[0]! / 8;
  }
  if (!info.keyLengthsBits.includes(keyLengthBits)) {
    throw new Error(`keyLengthBits ${keyLengthBits} is not valid for ${info.name} (${info.keyLengthsBits.join('/')})`);
  }
  return keyLengthBits / 8;
}

/** Bytes of KEYMAT per direction for this ENCR transform: key ‖ salt (RFC 4106 §8.1, RFC 7634 §2). */
export function encrKeymatLength(id: number, keyLengthBits?: number): number {
  return encrKeyLength(id, keyLengthBits) + mustEncr(id).saltLength;
}

/** Salt length (bytes) at the end of the ENCR KEYMAT; 0 for CBC. */
export function encrSaltLength(id: number): number {
  return mustEncr(id).saltLength;
}

/** IV length (bytes) on the wire. */
export function encrIvLength(id: number): number {
  return mustEncr(id).ivLength;
}

/** ICV length (bytes) produced by an AEAD; 0 for CBC (use `integIcvLength`). */
export function encrIcvLength(id: number): number {
  return mustEncr(id).icvLength;
}

/** Ciphertext alignment (bytes) for ESP/SK padding. */
export function encrPadAlign(id: number): number {
  return mustEncr(id).padAlign;
}

/** Whether the ENCR transform is an AEAD (then INTEG must be absent / NONE). */
export function encrIsAead(id: number): boolean {
  return mustEncr(id).kind === 'aead';
}

/** Provider AEAD name for an AEAD ENCR transform; throws for CBC. */
export function aeadName(id: number): AeadName {
  const info = mustEncr(id);
  if (info.aead === undefined) throw new Error(`${info.name} is not an AEAD`);
  return info.aead;
}

// ---------------------------------------------------------------------------------------------
// Integrity (Transform Type 3), RFC 4868 §2

export interface IntegInfo {
  readonly id: IntegId;
  readonly name: string;
  readonly integ: IntegName;
  /** Key length = hash output length (RFC 4868 §2.1.1). */
  readonly keyLength: number;
  /** Truncated ICV = half the hash output (RFC 4868 §2.3). */
  readonly icvLength: number;
}

export const INTEG_INFO: ReadonlyMap<number, IntegInfo> = new Map<number, IntegInfo>([
  [IntegId.HMAC_SHA2_256_128, { id: IntegId.HMAC_SHA2_256_128, name: 'AUTH_HMAC_SHA2_256_128', integ: 'hmac-sha256-128', keyLength: 32, icvLength: 16 }],
  [IntegId.HMAC_SHA2_384_192, { id: IntegId.HMAC_SHA2_384_192, name: 'AUTH_HMAC_SHA2_384_192', integ: 'hmac-sha384-192', keyLength: 48, icvLength: 24 }],
  [IntegId.HMAC_SHA2_512_256, { id: IntegId.HMAC_SHA2_512_256, name: 'AUTH_HMAC_SHA2_512_256', integ: 'hmac-sha512-256', keyLength: 64, icvLength: 32 }],
]);

/** Integrity properties by name (for providers). */
export const INTEG_BY_NAME: Readonly<Record<IntegName, IntegInfo>> = {
  'hmac-sha256-128': INTEG_INFO.get(IntegId.HMAC_SHA2_256_128)!,
  'hmac-sha384-192': INTEG_INFO.get(IntegId.HMAC_SHA2_384_192)!,
  'hmac-sha512-256': INTEG_INFO.get(IntegId.HMAC_SHA2_512_256)!,
};

export function integInfo(id: number): IntegInfo | undefined {
  return INTEG_INFO.get(id);
}

function mustInteg(id: number): IntegInfo {
  const info = INTEG_INFO.get(id);
  if (!info) throw new Error(`integ transform id ${id} is not supported`);
  return info;
}

/** Integrity key length in bytes (32/48/64). */
export function integKeyLength(id: number): number {
  return mustInteg(id).keyLength;
}

/** Truncated ICV length in bytes (16/24/32). */
export function integIcvLength(id: number): number {
  return mustInteg(id).icvLength;
}

export function integName(id: number): IntegName {
  return mustInteg(id).integ;
}

// ---------------------------------------------------------------------------------------------
// PRF (Transform Type 2), RFC 4868 §2.1.2 and RFC 7296 §2.13-2.14

export interface PrfInfo {
  readonly id: PrfId;
  readonly name: string;
  readonly prf: PrfName;
  /** Output length in bytes (32/48/64). */
  readonly outputLength: number;
  /** Preferred key length (RFC 7296 §2.14: the output length, e.g. for SK_d, SK_pi, SK_pr). */
  readonly keyLength: number;
}

export const PRF_INFO: ReadonlyMap<number, PrfInfo> = new Map<number, PrfInfo>([
  [PrfId.HMAC_SHA2_256, { id: PrfId.HMAC_SHA2_256, name: 'PRF_HMAC_SHA2_256', prf: 'hmac-sha256', outputLength: 32, keyLength: 32 }],
  [PrfId.HMAC_SHA2_384, { id: PrfId.HMAC_SHA2_384, name: 'PRF_HMAC_SHA2_384', prf: 'hmac-sha384', outputLength: 48, keyLength: 48 }],
  [PrfId.HMAC_SHA2_512, { id: PrfId.HMAC_SHA2_512, name: 'PRF_HMAC_SHA2_512', prf: 'hmac-sha512', outputLength: 64, keyLength: 64 }],
]);

export const PRF_BY_NAME: Readonly<Record<PrfName, PrfInfo>> = {
  'hmac-sha256': PRF_INFO.get(PrfId.HMAC_SHA2_256)!,
  'hmac-sha384': PRF_INFO.get(PrfId.HMAC_SHA2_384)!,
  'hmac-sha512': PRF_INFO.get(PrfId.HMAC_SHA2_512)!,
};

export function prfInfo(id: number): PrfInfo | undefined {
  return PRF_INFO.get(id);
}

function mustPrf(id: number): PrfInfo {
  const info = PRF_INFO.get(id);
  if (!info) throw new Error(`prf transform id ${id} is not supported`);
  return info;
}

export function prfOutputLength(id: number): number {
  return mustPrf(id).outputLength;
}

export function prfKeyLength(id: number): number {
  return mustPrf(id).keyLength;
}

export function prfName(id: number): PrfName {
  return mustPrf(id).prf;
}

// ---------------------------------------------------------------------------------------------
// Key exchange (Transform Type 4)

export interface KeInfo {
  readonly id: KeId;
  readonly name: string;
  /** KE payload data length in bytes (RFC 7296 §3.4, RFC 5903 §7, RFC 8031 §3). */
  readonly publicLength: number;
  /** Shared secret g^ir length in bytes (MODP: prime size; ECP: x only, RFC 5903 §7; X25519: 32). */
  readonly sharedLength: number;
}

export const KE_INFO: ReadonlyMap<number, KeInfo> = new Map<number, KeInfo>([
  [KeId.MODP_2048, { id: KeId.MODP_2048, name: 'MODP_2048', publicLength: 256, sharedLength: 256 }],
  [KeId.ECP_256, { id: KeId.ECP_256, name: 'ECP_256', publicLength: 64, sharedLength: 32 }],
  [KeId.ECP_384, { id: KeId.ECP_384, name: 'ECP_384', publicLength: 96, sharedLength: 48 }],
  [KeId.ECP_521, { id: KeId.ECP_521, name: 'ECP_521', publicLength: 132, sharedLength: 66 }],
  [KeId.CURVE25519, { id: KeId.CURVE25519, name: 'CURVE25519', publicLength: 32, sharedLength: 32 }],
]);

export function keInfo(id: number): KeInfo | undefined {
  return KE_INFO.get(id);
}

/** KE payload data length for a group; throws if unsupported. */
export function kePublicLength(id: number): number {
  const info = KE_INFO.get(id);
  if (!info) throw new Error(`key exchange method ${id} is not supported`);
  return info.publicLength;
}
