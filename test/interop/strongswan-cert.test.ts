/**
 * Interop with strongSwan 5.9 (charon + kernel-libipsec, tunnel mode, ESP in UDP 4500) using
 * certificates: a private CA and RSA-3072 leaves for a.ipx.test (tsipsec) / b.ipx.test (charon), made
 * with openssl into the test's temp directory. RSA-3072 makes IKE_AUTH about 1.9 kB, so both sides
 * send it as RFC 7383 fragments at the 1280-byte default; charon's log must show that it split its
 * own IKE_AUTH and reassembled ours. AUTH is RFC 7427 method 14 (charon logs the scheme it verified).
 * Either side initiates; a ping and a 64 KiB TCP transfer pass both ways. An untrusted CA ends in AUTHENTICATION_FAILED with no
 * SA left on either side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matrix } from './harness/results.js';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopEnabled } from './env.js';
import { createTopology, destroyTopology, topology } from './harness/topology.js';
import { Charon } from './harness/strongswan.js';
import { TsipsecProc } from './harness/tsipsec.js';
import { run, waitFor } from './harness/sh.js';
import { tcpBothWays } from './harness/tcp.js';
import { makePki, type PkiFiles } from '../exchange/pki.js';
import { scenarioConf } from './harness/conf.js';

/** swanctl.conf with certificates (auth = pubkey), X25519 for IKE. */
function certConf(o: { local: string; remote: string; cert: string; localId: string; remoteId: string; localTs: string; remoteTs: string; encap: boolean; cacert?: string }): string {
  return scenarioConf({ ...o, ike: 'aes256gcm16-prfsha256-x25519' });
}

