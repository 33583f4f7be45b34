/**
 * Two-endpoint exchange tests: certificate authentication (RFC 7296 §2.15, §3.6–§3.8, RFC 7427)
 * with RFC 7383 fragmentation of the IKE_AUTH messages (RSA-3072 certificates make them ~1.9 kB).
 *
 *   HDR, SAi1, KEi, Ni, N(NAT_D)×2, N(FRAG_SUP), N(SIGNATURE_HASH_ALGORITHMS)  -->
 *                     <--  HDR, SAr1, KEr, Nr, N(NAT_D)×2, N(FRAG_SUP), N(SIG_HASH), CERTREQ
 *   HDR, SKF(1/2) {IDi, CERT, CERTREQ, IDr, AUTH(14), SAi2, TSi, TSr …}, HDR, SKF(2/2) {…}  -->
 *                     <--  HDR, SKF(1/2) {IDr, CERT, AUTH(14), SAr2, TSi, TSr …}, HDR, SKF(2/2)
 *
 * Independent checks: the IKE_AUTH fragments are decrypted here with node:crypto AES-GCM
 * (RFC 5282: nonce = salt ‖ IV, AAD = header ‖ SKF header) to look at CERT and AUTH; the CERTREQ
 * hash is computed with node:crypto from the CA's SubjectPublicKeyInfo.
 */
import { createDecipheriv, createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IkeConnectionInput } from '../../src/ike/config.js';
import { decodeMessage, decodePayloadChain } from '../../src/ike/message.js';
import type { Payload } from '../../src/ike/payloads/types.js';
import { chooseScheme } from '../../src/ike/exchanges/ike-auth.js';
import { ADDR_A, ADDR_B, Pair, child, hexOf, type NetOptions } from './harness.js';
import { makePki, type PkiFiles } from './pki.js';

const DAY = 86_400_000;
let pki: PkiFiles;

beforeAll(() => {
  pki = makePki({ ec: true, ed: true, other: true });
}, 120_000);
afterAll(() => pki?.cleanup());

function certConn(side: 'a' | 'b', over: Partial<IkeConnectionInput> = {}): IkeConnectionInput {
  const me = side === 'a' ? 'a' : 'b';
  return {
    name: 'gw',
    localAddrs: [side === 'a' ? ADDR_A : ADDR_B],
    remoteAddrs: [side === 'a' ? ADDR_B : '%any'],
    proposals: ['aes128gcm16-prfsha256-x25519'],
    local: { auth: 'pubkey', id: `${me}.ipx.test`, certs: [pki.pem(me)], privateKey: pki.key(me) },
    remote: { auth: 'pubkey', id: side === 'a' ? 'b.ipx.test' : '%any', cacerts: [pki.pem('ca')] },
    children: [child({}, side)],
    ...over,
  };
}

function certPair(overA: Partial<IkeConnectionInput> = {}, overB: Partial<IkeConnectionInput> = {}, net: NetOptions = {}, wallOffsetMs = 0): Pair {
  const t0 = pki.madeAtMs + 60_000 + wallOffsetMs;
  return new Pair({ connections: [certConn('a', overA)] }, { connections: [certConn('b', overB)] }, net, 1, 2, undefined, (n) => t0 + n);
}

function up(p: Pair, ms = 60_000): boolean {
  return p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0, ms);
}

function down(p: Pair): void {
  p.runUntil(() => p.count('a', 'ike-down') > 0 && p.count('b', 'ike-down') > 0, 30_000);
  p.run(300_000);
}

/** The delivered IKE_AUTH datagrams (exchange 35) of one direction. */
function authDatagrams(p: Pair, response: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const d of p.delivered) {
    const m = decodeMessage(d.data);
    if (m.ok && m.value.header.exchangeType === 35 && ((m.value.header.flags & 0x20) !== 0) === response) out.push(d.data);
  }
  return out;
}

/**
 * RFC 7383 §2.5 / RFC 5282: decrypts SKF fragments (or one SK payload) with AES-GCM-128 (SK_e = key ‖
 * 4-byte salt, nonce = salt ‖ IV, AAD = IKE header ‖ generic header [‖ fragment fields]) and joins them.
 */
