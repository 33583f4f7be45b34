/**
 * node:crypto (OpenSSL) provider: the fast path (DESIGN.md rule 6). The only file in src/crypto that
 * imports `node:` (test/unit/layering.test.ts).
 *
 * Per-packet cost: one createCipheriv/createDecipheriv (OpenSSL EVP context) per call with a KeyObject
 * built once per SA direction; update() output is copied into the caller's `dst` (dst may alias src).
 * open() writes `dst` only after the tag verified.
 */
import {
  X509Certificate,
  constants,
  createCipheriv,
  createDecipheriv,
  createDiffieHellman,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  randomFillSync,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import * as nodeCryptoModule from 'node:crypto';
import { INTEG_BY_NAME, PRF_BY_NAME } from './algorithms.js';
import { loadNativeAead } from './node-native-aead.js';
import { loadNativeKdf } from './node-native-kdf.js';
import { certSubjectAltNames, certSubjectDer, certValidity } from './asn1.js';
import {
  ECP_PARAMS,
  MODP_2048_GENERATOR,
  MODP_2048_LENGTH,
  MODP_2048_PRIME_HEX,
  X25519_LENGTH,
  bytesToBigInt,
  drawEcpScalar,
  drawModpExponent,
  isAllZero,
  leftPad,
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

/**
 * RandomSource backed by OpenSSL's CSPRNG (for the runtime; cores only see the interface). Small
 * requests (nonces, SPIs, IVs, DH private keys) are served from a 4 KiB pool refilled in one
 * randomFillSync call, since each call into OpenSSL costs more than the bytes; every byte is
 * handed out once, then the pool position moves past it.
 */
const RANDOM_POOL_SIZE = 4096;
const RANDOM_POOL_MAX_REQUEST = 256;
const randomPool = new Uint8Array(RANDOM_POOL_SIZE);
let randomPoolPos = RANDOM_POOL_SIZE;

export const nodeRandom: RandomSource = {
  fill(out: Uint8Array): Uint8Array {
    const n = out.length;
    if (n > RANDOM_POOL_MAX_REQUEST) {
      randomFillSync(out);
      return out;
    }
    if (randomPoolPos + n > RANDOM_POOL_SIZE) {
      randomFillSync(randomPool);
      randomPoolPos = 0;
    }
    // A byte loop, not set(subarray()): requests are ≤ 256 bytes and a view per call is garbage.
    const at = randomPoolPos;
    for (let i = 0; i < n; i++) {
      out[i] = randomPool[at + i]!;
      randomPool[at + i] = 0;
    }
    randomPoolPos = at + n;
    return out;
  },
};

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------------------------------------
// AEAD: AES-GCM-16 (RFC 4106/5282) and ChaCha20-Poly1305 (RFC 7634)

type AeadAlgo = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
const AEAD_OPTIONS = { authTagLength: 16 } as const;

class NodeAead implements AeadCipher {
  readonly nonceLength = 12;
  readonly tagLength = 16;
  private readonly algo: AeadAlgo;
  private readonly key: KeyObject;

  constructor(algo: AeadAlgo, key: KeyObject) {
    this.algo = algo;
    this.key = key;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, dst: Uint8Array, tag: Uint8Array): void {
    if (nonce.length !== 12) throw new Error(`aead seal: nonce must be 12 bytes, got ${nonce.length}`);
    if (tag.length < 16) throw new Error(`aead seal: tag buffer must be 16 bytes, got ${tag.length}`);
    if (dst.length < plaintext.length) throw new Error('aead seal: dst shorter than plaintext');
    // The overloads differ only by algorithm literal; the GCM one covers the runtime behaviour of both.
    const c = createCipheriv(this.algo as 'aes-128-gcm', this.key, nonce, AEAD_OPTIONS);
    c.setAAD(aad);
    const out = c.update(plaintext);
    dst.set(out);
    c.final();
    tag.set(c.getAuthTag());
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, dst: Uint8Array): boolean {
    if (nonce.length !== 12 || tag.length !== 16 || dst.length < ciphertext.length) return false;
    try {
      const d = createDecipheriv(this.algo as 'aes-128-gcm', this.key, nonce, AEAD_OPTIONS);
      d.setAuthTag(tag);
      d.setAAD(aad);
      const out = d.update(ciphertext);
      d.final(); // throws on ICV mismatch
      dst.set(out);
      return true;
    } catch {
      return false;
    }
  }
}

function aead(name: AeadName, key: Uint8Array): AeadCipher {
  if (name === 'aes-gcm-16') {
    const algo: AeadAlgo | undefined =
      key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : key.length === 32 ? 'aes-256-gcm' : undefined;
    if (!algo) throw new Error(`aes-gcm-16 key must be 16/24/32 bytes, got ${key.length}`);
    return new NodeAead(algo, createSecretKey(Buffer.from(key)));
  }
  if (name === 'chacha20-poly1305') {
    if (key.length !== 32) throw new Error(`chacha20-poly1305 key must be 32 bytes, got ${key.length}`);
    return new NodeAead('chacha20-poly1305', createSecretKey(Buffer.from(key)));
  }
  throw new Error(`unknown aead name: ${String(name)}`);
}

// ---------------------------------------------------------------------------------------------
// AES-CBC without padding (RFC 3602)

type CbcAlgo = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc';

class NodeCbc implements CbcCipher {
  readonly blockSize = 16;
  private readonly algo: CbcAlgo;
  private readonly key: KeyObject;

  constructor(algo: CbcAlgo, key: KeyObject) {
    this.algo = algo;
    this.key = key;
  }

  encrypt(iv: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
    if (iv.length !== 16) throw new Error(`cbc encrypt: iv must be 16 bytes, got ${iv.length}`);
    if (src.length % 16 !== 0) throw new Error(`cbc encrypt: src length ${src.length} is not a multiple of 16`);
    if (dst.length < src.length) throw new Error('cbc encrypt: dst shorter than src');
    const c = createCipheriv(this.algo, this.key, iv);
    c.setAutoPadding(false);
    dst.set(c.update(src));
    c.final();
  }

  decrypt(iv: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
    if (iv.length !== 16 || src.length % 16 !== 0 || dst.length < src.length) return false;
    try {
      const d = createDecipheriv(this.algo, this.key, iv);
      d.setAutoPadding(false);
      dst.set(d.update(src));
      d.final();
      return true;
    } catch {
      return false;
    }
  }
}

function cbc(key: Uint8Array): CbcCipher {
  const algo: CbcAlgo | undefined =
    key.length === 16 ? 'aes-128-cbc' : key.length === 24 ? 'aes-192-cbc' : key.length === 32 ? 'aes-256-cbc' : undefined;
  if (!algo) throw new Error(`aes-cbc key must be 16/24/32 bytes, got ${key.length}`);
  return new NodeCbc(algo, createSecretKey(Buffer.from(key)));
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA2 integrity (RFC 4868 §2) and PRF (RFC 4868 §2.1.2, RFC 7296 §2.13)

const HMAC_HASH: Readonly<Record<IntegName | PrfName, HashName>> = {
  'hmac-sha256-128': 'sha256',
  'hmac-sha384-192': 'sha384',
  'hmac-sha512-256': 'sha512',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
};

class NodeMac implements Mac {
  readonly icvLength: number;
  private readonly hash: HashName;
  private readonly key: KeyObject;

  constructor(hash: HashName, key: KeyObject, icvLength: number) {
    this.hash = hash;
    this.key = key;
    this.icvLength = icvLength;
  }

  private digest(parts: readonly Uint8Array[]): Buffer {
    const h = createHmac(this.hash, this.key);
    for (let i = 0; i < parts.length; i++) h.update(parts[i]!);
    return h.digest();
  }

  compute(parts: readonly Uint8Array[], out: Uint8Array): void {
    if (out.length < this.icvLength) throw new Error(`mac compute: out must hold ${this.icvLength} bytes`);
    const d = this.digest(parts);
    out.set(d.subarray(0, this.icvLength));
  }

  verify(parts: readonly Uint8Array[], icv: Uint8Array): boolean {
    if (icv.length !== this.icvLength) return false;
    const d = this.digest(parts);
    return timingSafeEqual(d.subarray(0, this.icvLength), icv);
  }
}

function mac(name: IntegName, key: Uint8Array): Mac {
  const info = INTEG_BY_NAME[name];
  if (!info) throw new Error(`unknown integ name: ${String(name)}`);
  if (key.length !== info.keyLength) throw new Error(`${name} key must be ${info.keyLength} bytes, got ${key.length}`);
  return new NodeMac(HMAC_HASH[name], createSecretKey(Buffer.from(key)), info.icvLength);
}

function prf(name: PrfName): Prf {
  const info = PRF_BY_NAME[name];
  if (!info) throw new Error(`unknown prf name: ${String(name)}`);
  const hash = HMAC_HASH[name];
  return {
    outputLength: info.outputLength,
    keyLength: info.keyLength,
    compute(key: Uint8Array, data: Uint8Array): Uint8Array {
      // HMAC accepts any key length (RFC 2104 §3); a zero-length key is legal here.
      return u8(createHmac(hash, key).update(data).digest());
    },
  };
}

/** crypto.hash (Node ≥ 20.12, 21.7): one call into OpenSSL instead of three for a Hash object. */
const oneShotHash = (nodeCryptoModule as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

function hash(name: HashName, data: Uint8Array): Uint8Array {
  if (name !== 'sha1' && name !== 'sha256' && name !== 'sha384' && name !== 'sha512') {
    throw new Error(`unknown hash name: ${String(name)}`);
  }
  return u8(oneShotHash ? oneShotHash(name, data, 'buffer') : createHash(name).update(data).digest());
}

// ---------------------------------------------------------------------------------------------
// Key exchange groups (see dh-params.ts for the private-key draw)

const MODP_2048_PRIME = Buffer.from(MODP_2048_PRIME_HEX, 'hex');
const MODP_2048_PRIME_BIG = BigInt('0x' + MODP_2048_PRIME_HEX);

/**
 * One DiffieHellman object for the group, reused: generate/computeSecret set the private key and
 * use it within the same synchronous call, so sharing is safe on the one JS thread and saves the
 * per-call group setup (OpenSSL DH_check on the prime).
 */
let modpShared: ReturnType<typeof createDiffieHellman> | undefined;
function modpDh(): ReturnType<typeof createDiffieHellman> {
  modpShared ??= createDiffieHellman(MODP_2048_PRIME, MODP_2048_GENERATOR);
  return modpShared;
}

const modp2048: DhGroup = {
  id: 14,
  publicLength: MODP_2048_LENGTH,
  generate(rng: RandomSource): DhKeyPair {
    const x = drawModpExponent(rng);
    const dh = modpDh();
    dh.setPrivateKey(buf(x));
    dh.generateKeys(); // computes g^x from the private key just set
    return { publicKey: leftPad(dh.getPublicKey(), MODP_2048_LENGTH), privateKey: x };
  },
  computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null {
    if (peerPublic.length !== MODP_2048_LENGTH) return null;
    if (!modpPeerValid(bytesToBigInt(peerPublic), MODP_2048_PRIME_BIG)) return null;
    try {
      const dh = modpDh();
      dh.setPrivateKey(buf(pair.privateKey));
      return leftPad(dh.computeSecret(buf(peerPublic)), MODP_2048_LENGTH);
    } catch {
      return null;
    }
  },
};

function ecpGroup(p: EcpParams): DhGroup {
  const len = p.coordLength;
  let shared: ReturnType<typeof createECDH> | undefined;
  // Same reuse argument as modpDh: the private key is set and used within one synchronous call.
  const ecdhFor = (): ReturnType<typeof createECDH> => (shared ??= createECDH(p.opensslName));
  return {
    id: p.id,
    publicLength: 2 * len,
    generate(rng: RandomSource): DhKeyPair {
      const d = drawEcpScalar(rng, p);
      const ecdh = ecdhFor();
      ecdh.setPrivateKey(buf(d));
      // RFC 5903 §7: KE data is x ‖ y without the SEC1 0x04 prefix.
      const pub = ecdh.getPublicKey(null, 'uncompressed');
      return { publicKey: Uint8Array.prototype.slice.call(pub, 1), privateKey: d };
    },
    computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null {
      if (peerPublic.length !== 2 * len) return null;
      try {
        const ecdh = ecdhFor();
        ecdh.setPrivateKey(buf(pair.privateKey));
        const point = Buffer.allocUnsafe(1 + 2 * len);
        point[0] = 0x04;
        point.set(peerPublic, 1);
        // OpenSSL rejects points not on the curve (EC_POINT_oct2point + EC_POINT_is_on_curve).
        const x = ecdh.computeSecret(point);
        return leftPad(x, len); // RFC 5903 §7: g^ir is the x coordinate only
      } catch {
        return null;
      }
    },
  };
}

/**
 * X25519 (RFC 7748, RFC 8031) keys go through JWK, not PKCS#8/SPKI DER: OpenSSL 3.0's DER decoder
 * costs ~1-4 ms per key here, JWK ~0.1 ms. For a private JWK, OpenSSL derives the public value from
 * `d` and ignores `x` (which Node requires to be present), so a placeholder `x` is passed. The
 * KeyObject built at generate() is kept for the pair's lifetime (WeakMap), so computeSecret does
 * not import it again.
 */
const X25519_PLACEHOLDER_X = Buffer.alloc(X25519_LENGTH).toString('base64url');
const x25519Keys = new WeakMap<DhKeyPair, KeyObject>();

function x25519Private(d: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: buf(d).toString('base64url'), x: X25519_PLACEHOLDER_X }, format: 'jwk' });
}

function fromBase64Url(s: string | undefined, n: number): Uint8Array | null {
  if (s === undefined) return null;
  const b = Buffer.from(s, 'base64url');
  return b.length === n ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
}

const x25519Group: DhGroup = {
  id: 31,
  publicLength: X25519_LENGTH,
  generate(rng: RandomSource): DhKeyPair {
    const d = rng.fill(new Uint8Array(X25519_LENGTH));
    const key = x25519Private(d);
    const x = fromBase64Url(key.export({ format: 'jwk' }).x, X25519_LENGTH);
    if (!x) throw new Error('x25519 generate: OpenSSL returned no 32-byte public key');
    const pair: DhKeyPair = { publicKey: x, privateKey: d };
    x25519Keys.set(pair, key);
    return pair;
  },
  computeSecret(pair: DhKeyPair, peerPublic: Uint8Array): Uint8Array | null {
    if (peerPublic.length !== X25519_LENGTH || pair.privateKey.length !== X25519_LENGTH) return null;
    try {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: buf(peerPublic).toString('base64url') }, format: 'jwk' });
      const privateKey = x25519Keys.get(pair) ?? x25519Private(pair.privateKey);
      const s = u8(diffieHellman({ privateKey, publicKey }));
      // RFC 8031 §2.3 / RFC 7748 §6.1: reject the all-zero output (OpenSSL already does; belt and braces).
      return s.length === X25519_LENGTH && !isAllZero(s) ? s : null;
    } catch {
      return null;
    }
  },
};

