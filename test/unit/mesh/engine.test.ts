/**
 * Mesh configurations on two IKE endpoints in memory (test/exchange/harness.ts, simulated clock):
 * the generated configs of two nodes establish with each other, both starting at the same moment leaves
 * one IKE SA per pair, and a certificate re-issued by the cluster CA is adopted on reload without
 * touching the established SAs while the next IKE_AUTH uses it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { resolveConfig } from '../../../src/ike/config.js';
import { localCredentials } from '../../../src/ike/auth/local-credentials.js';
import { applyReload, planReload } from '../../../src/runtime/reload.js';
import { loadMesh } from '../../../src/mesh/load.js';
import { adoptCredentialChanges } from '../../../src/mesh/rotate.js';
import { resolveDuplicateChildSas, resolveDuplicateIkeSas } from '../../../src/mesh/dedupe.js';
import { ADDR_A, ADDR_B, Pair } from '../../exchange/harness.js';
import { issueNodeCert, makeMeshCa } from './pki.js';

let dir = '';
const meshFile = () => join(dir, 'mesh.conf');

function writeMesh(auth: string): void {
  writeFileSync(meshFile(), `mesh {\n${auth}\n  dpd_delay = 0s\n}\nnodes {\n  a {\n    addrs = ${ADDR_A}\n  }\n  b {\n    addrs = ${ADDR_B}\n  }\n}\n`);
}

const established = (p: Pair, side: 'a' | 'b') => (side === 'a' ? p.a : p.b).status().filter((s) => s.state === 'established');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsm-engine-'));
  makeMeshCa(dir);
  issueNodeCert(dir, 'a');
  issueNodeCert(dir, 'b', 1); // valid one day: the rotation test moves the wall clock past it
}, 60_000);
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('mesh configs on two endpoints', () => {
  it('PSK: both nodes start at the same moment; one IKE SA and one child pair remain', () => {
    writeMesh('  auth = psk\n  psk = "an engine test cluster key, long enough"');
    const p = new Pair(loadMesh(meshFile(), 'a').ike, loadMesh(meshFile(), 'b').ike);
    p.a.initiate(p.now, 'mesh-b', 'b-host');
    p.b.initiate(p.now, 'mesh-a', 'a-host');
    // Without the tie-break the engine keeps both IKE SAs.
    const q = new Pair(loadMesh(meshFile(), 'a').ike, loadMesh(meshFile(), 'b').ike);
    q.a.initiate(q.now, 'mesh-b', 'b-host');
    q.b.initiate(q.now, 'mesh-a', 'a-host');
    q.run(10_000);
    expect(established(q, 'a')).toHaveLength(2);
    // With it (the runtime runs it after every ike-up; here after every 10 simulated ms):
    const deleted: number[] = [];
    for (let t = 0; t < 6000; t++) {
      p.run(10);
      deleted.push(...resolveDuplicateIkeSas(p.a, p.now), ...resolveDuplicateIkeSas(p.b, p.now));
    }
    expect(deleted).toHaveLength(1);
    const ea = established(p, 'a');
    const eb = established(p, 'b');
    expect(ea.map((s) => s.name)).toEqual(['mesh-b']);
    expect(eb.map((s) => s.name)).toEqual(['mesh-a']);
    const ca = ea[0]!.children.filter((c) => c.state === 'installed');
    const cb = eb[0]!.children.filter((c) => c.state === 'installed');
    expect(ca).toHaveLength(1);
    expect(cb).toHaveLength(1);
    // The SA the higher address (b) initiated survives; a, the lower, deleted its own.
    expect([ea[0]!.initiator, eb[0]!.initiator]).toEqual([false, true]);
    expect(ca[0]!.spiIn).toBe(cb[0]!.spiOut);
    expect(ca[0]!.spiOut).toBe(cb[0]!.spiIn);
  });

  it("PSK: an acquire after the peer's IKE SA is up but before its child is installed: the second child goes", () => {
    writeMesh('  auth = psk\n  psk = "an engine test cluster key, long enough"');
    const p = new Pair(loadMesh(meshFile(), 'a').ike, loadMesh(meshFile(), 'b').ike);
    p.b.initiate(p.now, 'mesh-a', 'a-host');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1)).toBe(true);
    p.a.initiate(p.now, 'mesh-b', 'b-host'); // the runtime's acquire, a moment too late: CREATE_CHILD_SA
    p.run(5_000);
    const installed = (side: 'a' | 'b') => established(p, side)[0]!.children.filter((c) => c.state === 'installed');
    expect(installed('a')).toHaveLength(2);
    expect(installed('b')).toHaveLength(2);
    // b (higher address) deletes nothing; a deletes the pair both agree on.
    expect(resolveDuplicateChildSas(p.b, p.now)).toEqual([]);
    const gone = resolveDuplicateChildSas(p.a, p.now);
    expect(gone).toHaveLength(1);
    p.run(5_000);
    expect(installed('a')).toHaveLength(1);
    expect(installed('b')).toHaveLength(1);
    expect(installed('a')[0]!.spiIn).not.toBe(gone[0]);
    expect(installed('a')[0]!.spiIn).toBe(installed('b')[0]!.spiOut);
    expect(established(p, 'a')).toHaveLength(1);
  });

  it('certificates: a re-issued certificate is adopted on reload, the SA stays, the next IKE_AUTH uses it', () => {
    writeMesh('  auth = pubkey\n  ca = ca.pem');
    let wallOffsetMs = 0;
    const wall = (n: number) => Date.now() + wallOffsetMs + n;
    const p = new Pair(loadMesh(meshFile(), 'a').ike, loadMesh(meshFile(), 'b').ike, {}, 1, 2, nodeCrypto, wall);
    p.a.initiate(p.now, 'mesh-b');
    expect(p.runUntil(() => established(p, 'a').length === 1 && established(p, 'b').length === 1)).toBe(true);
    const before = established(p, 'b')[0]!;
    const bConn = p.b.config.connections[0]!;
    const oldDer = localCredentials(nodeCrypto, bConn)[0]!.leaf.der;

    issueNodeCert(dir, 'b', 30); // the cluster CA re-issues b's certificate (new key, 30 days)
    const newPem = readFileSync(join(dir, 'certs', 'b.pem'));
    const newDer = new Uint8Array(new X509Certificate(newPem).raw);
    const next = resolveConfig(loadMesh(meshFile(), 'b').ike);
    // Without adoption the reload diff would replace the connection (and delete its SA).
    expect(planReload(p.b.config.connections, next.connections).changed).toEqual(['mesh-a']);

    const rot = adoptCredentialChanges(nodeCrypto, p.b.config, next);
    expect(rot).toEqual({ rotated: ['mesh-a'], warnings: [] });
    const r = applyReload({ endpoint: p.b, command: (fn) => fn(p.b, p.now) }, next);
    expect(r).toMatchObject({ unchanged: ['mesh-a'], changed: [], ikeSasDeleted: 0, childSasDeleted: 0 });
    expect(p.b.config.connections[0]).toBe(bConn); // the object the IKE SA refers to
    expect(localCredentials(nodeCrypto, bConn)[0]!.leaf.der).toEqual(newDer);
    expect(localCredentials(nodeCrypto, bConn)[0]!.leaf.der).not.toEqual(oldDer);
    p.run(5_000);
    const after = established(p, 'b');
    expect(after.map((s) => s.ikeId)).toEqual([before.ikeId]);
    expect(after[0]!.children.map((c) => c.spiIn)).toEqual(before.children.map((c) => c.spiIn));

    // Two days later b's old certificate has expired: a new IKE SA authenticates only with the new one.
    wallOffsetMs = 2 * 86_400_000;
    p.a.terminateIke(p.now, established(p, 'a')[0]!.ikeId);
    expect(p.runUntil(() => established(p, 'a').length === 0 && established(p, 'b').length === 0, 30_000)).toBe(true);
    const failuresBefore = p.count('a', 'ike-down');
    p.a.initiate(p.now, 'mesh-b');
    expect(p.runUntil(() => established(p, 'a').length === 1 && established(p, 'b').length === 1, 30_000), JSON.stringify(p.eventsA.slice(failuresBefore))).toBe(true);
  }, 60_000);
});
