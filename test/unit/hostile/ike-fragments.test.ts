/**
 * IKE fragment reassembly under attack (RFC 7383 §2.6), at the endpoint:
 *
 *   HDR, SKF(n/40) {…}  -->     more fragments than the limit (32): each dropped and counted,
 *                               nothing stored, the SA can still authenticate
 *   HDR, SKF(n/10) {…}  -->     forged fragments mixed into an authentic set are dropped as ICV
 *                               failures; duplicates are ignored; the set completes and IKE_AUTH
 *                               is processed once
 *
 * The authentic fragments are sealed with the initiator's real SK keys: the responder answers a
 * recorded IKE_SA_INIT request and its half-open SA's keys are used (fuzz/inner.ts).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../src/ike/message.js';
import type { Payload } from '../../../src/ike/payloads/types.js';
import { ikeSession } from '../../../fuzz/fixtures.js';
import { innerSetup, recordedInner, sasOf, type InnerSetup } from '../../../fuzz/inner.js';
import { ADDR_I, ADDR_R } from '../../../fuzz/session.js';
import { drain } from './helpers.js';

const IKE_AUTH = 35;

function setup(): { s: InnerSetup; auth: Payload[] } {
  const s = innerSetup(ikeSession());
  if (!s) throw new Error('test: no responder setup');
  const auth = recordedInner(ikeSession()).find((r) => r.exchangeType === IKE_AUTH)?.payloads;
  if (!auth) throw new Error('test: no recorded IKE_AUTH');
  drain(s.ep);
  return { s, auth };
}

function header(s: InnerSetup): { spiI: Uint8Array; spiR: Uint8Array; majorVersion: number; minorVersion: number; exchangeType: number; flags: number; messageId: number } {
  return { spiI: s.spiI, spiR: s.spiR, majorVersion: 2, minorVersion: 0, exchangeType: IKE_AUTH, flags: 0x08, messageId: 1 };
}

/** The recorded IKE_AUTH inner chain with a big Vendor ID added, so it needs many fragments. */
function padded(auth: Payload[], bytes: number): Payload[] {
  return [...auth, { type: 43, critical: false, data: new Uint8Array(bytes).fill(0x56) }];
}

function send(s: InnerSetup, data: Uint8Array): void {
  s.ep.handleDatagram(10, { data, local: ADDR_R, remote: ADDR_I });
}

function skfOf(d: Uint8Array): { n: number; total: number } {
  const m = decodeMessage(d);
  if (!m.ok) throw new Error('test: bad fragment');
  const last = m.value.payloads.at(-1)!;
  if (!('fragmentNumber' in last)) throw new Error('test: not SKF');
  return { n: last.fragmentNumber, total: last.totalFragments };
}

describe('IKE fragments from a peer with the right keys and from a forger', () => {
  it('more fragments than the limit: every one dropped and counted, none stored; the SA still authenticates', () => {
    const { s, auth } = setup();
    const frags = s.seal.seal(header(s), padded(auth, 20_000), 576);
    expect(frags.length).toBeGreaterThan(32);
    expect(skfOf(frags[0]!).total).toBe(frags.length);
    const before = s.ep.counters.dropFragment;
    for (const f of frags) send(s, f);
    expect(s.ep.counters.dropFragment).toBe(before + frags.length);
    const stats = sasOf(s.ep)[0]!.crypto!.protection.fragmentStats;
    expect(stats.accepted).toBe(0);
    expect(stats.limitHits).toBe(frags.length);
    const out = drain(s.ep);
    expect(out.tx).toEqual([]);
    expect(out.events).toEqual([]);
    // The same IKE_AUTH request unfragmented is processed.
    for (const d of s.seal.seal(header(s), auth, undefined)) send(s, d);
    expect(drain(s.ep).events.slice(0, 2)).toEqual(['ike-up', 'child-up']);
    expect(s.ep.internalErrors).toBe(0);
  });

  it('forged and duplicate fragments inside an authentic set: dropped / ignored; the set completes once', () => {
    const { s, auth } = setup();
    const frags = s.seal.seal(header(s), padded(auth, 3000), 576);
    const total = frags.length;
    expect(total).toBeGreaterThan(3);
    expect(total).toBeLessThanOrEqual(32);
    // Read live: before the first SKF fragment the SA has no reassembler and reports a frozen zero object.
    const live = sasOf(s.ep)[0]!.crypto!.protection;
    const icv = s.ep.counters.dropIcv;
    for (let i = 0; i < total - 1; i++) {
      send(s, frags[i]!);
      send(s, frags[i]!); // duplicate
      // A forgery of the same fragment: same header and SKF fields, random body.
      const forged = frags[i]!.slice();
      forged.set(randomBytes(forged.length - 40), 40);
      send(s, forged);
      expect(drain(s.ep).events).toEqual([]);
    }
    expect(live.fragmentStats.accepted).toBe(total - 1);
    expect(live.fragmentStats.duplicates).toBe(total - 1);
    expect(s.ep.counters.dropIcv).toBe(icv + total - 1);
    // The last fragment completes the message: IKE_AUTH runs once.
    send(s, frags[total - 1]!);
    const out = drain(s.ep);
    expect(out.events.slice(0, 2)).toEqual(['ike-up', 'child-up']);
    expect(out.tx.length).toBeGreaterThan(0);
    expect(live.fragmentStats.completed).toBe(1);
    expect(s.ep.internalErrors).toBe(0);
    expect(s.ep.status()[0]!.state).toBe('established');
  });
});