const DH_GROUPS: ReadonlyMap<number, DhGroup> = new Map<number, DhGroup>([
  [14, modp2048],
  [19, ecpGroup(ECP_PARAMS.get(19)!)],
  [20, ecpGroup(ECP_PARAMS.get(20)!)],
  [21, ecpGroup(ECP_PARAMS.get(21)!)],
  [31, x25519Group],
]);

// ---------------------------------------------------------------------------------------------
// Certificates (RFC 5280) and signatures (RFC 7296 §3.8 method 1, RFC 7427 method 14)

const nativeCerts = new WeakMap<Certificate, X509Certificate>();
const nativeKeys = new WeakMap<SigningKey, KeyObject>();

function looksLikeDer(b: Uint8Array): boolean {
  return b.length > 0 && b[0] === 0x30;
}

function toHex(b: Uint8Array): string {
  return buf(b).toString('hex');
}

function publicKeyType(k: KeyObject): Certificate['publicKeyType'] {
  const t = k.asymmetricKeyType;
  if (t === 'rsa' || t === 'rsa-pss') return 'rsa';
  if (t === 'ec') return 'ec';
  if (t === 'ed25519') return 'ed25519';
  return 'other';
}

function parseCertificate(derOrPem: Uint8Array | string): Certificate | null {
  try {
    const input = typeof derOrPem === 'string' ? derOrPem : looksLikeDer(derOrPem) ? Buffer.from(derOrPem) : buf(derOrPem).toString('latin1');
    const x = new X509Certificate(input);
    const der = Uint8Array.from(x.raw);
    const subjectDer = certSubjectDer(der);
    const validity = certValidity(der);
    if (!subjectDer || !validity) return null;
    const cert: Certificate = {
      der,
      subject: x.subject.split('\n').join(', '),
      subjectDer: subjectDer.slice(),
      issuer: x.issuer.split('\n').join(', '),
      subjectAltNames: certSubjectAltNames(der),
      notBeforeMs: validity.notBeforeMs,
      notAfterMs: validity.notAfterMs,
      isCa: x.ca,
      publicKeyType: publicKeyType(x.publicKey),
      fingerprintSha256: toHex(hash('sha256', der)),
    };
    nativeCerts.set(cert, x);
    return cert;
  } catch {
    return null;
  }
}

