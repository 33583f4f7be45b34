/**
 * Our certificate and private key for AUTH (RFC 7296 §3.6, §3.7), two endpoints in memory:
 *
 *   several private keys:   the one whose public key is the certificate's signs AUTH; none → config error
 *   several certificates:   <--  HDR, SAr1, KEr, Nr, CERTREQ(SHA-1(SPKI of Root X))
 *                           HDR, SK {IDi, CERT(leaf X), CERT(Inter X), AUTH, …}  -->   (the chain that reaches Root X)
 *
 * Test PKI made with /usr/bin/openssl: Root X → Inter X → leaf "a.ipx.test" (RSA-2048);
 * Root Y → leaf "a.ipx.test" (ECDSA P-256); Root X → leaf "b.ipx.test" and Root Y → leaf "b.ipx.test".
 */
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../src/crypto/node.js';
import { seededRandom } from '../../src/crypto/seeded-random.js';
import type { IkeConnectionInput } from '../../src/ike/config.js';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import { decodeMessage } from '../../src/ike/message.js';
import { ADDR_A, ADDR_B, Pair, child } from './harness.js';
import { chooseCredential, keyMatchesCert, localCredentials } from '../../src/ike/auth/local-credentials.js';
import { resolveConnection } from '../../src/ike/config.js';

let dir = '';
const file = (n: string): Uint8Array => new Uint8Array(readFileSync(join(dir, n)));
const ossl = (...args: string[]): void => void execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });

function key(name: string, alg: 'rsa' | 'ec'): void {
  if (alg === 'rsa') ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`);
  else ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
}

function root(name: string, cn: string): void {
  key(name, 'ec');
  ossl('req', '-new', '-x509', '-key', `${name}.key`, '-subj', `/C=ZZ/O=tsipsec/CN=${cn}`, '-days', '30', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.pem`);
}

function issue(name: string, alg: 'rsa' | 'ec', cn: string, ca: string, isCa: boolean, serial: number): void {
  key(name, alg);
  ossl('req', '-new', '-key', `${name}.key`, '-subj', `/C=ZZ/O=tsipsec/CN=${cn}`, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), isCa ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' : `basicConstraints=CA:FALSE\nsubjectAltName=DNS:${cn}\n`);
  ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', String(serial), '-days', '30', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsk-creds-'));
  root('rootX', 'Root X');
  issue('interX', 'ec', 'Inter X', 'rootX', true, 10);
  issue('aX', 'rsa', 'a.ipx.test', 'interX', false, 11);
  root('rootY', 'Root Y');
  issue('aY', 'ec', 'a.ipx.test', 'rootY', false, 12);
  issue('bX', 'ec', 'b.ipx.test', 'rootX', false, 13);
  issue('bY', 'ec', 'b.ipx.test', 'rootY', false, 14);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function conn(side: 'a' | 'b', local: IkeConnectionInput['local'], cacerts: Uint8Array[]): IkeConnectionInput {
  return {
    name: 'gw',
    localAddrs: [side === 'a' ? ADDR_A : ADDR_B],
    remoteAddrs: [side === 'a' ? ADDR_B : '%any'],
    proposals: ['aes128gcm16-prfsha256-x25519'],
    local,
    remote: { auth: 'pubkey', id: side === 'a' ? 'b.ipx.test' : '%any', cacerts },
    children: [child({}, side)],
  };
}

function pair(a: IkeConnectionInput, b: IkeConnectionInput): Pair {
  return new Pair({ connections: [a] }, { connections: [b] }, { delayMs: 5 }, 1, 2, undefined, () => Date.now());
}

/**
 * Subjects of the CERT payloads in the IKE_AUTH message `side` sent, opened independently with
 * node:crypto (AES-GCM-128 SK payload, RFC 5282) and the exported SK_e keys.
 */
