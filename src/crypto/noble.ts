/**
 * @noble/* provider: portable pure JavaScript, and the test oracle for the node provider
 * (DESIGN.md rule 6). Not the hot path: each AEAD/CBC call re-expands the key schedule and
 * allocates, and MODP-2048 uses BigInt exponentiation.
 *
 * Certificates and signatures: X.509 parsing (all fields of `Certificate`), chain checks for
 * ECDSA- and Ed25519-signed certificates, PKCS#8/SEC1 EC and Ed25519 private keys, and the
 * 'ecdsa' (P-256/384/521, DER signatures) and 'ed25519' schemes are implemented in pure TS
 * (x509.ts, asn1.ts). RSA is not: loadPrivateKey of an RSA key, sign/verify with 'rsa-pkcs1' /
 * 'rsa-pss', and verifyCertificateSignature of an RSA-signed certificate throw
 * 'noble provider: X.509/RSA unsupported; use the node provider' (a configuration error, not a
 * verification failure). Use the node provider for RSA.
 */
import { cbc as nobleCbc, gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { INTEG_BY_NAME, PRF_BY_NAME } from './algorithms.js';
import { certSubjectAltNames, certValidity } from './asn1.js';
import {
  ECP_PARAMS,
  MODP_2048_GENERATOR,
  MODP_2048_LENGTH,
  MODP_2048_PRIME_HEX,
  X25519_LENGTH,
  bigIntToBytes,
  bytesToBigInt,
  drawEcpScalar,
  drawModpExponent,
  isAllZero,
  modpPeerValid,
  type EcpParams,
} from './dh-params.js';
import type {
  AeadCipher,
  AeadName,
  CbcCipher,
  Certificate,
  CryptoProvider,
  DhGroup,
  DhKeyPair,
  HashName,
  IntegName,
  Mac,
  Prf,
  PrfName,
  RandomSource,
  SignatureScheme,
  SigningKey,
} from './types.js';
import {
  parseCertificateDer,
  parsePrivateKeyDer,
  toDer,
  type EcCurveName,
  type ParsedCertificate,
  type PrivateKeyInfo,
  type PublicKeyInfo,
} from './x509.js';

const UNSUPPORTED = 'noble provider: X.509/RSA unsupported; use the node provider';

type NobleHash = typeof sha256;
const HASHES: Readonly<Record<HashName, NobleHash>> = {
  sha1: sha1 as unknown as NobleHash,
  sha256,
  sha384: sha384 as unknown as NobleHash,
  sha512: sha512 as unknown as NobleHash,
};

// ---------------------------------------------------------------------------------------------
// AEAD: AES-GCM-16 (RFC 4106/5282), ChaCha20-Poly1305 (RFC 7634)

type NobleAeadFactory = (key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array) => {
  encrypt(p: Uint8Array): Uint8Array;
  decrypt(c: Uint8Array): Uint8Array;
};

class NobleAead implements AeadCipher {
  readonly nonceLength = 12;
  readonly tagLength = 16;
  private readonly factory: NobleAeadFactory;
  private readonly key: Uint8Array;

  constructor(factory: NobleAeadFactory, key: Uint8Array) {
    this.factory = factory;
    this.key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, dst: Uint8Array, tag: Uint8Array): void {
    if (nonce.length !== 12) throw new Error(`aead seal: nonce must be 12 bytes, got ${nonce.length}`);
    if (tag.length < 16) throw new Error(`aead seal: tag buffer must be 16 bytes, got ${tag.length}`);
    if (dst.length < plaintext.length) throw new Error('aead seal: dst shorter than plaintext');
    const n = plaintext.length;
    const out = this.factory(this.key, nonce, aad).encrypt(plaintext);
    dst.set(out.subarray(0, n));
    tag.set(out.subarray(n, n + 16));
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, dst: Uint8Array): boolean {
    if (nonce.length !== 12 || tag.length !== 16 || dst.length < ciphertext.length) return false;
    const joined = new Uint8Array(ciphertext.length + 16);
    joined.set(ciphertext);
    joined.set(tag, ciphertext.length);
    try {
      dst.set(this.factory(this.key, nonce, aad).decrypt(joined));
      return true;
    } catch {
      return false;
    }
  }
}

function aead(name: AeadName, key: Uint8Array): AeadCipher {
  if (name === 'aes-gcm-16') {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new Error(`aes-gcm-16 key must be 16/24/32 bytes, got ${key.length}`);
    }
    return new NobleAead(gcm as unknown as NobleAeadFactory, key);
  }
  if (name === 'chacha20-poly1305') {
    if (key.length !== 32) throw new Error(`chacha20-poly1305 key must be 32 bytes, got ${key.length}`);
    return new NobleAead(chacha20poly1305 as unknown as NobleAeadFactory, key);
  }
  throw new Error(`unknown aead name: ${String(name)}`);
}

