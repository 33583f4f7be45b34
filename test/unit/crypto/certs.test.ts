/**
 * X.509 parsing, chain signature checks and IKE AUTH signatures (RFC 7296 §3.8 method 1, RFC 7427
 * method 14) on the node provider, against the committed test PKI in test/fixtures/pki (make.sh).
 * Expected values come from how make.sh built the PKI, node's own X509Certificate, or openssl.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, verify as nodeVerify, constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../src/crypto/node.js';
import type { Certificate, SignatureScheme } from '../../../src/crypto/types.js';

const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'pki');
const text = (f: string): string => readFileSync(join(dir, f), 'utf8');
const bin = (f: string): Uint8Array => new Uint8Array(readFileSync(join(dir, f)));
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function parse(pem: string | Uint8Array): Certificate {
  const c = nodeCrypto.parseCertificate(pem);
  if (!c) throw new Error('fixture did not parse');
  return c;
}

/** DER of a Name built by hand: SEQUENCE OF SET { SEQUENCE { OID, string } } (RFC 5280 §4.1.2.4). */
function nameDer(rdns: Array<[number, number, string]>): string {
  const tlv = (tag: number, body: Buffer): Buffer => {
    if (body.length >= 128) throw new Error('test helper only does short lengths');
    return Buffer.concat([Buffer.from([tag, body.length]), body]);
  };
  const sets = rdns.map(([attr, strTag, value]) =>
    tlv(0x31, tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from([0x55, 0x04, attr])), tlv(strTag, Buffer.from(value, 'utf8'))]))),
  );
  return tlv(0x30, Buffer.concat(sets)).toString('hex');
}

const ca = parse(text('ca-rsa.pem'));
const otherCa = parse(text('other-ca.pem'));
const leafRsa = parse(text('leaf-rsa.pem'));
const leafEc = parse(text('leaf-ec.pem'));
const leafEc384 = parse(text('leaf-ec384.pem'));
const leafEd = parse(text('leaf-ed25519.pem'));