function sentCertSubjects(p: Pair, side: 'a' | 'b'): string[] {
  const ep = side === 'a' ? p.a : p.b;
  const ikeId = p.of(side, 'ike-up')[0]!.ikeId;
  const keys = ep.exportIkeKeys(ikeId)!;
  const out: string[] = [];
  for (const d of p.delivered) {
    const m = decodeMessage(d.data);
    if (!m.ok || m.value.header.exchangeType !== 35) continue;
    const fromInitiator = (m.value.header.flags & 0x08) !== 0;
    if (fromInitiator !== (side === 'a')) continue;
    const sk = d.data;
    // AES-GCM-128 SK payload (RFC 5282): IV 8 bytes after the 4-byte generic header, ICV 16 at the end.
    const skKey = side === 'a' ? keys.skEi : keys.skEr;
    const first = m.value.payloads[0]!;
    if (first.type !== 46) continue;
    const skStart = 28;
    const iv = sk.subarray(skStart + 4, skStart + 12);
    const ct = sk.subarray(skStart + 12, sk.length - 16);
    const tag = sk.subarray(sk.length - 16);
    const dc = createDecipheriv('aes-128-gcm', skKey.subarray(0, 16), Buffer.concat([skKey.subarray(16, 20), iv]));
    dc.setAAD(sk.subarray(0, skStart + 4));
    dc.setAuthTag(tag);
    const plain = Buffer.concat([dc.update(ct), dc.final()]);
    // Walk the inner chain: next payload of SK is its first inner type.
    let next = sk[skStart]!;
    let o = 0;
    while (next !== 0 && o + 4 <= plain.length) {
      const len = plain.readUInt16BE(o + 2);
      if (next === 37) out.push(new X509Certificate(plain.subarray(o + 5, o + len)).subject.split('\n').join(', '));
      next = plain[o]!;
      o += len;
    }
  }
  return out;
}

describe('private key selection (several keys loaded)', () => {
  it('the key whose public key matches the certificate is used, whatever its position', () => {
    const p = pair(
      conn('a', { auth: 'pubkey', id: 'a.ipx.test', certs: [file('aY.pem')], privateKeys: [file('aX.key'), file('bY.key'), file('aY.key')] }, [file('rootY.pem')]),
      conn('b', { auth: 'pubkey', id: 'b.ipx.test', certs: [file('bY.pem')], privateKey: file('aX.key'), privateKeys: [file('bY.key')] }, [file('rootY.pem')]),
    );
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1 && p.count('b', 'child-up') === 1)).toBe(true);
  });

  it('no key matching the certificate: the endpoint refuses the config, naming the field and certificate', () => {
    const c = conn('a', { auth: 'pubkey', id: 'a.ipx.test', certs: [file('aY.pem')], privateKeys: [file('aX.key'), file('bY.key')] }, [file('rootY.pem')]);
    expect(() => new IkeEndpoint({ provider: nodeCrypto, rng: seededRandom(1), config: { connections: [c] } })).toThrow(
      /connections\[gw\]\.local\.privateKey: none of the 2 private key\(s\) matches the public key of certificate 'C=ZZ, O=tsipsec, CN=a\.ipx\.test'/,
    );
  });

  it('keyMatchesCert: true only for the matching pair (checked against node:crypto key comparison)', () => {
    const cert = nodeCrypto.parseCertificate(file('aX.pem'))!;
    const x509 = new X509Certificate(file('aX.pem'));
    for (const k of ['aX', 'aY', 'bX']) {
      const same = createPublicKey(createPrivateKey(Buffer.from(file(`${k}.key`)))).export({ type: 'spki', format: 'der' }).equals(x509.publicKey.export({ type: 'spki', format: 'der' }));
      expect(keyMatchesCert(nodeCrypto, nodeCrypto.loadPrivateKey(file(`${k}.key`)), cert), k).toBe(same);
    }
  });
});

