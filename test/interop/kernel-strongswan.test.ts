/**
 * Interop matrix rows 8, 11 (and 12 once tsipsec has a raw-ESP path) against strongSwan 5.9 with KERNEL
 * ESP (charon + kernel-netlink), which this machine's kernel cannot do: the cells run in user-mode-linux,
 * two boots side by side, cells one after another in each (harness/uml.ts, kernel-scenario.ts
 * kernelBatches; namespaces tks0-*, tks1-*; test/interop/uml/scenario.sh: namespaces, charon, `tsipsec up` under the guest's Node, traffic and the wire capture), then each cell's records
 * are checked on the host (harness/kernel-scenario.ts: same SPIs and keys in tsipsec's keylog and
 * charon's kernel SAs, ping and TCP both ways, only IKE/ESP on the wire, every ESP packet decrypted by
 * tsipsec's decode).
 *
 *   8   transport mode, PSK, ESP in UDP 4500 (tsipsec forces encapsulation: encap = yes)
 *   11  ESN negotiated (aes256gcm16-esn on both sides), tunnel mode, ESP in UDP
 *   12  raw ESP (IP protocol 50): tsipsec with an explicit `encap = no` and no NAT between the peers
 *       uses its raw-socket path (src/net/raw-esp.ts); tunnel mode
 */
import { afterAll, describe } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelEspEnabled } from './env.js';
import { matrix } from './harness/results.js';
import { declareKernelCells, type KernelCell, type KernelEntry } from './harness/kernel-scenario.js';

type Row = Omit<KernelCell, 'id' | 'initiator' | 'peer'> & { scenario: string; key: string };
const ROWS: Row[] = [
  { scenario: 'kernel ESP: transport, PSK, ESP-in-UDP (tsipsec forces encap)', key: 'transport-encap', mode: 'transport', auth: 'psk', tsEncap: true, expectEncap: true, expectEsn: false },
  { scenario: 'kernel ESP: ESN (aes256gcm16-esn), tunnel, ESP-in-UDP', key: 'esn', mode: 'tunnel', auth: 'psk', esp: 'aes256gcm16-esn', tsEncap: true, expectEncap: true, expectEsn: true },
  { scenario: 'kernel ESP: raw ESP (IP protocol 50, encap = no), tunnel, PSK', key: 'raw-esp', mode: 'tunnel', auth: 'psk', tsEncap: false, expectEncap: false, expectEsn: false },
];

const ENTRIES: KernelEntry[] = ROWS.flatMap(({ scenario, key, ...row }) => (['tsipsec', 'strongswan'] as const).map((side) => ({
  scenario, column: side,
  cell: { ...row, id: `${key}-${side}`, peer: 'strongswan' as const, initiator: side === 'tsipsec' ? 'tsipsec' as const : 'peer' as const },
})));

describe.runIf(kernelEspEnabled('interop kernel-strongswan'))('interop (kernel ESP in user-mode-linux): tsipsec ↔ strongSwan kernel-netlink', () => {
  const work = mkdtempSync(join(tmpdir(), 'tsu-kss-'));
  const m = matrix('kernel-strongswan');
  afterAll(async () => {
    await m.finish();
    if (!process.env.TSIPSEC_KEEP) rmSync(work, { recursive: true, force: true });
  });
  declareKernelCells(m, work, 'tks', ENTRIES, () => undefined);
});
