/**
 * Interop matrix row 9: libreswan 4.10 (pluto, unpacked with dpkg -x) with kernel ESP, in user-mode-linux
 * (this machine's kernel has no ESP, and libreswan has no userspace ESP): PSK and certificates (RSA-3072
 * leaves from a private CA, imported into pluto's NSS database; IKE_AUTH is fragmented per RFC 7383),
 * tunnel and transport mode, tsipsec as initiator and as responder. tsipsec forces ESP in UDP 4500
 * (encap = yes); pluto (encapsulation=auto) follows the NAT detection. The cells run in user-mode-linux,
 * two boots side by side (namespaces tkl0-*, tkl1-*);
 * each cell's records are checked as in kernel-strongswan.test.ts (harness/kernel-scenario.ts).
 */
import { afterAll, describe } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelEspEnabled } from './env.js';
import { matrix } from './harness/results.js';
import { declareKernelCells, type KernelEntry } from './harness/kernel-scenario.js';
import { makePki, type PkiFiles } from '../exchange/pki.js';

/**
 * test/exchange/pki.ts gives leaves a and b the same serial number (1000 + 7·len(name) + len(cn)), which
 * charon accepts but NSS refuses (SEC_ERROR_REUSED_ISSUER_AND_SERIAL, then AUTHENTICATION_FAILED):
 * re-issue a.pem from the same CSR with its own serial.
 */
function distinctSerials(pki: PkiFiles): PkiFiles {
  execFileSync('/usr/bin/openssl', ['x509', '-req', '-in', 'a.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2001', '-days', '30',
    '-sha256', '-extfile', 'a.ext', '-out', 'a.pem'], { cwd: pki.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return pki;
}

const ENTRIES: KernelEntry[] = [];
for (const auth of ['psk', 'cert'] as const) {
  for (const mode of ['tunnel', 'transport'] as const) {
    for (const side of ['tsipsec', 'libreswan'] as const) {
      ENTRIES.push({
        scenario: `libreswan: ${auth === 'psk' ? 'PSK' : 'RSA-3072 certificates'}, ${mode}, ESP-in-UDP`,
        column: side,
        cell: { id: `ls-${auth}-${mode}-${side}`, peer: 'libreswan', initiator: side === 'tsipsec' ? 'tsipsec' : 'peer', mode, auth,
          tsEncap: true, expectEncap: true, expectEsn: false },
      });
    }
  }
}

describe.runIf(kernelEspEnabled('interop kernel-libreswan', { libreswan: true }))('interop (kernel ESP in user-mode-linux): tsipsec ↔ libreswan', () => {
  const work = mkdtempSync(join(tmpdir(), 'tsu-kls-'));
  const m = matrix('kernel-libreswan');
  let pki: PkiFiles | undefined;
  afterAll(async () => {
    await m.finish();
    pki?.cleanup();
    if (!process.env.TSIPSEC_KEEP) rmSync(work, { recursive: true, force: true });
  });
  declareKernelCells(m, work, 'tkl', ENTRIES, () => (pki ??= distinctSerials(makePki())));
});