function native(cert: Certificate): X509Certificate | null {
  const cached = nativeCerts.get(cert);
  if (cached) return cached;
  try {
    const x = new X509Certificate(Buffer.from(cert.der));
    nativeCerts.set(cert, x);
    return x;
  } catch {
    return null;
  }
}

function verifyCertificateSignature(cert: Certificate, issuer: Certificate): boolean {
  try {
    const c = native(cert);
    const i = native(issuer);
    if (!c || !i) return false;
    return c.checkIssued(i) && c.verify(i.publicKey);
  } catch {
    return false;
  }
}

function loadPrivateKey(pemOrDer: Uint8Array | string): SigningKey {
  let key: KeyObject | undefined;
  if (typeof pemOrDer === 'string' || !looksLikeDer(pemOrDer)) {
    const pem = typeof pemOrDer === 'string' ? pemOrDer : buf(pemOrDer).toString('latin1');
    key = createPrivateKey(pem);
  } else {
    const der = Buffer.from(pemOrDer);
    for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
      try {
        key = createPrivateKey({ key: der, format: 'der', type });
        break;
      } catch {
        // try the next container
      }
    }
    if (!key) throw new Error('loadPrivateKey: DER is not a PKCS#8, PKCS#1 or SEC1 private key');
  }
  const t = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  let sk: SigningKey;
  if (t === 'rsa') sk = { type: 'rsa', bits: details.modulusLength ?? 0 };
  else if (t === 'ec') sk = { type: 'ec', bits: curveBits(details.namedCurve) };
  else if (t === 'ed25519') sk = { type: 'ed25519', bits: 256 };
  else throw new Error(`loadPrivateKey: unsupported key type ${String(t)}`);
  nativeKeys.set(sk, key);
  return sk;
}