// ---------------------------------------------------------------------------------------------
// AES-CBC without padding (RFC 3602)

class NobleCbc implements CbcCipher {
  readonly blockSize = 16;
  private readonly key: Uint8Array;

  constructor(key: Uint8Array) {
    this.key = key.slice();
  }

  encrypt(iv: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
    if (iv.length !== 16) throw new Error(`cbc encrypt: iv must be 16 bytes, got ${iv.length}`);
    if (src.length % 16 !== 0) throw new Error(`cbc encrypt: src length ${src.length} is not a multiple of 16`);
    if (dst.length < src.length) throw new Error('cbc encrypt: dst shorter than src');
    if (src.length === 0) return;
    dst.set(nobleCbc(this.key, iv, { disablePadding: true }).encrypt(src));
  }

  decrypt(iv: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
    if (iv.length !== 16 || src.length % 16 !== 0 || dst.length < src.length) return false;
    if (src.length === 0) return true;
    try {
      dst.set(nobleCbc(this.key, iv, { disablePadding: true }).decrypt(src));
      return true;
    } catch {
      return false;
    }
  }
}

function cbc(key: Uint8Array): CbcCipher {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new Error(`aes-cbc key must be 16/24/32 bytes, got ${key.length}`);
  }
  return new NobleCbc(key);
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA2 integrity and PRF (RFC 4868)

const HMAC_HASH: Readonly<Record<IntegName | PrfName, HashName>> = {
  'hmac-sha256-128': 'sha256',
  'hmac-sha384-192': 'sha384',
  'hmac-sha512-256': 'sha512',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
};

class NobleMac implements Mac {
  readonly icvLength: number;
  private readonly h: NobleHash;
  private readonly key: Uint8Array;

  constructor(h: NobleHash, key: Uint8Array, icvLength: number) {
    this.h = h;
    this.key = key.slice();
    this.icvLength = icvLength;
  }

  private digest(parts: readonly Uint8Array[]): Uint8Array {
    const m = hmac.create(this.h, this.key);
    for (let i = 0; i < parts.length; i++) m.update(parts[i]!);
    return m.digest();
  }

  compute(parts: readonly Uint8Array[], out: Uint8Array): void {
    if (out.length < this.icvLength) throw new Error(`mac compute: out must hold ${this.icvLength} bytes`);
    out.set(this.digest(parts).subarray(0, this.icvLength));
  }

  verify(parts: readonly Uint8Array[], icv: Uint8Array): boolean {
    if (icv.length !== this.icvLength) return false;
    const d = this.digest(parts);
    let diff = 0;
    for (let i = 0; i < this.icvLength; i++) diff |= d[i]! ^ icv[i]!;
    return diff === 0;
  }
}

function mac(name: IntegName, key: Uint8Array): Mac {
  const info = INTEG_BY_NAME[name];
  if (!info) throw new Error(`unknown integ name: ${String(name)}`);
  if (key.length !== info.keyLength) throw new Error(`${name} key must be ${info.keyLength} bytes, got ${key.length}`);
  return new NobleMac(HASHES[HMAC_HASH[name]], key, info.icvLength);
}

function prf(name: PrfName): Prf {
  const info = PRF_BY_NAME[name];
  if (!info) throw new Error(`unknown prf name: ${String(name)}`);
  const h = HASHES[HMAC_HASH[name]];
  return {
    outputLength: info.outputLength,
    keyLength: info.keyLength,
    compute: (key: Uint8Array, data: Uint8Array): Uint8Array => hmac(h, key, data),
  };
}

function hash(name: HashName, data: Uint8Array): Uint8Array {
  const h = HASHES[name];
  if (!h) throw new Error(`unknown hash name: ${String(name)}`);
  return h(data);
}

// ---------------------------------------------------------------------------------------------
// Key exchange groups (see dh-params.ts for the private-key draw)

const MODP_P = BigInt('0x' + MODP_2048_PRIME_HEX);
const MODP_G = BigInt(MODP_2048_GENERATOR);

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

