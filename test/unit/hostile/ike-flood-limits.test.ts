/**
 * Resource exhaustion (RFC 7296 §2.6 cookies, §2.4 half-open state; DESIGN.md review item 3):
 *
 *   - a flood of IKE_SA_INIT requests with different SPIs, addresses and ports: once the half-open
 *     count reaches the cookie threshold the responder answers HDR(A,0), N(COOKIE) and keeps no
 *     state, so the half-open count stays at the threshold;
 *   - a legitimate initiator that returns the cookie still establishes during the flood;
 *   - a flood that does return cookies is capped at halfOpenMax (dropHalfOpenLimit), one address
 *     at ikeSasPerPeerMax (dropPeerLimit), and half-open state is reclaimed after halfOpenTimeoutMs;
 *   - an oversize datagram and a stream of SKF fragments are dropped and counted.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Limits } from '../../../src/ike/message.js';
import { ADDR_A, ADDR_B, Pair, pskConn } from '../../exchange/harness.js';
import { decoded, drain, establish, EXCHANGE, FLAG, hexToBytes, inject, message, NOTIFY, notifyPayload, snapshot } from './helpers.js';

const THRESHOLD = 10;
const HALF_OPEN_MAX = 40;
const PER_PEER = 5;
const HALF_OPEN_TIMEOUT = 30_000;

function pair(): Pair {
  return new Pair(
    { connections: [pskConn('a')] },
    { connections: [pskConn('b')], limits: { cookieThreshold: THRESHOLD, halfOpenMax: HALF_OPEN_MAX, ikeSasPerPeerMax: PER_PEER, halfOpenTimeoutMs: HALF_OPEN_TIMEOUT } },
  );
}

/** A real IKE_SA_INIT request (from a throwaway initiator) to copy with other SPIs. */
function templateInit(): Uint8Array {
  const p = pair();
  p.a.initiate(0, 'gw');
  return p.a.pollTransmit()!.data;
}

function withSpi(init: Uint8Array, i: number): Uint8Array {
  const b = init.slice();
  b[0] = 0xf0;
  b[4] = (i >>> 24) & 0xff;
  b[5] = (i >>> 16) & 0xff;
  b[6] = (i >>> 8) & 0xff;
  b[7] = i & 0xff;
  return b;
}

/** The same request with N(COOKIE) first (RFC 7296 §2.6). */
function withCookie(init: Uint8Array, cookie: Uint8Array): Uint8Array {
  const m = decoded(init);
  const h = m.header;
  return message(h.spiI, h.spiR, h.exchangeType, h.flags, h.messageId, [notifyPayload(NOTIFY.COOKIE, cookie), ...m.payloads]);
}

function cookieOf(d: Uint8Array): Uint8Array | undefined {
  const m = decoded(d);
  const n = m.payloads.find((x) => x.type === 41 && 'notifyType' in x && x.notifyType === NOTIFY.COOKIE);
  return n && 'data' in n ? n.data : undefined;
}

const floodAddr = (i: number): { address: string; port: number } => ({ address: `198.18.${100 + (i >> 8)}.${i & 0xff}`, port: 1024 + (i % 60000) });