describe('parseCertificate (node provider)', () => {
  it('fills every field of the RSA leaf', () => {
    const ref = new X509Certificate(text('leaf-rsa.pem'));
    expect(hexOf(leafRsa.der)).toBe(ref.raw.toString('hex'));
    expect(leafRsa.subject).toBe('C=ZZ, O=tsipsec, CN=a.ipx.test');
    expect(leafRsa.issuer).toBe('C=ZZ, O=tsipsec, CN=tsipsec Test CA');
    // C is a PrintableString (0x13), O and CN UTF8String (0x0c) under openssl's default string_mask
    expect(hexOf(leafRsa.subjectDer)).toBe(
      nameDer([
        [6, 0x13, 'ZZ'],
        [10, 0x0c, 'tsipsec'],
        [3, 0x0c, 'a.ipx.test'],
      ]),
    );
    expect(leafRsa.subjectAltNames).toEqual(['DNS:a.ipx.test', 'IP:198.18.0.1', 'email:a@ipx.test', 'IP:2001:db8::1']);
    expect(leafRsa.notBeforeMs).toBe(Date.parse(ref.validFrom));
    expect(leafRsa.notAfterMs).toBe(Date.parse(ref.validTo));
    expect(leafRsa.notAfterMs - leafRsa.notBeforeMs).toBe(36500 * 86_400_000);
    expect(leafRsa.isCa).toBe(false);
    expect(leafRsa.publicKeyType).toBe('rsa');
    expect(leafRsa.fingerprintSha256).toBe(ref.fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it('CA flag, key types and SANs of the other certificates', () => {
    expect(ca.isCa).toBe(true);
    expect(ca.subjectAltNames).toEqual([]);
    expect(hexOf(ca.subjectDer)).toBe(
      nameDer([
        [6, 0x13, 'ZZ'],
        [10, 0x0c, 'tsipsec'],
        [3, 0x0c, 'tsipsec Test CA'],
      ]),
    );
    expect(leafEc.publicKeyType).toBe('ec');
    expect(leafEc384.publicKeyType).toBe('ec');
    expect(leafEd.publicKeyType).toBe('ed25519');
    expect(leafEd.subjectAltNames).toEqual(['DNS:ed25519.ipx.test']);
    expect(leafEc.subject).toBe('C=ZZ, O=tsipsec, CN=ec.ipx.test');
  });

  it('accepts PEM text, PEM bytes and DER bytes alike', () => {
    const fromDer = parse(bin('leaf-rsa.der'));
    const fromPemBytes = parse(bin('leaf-rsa.pem'));
    expect(hexOf(fromDer.der)).toBe(hexOf(leafRsa.der));
    expect(fromPemBytes.fingerprintSha256).toBe(leafRsa.fingerprintSha256);
    expect(fromDer.subjectAltNames).toEqual(leafRsa.subjectAltNames);
  });

  it('returns null on garbage', () => {
    const der = bin('leaf-rsa.der');
    for (const bad of [
      new Uint8Array(0),
      new Uint8Array([0x30]),
      new Uint8Array(100).fill(0x30),
      der.subarray(0, der.length - 1),
      der.subarray(0, 200),
      'hello',
      '',
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n',
      new TextEncoder().encode('not a certificate at all'),
    ]) {
      expect(nodeCrypto.parseCertificate(bad)).toBeNull();
    }
  });
});

describe('verifyCertificateSignature (node provider)', () => {
  it('accepts leaves issued by the CA and the self-signed CA', () => {
    for (const leaf of [leafRsa, leafEc, leafEc384, leafEd]) expect(nodeCrypto.verifyCertificateSignature(leaf, ca)).toBe(true);
    expect(nodeCrypto.verifyCertificateSignature(ca, ca)).toBe(true);
  });

  it('rejects a same-named CA with another key, a wrong issuer, and a tampered signature', () => {
    expect(nodeCrypto.verifyCertificateSignature(leafRsa, otherCa)).toBe(false);
    expect(nodeCrypto.verifyCertificateSignature(leafRsa, leafEc)).toBe(false);
    expect(nodeCrypto.verifyCertificateSignature(ca, leafRsa)).toBe(false);
    const der = leafRsa.der.slice();
    der[der.length - 5] = der[der.length - 5]! ^ 0x01; // inside signatureValue
    const tampered = parse(der);
    expect(nodeCrypto.verifyCertificateSignature(tampered, ca)).toBe(false);
  });

  it('works for Certificate objects it did not create (re-parses der)', () => {
    expect(nodeCrypto.verifyCertificateSignature({ ...leafRsa }, { ...ca })).toBe(true);
  });
});

describe('loadPrivateKey / sign / verify (node provider)', () => {
  it('loads PKCS#8, PKCS#1 and SEC1 keys, PEM and DER', () => {
    expect(nodeCrypto.loadPrivateKey(text('leaf-rsa.key'))).toMatchObject({ type: 'rsa', bits: 2048 });
    expect(nodeCrypto.loadPrivateKey(text('leaf-rsa.pkcs1.pem'))).toMatchObject({ type: 'rsa', bits: 2048 });
    expect(nodeCrypto.loadPrivateKey(bin('leaf-rsa.pkcs1.der'))).toMatchObject({ type: 'rsa', bits: 2048 });
    expect(nodeCrypto.loadPrivateKey(bin('leaf-rsa.pkcs8.der'))).toMatchObject({ type: 'rsa', bits: 2048 });
    expect(nodeCrypto.loadPrivateKey(bin('leaf-rsa.key'))).toMatchObject({ type: 'rsa', bits: 2048 });
    expect(nodeCrypto.loadPrivateKey(text('leaf-ec.key'))).toMatchObject({ type: 'ec', bits: 256 });
    expect(nodeCrypto.loadPrivateKey(text('leaf-ec384.key'))).toMatchObject({ type: 'ec', bits: 384 });
    expect(nodeCrypto.loadPrivateKey(text('leaf-ed25519.key'))).toMatchObject({ type: 'ed25519', bits: 256 });
  });

  it('throws on garbage keys', () => {
    expect(() => nodeCrypto.loadPrivateKey('nope')).toThrow();
    expect(() => nodeCrypto.loadPrivateKey(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toThrow();
  });

  const data = new TextEncoder().encode('IKE_SA_INIT request ‖ Nr ‖ prf(SK_pi, IDi)');
  const cases: Array<{ label: string; keyFile: string; cert: () => Certificate; scheme: SignatureScheme }> = [
    ...(['sha1', 'sha256', 'sha384', 'sha512'] as const).map((hash) => ({
      label: `rsa-pkcs1 ${hash}`,
      keyFile: 'leaf-rsa.key',
      cert: () => leafRsa,
      scheme: { kind: 'rsa-pkcs1', hash } as const,
    })),
    ...(['sha256', 'sha384', 'sha512'] as const).map((hash) => ({
      label: `rsa-pss ${hash}`,
      keyFile: 'leaf-rsa.key',
      cert: () => leafRsa,
      scheme: { kind: 'rsa-pss', hash, saltLength: hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64 } as const,
    })),
    ...(['sha256', 'sha384', 'sha512'] as const).map((hash) => ({
      label: `ecdsa p256 ${hash}`,
      keyFile: 'leaf-ec.key',
      cert: () => leafEc,
      scheme: { kind: 'ecdsa', hash } as const,
    })),
    { label: 'ecdsa p384 sha384', keyFile: 'leaf-ec384.key', cert: () => leafEc384, scheme: { kind: 'ecdsa', hash: 'sha384' } },
    { label: 'ed25519', keyFile: 'leaf-ed25519.key', cert: () => leafEd, scheme: { kind: 'ed25519' } },
  ];

  it.each(cases)('$label: sign, verify, reject tampering and the wrong certificate', (c) => {
    const key = nodeCrypto.loadPrivateKey(text(c.keyFile));
    const sig = nodeCrypto.sign(key, c.scheme, data);
    const cert = c.cert();
    expect(nodeCrypto.verify(cert, c.scheme, data, sig)).toBe(true);
    const badSig = sig.slice();
    badSig[badSig.length >> 1] = badSig[badSig.length >> 1]! ^ 0x10;
    expect(nodeCrypto.verify(cert, c.scheme, data, badSig)).toBe(false);
    expect(nodeCrypto.verify(cert, c.scheme, data.subarray(1), sig)).toBe(false);
    expect(nodeCrypto.verify(cert, c.scheme, data, new Uint8Array(0))).toBe(false);
    expect(nodeCrypto.verify(cert, c.scheme, data, new Uint8Array(7))).toBe(false);
    const other = cert === leafRsa ? leafEc : leafRsa;
    expect(nodeCrypto.verify(other, c.scheme, data, sig)).toBe(false);
  });

  it.each(cases)('$label: signature encoding checked independently', (c) => {
    const key = nodeCrypto.loadPrivateKey(text(c.keyFile));
    const sig = nodeCrypto.sign(key, c.scheme, data);
    const pub = createPublicKey(text(c.keyFile));
    const s = c.scheme;
    let ok: boolean;
    if (s.kind === 'rsa-pkcs1') ok = nodeVerify(s.hash, data, { key: pub, padding: constants.RSA_PKCS1_PADDING }, sig);
    else if (s.kind === 'rsa-pss')
      ok = nodeVerify(s.hash, data, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: s.saltLength }, sig);
    else if (s.kind === 'ecdsa') {
      expect(sig[0]).toBe(0x30); // RFC 7427: DER Ecdsa-Sig-Value, not r ‖ s
      ok = nodeVerify(s.hash, data, { key: pub, dsaEncoding: 'der' }, sig);
    } else {
      expect(sig.length).toBe(64);
      ok = nodeVerify(null, data, pub, sig);
    }
    expect(ok).toBe(true);
  });

  it('RSA-PKCS1 SHA-256 signature verifies with the openssl CLI', () => {
    const key = nodeCrypto.loadPrivateKey(text('leaf-rsa.key'));
    const sig = nodeCrypto.sign(key, { kind: 'rsa-pkcs1', hash: 'sha256' }, data);
    const t = mkdtempSync(join(tmpdir(), 'tsipsec-certs-'));
    try {
      writeFileSync(join(t, 'sig'), sig);
      writeFileSync(join(t, 'data'), data);
      execFileSync('openssl', ['x509', '-in', join(dir, 'leaf-rsa.pem'), '-pubkey', '-noout', '-out', join(t, 'pub')]);
      const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(t, 'pub'), '-signature', join(t, 'sig'), join(t, 'data')]).toString();
      expect(out.trim()).toBe('Verified OK');
    } finally {
      rmSync(t, { recursive: true, force: true });
    }
  });

  it('scheme/key mismatches: sign throws, verify returns false', () => {
    const rsa = nodeCrypto.loadPrivateKey(text('leaf-rsa.key'));
    expect(() => nodeCrypto.sign(rsa, { kind: 'ecdsa', hash: 'sha256' }, data)).toThrow(/ec key/);
    expect(() => nodeCrypto.sign({ type: 'rsa', bits: 2048 }, { kind: 'rsa-pkcs1', hash: 'sha256' }, data)).toThrow(/loadPrivateKey/);
    const sig = nodeCrypto.sign(rsa, { kind: 'rsa-pkcs1', hash: 'sha256' }, data);
    expect(nodeCrypto.verify(leafRsa, { kind: 'ecdsa', hash: 'sha256' }, data, sig)).toBe(false);
    expect(nodeCrypto.verify(leafRsa, { kind: 'rsa-pkcs1', hash: 'sha384' }, data, sig)).toBe(false);
    expect(nodeCrypto.verify(leafRsa, { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 }, data, sig)).toBe(false);
  });
});

describe('non-RSA certificate chains (node provider)', () => {
  it('verifies ecdsa-with-SHA256/384 and Ed25519 certificate signatures', () => {
    const caEc = parse(text('ca-ec.pem'));
    const caEd = parse(text('ca-ed25519.pem'));
    expect(nodeCrypto.verifyCertificateSignature(parse(text('leaf-by-ec.pem')), caEc)).toBe(true);
    expect(nodeCrypto.verifyCertificateSignature(caEc, caEc)).toBe(true);
    expect(nodeCrypto.verifyCertificateSignature(parse(text('leaf-by-ed25519.pem')), caEd)).toBe(true);
    expect(nodeCrypto.verifyCertificateSignature(parse(text('leaf-by-ed25519.pem')), caEc)).toBe(false);
  });
});

const ALL_CERTS = ['ca-rsa.pem', 'other-ca.pem', 'leaf-rsa.pem', 'leaf-ec.pem', 'leaf-ec384.pem', 'leaf-ed25519.pem', 'ca-ec.pem', 'ca-ed25519.pem', 'leaf-by-ec.pem', 'leaf-by-ed25519.pem'];

describe('noble provider: X.509 and ECDSA/Ed25519 (pure TS)', () => {
  it.each(ALL_CERTS)('%s: parseCertificate gives the same fields as the node provider', (f) => {
    const a = nobleCrypto.parseCertificate(text(f));
    const b = nodeCrypto.parseCertificate(text(f));
    expect(a).not.toBeNull();
    expect({ ...a, der: hexOf(a!.der), subjectDer: hexOf(a!.subjectDer) }).toEqual({ ...b, der: hexOf(b!.der), subjectDer: hexOf(b!.subjectDer) });
  });

  it('parses DER bytes and PEM bytes too, and returns null on garbage', () => {
    expect(nobleCrypto.parseCertificate(bin('leaf-rsa.der'))?.fingerprintSha256).toBe(leafRsa.fingerprintSha256);
    expect(nobleCrypto.parseCertificate(bin('leaf-rsa.pem'))?.subject).toBe(leafRsa.subject);
    const der = bin('leaf-rsa.der');
    for (const bad of [new Uint8Array(0), der.subarray(0, der.length - 1), 'hello', '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n']) {
      expect(nobleCrypto.parseCertificate(bad)).toBeNull();
    }
  });

  it('verifies ECDSA- and Ed25519-signed chains; rejects wrong issuer and tampering', () => {
    const caEc = nobleCrypto.parseCertificate(text('ca-ec.pem'))!;
    const caEd = nobleCrypto.parseCertificate(text('ca-ed25519.pem'))!;
    const byEc = nobleCrypto.parseCertificate(text('leaf-by-ec.pem'))!;
    const byEd = nobleCrypto.parseCertificate(text('leaf-by-ed25519.pem'))!;
    expect(nobleCrypto.verifyCertificateSignature(byEc, caEc)).toBe(true);
    expect(nobleCrypto.verifyCertificateSignature(caEc, caEc)).toBe(true);
    expect(nobleCrypto.verifyCertificateSignature(byEd, caEd)).toBe(true);
    expect(nobleCrypto.verifyCertificateSignature(caEd, caEd)).toBe(true);
    expect(nobleCrypto.verifyCertificateSignature(byEd, caEc)).toBe(false);
    expect(nobleCrypto.verifyCertificateSignature(byEc, caEd)).toBe(false);
    for (const [leaf, issuer] of [
      [byEc, caEc],
      [byEd, caEd],
    ] as const) {
      const der = leaf.der.slice();
      der[der.length - 3] = der[der.length - 3]! ^ 0x01; // inside signatureValue
      const t = nobleCrypto.parseCertificate(der);
      if (t) expect(nobleCrypto.verifyCertificateSignature(t, issuer)).toBe(false);
      const tbs = leaf.der.slice();
      tbs[tbs.length - 120] = tbs[tbs.length - 120]! ^ 0x01; // inside tbsCertificate (SPKI / extensions)
      const t2 = nobleCrypto.parseCertificate(tbs);
      if (t2) expect(nobleCrypto.verifyCertificateSignature(t2, issuer)).toBe(false);
    }
  });

  it('throws the documented error for RSA', () => {
    expect(() => nobleCrypto.loadPrivateKey(text('leaf-rsa.key'))).toThrow(/use the node provider/);
    expect(() => nobleCrypto.loadPrivateKey(text('leaf-rsa.pkcs1.pem'))).toThrow(/use the node provider/);
    expect(() => nobleCrypto.verifyCertificateSignature(leafRsa, ca)).toThrow(/use the node provider/);
    expect(() => nobleCrypto.verify(leafRsa, { kind: 'rsa-pkcs1', hash: 'sha256' }, new Uint8Array(1), new Uint8Array(256))).toThrow(
      /use the node provider/,
    );
  });

  it('loads SEC1 and PKCS#8 EC keys and PKCS#8 Ed25519 keys, PEM and DER', () => {
    expect(nobleCrypto.loadPrivateKey(text('leaf-ec.key'))).toMatchObject({ type: 'ec', bits: 256 });
    expect(nobleCrypto.loadPrivateKey(text('leaf-ec384.key'))).toMatchObject({ type: 'ec', bits: 384 });
    expect(nobleCrypto.loadPrivateKey(text('leaf-ed25519.key'))).toMatchObject({ type: 'ed25519', bits: 256 });
    const p8 = createPrivateKey(text('leaf-ec.key')).export({ format: 'der', type: 'pkcs8' });
    expect(nobleCrypto.loadPrivateKey(new Uint8Array(p8))).toMatchObject({ type: 'ec', bits: 256 });
    expect(() => nobleCrypto.loadPrivateKey('garbage')).toThrow(/PKCS#8/);
  });

  const data = new TextEncoder().encode('signed octets');
  const schemes: Array<{ label: string; keyFile: string; certFile: string; scheme: SignatureScheme }> = [
    { label: 'ecdsa p256 sha256', keyFile: 'leaf-ec.key', certFile: 'leaf-ec.pem', scheme: { kind: 'ecdsa', hash: 'sha256' } },
    { label: 'ecdsa p256 sha384', keyFile: 'leaf-ec.key', certFile: 'leaf-ec.pem', scheme: { kind: 'ecdsa', hash: 'sha384' } },
    { label: 'ecdsa p256 sha512', keyFile: 'leaf-ec.key', certFile: 'leaf-ec.pem', scheme: { kind: 'ecdsa', hash: 'sha512' } },
    { label: 'ecdsa p384 sha384', keyFile: 'leaf-ec384.key', certFile: 'leaf-ec384.pem', scheme: { kind: 'ecdsa', hash: 'sha384' } },
    { label: 'ed25519', keyFile: 'leaf-ed25519.key', certFile: 'leaf-ed25519.pem', scheme: { kind: 'ed25519' } },
  ];

  it.each(schemes)('$label: noble and node verify each other\'s signatures', (c) => {
    const nobleKey = nobleCrypto.loadPrivateKey(text(c.keyFile));
    const nodeKey = nodeCrypto.loadPrivateKey(text(c.keyFile));
    const nobleCert = nobleCrypto.parseCertificate(text(c.certFile))!;
    const nodeCert = parse(text(c.certFile));
    const s1 = nobleCrypto.sign(nobleKey, c.scheme, data);
    const s2 = nodeCrypto.sign(nodeKey, c.scheme, data);
    expect(nodeCrypto.verify(nodeCert, c.scheme, data, s1)).toBe(true);
    expect(nobleCrypto.verify(nobleCert, c.scheme, data, s2)).toBe(true);
    expect(nobleCrypto.verify(nobleCert, c.scheme, data, s1)).toBe(true);
    if (c.scheme.kind === 'ed25519') expect(hexOf(s1)).toBe(hexOf(s2)); // Ed25519 is deterministic (RFC 8032)
    const bad = s2.slice();
    bad[bad.length - 2] = bad[bad.length - 2]! ^ 0x04;
    expect(nobleCrypto.verify(nobleCert, c.scheme, data, bad)).toBe(false);
    expect(nobleCrypto.verify(nobleCert, c.scheme, data.subarray(1), s2)).toBe(false);
    expect(nobleCrypto.verify(nobleCert, c.scheme, data, new Uint8Array(3))).toBe(false);
    const wrongCert = nobleCrypto.parseCertificate(text(c.certFile === 'leaf-ec.pem' ? 'leaf-ec384.pem' : 'leaf-ec.pem'))!;
    expect(nobleCrypto.verify(wrongCert, c.scheme, data, s2)).toBe(false);
  });

  it('sign with a mismatched scheme throws', () => {
    const ec = nobleCrypto.loadPrivateKey(text('leaf-ec.key'));
    expect(() => nobleCrypto.sign(ec, { kind: 'ed25519' }, data)).toThrow(/ed25519 key/);
    expect(() => nobleCrypto.sign(ec, { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 }, data)).toThrow(/use the node provider/);
  });
});