function openFragments(datagrams: readonly Uint8Array[], skE: Uint8Array): Payload[] {
  const parts = new Map<number, Uint8Array>();
  let firstType = 0;
  let total = 1;
  for (const raw of datagrams) {
    const skf = raw[16] === 53;
    expect(skf || raw[16] === 46).toBe(true);
    const aadEnd = skf ? 36 : 32;
    const n = skf ? (raw[32] << 8) | raw[33] : 1;
    if (skf) total = (raw[34] << 8) | raw[35];
    if (n === 1) firstType = raw[28];
    const iv = raw.subarray(aadEnd, aadEnd + 8);
    const ct = raw.subarray(aadEnd + 8, raw.length - 16);
    const tag = raw.subarray(raw.length - 16);
    const nonce = Buffer.concat([skE.subarray(16, 20), iv]);
    const dec = createDecipheriv('aes-128-gcm', skE.subarray(0, 16), nonce);
    dec.setAAD(raw.subarray(0, aadEnd));
    dec.setAuthTag(tag);
    const plain = Buffer.concat([dec.update(ct), dec.final()]);
    parts.set(n, plain.subarray(0, plain.length - 1 - plain[plain.length - 1]));
  }
  const joined = Buffer.concat([...Array(total).keys()].map((i) => parts.get(i + 1)!));
  const r = decodePayloadChain(firstType, joined);
  expect(r.ok).toBe(true);
  return r.ok ? r.value : [];
}

function ofType(payloads: readonly Payload[], type: number): Payload[] {
  return payloads.filter((p) => p.type === type);
}

/** DER AlgorithmIdentifier OIDs (RFC 8017 / RFC 5758 / RFC 8410). */
const OID_SHA256_RSA = '06092a864886f70d01010b';
const OID_RSA_PSS = '06092a864886f70d01010a';
const OID_ECDSA_SHA256 = '06082a8648ce3d040302';
const OID_ED25519 = '06032b6570';

function authAlgId(payloads: readonly Payload[]): { method: number; algId: string } {
  const a = ofType(payloads, 39)[0] as Extract<Payload, { type: 39 }>;
  return { method: a.method, algId: hexOf(a.data.subarray(1, 1 + a.data[0])) };
}