describe.runIf(interopEnabled('interop strongswan-cert'))('interop: tsipsec ↔ strongSwan (RSA-3072 certificates, RFC 7383 fragments)', () => {
  const t = topology('tsc');
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-ipxc-'));
  let pki: PkiFiles;
  const m = matrix('strongswan-cert');
  beforeAll(async () => {
    pki = makePki({ other: true });
    await createTopology(t);
  }, 120_000);
  afterAll(async () => {
    await m.finish();
    await destroyTopology(t);
    pki?.cleanup();
    if (!process.env.TSIPSEC_KEEP) rmSync(work, { recursive: true, force: true });
  });

  function peers(dir: string, opts: { charonTrusts?: 'ca' | 'otherCa'; tsipsecTrusts?: 'ca' | 'otherCa' } = {}) {
    mkdirSync(dir, { recursive: true });
    const ts = new TsipsecProc(t.nsA, join(dir, 'a'),
      certConf({ local: t.addrA, remote: t.addrB, cert: 'a.pem', localId: 'a.ipx.test', remoteId: 'b.ipx.test', localTs: '198.19.1.0/24', remoteTs: '198.19.2.0/24', encap: true, cacert: 'ca.pem' }),
      { 'x509/a.pem': pki.pem('a'), 'x509ca/ca.pem': pki.pem(opts.tsipsecTrusts ?? 'ca'), 'private/a.key': pki.key('a') });
    const ss = new Charon({ name: 'b', ns: t.nsB, dir: join(dir, 'b'), libipsec: true,
      swanctlConf: certConf({ local: t.addrB, remote: t.addrA, cert: 'b.pem', localId: 'b.ipx.test', remoteId: 'a.ipx.test', localTs: '198.19.2.0/24', remoteTs: '198.19.1.0/24', encap: false }),
      files: { 'x509/b.pem': pki.pem('b'), 'x509ca/ca.pem': pki.pem(opts.charonTrusts ?? 'ca'), 'private/b.key': pki.key('b') } });
    return { ts, ss };
  }

  for (const initiator of ['tsipsec', 'strongswan'] as const) {
    m.cell('RSA-3072 certificates, IKE_AUTH fragmented both ways (RFC 7383), RFC 7427 RSA SHA-256, ping and TCP both ways', initiator, 'initiates', async () => {
      const dir = join(work, `ok-${initiator}`);
      const { ts, ss } = peers(dir);
      try {
        await ss.start();
        await ts.start();
        if (initiator === 'tsipsec') await ts.initiate('ipx');
        else {
          const r = await ss.swanctl(['--initiate', '--child', 'ipx', '--timeout', '20']);
          expect(r.code, r.stdout + r.stderr + ts.output().slice(-3000)).toBe(0);
        }
        await waitFor('tsipsec child SA', async () => (await ts.status()).ikeSas.some((s) => s.children.length > 0), 15_000);
        const st = await ts.status();
        const sas = await ss.listSas();
        const child = st.ikeSas[0]!.childCounters[0]!;
        expect(sas).toContain(child.spiIn);
        expect(sas).toContain(child.spiOut);
        expect(sas).toMatch(/ESTABLISHED/);
        const log = ss.log();
        // charon split its own IKE_AUTH into SKF fragments and reassembled ours (RFC 7383).
        expect(log, log.slice(-4000)).toMatch(/splitting IKE message \(\d+ bytes\) into [2-9] fragments/);
        expect(log).toMatch(/reassembled fragmented IKE message \(\d+ bytes\)/);
        // charon verified our RFC 7427 signature and trusts the chain.
        expect(log).toMatch(/authentication of 'a\.ipx\.test' with RSA_EMSA_PKCS1_SHA2_256 successful/);
        expect(log).toMatch(/reached self-signed root ca/);
        await waitFor('route via the TUN', async () => (await run('ip', ['-n', t.nsA, 'route', 'get', t.lanB])).stdout.includes('tsipx'), 5000);
        const p1 = await run('ip', ['netns', 'exec', t.nsA, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-I', t.lanA, t.lanB], { timeoutMs: 15_000 });
        expect(p1.stdout, ts.output().slice(-3000)).toMatch(/3 received/);
        const p2 = await run('ip', ['netns', 'exec', t.nsB, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-I', t.lanB, t.lanA], { timeoutMs: 15_000 });
        expect(p2.stdout).toMatch(/3 received/);
        expect(await tcpBothWays(t, dir, 'ipxcert!'), ts.output().slice(-3000)).toEqual([]);
      } finally {
        await ts.stop();
        await ss.stop();
      }
    }, 90_000);
  }

  it('charon does not trust our CA: AUTHENTICATION_FAILED, no SA on either side', async () => {
    const { ts, ss } = peers(join(work, 'untrusted-charon'), { charonTrusts: 'otherCa' });
    try {
      await ss.start();
      await ts.start();
      await ts.initiate('ipx').catch(() => undefined);
      await waitFor('charon rejects the certificate', async () => /generating IKE_AUTH response 1 \[ N\(AUTH_FAILED\) \]/.test(ss.log()), 15_000);
      await waitFor('tsipsec drops the SA', async () => (await ts.status()).ikeSas.length === 0, 10_000);
      expect((await ss.sas()).ike).toEqual([]);
      expect(ss.log()).toMatch(/no trusted RSA public key found for 'a\.ipx\.test'/);
      expect(ts.output()).toMatch(/AUTHENTICATION_FAILED|auth-failed/);
    } finally {
      await ts.stop();
      await ss.stop();
    }
  }, 90_000);

  it('tsipsec does not trust charon\'s CA (charon initiates): tsipsec answers AUTHENTICATION_FAILED, no SA on either side', async () => {
    const { ts, ss } = peers(join(work, 'untrusted-tsipsec'), { tsipsecTrusts: 'otherCa' });
    try {
      await ss.start();
      await ts.start();
      const r = await ss.swanctl(['--initiate', '--child', 'ipx', '--timeout', '20']);
      expect(r.code).not.toBe(0);
      expect(ss.log()).toMatch(/received AUTHENTICATION_FAILED notify error/);
      expect((await ss.sas()).ike).toEqual([]);
      expect((await ts.status()).ikeSas).toEqual([]);
    } finally {
      await ts.stop();
      await ss.stop();
    }
  }, 90_000);
});
