/**
 * The duplicate-IKE-SA tie-break (pure, over status lists) and the edges of credential adoption: a
 * change beyond credentials is left to the reload diff, unusable new credentials are refused, and a
 * PSK change is adopted like a certificate.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IkeSaStatus } from '../../../src/ike/events.js';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { resolveConfig, type IkeConfig } from '../../../src/ike/config.js';
import { duplicateChildSas, duplicateIkeSas } from '../../../src/mesh/dedupe.js';
import { adoptCredentialChanges } from '../../../src/mesh/rotate.js';
import { loadMesh } from '../../../src/mesh/load.js';
import { planReload } from '../../../src/runtime/reload.js';
import { issueNodeCert, makeMeshCa } from './pki.js';

function sa(ikeId: number, name: string, initiator: boolean, local: string, remote: string, state = 'established', establishedAtMs = ikeId): IkeSaStatus {
  return {
    ikeId, name, state, initiator, spiI: '', spiR: '', localAddr: { address: local, port: 4500 }, remoteAddr: { address: remote, port: 4500 },
    localId: '', remoteId: '', algorithms: '', encap: true, establishedAtMs, rekeyAtMs: undefined, children: [],
  };
}

describe('duplicateIkeSas', () => {
  it('the lower address deletes the duplicate it initiated; the higher deletes nothing', () => {
    const lowSide = [sa(1, 'mesh-b', true, '198.18.0.1', '198.18.0.2'), sa(2, 'mesh-b', false, '198.18.0.1', '198.18.0.2')];
    expect(duplicateIkeSas(lowSide)).toEqual([1]);
    const highSide = [sa(7, 'mesh-a', true, '198.18.0.2', '198.18.0.1'), sa(8, 'mesh-a', false, '198.18.0.2', '198.18.0.1')];
    expect(duplicateIkeSas(highSide)).toEqual([]);
  });

  it('addresses compare as numbers, not text (198.18.0.10 > 198.18.0.9)', () => {
    expect(duplicateIkeSas([sa(1, 'x', true, '198.18.0.9', '198.18.0.10'), sa(2, 'x', false, '198.18.0.9', '198.18.0.10')])).toEqual([1]);
    expect(duplicateIkeSas([sa(1, 'x', true, '198.18.0.10', '198.18.0.9'), sa(2, 'x', false, '198.18.0.10', '198.18.0.9')])).toEqual([]);
    expect(duplicateIkeSas([sa(1, 'x', true, '2001:db8::2', '2001:db8::10'), sa(2, 'x', false, '2001:db8::2', '2001:db8::10')])).toEqual([1]);
  });

  it('no duplicate, other states and other connections are left alone; all-own duplicates keep the newest', () => {
    expect(duplicateIkeSas([sa(1, 'mesh-b', true, '198.18.0.1', '198.18.0.2')])).toEqual([]);
    expect(duplicateIkeSas([sa(1, 'mesh-b', true, '198.18.0.1', '198.18.0.2'), sa(2, 'mesh-b', false, '198.18.0.1', '198.18.0.2', 'auth-sent')])).toEqual([]);
    expect(duplicateIkeSas([sa(1, 'mesh-b', true, '198.18.0.1', '198.18.0.2'), sa(2, 'mesh-c', false, '198.18.0.1', '198.18.0.3')])).toEqual([]);
    expect(duplicateIkeSas([sa(1, 'mesh-b', true, '198.18.0.1', '198.18.0.2', 'established', 50), sa(2, 'mesh-b', true, '198.18.0.1', '198.18.0.2', 'established', 10)])).toEqual([2]);
  });
});

describe('duplicateChildSas', () => {
  const child = (name: string, spiIn: number, spiOut: number, establishedAtMs: number, state: 'installed' | 'rekeyed' = 'installed') =>
    ({ name, state, spiIn, spiOut, mode: 'transport' as const, encap: true, tsLocal: [], tsRemote: [], establishedAtMs, rekeyAtMs: undefined, expireAtMs: undefined });
  const withChildren = (local: string, remote: string, children: ReturnType<typeof child>[]) => ({ ...sa(1, 'mesh-b', true, local, remote), children });

  it('both ends pick the same pair to keep (larger max SPI); only the lower address deletes', () => {
    const low = withChildren('198.18.0.1', '198.18.0.2', [child('b-host', 0x1111, 0x9999, 1000), child('b-host', 0x8888, 0x2222, 1500)]);
    expect(duplicateChildSas([low])).toEqual([0x8888]);
    const high = withChildren('198.18.0.2', '198.18.0.1', [child('a-host', 0x9999, 0x1111, 1000), child('a-host', 0x2222, 0x8888, 1500)]);
    expect(duplicateChildSas([high])).toEqual([]);
  });

  it('a rekey is no duplicate: rekeyed SAs, other names and children established far apart are left', () => {
    expect(duplicateChildSas([withChildren('198.18.0.1', '198.18.0.2', [child('b-host', 1, 2, 0, 'rekeyed'), child('b-host', 3, 4, 10)])])).toEqual([]);
    expect(duplicateChildSas([withChildren('198.18.0.1', '198.18.0.2', [child('b-host', 1, 2, 0), child('b-net', 3, 4, 10)])])).toEqual([]);
    expect(duplicateChildSas([withChildren('198.18.0.1', '198.18.0.2', [child('b-host', 1, 2, 0), child('b-host', 3, 4, 3_600_000)])])).toEqual([]);
  });
});

describe('adoptCredentialChanges', () => {
  let dir = '';
  const file = () => join(dir, 'mesh.conf');
  const write = (auth: string, extra = '') => writeFileSync(file(), `mesh {\n${auth}\n${extra}\n}\nnodes {\n  a {\n    addrs = 198.18.0.1\n  }\n  b {\n    addrs = 198.18.0.2\n  }\n  c {\n    addrs = 198.18.0.3\n  }\n}\n`);
  const config = (node: string): IkeConfig => resolveConfig(loadMesh(file(), node).ike);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsm-rotate-'));
    makeMeshCa(dir);
    for (const n of ['a', 'b']) issueNodeCert(dir, n);
  }, 60_000);
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('a re-issued certificate: every connection of the node adopts it in place', () => {
    write('  auth = pubkey\n  ca = ca.pem');
    const running = config('a');
    const objects = [...running.connections];
    issueNodeCert(dir, 'a');
    const next = config('a');
    expect(planReload(running.connections, next.connections).changed).toEqual(['mesh-b', 'mesh-c']);
    expect(adoptCredentialChanges(nodeCrypto, running, next)).toEqual({ rotated: ['mesh-b', 'mesh-c'], warnings: [] });
    expect(running.connections).toEqual(objects);
    expect(planReload(running.connections, next.connections)).toMatchObject({ changed: [], unchanged: ['mesh-b', 'mesh-c'] });
  });

  it('a change beyond the credentials is not adopted (the reload diff replaces the connection)', () => {
    write('  auth = pubkey\n  ca = ca.pem');
    const running = config('a');
    issueNodeCert(dir, 'a');
    write('  auth = pubkey\n  ca = ca.pem', '  dpd_delay = 7s');
    const next = config('a');
    expect(adoptCredentialChanges(nodeCrypto, running, next)).toEqual({ rotated: [], warnings: [] });
    expect(planReload(running.connections, next.connections).changed).toEqual(['mesh-b', 'mesh-c']);
  });

  it('a certificate whose key does not match is refused with a warning, nothing adopted', () => {
    write('  auth = pubkey\n  ca = ca.pem');
    const running = config('a');
    const nextGood = config('a');
    // b's key with a's certificate: the engine's credential check fails.
    const bKey = config('b').connections[0]!.local.privateKey;
    const bad: IkeConfig = { ...nextGood, connections: nextGood.connections.map((c) => ({ ...c, local: { ...c.local, privateKey: bKey } })) };
    const r = adoptCredentialChanges(nodeCrypto, running, bad);
    expect(r.rotated).toEqual([]);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/connections\.mesh-b: new credentials not usable, connection replaced instead: .*privateKey/);
  });

  it('a new PSK is adopted the same way', () => {
    write('  auth = psk\n  psk = "the first cluster key, long enough"');
    const running = config('a');
    write('  auth = psk\n  psk = "the second cluster key, long enough"');
    const next = config('a');
    expect(planReload(running.connections, next.connections).changed).toEqual(['mesh-b', 'mesh-c']);
    expect(adoptCredentialChanges(nodeCrypto, running, next)).toEqual({ rotated: ['mesh-b', 'mesh-c'], warnings: [] });
    expect(running.connections[0]!.local.psk).toEqual(new TextEncoder().encode('the second cluster key, long enough'));
    expect(planReload(running.connections, next.connections).changed).toEqual([]);
  });
});