describe('IKE_AUTH with certificates (RFC 7427 method 14) and RFC 7383 fragments', () => {
  it('RSA-3072 both ways: IKE_AUTH is fragmented in both directions, CERT/CERTREQ/AUTH as on the wire', () => {
    const p = certPair();
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
    const ia = p.of('a', 'ike-up')[0];
    const ib = p.of('b', 'ike-up')[0];
    expect(ia.remoteId).toBe('b.ipx.test');
    expect(ib.remoteId).toBe('a.ipx.test');

    // IKE_SA_INIT: N(SIGNATURE_HASH_ALGORITHMS) = SHA2-256/384/512, Identity both ways; CERTREQ
    // from the responder = SHA-1 of the CA's SubjectPublicKeyInfo (RFC 7296 §3.7).
    const init = p.delivered.map((d) => decodeMessage(d.data)).filter((m) => m.ok && m.value.header.exchangeType === 34);
    expect(init.length).toBe(2);
    for (const m of init) {
      if (!m.ok) continue;
      const sh = m.value.payloads.find((x) => x.type === 41 && 'notifyType' in x && x.notifyType === 16431) as Extract<Payload, { type: 41 }>;
      expect(hexOf(sh.data)).toBe('0002000300040005');
    }
    const caSpki = new X509Certificate(Buffer.from(pki.pem('ca'))).publicKey.export({ type: 'spki', format: 'der' });
    const caHash = createHash('sha1').update(caSpki).digest('hex');
    const resp = init[1]!;
    expect(resp.ok && hexOf((resp.value.payloads.find((x) => x.type === 38) as Extract<Payload, { type: 38 }>).data)).toBe(caHash);

    // Fragmented at the 1280-byte default: 2 SKF datagrams each way, none over 1280 − 28.
    const req = authDatagrams(p, false);
    const res = authDatagrams(p, true);
    expect(req.length).toBe(2);
    expect(res.length).toBe(2);
    expect([...req, ...res].every((d) => d.length <= 1280 - 28)).toBe(true);
    const keys = p.a.exportIkeKeys(ia.ikeId)!;
    const inner = openFragments(req, keys.skEi);
    expect(inner.map((x) => x.type)).toEqual(expect.arrayContaining([35, 37, 38, 36, 39, 33, 44, 45]));
    const cert = ofType(inner, 37)[0] as Extract<Payload, { type: 37 }>;
    expect(cert.encoding).toBe(4);
    expect(hexOf(cert.data)).toBe(hexOf(new X509Certificate(Buffer.from(pki.pem('a'))).raw));
    expect(authAlgId(inner)).toEqual({ method: 14, algId: expect.stringContaining(OID_SHA256_RSA) });
    const back = openFragments(res, keys.skEr);
    expect(hexOf((ofType(back, 37)[0] as Extract<Payload, { type: 37 }>).data)).toBe(hexOf(new X509Certificate(Buffer.from(pki.pem('b'))).raw));
    expect(authAlgId(back).method).toBe(14);
    // Both sides hold the same child keys.
    expect(hexOf(p.of('a', 'child-up')[0].keys.encrOut)).toBe(hexOf(p.of('b', 'child-up')[0].keys.encrIn));
  });

  it('ECDSA P-256 and Ed25519 leaves sign with their own schemes; RSA-PSS when configured', () => {
    const cases = [
      ['ec', {}, OID_ECDSA_SHA256],
      ['ed', {}, OID_ED25519],
      ['a', { rsaPadding: 'pss' as const }, OID_RSA_PSS],
    ] as const;
    for (const [name, extra, oid] of cases) {
      const p = certPair(
        { local: { auth: 'pubkey', id: `${name === 'a' ? 'a' : name}.ipx.test`, certs: [pki.pem(name)], privateKey: pki.key(name), ...extra } },
      );
      p.a.initiate(p.now, 'gw');
      expect(up(p), name).toBe(true);
      const ia = p.of('a', 'ike-up')[0];
      expect(p.of('b', 'ike-up')[0].remoteId).toBe(`${name === 'a' ? 'a' : name}.ipx.test`);
      const req = authDatagrams(p, false);
      const inner = openFragments(req, p.a.exportIkeKeys(ia.ikeId)!.skEi);
      expect(authAlgId(inner)).toEqual({ method: 14, algId: expect.stringContaining(oid) });
    }
  });

  it('no id configured: the subject DN is the identity (ID_DER_ASN1_DN), matched by a DN remote id', () => {
    const p = certPair(
      { local: { auth: 'pubkey', id: '', certs: [pki.pem('a')], privateKey: pki.key('a') } },
      { remote: { auth: 'pubkey', id: 'C=ZZ, O=tsipsec, CN=a.ipx.test', cacerts: [pki.pem('ca')] } },
    );
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    expect(p.of('b', 'ike-up')[0].remoteId).toBe('C=ZZ, O=tsipsec, CN=a.ipx.test');
    expect(p.of('a', 'ike-up')[0].localId).toBe('C=ZZ, O=tsipsec, CN=a.ipx.test');
  });

  function expectNothingLeft(p: Pair): void {
    expect(p.of('a', 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(p.of('b', 'ike-down').map((e) => e.reason)).toEqual(['auth-failed']);
    expect(p.count('a', 'ike-up') + p.count('a', 'child-up')).toBe(0);
    // Whatever B had announced went down again.
    expect(p.count('b', 'child-up')).toBe(p.count('b', 'child-down'));
    expect(p.a.status()).toEqual([]);
    expect(p.b.status()).toEqual([]);
    expect(p.b.counters.halfOpen).toBe(0);
    expect(p.a.nextTimeout()).toBeUndefined();
    expect(p.b.nextTimeout()).toBeUndefined();
    expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
  }

  it('untrusted CA: the responder trusts another CA → AUTHENTICATION_FAILED, nothing left', () => {
    const p = certPair({}, { remote: { auth: 'pubkey', id: '%any', cacerts: [pki.pem('otherCa')] } });
    p.a.initiate(p.now, 'gw');
    down(p);
    expect(p.count('b', 'ike-up')).toBe(0);
    expectNothingLeft(p);
  });

  it('a certificate from an untrusted CA with the same issuer name and the right SAN is rejected', () => {
    const p = certPair({ local: { auth: 'pubkey', id: 'a.ipx.test', certs: [pki.pem('aByOther')], privateKey: pki.key('aByOther') } });
    p.a.initiate(p.now, 'gw');
    down(p);
    expect(p.count('b', 'ike-up')).toBe(0);
    expectNothingLeft(p);
  });

  it('the initiator rejects an untrusted responder certificate and tells it (INFORMATIONAL N(AUTHENTICATION_FAILED))', () => {
    const p = certPair({ remote: { auth: 'pubkey', id: 'b.ipx.test', cacerts: [pki.pem('otherCa')] } });
    p.a.initiate(p.now, 'gw');
    down(p);
    expectNothingLeft(p);
  });

  it('expired certificates (wall clock 60 days on) fail; the same PKI works at day 0', () => {
    const ok = certPair();
    ok.a.initiate(ok.now, 'gw');
    expect(up(ok)).toBe(true);
    const p = certPair({}, {}, {}, 60 * DAY);
    p.a.initiate(p.now, 'gw');
    down(p);
    expectNothingLeft(p);
  });

  it('ID mismatch: IDi a claims x.ipx.test with the a.ipx.test certificate → rejected', () => {
    const p = certPair({ local: { auth: 'pubkey', id: 'x.ipx.test', certs: [pki.pem('a')], privateKey: pki.key('a') } });
    p.a.initiate(p.now, 'gw');
    down(p);
    expectNothingLeft(p);
  });

  it('ID mismatch on the responder: IDr b claims c.ipx.test → the initiator rejects it', () => {
    const p = certPair({ remote: { auth: 'pubkey', id: '%any', cacerts: [pki.pem('ca')] } }, { local: { auth: 'pubkey', id: 'c.ipx.test', certs: [pki.pem('b')], privateKey: pki.key('b') } });
    p.a.initiate(p.now, 'gw');
    down(p);
    expectNothingLeft(p);
  });

  it('a private key that does not belong to the certificate: a config error naming the field, before anything is sent', () => {
    expect(() => certPair({ local: { auth: 'pubkey', id: 'a.ipx.test', certs: [pki.pem('a')], privateKey: pki.key('b') } })).toThrow(
      /connections\[gw\]\.local\.privateKey: none of the 1 private key\(s\) matches the public key of certificate 'C=ZZ, O=tsipsec, CN=a\.ipx\.test'/,
    );
  });
});

describe('AUTH signature scheme choice (RFC 7427 §4)', () => {
  const rsa = { type: 'rsa' as const, bits: 3072 };
  it('RSA: PKCS#1 v1.5 SHA-256 by default, PSS when configured, another hash only if the peer lacks SHA-256', () => {
    expect(chooseScheme(rsa, undefined, [2, 3, 4, 5])).toEqual({ kind: 'rsa-pkcs1', hash: 'sha256' });
    expect(chooseScheme(rsa, undefined, undefined)).toEqual({ kind: 'rsa-pkcs1', hash: 'sha256' });
    expect(chooseScheme(rsa, 'pss', [2])).toEqual({ kind: 'rsa-pss', hash: 'sha256', saltLength: 32 });
    expect(chooseScheme(rsa, undefined, [4, 3])).toEqual({ kind: 'rsa-pkcs1', hash: 'sha384' });
    expect(chooseScheme(rsa, 'pss', [4])).toEqual({ kind: 'rsa-pss', hash: 'sha512', saltLength: 64 });
    // Method 1 (SHA-1) only when allowed AND the peer announced no SIGNATURE_HASH_ALGORITHMS.
    expect(chooseScheme(rsa, undefined, undefined, true)).toEqual({ kind: 'rsa-pkcs1', hash: 'sha1' });
    expect(chooseScheme(rsa, undefined, [2], true)).toEqual({ kind: 'rsa-pkcs1', hash: 'sha256' });
    expect(chooseScheme({ type: 'ec', bits: 256 }, undefined, undefined, true)).toEqual({ kind: 'ecdsa', hash: 'sha256' });
  });
  it('EC and Ed25519 keys use their own schemes whatever the padding setting', () => {
    expect(chooseScheme({ type: 'ec', bits: 256 }, 'pss', [2])).toEqual({ kind: 'ecdsa', hash: 'sha256' });
    expect(chooseScheme({ type: 'ec', bits: 384 }, undefined, [2, 3])).toEqual({ kind: 'ecdsa', hash: 'sha384' });
    expect(chooseScheme({ type: 'ed25519', bits: 256 }, undefined, [5])).toEqual({ kind: 'ed25519' });
  });
});

describe('RFC 7383 fragments on a bad network', () => {
  it('a lost fragment of the IKE_AUTH request: all fragments are retransmitted and the exchange completes', () => {
    const p = certPair();
    let dropped = 0;
    p.filter = (from, d) => {
      const m = decodeMessage(d.data);
      // Drop fragment 2/2 of the first IKE_AUTH request only.
      if (from === 'a' && dropped === 0 && m.ok && m.value.header.exchangeType === 35 && d.data[16] === 53 && d.data[33] === 2) {
        dropped++;
        return false;
      }
      return true;
    };
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    expect(dropped).toBe(1);
    expect(p.a.counters.retransmitsSent).toBeGreaterThan(0);
    // 2 fragments at first (one lost) + 2 again = 3 delivered to B.
    expect(authDatagrams(p, false).length).toBe(3);
    // Reassembly stats reach the endpoint counters and the SA status: B stored fragment 1, saw it
    // again in the retransmit, then stored 2/2 and completed; A reassembled B's 2-fragment response.
    expect(p.b.counters).toMatchObject({ fragmentsAccepted: 2, fragmentsDuplicate: 1, fragmentedMessagesCompleted: 1, fragmentsIcvFailed: 0 });
    expect(p.a.counters).toMatchObject({ fragmentsAccepted: 2, fragmentsDuplicate: 0, fragmentedMessagesCompleted: 1 });
    expect(p.b.status()[0]!.fragments).toMatchObject({ accepted: 2, duplicates: 1, completed: 1 });
  });

  it('a lost response fragment: the retransmitted request (fragment 1) gets the whole cached response again', () => {
    const p = certPair();
    let dropped = 0;
    p.filter = (from, d) => {
      if (from === 'b' && dropped === 0 && d.data[18] === 35 && d.data[16] === 53 && d.data[33] === 1) {
        dropped++;
        return false;
      }
      return true;
    };
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    expect(dropped).toBe(1);
    expect(p.b.counters.retransmitsAnswered).toBeGreaterThan(0);
    expect(p.count('b', 'ike-up')).toBe(1);
    expect(p.count('b', 'child-up')).toBe(1);
  });

  it('fragments reordered, duplicated and lost (several seeds): always established, once', () => {
    for (const seed of [3, 11, 29, 101, 577]) {
      const p = certPair({}, {}, { loss: 0.2, dup: 0.2, jitterMs: 40, seed });
      p.a.initiate(p.now, 'gw');
      expect(up(p, 600_000), `seed ${seed}`).toBe(true);
      expect(p.count('a', 'ike-up')).toBe(1);
      expect(p.count('b', 'ike-up')).toBe(1);
      expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
    }
  });

  it('a smaller fragment size (576) gives more fragments; a peer without RFC 7383 gets one big message', () => {
    const small = certPair({ fragmentSize: 576 }, { fragmentSize: 576 });
    small.a.initiate(small.now, 'gw');
    expect(up(small)).toBe(true);
    const req = authDatagrams(small, false);
    expect(req.length).toBeGreaterThanOrEqual(4);
    expect(req.every((d) => d.length <= 576 - 28)).toBe(true);

    const none = certPair({}, { fragmentation: false });
    none.a.initiate(none.now, 'gw');
    expect(up(none)).toBe(true);
    const one = authDatagrams(none, false);
    expect(one.length).toBe(1);
    expect(one[0]![16]).toBe(46); // SK
    expect(one[0]!.length).toBeGreaterThan(1280);
  });
});
