/**
 * Harness self-check: two strongSwan charons (kernel-libipsec) bring up a PSK tunnel across the wire
 * bridge and a ping passes. If this fails the environment is broken, not tsipsec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interopEnabled } from './env.js';
import { createTopology, destroyTopology, topology } from './harness/topology.js';
import { Charon } from './harness/strongswan.js';
import { run } from './harness/sh.js';
import { scenarioConf } from './harness/conf.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


describe.runIf(interopEnabled('strongswan-baseline'))('strongSwan ↔ strongSwan baseline (kernel-libipsec)', () => {
  const t = topology('tsb');
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-ssb-'));
  const a = new Charon({ name: 'a', ns: t.nsA, dir: join(work, 'a'), libipsec: true,
    swanctlConf: scenarioConf({ local: t.addrA, remote: t.addrB, localId: 'a.ipx.test', remoteId: 'b.ipx.test', localTs: '198.19.1.0/24', remoteTs: '198.19.2.0/24' }) });
  const b = new Charon({ name: 'b', ns: t.nsB, dir: join(work, 'b'), libipsec: true,
    swanctlConf: scenarioConf({ local: t.addrB, remote: t.addrA, localId: 'b.ipx.test', remoteId: 'a.ipx.test', localTs: '198.19.2.0/24', remoteTs: '198.19.1.0/24' }) });

  beforeAll(async () => {
    await createTopology(t);
    await a.start();
    await b.start();
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await destroyTopology(t);
    rmSync(work, { recursive: true, force: true });
  });

  it('establishes a tunnel and carries a ping', async () => {
    const r = await a.swanctl(['--initiate', '--child', 'ipx', '--timeout', '20']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await a.listSas()).toMatch(/ipx: #\d+, ESTABLISHED, IKEv2/);
    const p = await run('ip', ['netns', 'exec', t.nsA, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-I', t.lanA, t.lanB], { timeoutMs: 15_000 });
    expect(p.stdout).toMatch(/3 received/);
  });
});
