/**
 * A COOKIE race under a flood that hovers around the cookie threshold (found by the hostile e2e:
 * 1 legitimate attempt in 40 ended in AUTHENTICATION_FAILED).
 *
 *   Initiator                          Responder (half-open count ≥ threshold, then below)
 *   HDR(A,0), SAi1, KEi, Ni      -->   (R0)       <-- N(COOKIE)            (stateless: count high)
 *   HDR(A,0), SAi1, KEi, Ni      -->   (R0 again, retransmitted; count has dropped)
 *                                      <-- HDR(A,B), SAr1, KEr, Nr         (SA from R0's bytes)
 *   N(COOKIE) arrives first:     -->   HDR(A,0), N(COOKIE), SAi1, KEi, Ni  (R1)
 *   the full answer arrives next: IKE_AUTH signs R1 (RFC 7296 §2.15), the responder holds R0.
 *
 * R1 is R0 with the cookie in front, "all other payloads unchanged" (§2.6), so the responder keeps
 * it as a variant of the request its half-open SA answered and accepts an AUTH over either. A
 * variant whose other payloads differ (an attempt to change the offer after the fact) is not kept.
 */
import { describe, expect, it } from 'vitest';
import { ADDR_A, ADDR_B, Pair, pskConn } from '../../exchange/harness.js';
import type { Datagram } from '../../../src/ike/events.js';
import { decoded, drain, inject, message, NOTIFY, notifyPayload } from './helpers.js';

const A = { address: ADDR_A, port: 500 };

function cookieOf(d: Uint8Array): Uint8Array | undefined {
  const n = decoded(d).payloads.find((x) => x.type === 41 && 'notifyType' in x && x.notifyType === NOTIFY.COOKIE);
  return n && 'data' in n ? n.data : undefined;
}

/** Drives the race by hand up to the point where the initiator has sent R1 and IKE_AUTH. */
function race(tamper?: (r1: Uint8Array) => Uint8Array): { p: Pair; r1: Uint8Array; auth: Datagram[]; bDrops: () => number } {
  const p = new Pair(
    { connections: [pskConn('a')] },
    { connections: [pskConn('b')], limits: { cookieThreshold: 1, halfOpenTimeoutMs: 500 } },
  );
  // A spoofed half-open SA puts the responder at its cookie threshold.
  p.a.initiate(0, 'gw');
  const r0 = drain(p.a).tx[0]!.data;
  const spoof = r0.slice();
  spoof[0] ^= 0xff;
  inject(p.b, 0, 'b', spoof, { address: '198.18.200.1', port: 7000 });
  drain(p.b);
  inject(p.b, 1, 'b', r0, A);
  const cookieAnswer = drain(p.b).tx[0]!.data;
  expect(cookieOf(cookieAnswer)).toBeDefined();
  // The spoofed SA times out; the retransmitted R0 now gets a full answer.
  p.b.handleTimeout(600);
  drain(p.b);
  inject(p.b, 700, 'b', r0, A);
  const full = drain(p.b).tx[0]!.data;
  expect(cookieOf(full)).toBeUndefined();
  // The initiator sees the COOKIE answer first: it sends R1 ...
  inject(p.a, 701, 'a', cookieAnswer, { address: ADDR_B, port: 500 });
  let r1 = drain(p.a).tx[0]!.data;
  expect(cookieOf(r1)).toBeDefined();
  if (tamper) r1 = tamper(r1);
  // ... then the full answer, and continues with IKE_AUTH over R1.
  inject(p.a, 702, 'a', full, { address: ADDR_B, port: 500 });
  const auth = drain(p.a).tx;
  expect(auth.length).toBeGreaterThan(0);
  return { p, r1, auth, bDrops: () => p.b.counters.dropRetransmitOld };
}

describe('COOKIE race: the retried request with the cookie is a variant of the one answered', () => {
  it('AUTH over the cookie-bearing retry verifies; both sides come up', () => {
    const { p, r1, auth } = race();
    inject(p.b, 703, 'b', r1, A);
    const resent = drain(p.b).tx;
    expect(resent.length).toBe(1); // the cached IKE_SA_INIT answer, no second SA
    for (const d of auth) inject(p.b, 704, 'b', d.data, d.remote.port === 4500 ? { address: ADDR_A, port: 4500 } : A);
    const b = drain(p.b);
    expect(b.events).toContain('ike-up');
    expect(b.events).not.toContain('ike-down');
    for (const d of b.tx) inject(p.a, 705, 'a', d.data, { address: ADDR_B, port: d.local.port });
    expect(drain(p.a).events).toContain('child-up');
  });

  it('a retry whose other payloads differ is dropped, and AUTH over it fails', () => {
    const { p, r1, auth, bDrops } = race((r) => {
      const m = decoded(r);
      // Same cookie, but the nonce changed: not "all other payloads unchanged".
      const payloads = m.payloads.map((x) => (x.type === 40 && 'nonce' in x ? { ...x, nonce: x.nonce.map((v) => v ^ 1) } : x));
      return message(m.header.spiI, m.header.spiR, m.header.exchangeType, m.header.flags, 0, payloads);
    });
    const before = bDrops();
    inject(p.b, 703, 'b', r1, A);
    expect(drain(p.b).tx.length).toBe(0);
    expect(bDrops()).toBe(before + 1);
    for (const d of auth) inject(p.b, 704, 'b', d.data, d.remote.port === 4500 ? { address: ADDR_A, port: 4500 } : A);
    expect(drain(p.b).events).toContain('ike-down');
  });
});