describe('half-open flood', () => {
  it('thousands of spoofed IKE_SA_INIT: cookies above the threshold, bounded state, the legitimate peer still gets in', () => {
    const p = pair();
    const init = templateInit();
    const FLOOD = 3000;
    let cookies = 0;
    let full = 0;
    for (let i = 0; i < FLOOD; i++) {
      inject(p.b, p.now, 'b', withSpi(init, i), floodAddr(i));
      for (const d of drain(p.b).tx) {
        const c = cookieOf(d.data);
        if (c) {
          cookies++;
          // Stateless answer: HDR(SPIi, 0) with only N(COOKIE).
          const m = decoded(d.data);
          expect(m.header.spiR).toEqual(new Uint8Array(8));
          expect(m.payloads.length).toBe(1);
        } else full++;
      }
      expect(p.b.counters.halfOpen).toBeLessThanOrEqual(THRESHOLD);
    }
    expect(full).toBe(THRESHOLD);
    expect(cookies).toBe(FLOOD - THRESHOLD);
    expect(p.b.counters.cookiesSent).toBe(FLOOD - THRESHOLD);
    expect(p.b.counters.halfOpen).toBe(THRESHOLD);
    expect(p.b.status().length).toBe(THRESHOLD);

    // The legitimate initiator gets a COOKIE, repeats its request with it, and establishes.
    establish(p);
    const initsFromA = p.delivered.filter((d) => d.local.address === ADDR_B && d.data[18] === EXCHANGE.IKE_SA_INIT && (d.data[19]! & FLAG.RESPONSE) === 0);
    expect(initsFromA.length).toBe(2);
    expect(cookieOf(initsFromA[0]!.data)).toBeUndefined();
    expect(decoded(initsFromA[1]!.data).payloads[0]).toMatchObject({ type: 41, notifyType: NOTIFY.COOKIE });
    expect(p.b.internalErrors).toBe(0);
  });

  it('a flood that answers cookies is capped at halfOpenMax, and half-open state is reclaimed on timeout', () => {
    const p = pair();
    const init = templateInit();
    const FLOOD = 200;
    for (let i = 0; i < FLOOD; i++) {
      const req = withSpi(init, i);
      inject(p.b, p.now, 'b', req, floodAddr(i));
      const c = drain(p.b).tx.map((d) => cookieOf(d.data)).find((x) => x !== undefined);
      if (c) {
        inject(p.b, p.now, 'b', withCookie(req, c), floodAddr(i));
        drain(p.b);
      }
      expect(p.b.counters.halfOpen).toBeLessThanOrEqual(HALF_OPEN_MAX);
    }
    expect(p.b.counters.halfOpen).toBe(HALF_OPEN_MAX);
    expect(p.b.status().length).toBe(HALF_OPEN_MAX);
    expect(p.b.counters.dropHalfOpenLimit).toBe(FLOOD - HALF_OPEN_MAX);
    // A wrong cookie is rejected and counted (and creates no state).
    const q = pair();
    inject(q.b, 0, 'b', withCookie(withSpi(init, 1), new Uint8Array(33)), floodAddr(1));
    expect(q.b.counters.cookiesRejected).toBe(0); // below the threshold cookies are not checked
    for (let i = 0; i < THRESHOLD; i++) inject(q.b, 0, 'b', withSpi(init, 100 + i), floodAddr(100 + i));
    inject(q.b, 0, 'b', withCookie(withSpi(init, 7), new Uint8Array(33).fill(1)), floodAddr(7));
    expect(q.b.counters.cookiesRejected).toBe(1);
    expect(q.b.counters.halfOpen).toBe(THRESHOLD);

    // After halfOpenTimeoutMs without IKE_AUTH every half-open SA is gone.
    p.b.handleTimeout(p.now + HALF_OPEN_TIMEOUT + 1);
    drain(p.b);
    expect(p.b.counters.halfOpen).toBe(0);
    expect(p.b.status().length).toBe(0);
    expect(p.b.internalErrors).toBe(0);
  });

  it('one address is capped at ikeSasPerPeerMax (dropPeerLimit)', () => {
    const p = pair();
    const init = templateInit();
    const from = { address: '198.18.77.7', port: 500 };
    for (let i = 0; i < 100; i++) {
      inject(p.b, p.now, 'b', withSpi(init, i), { ...from, port: 500 + i });
      drain(p.b);
    }
    expect(p.b.counters.halfOpen).toBe(PER_PEER);
    expect(p.b.counters.dropPeerLimit).toBe(100 - PER_PEER);
  });
});

describe('size and fragment limits', () => {
  it('a datagram over MAX_MESSAGE_SIZE is dropped as a decode error, unanswered', () => {
    const p = pair();
    const init = templateInit();
    const big = new Uint8Array(Limits.MAX_MESSAGE_SIZE + 1);
    big.set(init);
    const len = big.length;
    big[24] = len >>> 24;
    big[25] = (len >>> 16) & 0xff;
    big[26] = (len >>> 8) & 0xff;
    big[27] = len & 0xff;
    inject(p.b, 0, 'b', big, { address: ADDR_A, port: 500 });
    expect(p.b.counters.dropDecode).toBe(1);
    expect(drain(p.b).tx).toEqual([]);
    expect(p.b.counters.halfOpen).toBe(0);
  });

  it('a stream of forged SKF fragments on an established SA is dropped and counted; the SA is intact', () => {
    const p = pair();
    establish(p);
    p.run(100);
    const up = p.of('a', 'ike-up')[0]!;
    const spiI = hexToBytes(up.spiI);
    const spiR = hexToBytes(up.spiR);
    const before = snapshot(p.b);
    const c = p.b.counters;
    const dropped = (): number => c.dropFragment + c.dropIcv + c.dropOutOfWindow + c.dropRetransmitOld;
    const start = dropped();
    const N = 500;
    for (let i = 0; i < N; i++) {
      const skf = { type: 53, critical: false, innerType: i % 7 === 0 ? 41 : 0, fragmentNumber: 1 + (i % 50), totalFragments: 50, body: Uint8Array.from(randomBytes(64)) } as const;
      inject(p.b, p.now, 'b', message(spiI, spiR, EXCHANGE.INFORMATIONAL, FLAG.INITIATOR, 2 + (i % 3), [skf]), { address: ADDR_A, port: 500 });
    }
    expect(dropped()).toBe(start + N);
    const { tx, events } = drain(p.b);
    expect(tx).toEqual([]);
    expect(events).toEqual([]);
    expect(snapshot(p.b)).toBe(before);
  });
});
