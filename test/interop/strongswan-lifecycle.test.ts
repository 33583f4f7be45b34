/**
 * Interop beyond the happy path, lifecycle (tsipsec ↔ strongSwan 5.9 with kernel-libipsec, PSK):
 * - Delete of the CHILD_SA and of the IKE SA from either side: the other side's state goes away and
 *   traffic stops.
 * - CHILD_SA rekey (rekey_time 10 s) and IKE SA rekey (rekey_time 20 s) on either side under a
 *   continuous ping (-i 0.05 for 25 s): the lost packets are counted, written into the matrix, and
 *   the cell fails above LOSS_BOUND.
 * - Liveness: charon is SIGKILLed while tsipsec has dpd_delay = 2 s and a short retransmit schedule
 *   (STRONGSWAN_CONF charon.retransmit_*): tsipsec declares the IKE SA dead (reason dpd) and, per
 *   dpd_action, clears it or re-initiates until the restarted charon answers.
 * Namespaces tl1-*.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopEnabled } from './env.js';
import { createTopology, destroyTopology, topology } from './harness/topology.js';
import { killPid, run, spawnLogged, waitFor } from './harness/sh.js';
import type { ChildProcess } from 'node:child_process';
import { matrix } from './harness/results.js';
import type { CharonChild } from './harness/strongswan.js';
import type { TunnelStatus } from '../../src/runtime/tunnel.js';
import { bringUp, charonLogTail, makePair, ping, sleep, startPair, stopPair, tsIkeCount, type Pair, type Side } from './harness/pair.js';

const LOSS_BOUND = 5;
const other = (s: Side): Side => (s === 'tsipsec' ? 'strongswan' : 'tsipsec');
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

describe.runIf(interopEnabled('interop strongswan-lifecycle'))('interop: lifecycle against strongSwan', () => {
  const t = topology('tl1');
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-tl1-'));
  const m = matrix('strongswan-lifecycle');
  beforeAll(async () => { await createTopology(t); });
  afterAll(async () => {
    await m.finish();
    await destroyTopology(t);
    if (!process.env.TSIPSEC_KEEP) rmSync(work, { recursive: true, force: true });
  });

  // IKE only on the wire (port 500, and 4500 behind the non-ESP marker): the record of who sent which
  // CREATE_CHILD_SA/INFORMATIONAL when, kept with the logs (TSIPSEC_KEEP=1 keeps the work directory).
  const withPair = async (p: Pair, fn: (p: Pair) => Promise<void>, capture = false): Promise<void> => {
    let cap: ChildProcess | undefined;
    try {
      await startPair(p);
      if (capture) cap = spawnLogged('ip', ['netns', 'exec', t.nsW, 'tcpdump', '-i', t.bridge, '-U', '-n', '-s', '0', '-w', join(p.dir, 'ike.pcap'), 'udp port 500 or (udp port 4500 and udp[8:4] = 0)']);
      await fn(p);
    } catch (e) {
      try {
        writeFileSync(join(p.dir, 'tsipsec.log'), p.ts.output());
        writeFileSync(join(p.dir, 'tsipsec-status.json'), JSON.stringify(await p.ts.status(), null, 1));
        writeFileSync(join(p.dir, 'charon-sas.txt'), (await p.ss.sas()).text);
      } catch { /* the daemons may be gone */ }
      (e as Error).message += `\n--- tsipsec output ---\n${p.ts.output().slice(-6000)}\n--- charon log ---\n${charonLogTail(p)}\n(logs in ${p.dir})`;
      throw e;
    } finally {
      await killPid(cap, 'SIGINT');
      await stopPair(p);
    }
  };
  const routeGone = async (p: Pair): Promise<boolean> => !(await run('ip', ['-n', p.t.nsA, 'route', 'get', p.t.lanB])).stdout.includes('tsipx');

  // ---- delete from either side ----
  for (const what of ['child', 'ike'] as const) {
    for (const deleter of ['tsipsec', 'strongswan'] as const) {
      m.cell(`delete ${what === 'child' ? 'CHILD_SA' : 'IKE SA'}: peer state gone, traffic stops`, deleter, 'deletes', async () => {
        await withPair(makePair(t, join(work, `del-${what}-${deleter}`)), async (p) => {
          await bringUp(p, other(deleter));
          expect((await ping(p, 2)).received).toBe(2);
          if (deleter === 'tsipsec') await p.ts.terminate(what === 'child' ? { child: 'ipx' } : { ike: 'ipx' });
          else {
            const r = await p.ss.swanctl(['--terminate', what === 'child' ? '--child' : '--ike', 'ipx', '--timeout', '10'], 15_000);
            expect(r.code, r.stdout + r.stderr).toBe(0);
          }
          if (what === 'child') {
            await waitFor('child gone on both sides, IKE SA kept', async () => {
              const st = await p.ts.status();
              const ss = await p.ss.sas();
              return st.ikeSas.length === 1 && st.ikeSas[0]!.children.length === 0 && ss.ike.length === 1 && ss.children.length === 0;
            }, 10_000, 200);
          } else {
            await waitFor('IKE SA gone on both sides', async () => (await tsIkeCount(p)) === 0 && (await p.ss.sas()).ike.length === 0, 10_000, 200);
          }
          await waitFor('tsipsec route removed', () => routeGone(p), 5000);
          expect((await ping(p, 2, 0.2, 1)).received).toBe(0);
        });
      }, 60_000);
    }
  }

  // ---- rekey under traffic ----
  for (const rekeyer of ['tsipsec', 'strongswan'] as const) {
    m.cell('CHILD rekey 10 s + IKE rekey 20 s under ping -i 0.05 for 25 s', rekeyer, 'rekeys', async (ctx) => {
      const short = { childRekey: '10s', ikeRekey: '20s' };
      const p = makePair(t, join(work, `rekey-${rekeyer}`), rekeyer === 'tsipsec' ? short : {}, rekeyer === 'strongswan' ? short : {});
      await withPair(p, async () => {
        await bringUp(p, other(rekeyer)); // the rekeying side is the original responder: the harder case
        const before = (await p.ts.status()).ikeSas[0]!;
        const r = await ping(p, 500, 0.05, 1);
        const lost = r.sent - r.received;
        // A rekey may be in flight right now (the next one is due ~30 s in): wait for a settled state,
        // one IKE SA and one installed child on each side, nothing left over from the rekeys, except
        // for what strongSwan itself loses: charon 5.9.8 keeps a rekeyed child (state DELETED, inbound
        // SA still installed) until the kernel reports that SA's hard expiry; when that expiry arrives
        // while charon's own IKE rekey is moving the children to the new IKE SA, the delete job logs
        // "CHILD_SA ESP/0x<spi>/<addr> not found for delete" and the DELETED entry stays listed for good
        // (child life 11 s and IKE rekey at ~19 s line up in about 1 run in 8). Such an entry, and only
        // such, is allowed: DELETED, and charon's log names its lost delete.
        let seen = '';
        let lostDeletes: CharonChild[] = [];
        let settled: { ts: TunnelStatus['ikeSas'][number]['children'][number]; ss: CharonChild } | undefined;
        await waitFor('one IKE SA and one child on each side', async () => {
          const st = (await p.ts.status()).ikeSas;
          const ss = await p.ss.sas();
          const log = p.ss.log();
          seen = `tsipsec: ${JSON.stringify(st.map((x) => ({ state: x.state, spiI: x.spiI, initiator: x.initiator, children: x.children.map((c) => `${c.state} ${hex8(c.spiIn)}/${hex8(c.spiOut)}`) })))}\ncharon: ${ss.text}`;
          const installed = ss.childSas.filter((c) => c.state === 'INSTALLED');
          const others = ss.childSas.filter((c) => c.state !== 'INSTALLED');
          lostDeletes = others.filter((c) => c.state === 'DELETED' && c.spiIn !== undefined && log.includes(`CHILD_SA ESP/0x${hex8(c.spiIn)}/${p.t.addrB} not found for delete`));
          const ok = st.length === 1 && st[0]!.state === 'established' && st[0]!.children.length === 1 && st[0]!.children[0]!.state === 'installed'
            && ss.ike.length === 1 && /ESTABLISHED/.test(ss.ike[0]!) && installed.length === 1 && lostDeletes.length === others.length;
          if (ok) settled = { ts: st[0]!.children[0]!, ss: installed[0]! };
          return ok;
        }, 20_000, 200).catch((e: Error) => { throw new Error(`${e.message}\n${seen}`); });
        // In that settled state charon's installed child is tsipsec's child (the same SPI pair, crossed;
        // tsipsec's status was read first, so a rekey in between shows as a mismatch: look again once),
        // the leftovers are not, and traffic flows over it.
        const { ts: tsChild, ss: ssChild } = settled!;
        const pair = (ts: { spiIn: number; spiOut: number }): number[] => [ts.spiOut >>> 0, ts.spiIn >>> 0];
        if (ssChild.spiIn !== pair(tsChild)[0]) {
          const again = { ts: (await p.ts.status()).ikeSas[0]!.children[0]!, ss: (await p.ss.sas()).childSas.find((c) => c.state === 'INSTALLED') };
          expect([again.ss?.spiIn, again.ss?.spiOut], seen).toEqual(pair(again.ts));
        } else {
          expect([ssChild.spiIn, ssChild.spiOut], seen).toEqual(pair(tsChild));
        }
        for (const c of lostDeletes) {
          expect(pair(tsChild)).not.toContain(c.spiIn);
          expect(pair(tsChild)).not.toContain(c.spiOut);
        }
        if (lostDeletes.length) ctx.note(`charon kept ${lostDeletes.length} DELETED child (its delete job lost in its IKE rekey)`);
        const again = await ping(p, 3);
        expect(again.received, again.out).toBe(3);
        // A further CHILD rekey may be in flight at this moment (make-before-break: the new child is up,
        // the old one waits for its Delete exchange): wait, bounded, until it has settled.
        let after = (await p.ts.status()).ikeSas;
        for (let i = 0; i < 50 && after.length === 1 && after[0]!.children.length > 1; i++) {
          await new Promise((r) => setTimeout(r, 100));
          after = (await p.ts.status()).ikeSas;
        }
        const childRekeys = (p.ts.output().match(/CHILD SA rekeyed/g) ?? []).length;
        const ssLog = p.ss.log();
        ctx.note(`lost ${lost}/${r.sent}`);
        ctx.note(`${childRekeys} CHILD rekeys`);
        expect(r.sent, r.out).toBe(500);
        expect(after.length, JSON.stringify(after)).toBe(1);
        expect(after[0]!.state).toBe('established');
        // The IKE SA was rekeyed (new SPIs) and the child at least once (new SPI, make-before-break).
        expect(after[0]!.spiI + after[0]!.spiR).not.toBe(before.spiI + before.spiR);
        ctx.note('IKE SA rekeyed');
        expect(childRekeys).toBeGreaterThanOrEqual(1);
        expect(after[0]!.children.length).toBe(1);
        expect(after[0]!.children[0]!.spiIn).not.toBe(before.children[0]!.spiIn);
        expect(ssLog).not.toMatch(/received (INVALID_SYNTAX|NO_PROPOSAL_CHOSEN|TEMPORARY_FAILURE|CHILD_SA_NOT_FOUND)/);
        expect(lost, `lost ${lost} of ${r.sent} pings`).toBeLessThanOrEqual(LOSS_BOUND);
      }, true);
    }, 90_000);
  }

  // ---- liveness: charon dies ----
  const dpdCases: Array<{ action: 'clear' | 'restart'; initiator: Side }> = [
    { action: 'clear', initiator: 'tsipsec' },
    { action: 'restart', initiator: 'tsipsec' },
    { action: 'restart', initiator: 'strongswan' },
  ];
  for (const { action, initiator } of dpdCases) {
    m.cell(`charon SIGKILLed, dpd_delay 2 s, dpd_action ${action}`, initiator, 'initiated', async (ctx) => {
      const dir = join(work, `dpd-${action}-${initiator}`);
      const p = makePair(t, dir, { dpdDelay: '2s', dpdAction: action }, {});
      // retransmits after 0.5, 0.75, 1.1 s, give up 1.7 s later: a dead peer is declared after ~2 + 4 s.
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'tsipsec-strongswan.conf');
      writeFileSync(conf, 'charon {\n  retransmit_timeout = 0.5\n  retransmit_base = 1.5\n  retransmit_tries = 3\n}\n');
      p.ts.env = { STRONGSWAN_CONF: conf };
      await withPair(p, async () => {
        await bringUp(p, initiator);
        expect((await ping(p, 2)).received).toBe(2);
        const t0 = Date.now();
        await p.ss.kill();
        await waitFor('tsipsec to declare the peer dead (dpd)', async () => /"reason":"dpd"/.test(p.ts.output()), 15_000, 100);
        const detect = (Date.now() - t0) / 1000;
        ctx.note(`dead peer detected after ${detect.toFixed(1)} s`);
        expect(detect).toBeLessThan(10);
        if (action === 'clear') {
          await waitFor('tsipsec state cleared', async () => (await tsIkeCount(p)) === 0, 5000, 200);
          await waitFor('route removed', () => routeGone(p), 5000);
          await sleep(3000); // and it stays cleared: no re-initiation
          expect(await tsIkeCount(p)).toBe(0);
          expect(p.ts.output()).not.toMatch(/"reason":"timeout"/);
        } else {
          await sleep(2000); // tsipsec re-initiates into the void meanwhile
          const t1 = Date.now();
          await p.ss.start();
          await waitFor('tsipsec child up again', async () => (await p.ts.status()).ikeSas.some((s) => s.state === 'established' && s.children.length > 0), 20_000, 200);
          await waitFor('charon child up again', async () => (await p.ss.sas()).children.length > 0, 10_000, 200);
          ctx.note(`back up ${((Date.now() - t1) / 1000).toFixed(1)} s after charon restarted`);
          await waitFor('route via the TUN', async () => !(await routeGone(p)), 5000);
          const r = await ping(p, 3);
          expect(r.received, r.out).toBe(3);
        }
      });
    }, 60_000);
  }
  // The other way round: tsipsec dies (SIGKILL, no Deletes) and comes straight back with no state;
  // charon's DPD to the old SPI goes unanswered, charon declares it dead and re-initiates (dpd_action restart).
  m.cell('tsipsec SIGKILLed and restarted, charon dpd_delay 2 s, dpd_action restart', 'tsipsec', 'initiated', async (ctx) => {
    const p = makePair(t, join(work, 'dpd-ss-restart'), {}, { dpdDelay: '2s', dpdAction: 'restart' },
      '  retransmit_timeout = 0.5\n  retransmit_base = 1.5\n  retransmit_tries = 3\n');
    await withPair(p, async () => {
      await bringUp(p, 'tsipsec');
      expect((await ping(p, 2)).received).toBe(2);
      const oldSa = (await p.ss.sas()).ike[0];
      const t0 = Date.now();
      await p.ts.kill();
      await p.ts.start();
      await waitFor('charon to re-establish with the restarted tsipsec', async () => (await p.ts.status()).ikeSas.some((s) => s.state === 'established' && s.children.length > 0), 20_000, 200);
      ctx.note(`back up ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill`);
      expect(p.ss.log()).toMatch(/restarting CHILD_SA ipx/);
      const st = (await p.ts.status()).ikeSas;
      expect(st.length).toBe(1);
      expect(st[0]!.initiator).toBe(false); // charon re-initiated
      await waitFor('charon: one IKE SA, one child', async () => { const s = await p.ss.sas(); return s.ike.length === 1 && s.children.length === 1; }, 10_000, 200);
      expect((await p.ss.sas()).ike[0]).not.toBe(oldSa);
      await waitFor('route via the TUN', async () => !(await routeGone(p)), 5000);
      const r = await ping(p, 3);
      expect(r.received, r.out).toBe(3);
    });
  }, 60_000);
});
