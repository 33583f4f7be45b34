/**
 * A throw-away test PKI made with /usr/bin/openssl into a temp directory (the committed
 * test/fixtures/pki has RSA-2048 leaves only; IKE_AUTH needs RSA-3072 to exceed 1280 bytes and be
 * fragmented, as with strongSwan's and libreswan's defaults).
 *
 *   ca        RSA-2048 CA "C=ZZ, O=tsipsec, CN=IPX Test CA" (10 years)
 *   a, b      RSA-3072 leaves, CN and SAN DNS a.ipx.test / b.ipx.test (30 days)
 *   ec        ECDSA P-256 leaf, SAN DNS:ec.ipx.test
 *   ed        Ed25519 leaf, SAN DNS:ed.ipx.test
 *   otherCa   another RSA-2048 CA with the same subject name, and `aByOther`: RSA-2048 leaf
 *             a.ipx.test signed by it (right name, untrusted key)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PkiFiles {
  readonly dir: string;
  /** PEM bytes by name: ca, a, b, ec, ed, otherCa, aByOther (+ `.key` for private keys). */
  pem(name: string): Uint8Array;
  key(name: string): Uint8Array;
  path(file: string): string;
  /** When the leaves were made (Unix ms), for wall-clock tests. */
  readonly madeAtMs: number;
  cleanup(): void;
}

function ossl(dir: string, ...args: string[]): void {
  execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Every leaf gets its own serial: NSS (libreswan) refuses two certificates with one issuer and serial. */
let nextSerial = 1000;

function leaf(dir: string, name: string, keyArgs: string[], cn: string, ca: string, days: number): void {
  ossl(dir, 'genpkey', ...keyArgs, '-out', `${name}.key`);
  ossl(dir, 'req', '-new', '-key', `${name}.key`, '-subj', `/C=ZZ/O=tsipsec/CN=${cn}`, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nsubjectAltName=DNS:${cn}\n`);
  ossl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', String(nextSerial++), '-days', String(days), '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

function caCert(dir: string, name: string): void {
  ossl(dir, 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`);
  ossl(dir, 'req', '-new', '-x509', '-key', `${name}.key`, '-subj', '/C=ZZ/O=tsipsec/CN=IPX Test CA', '-days', '3650', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.pem`);
}

export function makePki(opts: { ec?: boolean; ed?: boolean; other?: boolean } = {}): PkiFiles {
  const dir = mkdtempSync(join(tmpdir(), 'tsipsec-pki-'));
  const madeAtMs = Date.now();
  const rsa3072 = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'];
  caCert(dir, 'ca');
  leaf(dir, 'a', rsa3072, 'a.ipx.test', 'ca', 30);
  leaf(dir, 'b', rsa3072, 'b.ipx.test', 'ca', 30);
  if (opts.ec) leaf(dir, 'ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ec.ipx.test', 'ca', 30);
  if (opts.ed) leaf(dir, 'ed', ['-algorithm', 'ED25519'], 'ed.ipx.test', 'ca', 30);
  if (opts.other) {
    caCert(dir, 'otherCa');
    leaf(dir, 'aByOther', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'a.ipx.test', 'otherCa', 30);
  }
  return {
    dir,
    madeAtMs,
    pem: (name) => new Uint8Array(readFileSync(join(dir, `${name}.pem`))),
    key: (name) => new Uint8Array(readFileSync(join(dir, `${name}.key`))),
    path: (file) => join(dir, file),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