function curveBits(curve: string | undefined): number {
  switch (curve) {
    case 'prime256v1':
      return 256;
    case 'secp384r1':
      return 384;
    case 'secp521r1':
      return 521;
    default:
      return 0;
  }
}

/** Key type a scheme needs. */
function schemeKeyType(scheme: SignatureScheme): 'rsa' | 'ec' | 'ed25519' {
  switch (scheme.kind) {
    case 'rsa-pkcs1':
    case 'rsa-pss':
      return 'rsa';
    case 'ecdsa':
      return 'ec';
    case 'ed25519':
      return 'ed25519';
  }
}

function signOptions(key: KeyObject, scheme: SignatureScheme): { alg: string | null; opts: Parameters<typeof nodeSign>[2] } {
  switch (scheme.kind) {
    case 'rsa-pkcs1':
      return { alg: scheme.hash, opts: { key, padding: constants.RSA_PKCS1_PADDING } };
    case 'rsa-pss':
      return { alg: scheme.hash, opts: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength } };
    case 'ecdsa':
      // RFC 7427 §3 (method 14): ECDSA signatures are the DER-encoded Ecdsa-Sig-Value.
      return { alg: scheme.hash, opts: { key, dsaEncoding: 'der' } };
    case 'ed25519':
      return { alg: null, opts: key }; // RFC 8420: pure Ed25519 over the whole data
  }
}