describe('CERTREQ-driven certificate choice (RFC 7296 §3.7)', () => {
  const spkiSha1 = (pem: string): string => createHash('sha1').update(new X509Certificate(file(pem)).publicKey.export({ type: 'spki', format: 'der' })).digest('hex');

  it('the chain is built from the configured CA certificates; CA key hashes match an independent SHA-1 of each CA SPKI', () => {
    const c = resolveConnection(conn('a', { auth: 'pubkey', id: 'a.ipx.test', certs: [file('aY.pem'), file('interX.pem'), file('aX.pem')], privateKeys: [file('aX.key'), file('aY.key')] }, [file('rootX.pem'), file('rootY.pem')]));
    const creds = localCredentials(nodeCrypto, c);
    expect(creds.map((x) => x.leaf.issuer)).toEqual(['C=ZZ, O=tsipsec, CN=Root Y', 'C=ZZ, O=tsipsec, CN=Inter X']);
    expect([...creds[0]!.caKeyHashes]).toEqual([spkiSha1('rootY.pem')]);
    expect([...creds[1]!.caKeyHashes]).toEqual([spkiSha1('interX.pem'), spkiSha1('rootX.pem')]);
    expect(creds[1]!.intermediates.map((x) => x.subject)).toEqual(['C=ZZ, O=tsipsec, CN=Inter X']);
    const h = (pem: string) => Uint8Array.from(Buffer.from(spkiSha1(pem), 'hex'));
    expect(chooseCredential(creds, [h('rootX.pem')])).toBe(creds[1]);
    expect(chooseCredential(creds, [h('interX.pem')])).toBe(creds[1]);
    expect(chooseCredential(creds, [h('rootY.pem')])).toBe(creds[0]);
    expect(chooseCredential(creds, undefined)).toBe(creds[0]);
    expect(chooseCredential(creds, [new Uint8Array(20)])).toBe(creds[0]);
  });

  for (const [trust, expectIssuerChain] of [
    ['rootX', ['C=ZZ, O=tsipsec, CN=a.ipx.test', 'C=ZZ, O=tsipsec, CN=Inter X']],
    ['rootY', ['C=ZZ, O=tsipsec, CN=a.ipx.test']],
  ] as const) {
    it(`initiator with two a.ipx.test certificates; the responder trusts only ${trust}: its CERTREQ picks the chain, intermediates sent`, () => {
      const p = pair(
        // fragmentation off: the whole IKE_AUTH in one SK payload, so the test can read its CERTs.
        { ...conn('a', { auth: 'pubkey', id: 'a.ipx.test', certs: [file('aY.pem'), file('aX.pem'), file('interX.pem')], privateKeys: [file('aX.key'), file('aY.key')] }, [file('rootX.pem'), file('rootY.pem')]), fragmentation: false },
        conn('b', { auth: 'pubkey', id: 'b.ipx.test', certs: [file(trust === 'rootX' ? 'bX.pem' : 'bY.pem')], privateKey: file(trust === 'rootX' ? 'bX.key' : 'bY.key') }, [file(`${trust}.pem`)]),
      );
      p.a.initiate(p.now, 'gw');
      expect(p.runUntil(() => p.count('a', 'child-up') === 1 && p.count('b', 'child-up') === 1)).toBe(true);
      expect(sentCertSubjects(p, 'a')).toEqual(expectIssuerChain);
    });
  }

  it('responder with two certificates answers the initiator\'s CERTREQ with the matching one', () => {
    // B holds both root certificates (it needs a CA's certificate to know its key hash); A trusts only Root X.
    const p = pair(
      conn('a', { auth: 'pubkey', id: 'a.ipx.test', certs: [file('aY.pem')], privateKey: file('aY.key') }, [file('rootX.pem')]),
      { ...conn('b', { auth: 'pubkey', id: 'b.ipx.test', certs: [file('bY.pem'), file('bX.pem')], privateKeys: [file('bY.key'), file('bX.key')] }, [file('rootY.pem'), file('rootX.pem')]), fragmentation: false },
    );
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1 && p.count('b', 'child-up') === 1)).toBe(true);
    expect(sentCertSubjects(p, 'b')).toEqual(['C=ZZ, O=tsipsec, CN=b.ipx.test']);
    expect(p.a.status()[0]!.remoteId).toBe('b.ipx.test');
  });
});
