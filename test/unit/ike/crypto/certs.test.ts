/**
 * Certificate path validation, ID ↔ certificate matching and CERTREQ hashes (RFC 7296 §3.6-3.7,
 * §2.15) on the node provider (the noble provider has no X.509), with a PKI made by openssl.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto as provider } from '../../../../src/crypto/node.js';
import type { Certificate } from '../../../../src/crypto/types.js';
import { casRequested, certMatchesId, certReqData, parseCertReqData, validateChain } from '../../../../src/ike/auth/certs.js';
import { parseIdentity } from '../../../../src/ike/identity.js';
import { TestPki, type Issued } from './pki.js';

const pki = new TestPki();
const DAY = 86_400_000;
let now: number;
const c: Record<string, Certificate> = {};
const raw: Record<string, Issued> = {};

function add(i: Issued): void {
  raw[i.name] = i;
  const cert = provider.parseCertificate(i.certPem);
  if (!cert) throw new Error(`cannot parse ${i.name}`);
  c[i.name] = cert;
}

beforeAll(() => {
  const ca = pki.selfSigned('ca', '/C=ZZ/O=tsipsec/CN=Test Root CA', 'p256', { ca: true });
  add(ca);
  add(pki.selfSigned('otherca', '/C=ZZ/O=tsipsec/CN=Other CA', 'p256', { ca: true }));
  const int1 = pki.issue('int1', '/C=ZZ/O=tsipsec/CN=Intermediate 1', 'p256', ca, { ca: true });
  add(int1);
  add(
    pki.issue('leaf', '/C=ZZ/O=tsipsec/CN=leaf.example', 'p256', int1, {
      san: 'DNS:leaf.example,DNS:Alt.Example,IP:198.18.0.1,IP:2001:db8::1,email:leaf@example.test',
    }),
  );
  add(pki.issue('direct', '/C=ZZ/O=tsipsec/CN=direct.example', 'p256', ca, { san: 'DNS:direct.example', days: 1 }));
  // A certificate "issued" by a non-CA end entity.
  add(pki.issue('underleaf', '/C=ZZ/O=tsipsec/CN=under.example', 'p256', raw.direct!, { san: 'DNS:under.example' }));
  // ca → d1 → d2 → d3 → d4 → deep
  let parent = ca;
  for (const n of ['d1', 'd2', 'd3', 'd4']) {
    parent = pki.issue(n, `/C=ZZ/O=tsipsec/CN=Deep ${n}`, 'p256', parent, { ca: true });
    add(parent);
  }
  add(pki.issue('deep', '/C=ZZ/O=tsipsec/CN=deep.example', 'p256', parent));
  now = Date.now() + 60_000; // a minute after issuance (notBefore is the issuing second)
}, 60_000);

afterAll(() => pki.dispose());

describe('validateChain', () => {
  it('leaf → intermediate → trust anchor is ok and returns the path', () => {
    const r = validateChain(provider, c.leaf!, [c.int1!], [c.ca!], now);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.path.map((x) => x.subject)).toEqual([c.leaf!.subject, c.int1!.subject, c.ca!.subject]);
  });
  it('directly issued leaf; extra unrelated intermediates and anchors do not matter', () => {
    expect(validateChain(provider, c.direct!, [c.d1!, c.int1!], [c.otherca!, c.ca!], now).ok).toBe(true);
  });
  it('missing intermediate or wrong trust anchor fails', () => {
    const r = validateChain(provider, c.leaf!, [], [c.ca!], now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/no trusted issuer/);
    expect(validateChain(provider, c.leaf!, [c.int1!], [c.otherca!], now).ok).toBe(false);
  });
  it('expired (or not yet valid) certificates fail at the given wall clock', () => {
    const later = validateChain(provider, c.direct!, [], [c.ca!], now + 3 * DAY);
    expect(later.ok).toBe(false);
    if (!later.ok) expect(later.reason).toMatch(/not valid/);
    expect(validateChain(provider, c.direct!, [], [c.ca!], now - 3 * DAY).ok).toBe(false);
    // the intermediate expires after 365 days, before the root
    const r = validateChain(provider, c.leaf!, [c.int1!], [c.ca!], now + 366 * DAY);
    expect(r.ok).toBe(false);
  });
  it('an issuer without the CA flag fails', () => {
    const r = validateChain(provider, c.underleaf!, [c.direct!], [c.ca!], now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not a CA/);
    // and a non-CA trust anchor
    const r2 = validateChain(provider, c.underleaf!, [], [c.direct!], now);
    expect(r2.ok).toBe(false);
  });
  it('depth limit: 4 intermediates + anchor exceed the default 4, fit in 5', () => {
    const ints = [c.d4!, c.d3!, c.d2!, c.d1!];
    const r = validateChain(provider, c.deep!, ints, [c.ca!], now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/longer than 4/);
    expect(validateChain(provider, c.deep!, ints, [c.ca!], now, 5).ok).toBe(true);
    expect(validateChain(provider, c.leaf!, [c.int1!], [c.ca!], now, 1).ok).toBe(false);
  });
  it('a pinned end-entity certificate is trusted directly', () => {
    expect(validateChain(provider, c.direct!, [], [c.direct!], now).ok).toBe(true);
  });
});

describe('certMatchesId', () => {
  const id = (s: string) => parseIdentity(s);
  it.each([
    ['leaf.example', true],
    ['@LEAF.example', true],
    ['alt.example', true],
    ['other.example', false],
    ['198.18.0.1', true],
    ['198.18.0.2', false],
    ['2001:db8::1', true],
    ['2001:0DB8:0:0::1', true],
    ['2001:db8::2', false],
    ['leaf@example.test', true],
    ['other@example.test', false],
    ['C=ZZ, O=tsipsec, CN=leaf.example', true],
    ['C=ZZ, O=tsipsec, CN=other.example', false],
    ['@#0102', false],
  ])('%s → %s', (s, want) => {
    const i = id(s);
    expect(certMatchesId(c.leaf!, i.idType, i.data)).toBe(want);
  });
  it('FQDN is not matched against the subject CN (SAN only, like strongSwan)', () => {
    const i = id('deep.example');
    expect(certMatchesId(c.deep!, i.idType, i.data)).toBe(false);
  });
  it('DER_ASN1_DN matches the certificate subject DER byte-for-byte too', () => {
    expect(certMatchesId(c.leaf!, 9, c.leaf!.subjectDer)).toBe(true);
    expect(certMatchesId(c.leaf!, 9, c.int1!.subjectDer)).toBe(false);
  });
});

describe('CERTREQ', () => {
  function spkiSha1(pem: string): string {
    const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha1').update(der).digest('hex');
  }
  it('certReqData = SHA-1(SPKI) of each CA, concatenated', () => {
    const data = certReqData(provider, [c.ca!, c.otherca!]);
    expect(Buffer.from(data).toString('hex')).toBe(spkiSha1(raw.ca!.certPem) + spkiSha1(raw.otherca!.certPem));
    expect(parseCertReqData(data)!.length).toBe(2);
    expect(parseCertReqData(data.subarray(1))).toBeUndefined();
  });
  it('casRequested finds the CAs a peer asks for', () => {
    const data = certReqData(provider, [c.otherca!]);
    expect(casRequested(provider, data, [c.ca!, c.otherca!]).map((x) => x.subject)).toEqual([c.otherca!.subject]);
    expect(casRequested(provider, Uint8Array.of(1, 2, 3), [c.ca!])).toEqual([]);
  });
});