function sign(key: SigningKey, scheme: SignatureScheme, data: Uint8Array): Uint8Array {
  const k = nativeKeys.get(key);
  if (!k) throw new Error('sign: key was not created by the node provider (loadPrivateKey)');
  const need = schemeKeyType(scheme);
  if (key.type !== need) throw new Error(`sign: scheme ${scheme.kind} needs a ${need} key, got ${key.type}`);
  const { alg, opts } = signOptions(k, scheme);
  return u8(nodeSign(alg, data, opts));
}

function verify(cert: Certificate, scheme: SignatureScheme, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const x = native(cert);
    if (!x) return false;
    const pub = x.publicKey;
    if (publicKeyType(pub) !== schemeKeyType(scheme)) return false;
    const { alg, opts } = signOptions(pub, scheme);
    return nodeVerify(alg, data, opts as Parameters<typeof nodeVerify>[2], signature);
  } catch {
    return false;
  }
}

/**
 * node:crypto alone (no koffi): what `nodeCrypto` falls back to when libcrypto.so.3 cannot be loaded,
 * kept as a provider of its own so the vector tests and the bench run this path too.
 */
export const nodeCryptoJs: CryptoProvider = {
  name: 'node',
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

/**
 * The node provider: node:crypto (OpenSSL), with the IKE key-derivation work — the PRF and prf+,
 * hashes, X25519 (node-native-kdf.ts) — and the AEADs keyed per call on a shared EVP context
 * (node-native-aead.ts) on the same OpenSSL through koffi when libcrypto.so.3 loads (bound at first
 * use; `nativeKdfLoadError()` / `nativeAeadLoadError()` say why not). Else exactly `nodeCryptoJs`.
 */
export const nodeCrypto: CryptoProvider = {
  ...nodeCryptoJs,
  aead: (name: AeadName, key: Uint8Array): AeadCipher => (loadNativeAead() ?? aead)(name, key),
  prf: (name: PrfName): Prf => (loadNativeKdf()?.prf ?? prf)(name),
  hash: (name: HashName, data: Uint8Array): Uint8Array => (loadNativeKdf()?.hash ?? hash)(name, data),
  dhGroup: (id: number): DhGroup | undefined => (id === 31 ? (loadNativeKdf()?.x25519 ?? x25519Group) : DH_GROUPS.get(id)),
};
