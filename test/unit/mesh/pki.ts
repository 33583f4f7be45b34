/**
 * A throw-away cluster PKI for mesh tests, made with /usr/bin/openssl: an ECDSA P-256 CA and, per node,
 * an ECDSA P-256 certificate with subjectAltName DNS:<node> (the node's default IKE identity) in
 * `<dir>/certs/<node>.pem` and its key in `<dir>/private/<node>.pem`, the layout a mesh file with
 * `ca = ca.pem` and the default `certs`/`keys` expects.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let serial = 5000;

function ossl(dir: string, ...args: string[]): void {
  execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function makeMeshCa(dir: string): void {
  mkdirSync(join(dir, 'certs'), { recursive: true });
  mkdirSync(join(dir, 'private'), { recursive: true });
  ossl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key');
  ossl(dir, 'req', '-new', '-x509', '-key', 'ca.key', '-subj', '/O=tsipsec mesh/CN=Mesh Test CA', '-days', '30', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem');
}

/** Issues (or re-issues, with a new key and serial) the certificate of `node`. */
export function issueNodeCert(dir: string, node: string, days = 30): void {
  const key = join('private', `${node}.pem`);
  ossl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key);
  ossl(dir, 'req', '-new', '-key', key, '-subj', `/O=tsipsec mesh/CN=${node}`, '-out', `${node}.csr`);
  writeFileSync(join(dir, `${node}.ext`), `basicConstraints=CA:FALSE\nsubjectAltName=DNS:${node}\n`);
  ossl(dir, 'x509', '-req', '-in', `${node}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial++), '-days', String(days), '-sha256',
    '-extfile', `${node}.ext`, '-out', join('certs', `${node}.pem`));
}
