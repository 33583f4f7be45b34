/**
 * RFC 7427 method 14 and RFC 7296 method 1 signature AUTH on the node provider (noble has no
 * X.509/RSA): AlgorithmIdentifier bytes against RFC 7427 Appendix A, signatures made here with
 * node:crypto verified by verifyAuth and vice versa, policy (SHA-1, announced hashes, key type),
 * and totality on garbage.
 */
import { constants, sign as nodeSign, verify as nodeVerify, X509Certificate, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto as provider } from '../../../../src/crypto/node.js';
import type { Certificate, SignatureScheme } from '../../../../src/crypto/types.js';
import {
  algorithmIdentifierFor,
  decodeSignatureAuthData,
  decodeSignatureHashAlgorithms,
  defaultSchemeFor,
  encodeSignatureHashAlgorithms,
  schemeFromAlgorithmIdentifier,
  signAuth,
  verifyAuth,
} from '../../../../src/ike/auth/signature.js';
import { TestPki, type KeySpec } from './pki.js';

const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** RFC 7427 Appendix A DER (A.1/A.2 PKCS#1 v1.5, A.3 ECDSA, A.4.3 PSS) and RFC 8420 Ed25519. */
const ALG_ID: ReadonlyArray<[string, SignatureScheme, string]> = [
  ['sha1WithRSAEncryption', { kind: 'rsa-pkcs1', hash: 'sha1' }, '300d06092a864886f70d0101050500'],
  ['sha256WithRSAEncryption', { kind: 'rsa-pkcs1', hash: 'sha256' }, '300d06092a864886f70d01010b0500'],
  ['sha384WithRSAEncryption', { kind: 'rsa-pkcs1', hash: 'sha384' }, '300d06092a864886f70d01010c0500'],
  ['sha512WithRSAEncryption', { kind: 'rsa-pkcs1', hash: 'sha512' }, '300d06092a864886f70d01010d0500'],
  ['ecdsa-with-sha256', { kind: 'ecdsa', hash: 'sha256' }, '300a06082a8648ce3d040302'],
  ['ecdsa-with-sha384', { kind: 'ecdsa', hash: 'sha384' }, '300a06082a8648ce3d040303'],
  ['ecdsa-with-sha512', { kind: 'ecdsa', hash: 'sha512' }, '300a06082a8648ce3d040304'],
  ['Ed25519', { kind: 'ed25519' }, '300506032b6570'],
  [
    'RSASSA-PSS SHA-256',
    { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 },
    '3041 06092a864886f70d01010a 3034 a00f300d0609608648016503040201 0500 a11c301a06092a864886f70d010108300d06096086480165030402010500 a203020120',
  ],
  [
    'RSASSA-PSS SHA-384',
    { kind: 'rsa-pss', hash: 'sha384', saltLength: 48 },
    '3041 06092a864886f70d01010a 3034 a00f300d0609608648016503040202 0500 a11c301a06092a864886f70d010108300d06096086480165030402020500 a203020130',
  ],
  [
    'RSASSA-PSS SHA-512',
    { kind: 'rsa-pss', hash: 'sha512', saltLength: 64 },
    '3041 06092a864886f70d01010a 3034 a00f300d0609608648016503040203 0500 a11c301a06092a864886f70d010108300d06096086480165030402030500 a203020140',
  ],
];

describe('AlgorithmIdentifier DER (RFC 7427 Appendix A)', () => {
  it.each(ALG_ID)('%s', (_n, scheme, der) => {
    expect(hx(algorithmIdentifierFor(scheme))).toBe(der.replace(/\s+/g, ''));
    expect(schemeFromAlgorithmIdentifier(h(der))).toEqual(scheme);
  });
  it('PSS hash AlgorithmIdentifiers without NULL parameters are accepted too', () => {
    const noNull = '303d 06092a864886f70d01010a 3030 a00d300b0609608648016503040201 a11a301806092a864886f70d010108300b0609608648016503040201 a203020120';
    expect(schemeFromAlgorithmIdentifier(h(noNull))).toEqual({ kind: 'rsa-pss', hash: 'sha256', saltLength: 32 });
  });
  it('PSS with default (SHA-1) parameters, mismatched MGF hash, or unknown OIDs is unsupported', () => {
    expect(schemeFromAlgorithmIdentifier(h('300d06092a864886f70d01010a3000'))).toBeUndefined();
    const mgf384 = '3041 06092a864886f70d01010a 3034 a00f300d0609608648016503040201 0500 a11c301a06092a864886f70d010108300d06096086480165030402020500 a203020120';
    expect(schemeFromAlgorithmIdentifier(h(mgf384))).toBeUndefined();
    expect(schemeFromAlgorithmIdentifier(h('300506032b6571'))).toBeUndefined(); // Ed448
  });
});

describe('SIGNATURE_HASH_ALGORITHMS notify data (RFC 7427 §4)', () => {
  it('encodes 2-octet ids and decodes them back', () => {
    expect(hx(encodeSignatureHashAlgorithms([2, 3, 4, 5]))).toBe('0002000300040005');
    expect(decodeSignatureHashAlgorithms(h('00010002'))).toEqual([1, 2]);
    expect(decodeSignatureHashAlgorithms(h('000100'))).toBeUndefined();
    expect(decodeSignatureHashAlgorithms(new Uint8Array(0))).toEqual([]);
  });
});

const pki = new TestPki();
const certs: Partial<Record<KeySpec, { cert: Certificate; priv: KeyObject; keyPem: string }>> = {};

beforeAll(() => {
  for (const spec of ['rsa', 'p256', 'p384', 'p521', 'ed25519'] as const) {
    const i = pki.selfSigned(spec, `/C=ZZ/O=tsipsec/CN=${spec}.example`, spec, { san: `DNS:${spec}.example` });
    certs[spec] = { cert: provider.parseCertificate(i.certPem)!, priv: i.privateKey, keyPem: i.keyPem };
  }
}, 60_000);
afterAll(() => pki.dispose());

/** The certificate's public key, read by node:crypto (independent of the provider). */
function certKey(spec: KeySpec): KeyObject {
  return new X509Certificate(Buffer.from(certs[spec]!.cert.der)).publicKey;
}

const octets = Uint8Array.from({ length: 500 }, (_, i) => (i * 7) & 0xff);
const policy = { rsaSha1Method1: false };

const CASES: ReadonlyArray<[KeySpec, SignatureScheme]> = [
  ['rsa', { kind: 'rsa-pkcs1', hash: 'sha256' }],
  ['rsa', { kind: 'rsa-pkcs1', hash: 'sha384' }],
  ['rsa', { kind: 'rsa-pkcs1', hash: 'sha512' }],
  ['rsa', { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 }],
  ['rsa', { kind: 'rsa-pss', hash: 'sha384', saltLength: 48 }],
  ['rsa', { kind: 'rsa-pss', hash: 'sha512', saltLength: 64 }],
  ['p256', { kind: 'ecdsa', hash: 'sha256' }],
  ['p384', { kind: 'ecdsa', hash: 'sha384' }],
  ['p521', { kind: 'ecdsa', hash: 'sha512' }],
  ['ed25519', { kind: 'ed25519' }],
];

/** Independent node:crypto signature for a scheme. */
function refSign(priv: KeyObject, s: SignatureScheme, data: Uint8Array): Buffer {
  switch (s.kind) {
    case 'rsa-pkcs1':
      return nodeSign(s.hash, data, { key: priv, padding: constants.RSA_PKCS1_PADDING });
    case 'rsa-pss':
      return nodeSign(s.hash, data, { key: priv, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: s.saltLength });
    case 'ecdsa':
      return nodeSign(s.hash, data, { key: priv, dsaEncoding: 'der' });
    case 'ed25519':
      return nodeSign(null, data, priv);
  }
}

describe('signAuth / verifyAuth (method 14)', () => {
  it.each(CASES)('%s %j: our AUTH verifies with node:crypto and verifyAuth; node:crypto AUTH verifies with verifyAuth', (spec, scheme) => {
    const { cert, priv, keyPem } = certs[spec]!;
    const key = provider.loadPrivateKey(keyPem);
    const auth = signAuth(provider, key, scheme, octets);
    expect(auth.method).toBe(14);
    const algId = algorithmIdentifierFor(scheme);
    expect(auth.data[0]).toBe(algId.length);
    expect(hx(auth.data.subarray(1, 1 + algId.length))).toBe(hx(algId));
    const sig = auth.data.subarray(1 + algId.length);
    // independent check of the signature value
    const opts =
      scheme.kind === 'rsa-pss'
        ? { key: certKey(spec), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength }
        : scheme.kind === 'rsa-pkcs1'
          ? { key: certKey(spec), padding: constants.RSA_PKCS1_PADDING }
          : scheme.kind === 'ecdsa'
            ? { key: certKey(spec), dsaEncoding: 'der' as const }
            : certKey(spec);
    expect(nodeVerify(scheme.kind === 'ed25519' ? null : scheme.hash, octets, opts, sig)).toBe(true);
    expect(verifyAuth(provider, cert, auth.method, auth.data, octets, policy)).toBe(true);
    // and the other way round: AUTH data assembled from a node:crypto signature
    const data = Buffer.concat([Buffer.from([algId.length]), algId, refSign(priv, scheme, octets)]);
    expect(verifyAuth(provider, cert, 14, data, octets, policy)).toBe(true);
    // tampered octets / signature fail
    const other = octets.slice();
    other[0] ^= 1;
    expect(verifyAuth(provider, cert, 14, auth.data, other, policy)).toBe(false);
    const bad = auth.data.slice();
    bad[bad.length - 1] ^= 1;
    expect(verifyAuth(provider, cert, 14, bad, octets, policy)).toBe(false);
  });

  it('a signature checked against a certificate of another key type is rejected', () => {
    const key = provider.loadPrivateKey(certs.p256!.keyPem);
    const auth = signAuth(provider, key, { kind: 'ecdsa', hash: 'sha256' }, octets);
    expect(verifyAuth(provider, certs.rsa!.cert, auth.method, auth.data, octets, policy)).toBe(false);
    expect(verifyAuth(provider, certs.p384!.cert, auth.method, auth.data, octets, policy)).toBe(false);
    expect(() => signAuth(provider, key, { kind: 'rsa-pkcs1', hash: 'sha256' }, octets)).toThrow(/rsa key/);
  });

  it('only announced hash algorithms are accepted when hashIds is given', () => {
    const key = provider.loadPrivateKey(certs.rsa!.keyPem);
    const auth = signAuth(provider, key, { kind: 'rsa-pkcs1', hash: 'sha384' }, octets);
    expect(verifyAuth(provider, certs.rsa!.cert, 14, auth.data, octets, { rsaSha1Method1: false, hashIds: [2, 3] })).toBe(true);
    expect(verifyAuth(provider, certs.rsa!.cert, 14, auth.data, octets, { rsaSha1Method1: false, hashIds: [2, 4] })).toBe(false);
  });

  it('SHA-1 inside method 14 is refused even when method 1 is allowed', () => {
    const algId = h('300d06092a864886f70d0101050500');
    const data = Buffer.concat([Buffer.from([algId.length]), algId, refSign(certs.rsa!.priv, { kind: 'rsa-pkcs1', hash: 'sha1' }, octets)]);
    expect(decodeSignatureAuthData(data)!.scheme).toEqual({ kind: 'rsa-pkcs1', hash: 'sha1' });
    expect(verifyAuth(provider, certs.rsa!.cert, 14, data, octets, { rsaSha1Method1: true })).toBe(false);
  });

  it('never throws and returns false on garbage AUTH data or unknown methods', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), (method, data) => {
        expect(verifyAuth(provider, certs.p256!.cert, method, data, octets, policy)).toBe(false);
        expect(() => decodeSignatureAuthData(data)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe('method 1 (RSA_SIG, PKCS#1 v1.5 SHA-1)', () => {
  it('signAuth with rsa-pkcs1/sha1 emits method 1 with the raw signature; verify only when allowed', () => {
    const key = provider.loadPrivateKey(certs.rsa!.keyPem);
    const auth = signAuth(provider, key, { kind: 'rsa-pkcs1', hash: 'sha1' }, octets);
    expect(auth.method).toBe(1);
    expect(hx(auth.data)).toBe(hx(refSign(certs.rsa!.priv, { kind: 'rsa-pkcs1', hash: 'sha1' }, octets)));
    expect(verifyAuth(provider, certs.rsa!.cert, 1, auth.data, octets, { rsaSha1Method1: false })).toBe(false);
    expect(verifyAuth(provider, certs.rsa!.cert, 1, auth.data, octets, { rsaSha1Method1: true })).toBe(true);
    // method 1 with a SHA-256 signature is not method 1
    const sha256 = refSign(certs.rsa!.priv, { kind: 'rsa-pkcs1', hash: 'sha256' }, octets);
    expect(verifyAuth(provider, certs.rsa!.cert, 1, sha256, octets, { rsaSha1Method1: true })).toBe(false);
  });
});

describe('defaultSchemeFor', () => {
  it('RSA → PKCS#1 v1.5 SHA-256, EC → curve hash, Ed25519', () => {
    expect(defaultSchemeFor({ type: 'rsa', bits: 2048 })).toEqual({ kind: 'rsa-pkcs1', hash: 'sha256' });
    expect(defaultSchemeFor({ type: 'ec', bits: 384 })).toEqual({ kind: 'ecdsa', hash: 'sha384' });
    expect(defaultSchemeFor({ type: 'ec', bits: 521 })).toEqual({ kind: 'ecdsa', hash: 'sha512' });
    expect(defaultSchemeFor({ type: 'ed25519', bits: 256 })).toEqual({ kind: 'ed25519' });
  });
});