const modp2048: DhGroup = {
  id: 14,
  publicLength: MODP_2048_LENGTH,
  generate(rng: RandomSource): DhKeyPair {
    const x = drawModpExponent(rng);
    return { publicKey: bigIntToBytes(modPow(MODP_G, bytesToBigInt(x), MODP_P), MODP_2048_LENGTH), privateKey: x };
  },
  computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null {
    if (peerPublic.length !== MODP_2048_LENGTH) return null;
    const y = bytesToBigInt(peerPublic);
    if (!modpPeerValid(y, MODP_P)) return null;
    return bigIntToBytes(modPow(y, bytesToBigInt(pair.privateKey), MODP_P), MODP_2048_LENGTH);
  },
};

type NobleEcdh = typeof p256;

function ecpGroup(p: EcpParams, curve: NobleEcdh): DhGroup {
  const len = p.coordLength;
  return {
    id: p.id,
    publicLength: 2 * len,
    generate(rng: RandomSource): DhKeyPair {
      const d = drawEcpScalar(rng, p);
      // RFC 5903 §7: KE data is x ‖ y without the SEC1 0x04 prefix.
      return { publicKey: curve.getPublicKey(d, false).slice(1), privateKey: d };
    },
    computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null {
      if (peerPublic.length !== 2 * len) return null;
      try {
        const point = new Uint8Array(1 + 2 * len);
        point[0] = 0x04;
        point.set(peerPublic, 1);
        // Point.fromBytes validates the point is on the curve; compressed output = 0x02/03 ‖ x.
        const shared = curve.getSharedSecret(pair.privateKey, point, true);
        return shared.slice(1);
      } catch {
        return null;
      }
    },
  };
}

const x25519Group: DhGroup = {
  id: 31,
  publicLength: X25519_LENGTH,
  generate(rng: RandomSource): DhKeyPair {
    const d = rng.fill(new Uint8Array(X25519_LENGTH));
    return { publicKey: x25519.getPublicKey(d), privateKey: d };
  },
  computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null {
    if (peerPublic.length !== X25519_LENGTH || pair.privateKey.length !== X25519_LENGTH) return null;
    try {
      const s = x25519.getSharedSecret(pair.privateKey, peerPublic);
      // RFC 8031 §2.3 / RFC 7748 §6.1: reject the all-zero output.
      return isAllZero(s) ? null : s;
    } catch {
      return null;
    }
  },
};

const DH_GROUPS: ReadonlyMap<number, DhGroup> = new Map<number, DhGroup>([
  [14, modp2048],
  [19, ecpGroup(ECP_PARAMS.get(19)!, p256)],
  [20, ecpGroup(ECP_PARAMS.get(20)!, p384)],
  [21, ecpGroup(ECP_PARAMS.get(21)!, p521)],
  [31, x25519Group],
]);

// ---------------------------------------------------------------------------------------------
// Certificates and signatures (RFC 7427 method 14 ECDSA / Ed25519 only; see file header)

const CURVES: Readonly<Record<EcCurveName, NobleEcdh>> = { p256, p384, p521 };
const parsedCerts = new WeakMap<Certificate, ParsedCertificate>();
const nobleKeys = new WeakMap<SigningKey, PrivateKeyInfo>();

function parseCertificate(derOrPem: Uint8Array | string): Certificate | null {
  const der = toDer(derOrPem);
  if (!der) return null;
  const parsed = parseCertificateDer(der);
  const validity = certValidity(der);
  if (!parsed || !validity) return null;
  const p = parsed.publicKey.type;
  const cert: Certificate = {
    der: der.slice(),
    subject: parsed.subject,
    subjectDer: parsed.subjectDer.slice(),
    issuer: parsed.issuer,
    subjectAltNames: certSubjectAltNames(der),
    notBeforeMs: validity.notBeforeMs,
    notAfterMs: validity.notAfterMs,
    isCa: parsed.isCa,
    publicKeyType: p,
    fingerprintSha256: bytesToHex(sha256(der)),
  };
  parsedCerts.set(cert, parsed);
  return cert;
}

