/**
 * Our own certificate, chain and private key for AUTH (RFC 7296 §3.6 CERT, §3.7 CERTREQ).
 *
 * A connection may list several certificates (end-entity certificates and the intermediates that
 * issued them) and several private keys. Each end-entity certificate becomes a candidate with:
 *   - its chain: the configured CA certificates that lead from it upward, by issuer name and
 *     signature (sent as further CERT payloads, §3.6 "the first certificate provided MUST contain
 *     the public key used to verify the AUTH field");
 *   - the private key whose public key is the certificate's (found by signing a probe with each
 *     key and verifying it with the certificate: works with any provider);
 *   - the SPKI SHA-1 hashes of every CA on that chain, including a trust anchor we know from
 *     `remote.cacerts`, to match the peer's CERTREQ (§3.7: "the SHA-1 hash of the SubjectPublicKeyInfo
 *     of the trusted CA").
 * With a CERTREQ we send the first candidate whose chain reaches a CA it names, else the first.
 * Candidates are built once per connection and cached.
 */
import type { Certificate, CryptoProvider, SignatureScheme, SigningKey } from '../../crypto/types.js';
import type { IkeConnection } from '../config.js';
import { certIssuerDer } from '../../crypto/asn1.js';
import { spkiSha1 } from './certs.js';
import { dnEqual } from './dn.js';

export interface LocalCredential {
  readonly leaf: Certificate;
  /** Intermediate CA certificates above the leaf (self-signed roots left out), nearest first. */
  readonly intermediates: readonly Certificate[];
  readonly key: SigningKey;
  /** Hex SPKI SHA-1 of every CA above the leaf we know (intermediates and a root from cacerts). */
  readonly caKeyHashes: ReadonlySet<string>;
}

const cache = new WeakMap<IkeConnection, LocalCredential[]>();

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

function issuedBy(provider: CryptoProvider, cert: Certificate, issuer: Certificate): boolean {
  const name = certIssuerDer(cert.der);
  return name !== null && dnEqual(name, issuer.subjectDer) && provider.verifyCertificateSignature(cert, issuer);
}

function selfSigned(provider: CryptoProvider, c: Certificate): boolean {
  return issuedBy(provider, c, c);
}

const PROBE = new TextEncoder().encode('tsipsec private key / certificate match probe');

function probeScheme(key: SigningKey): SignatureScheme {
  if (key.type === 'rsa') return { kind: 'rsa-pkcs1', hash: 'sha256' };
  if (key.type === 'ec') return { kind: 'ecdsa', hash: 'sha256' };
  return { kind: 'ed25519' };
}

/** True when `key` is the private half of `cert`'s public key. Never throws. */
export function keyMatchesCert(provider: CryptoProvider, key: SigningKey, cert: Certificate): boolean {
  if (cert.publicKeyType !== key.type) return false;
  try {
    const scheme = probeScheme(key);
    return provider.verify(cert, scheme, PROBE, provider.sign(key, scheme, PROBE));
  } catch {
    return false;
  }
}

/**
 * The connection's candidates (cached). Throws a config error naming the field when a certificate
 * does not parse, a key does not load, or no end-entity certificate has a matching private key.
 */
export function localCredentials(provider: CryptoProvider, conn: IkeConnection): LocalCredential[] {
  const hit = cache.get(conn);
  if (hit) return hit;
  // Connections with the same credentials (many connections, one certificate) share the result.
  const contentKey = credentialsKey(provider, conn);
  const shared = byContent.get(contentKey);
  if (shared) {
    cache.set(conn, shared);
    return shared;
  }
  const out = buildCredentials(provider, conn);
  if (byContent.size >= 64) byContent.clear();
  byContent.set(contentKey, out);
  cache.set(conn, out);
  return out;
}

const byContent = new Map<string, LocalCredential[]>();

/** SHA-256 over the certificates, keys and CAs the candidates depend on (not the secrets themselves). */
function credentialsKey(provider: CryptoProvider, conn: IkeConnection): string {
  const parts = [...(conn.local.certs ?? []), new Uint8Array([0]), ...(conn.local.privateKey ? [conn.local.privateKey] : []), ...(conn.local.privateKeys ?? []), new Uint8Array([1]), ...(conn.remote.cacerts ?? [])];
  let n = 0;
  for (const p of parts) n += p.length + 4;
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all[o] = p.length >>> 24;
    all[o + 1] = (p.length >>> 16) & 0xff;
    all[o + 2] = (p.length >>> 8) & 0xff;
    all[o + 3] = p.length & 0xff;
    all.set(p, o + 4);
    o += p.length + 4;
  }
  return `${provider.name}|${hex(provider.hash('sha256', all))}`;
}

function buildCredentials(provider: CryptoProvider, conn: IkeConnection): LocalCredential[] {
  const where = `connections[${conn.name}].local`;
  const certs: Certificate[] = [];
  for (const [i, raw] of (conn.local.certs ?? []).entries()) {
    const c = provider.parseCertificate(raw);
    if (!c) throw new Error(`ike config: ${where}.certs[${i}] is not a parsable X.509 certificate`);
    certs.push(c);
  }
  const rawKeys = [...(conn.local.privateKey ? [conn.local.privateKey] : []), ...(conn.local.privateKeys ?? [])];
  const keys: SigningKey[] = rawKeys.map((k, i) => {
    try {
      return provider.loadPrivateKey(k);
    } catch (e) {
      throw new Error(`ike config: ${where}.privateKeys[${i}] does not load: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  const anchors = (conn.remote.cacerts ?? []).map((c) => provider.parseCertificate(c)).filter((c): c is Certificate => c !== null);
  const cas = certs.filter((c) => c.isCa);
  const leaves = certs.filter((c) => !c.isCa);
  const out: LocalCredential[] = [];
  for (const leaf of leaves.length > 0 ? leaves : certs.slice(0, 1)) {
    const key = keys.find((k) => keyMatchesCert(provider, k, leaf));
    if (!key) continue;
    const intermediates: Certificate[] = [];
    const caKeyHashes = new Set<string>();
    let current = leaf;
    for (let depth = 0; depth < 8; depth++) {
      const pool = [...cas, ...anchors];
      const up = pool.find((c) => c.der !== current.der && !intermediates.includes(c) && issuedBy(provider, current, c));
      if (!up) break;
      caKeyHashes.add(hex(spkiSha1(provider, up)));
      if (selfSigned(provider, up)) break; // a root: the peer has it, not sent
      intermediates.push(up);
      current = up;
    }
    out.push({ leaf, intermediates, key, caKeyHashes });
  }
  if (out.length === 0) {
    const subjects = (leaves.length > 0 ? leaves : certs.slice(0, 1)).map((c) => `'${c.subject}'`).join(', ');
    throw new Error(`ike config: ${where}.privateKey: none of the ${keys.length} private key(s) matches the public key of certificate ${subjects}`);
  }
  return out;
}

/** §3.7: the candidate whose chain reaches a CA named in the peer's CERTREQ, else the first. */
export function chooseCredential(creds: readonly LocalCredential[], certReqHashes: readonly Uint8Array[] | undefined): LocalCredential {
  if (certReqHashes && certReqHashes.length > 0) {
    const wanted = certReqHashes.map(hex);
    const match = creds.find((c) => wanted.some((h) => c.caKeyHashes.has(h)));
    if (match) return match;
  }
  return creds[0]!;
}
