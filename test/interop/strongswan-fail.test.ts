/**
 * Interop beyond the happy path, failures (tsipsec ↔ strongSwan 5.9 with kernel-libipsec, PSK):
 * wrong PSK (AUTHENTICATION_FAILED), disjoint IKE proposals (NO_PROPOSAL_CHOSEN), disjoint ESP
 * proposals (IKE SA up, child fails) and a KE group the responder does not take (INVALID_KE_PAYLOAD,
 * then success), each with tsipsec as initiator and as responder. After a failure neither side may keep
 * an SA it should not have. Namespaces tf1-*.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopEnabled } from './env.js';
import { createTopology, destroyTopology, topology } from './harness/topology.js';
import { waitFor } from './harness/sh.js';
import { matrix } from './harness/results.js';
import { bringUp, charonLogTail, makePair, ping, ssInitiate, startPair, stopPair, tsIkeCount, waitNothingLeft, type Pair, type Side } from './harness/pair.js';

const SIDES: Side[] = ['tsipsec', 'strongswan'];

describe.runIf(interopEnabled('interop strongswan-fail'))('interop: failures against strongSwan', () => {
  const t = topology('tf1');
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-tf1-'));
  const m = matrix('strongswan-fail');
  beforeAll(async () => { await createTopology(t); });
  afterAll(async () => {
    await m.finish();
    await destroyTopology(t);
    if (!process.env.TSIPSEC_KEEP) rmSync(work, { recursive: true, force: true });
  });

  const withPair = async (name: string, tsOpts: Parameters<typeof makePair>[2], ssOpts: Parameters<typeof makePair>[3], fn: (p: Pair) => Promise<void>): Promise<void> => {
    const p = makePair(t, join(work, name), tsOpts, ssOpts);
    try {
      await startPair(p);
      await fn(p);
    } catch (e) {
      (e as Error).message += `\n--- tsipsec output ---\n${p.ts.output().slice(-4000)}\n--- charon log ---\n${charonLogTail(p)}`;
      throw e;
    } finally {
      await stopPair(p);
    }
  };

  for (const initiator of SIDES) {
    m.cell('wrong PSK → AUTHENTICATION_FAILED, nothing left', initiator, 'initiates', async () => {
      await withPair(`psk-${initiator}`, { psk: 'not-the-psk-the-peer-has-0123456789' }, {}, async (p) => {
        if (initiator === 'tsipsec') {
          await expect(p.ts.initiate('ipx', 20_000)).rejects.toThrow(/AUTHENTICATION_FAILED/);
        } else {
          const r = await ssInitiate(p);
          expect(r.code).not.toBe(0);
          // tsipsec (responder) rejected charon's AUTH and said so.
          await waitFor('charon to log AUTHENTICATION_FAILED', async () => /received AUTHENTICATION_FAILED notify error/.test(p.ss.log()), 5000);
        }
        await waitNothingLeft(p);
      });
    }, 45_000);

    m.cell('IKE proposals disjoint → NO_PROPOSAL_CHOSEN, nothing left', initiator, 'initiates', async () => {
      await withPair(`ikeprop-${initiator}`, { ike: 'aes256gcm16-prfsha256-modp2048' }, { ike: 'aes128-sha256-ecp256' }, async (p) => {
        if (initiator === 'tsipsec') {
          await expect(p.ts.initiate('ipx', 20_000)).rejects.toThrow(/NO_PROPOSAL_CHOSEN/);
        } else {
          const r = await ssInitiate(p);
          expect(r.code).not.toBe(0);
          await waitFor('charon to log NO_PROPOSAL_CHOSEN', async () => /received NO_PROPOSAL_CHOSEN notify error/.test(p.ss.log()), 5000);
        }
        await waitNothingLeft(p);
      });
    }, 45_000);

    m.cell('ESP proposals disjoint → IKE SA up, child fails', initiator, 'initiates', async (ctx) => {
      await withPair(`espprop-${initiator}`, { esp: 'aes256gcm16' }, { esp: 'aes128-sha256' }, async (p) => {
        if (initiator === 'tsipsec') {
          await expect(p.ts.initiate('ipx', 20_000)).rejects.toThrow(/child ipx failed: NO_PROPOSAL_CHOSEN/);
        } else {
          const r = await ssInitiate(p);
          expect(r.code).not.toBe(0);
          expect(p.ss.log()).toMatch(/received NO_PROPOSAL_CHOSEN notify/);
        }
        // Both sides keep the IKE SA (RFC 7296 §1.2: a failed child in IKE_AUTH does not fail the IKE SA), no child.
        await waitFor('one IKE SA each', async () => (await tsIkeCount(p)) === 1 && (await p.ss.sas()).ike.length === 1, 5000, 200);
        const st = await p.ts.status();
        expect(st.ikeSas[0]!.state).toBe('established');
        expect(st.ikeSas[0]!.children.length).toBe(0);
        const ss = await p.ss.sas();
        expect(ss.ike[0]).toMatch(/ESTABLISHED/);
        expect(ss.children.length).toBe(0);
        ctx.note('IKE SA kept on both sides');
      });
    }, 45_000);

    m.cell('KE group not taken → INVALID_KE_PAYLOAD, retry, up', initiator, 'initiates', async (ctx) => {
      // The initiator proposes X25519 first (its KE payload), MODP-2048 second; the responder only has MODP-2048.
      const both = 'aes256gcm16-prfsha256-x25519-modp2048';
      const only = 'aes256gcm16-prfsha256-modp2048';
      await withPair(`ke-${initiator}`, { ike: initiator === 'tsipsec' ? both : only }, { ike: initiator === 'tsipsec' ? only : both }, async (p) => {
        await bringUp(p, initiator);
        const log = p.ss.log();
        if (initiator === 'tsipsec') expect(log).toMatch(/DH group CURVE_25519 unacceptable, requesting MODP_2048/);
        else expect(log).toMatch(/peer didn't accept DH group CURVE_25519, it requested MODP_2048/);
        const st = await p.ts.status();
        expect(st.ikeSas[0]!.algorithms).toMatch(/MODP_2048/);
        expect((await p.ss.sas()).ike[0]).toMatch(/ESTABLISHED/);
        expect((await p.ss.listSas())).toMatch(/MODP_2048/);
        const r = await ping(p, 3);
        expect(r.received, r.out).toBe(3);
        ctx.note('INVALID_KE_PAYLOAD seen in charon log');
      });
    }, 45_000);
  }
});