function parsedOf(cert: Certificate): ParsedCertificate | null {
  const cached = parsedCerts.get(cert);
  if (cached) return cached;
  const parsed = parseCertificateDer(cert.der);
  if (parsed) parsedCerts.set(cert, parsed);
  return parsed;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function ecdsaVerify(key: PublicKeyInfo, h: Exclude<HashName, 'sha1'>, data: Uint8Array, sig: Uint8Array): boolean {
  if (key.type !== 'ec') return false;
  try {
    // RFC 7427 §3 / RFC 5480: DER Ecdsa-Sig-Value; accept high-S (OpenSSL produces it).
    return CURVES[key.curve].verify(sig, HASHES[h](data), key.point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}

function ed25519Verify(key: PublicKeyInfo, data: Uint8Array, sig: Uint8Array): boolean {
  if (key.type !== 'ed25519' || sig.length !== 64) return false;
  try {
    return ed25519.verify(sig, data, key.key);
  } catch {
    return false;
  }
}

/** Throws UNSUPPORTED when the issuer signs with RSA (or another unsupported algorithm). */
function verifyCertificateSignature(cert: Certificate, issuer: Certificate): boolean {
  const c = parsedOf(cert);
  const i = parsedOf(issuer);
  if (!c || !i) return false;
  if (c.signatureAlgorithm.kind === 'unsupported' || i.publicKey.type === 'rsa') throw new Error(UNSUPPORTED);
  if (!sameBytes(c.issuerDer, i.subjectDer)) return false;
  if (c.signatureAlgorithm.kind === 'ecdsa') return ecdsaVerify(i.publicKey, c.signatureAlgorithm.hash, c.tbs, c.signature);
  return ed25519Verify(i.publicKey, c.tbs, c.signature);
}

/** PKCS#8 (EC, Ed25519) or SEC1 EC keys, PEM or DER. RSA keys throw UNSUPPORTED. */
function loadPrivateKey(pemOrDer: Uint8Array | string): SigningKey {
  const der = toDer(pemOrDer);
  const info = der ? parsePrivateKeyDer(der) : null;
  if (!info) throw new Error('loadPrivateKey: not a PKCS#8 or SEC1 private key');
  let key: SigningKey;
  if (info.type === 'rsa') throw new Error(UNSUPPORTED);
  if (info.type === 'ec') {
    if (!CURVES[info.curve].utils.isValidSecretKey(info.d)) throw new Error('loadPrivateKey: EC private scalar out of range');
    key = { type: 'ec', bits: info.curve === 'p256' ? 256 : info.curve === 'p384' ? 384 : 521 };
    nobleKeys.set(key, { type: 'ec', curve: info.curve, d: info.d.slice() });
  } else {
    key = { type: 'ed25519', bits: 256 };
    nobleKeys.set(key, { type: 'ed25519', seed: info.seed.slice() });
  }
  return key;
}

function sign(key: SigningKey, scheme: SignatureScheme, data: Uint8Array): Uint8Array {
  if (scheme.kind === 'rsa-pkcs1' || scheme.kind === 'rsa-pss') throw new Error(UNSUPPORTED);
  const k = nobleKeys.get(key);
  if (!k) throw new Error('sign: key was not created by the noble provider (loadPrivateKey)');
  if (scheme.kind === 'ecdsa') {
    if (k.type !== 'ec') throw new Error(`sign: scheme ecdsa needs an ec key, got ${key.type}`);
    // RFC 6979 deterministic k; DER Ecdsa-Sig-Value (RFC 7427 §3).
    return CURVES[k.curve].sign(HASHES[scheme.hash](data), k.d, { prehash: false, format: 'der' });
  }
  if (k.type !== 'ed25519') throw new Error(`sign: scheme ed25519 needs an ed25519 key, got ${key.type}`);
  return ed25519.sign(data, k.seed);
}

/** Never throws, except UNSUPPORTED for the RSA schemes. */
function verify(cert: Certificate, scheme: SignatureScheme, data: Uint8Array, signature: Uint8Array): boolean {
  if (scheme.kind === 'rsa-pkcs1' || scheme.kind === 'rsa-pss') throw new Error(UNSUPPORTED);
  const c = parsedOf(cert);
  if (!c) return false;
  if (scheme.kind === 'ecdsa') return ecdsaVerify(c.publicKey, scheme.hash, data, signature);
  return ed25519Verify(c.publicKey, data, signature);
}

function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

export const nobleCrypto: CryptoProvider = {
  name: 'noble',
  aead,
  cbc,
  mac,
  prf,
  hash,
  dhGroup: (id: number) => DH_GROUPS.get(id),
  parseCertificate,
  verifyCertificateSignature,
  loadPrivateKey,
  sign,
  verify,
};
