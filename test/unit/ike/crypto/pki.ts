/**
 * Test PKI built with /usr/bin/openssl in a temp directory (no keys committed). Keys come from
 * node:crypto generateKeyPairSync; openssl turns them into certificates.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeySpec = 'rsa' | 'p256' | 'p384' | 'p521' | 'ed25519';

export interface Issued {
  readonly name: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'tsipsec-auth-pki-'));

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private key(name: string, spec: KeySpec): { privateKey: KeyObject; publicKey: KeyObject; path: string } {
    const pair =
      spec === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : spec === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: spec === 'p256' ? 'prime256v1' : spec === 'p384' ? 'secp384r1' : 'secp521r1' });
    const path = join(this.dir, `${name}.key`);
    writeFileSync(path, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return { ...pair, path };
  }

  private openssl(args: string[]): void {
    execFileSync('/usr/bin/openssl', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Self-signed certificate (a root CA when `ca`). */
  selfSigned(name: string, subject: string, spec: KeySpec, opts: { ca?: boolean; days?: number; san?: string } = {}): Issued {
    const k = this.key(name, spec);
    const crt = join(this.dir, `${name}.crt`);
    const args = ['req', '-x509', '-new', '-key', k.path, '-subj', subject, '-days', String(opts.days ?? 3650), '-out', crt];
    if (spec === 'rsa' || spec.startsWith('p')) args.push('-sha256');
    args.push('-addext', opts.ca ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=critical,CA:FALSE');
    if (opts.ca) args.push('-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    if (opts.san) args.push('-addext', `subjectAltName=${opts.san}`);
    this.openssl(args);
    return { name, certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(k.path, 'utf8'), privateKey: k.privateKey, publicKey: k.publicKey };
  }

  /** Certificate for a new key, signed by `issuer`. */
  issue(name: string, subject: string, spec: KeySpec, issuer: Issued, opts: { ca?: boolean; days?: number; san?: string } = {}): Issued {
    const k = this.key(name, spec);
    const csr = join(this.dir, `${name}.csr`);
    const crt = join(this.dir, `${name}.crt`);
    const ext = join(this.dir, `${name}.ext`);
    const lines = ['[v3]', opts.ca ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=critical,CA:FALSE'];
    if (opts.ca) lines.push('keyUsage=critical,keyCertSign,cRLSign');
    if (opts.san) lines.push(`subjectAltName=${opts.san}`);
    writeFileSync(ext, lines.join('\n') + '\n');
    writeFileSync(join(this.dir, `${issuer.name}.pem`), issuer.certPem);
    this.openssl(['req', '-new', '-key', k.path, '-subj', subject, '-out', csr]);
    this.openssl([
      'x509', '-req', '-in', csr, '-CA', join(this.dir, `${issuer.name}.pem`), '-CAkey', join(this.dir, `${issuer.name}.key`),
      '-set_serial', String(Math.floor(Math.random() * 1e9)), '-days', String(opts.days ?? 365), '-sha256',
      '-extfile', ext, '-extensions', 'v3', '-out', crt,
    ]);
    return { name, certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(k.path, 'utf8'), privateKey: k.privateKey, publicKey: k.publicKey };
  }
}
