/**
 * Unauthenticated messages never change an established IKE SA (RFC 7296 §2.21: "an
 * unauthenticated notification … MUST NOT be trusted"; DESIGN.md rule 8), and a retransmitted
 * request gets the cached response without a second state change (RFC 7296 §2.1).
 *
 *   spoofed  <--  HDR(SPIi, 0), N(NO_PROPOSAL_CHOSEN)           (IKE_SA_INIT response, after the SA is up)
 *   spoofed  -->  HDR(SPIi, SPIr), SK{garbage}                  (INFORMATIONAL with a random SK body)
 *   spoofed  -->  HDR(SPIi, SPIr), D(IKE), N(AUTHENTICATION_FAILED)   (in the clear)
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pskPair, type Pair } from '../../exchange/harness.js';
import { drain, establish, EXCHANGE, FLAG, decoded, hexToBytes, inject, message, NOTIFY, notifyPayload, snapshot } from './helpers.js';

const SPOOFER = { address: '198.18.66.6', port: 500 };

function upPair(): { p: Pair; spiI: Uint8Array; spiR: Uint8Array } {
  const p = pskPair();
  establish(p);
  p.run(100);
  const up = p.of('a', 'ike-up')[0]!;
  return { p, spiI: hexToBytes(up.spiI), spiR: hexToBytes(up.spiR) };
}

/** Both sides still established, same SAs, no new events. */
function unchanged(p: Pair, before: { a: string; b: string }): void {
  const a = drain(p.a);
  const b = drain(p.b);
  expect(a.events).toEqual([]);
  expect(b.events).toEqual([]);
  expect(snapshot(p.a)).toBe(before.a);
  expect(snapshot(p.b)).toBe(before.b);
  expect(p.a.status()[0]!.state).toBe('established');
  expect(p.b.status()[0]!.state).toBe('established');
  expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
}

/** The SA still works: a child rekey completes on both sides afterwards. */
function stillWorks(p: Pair): void {
  const n = p.count('a', 'child-rekeyed');
  p.a.rekeyChild(p.now, p.a.status()[0]!.children[0]!.spiIn);
  expect(p.runUntil(() => p.count('a', 'child-rekeyed') > n && p.count('b', 'child-rekeyed') > n, 10_000)).toBe(true);
}

describe('unauthenticated error notifies do not tear down an established SA', () => {
  it('IKE_SA_INIT responses with N(NO_PROPOSAL_CHOSEN), N(INVALID_KE_PAYLOAD), N(COOKIE) from a spoofed address', () => {
    const { p, spiI } = upPair();
    const before = { a: snapshot(p.a), b: snapshot(p.b) };
    const dropped = p.a.counters.dropUnexpectedResponse + p.a.counters.dropUnknownSpi;
    const forged = [
      message(spiI, new Uint8Array(8), EXCHANGE.IKE_SA_INIT, FLAG.RESPONSE, 0, [notifyPayload(NOTIFY.NO_PROPOSAL_CHOSEN)]),
      message(spiI, new Uint8Array(8), EXCHANGE.IKE_SA_INIT, FLAG.RESPONSE, 0, [notifyPayload(NOTIFY.INVALID_KE_PAYLOAD, Uint8Array.of(0, 14))]),
      message(spiI, new Uint8Array(8), EXCHANGE.IKE_SA_INIT, FLAG.RESPONSE, 0, [notifyPayload(NOTIFY.COOKIE, new Uint8Array(16).fill(7))]),
      message(spiI, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), EXCHANGE.IKE_SA_INIT, FLAG.RESPONSE, 0, [notifyPayload(NOTIFY.NO_PROPOSAL_CHOSEN)]),
    ];
    for (const f of forged) {
      inject(p.a, p.now, 'a', f, SPOOFER);
      inject(p.a, p.now, 'a', f, { address: '198.18.0.2', port: 500 }); // even from the peer's own address
    }
    expect(drain(p.a).tx).toEqual([]); // never answered
    expect(p.a.counters.dropUnexpectedResponse + p.a.counters.dropUnknownSpi).toBe(dropped + 2 * forged.length);
    unchanged(p, before);
    stillWorks(p);
  });

  it('INFORMATIONAL / IKE_AUTH with a garbage SK body: dropped as ICV failures (or out of window), state intact', () => {
    const { p, spiI, spiR } = upPair();
    const before = { a: snapshot(p.a), b: snapshot(p.b) };
    const icvA = p.a.counters.dropIcv + p.a.counters.dropOutOfWindow + p.a.counters.dropUnexpectedResponse;
    const icvB = p.b.counters.dropIcv + p.b.counters.dropOutOfWindow + p.b.counters.dropRetransmitOld;
    let n = 0;
    for (const ex of [EXCHANGE.INFORMATIONAL, EXCHANGE.CREATE_CHILD_SA, EXCHANGE.IKE_AUTH]) {
      for (let mid = 0; mid < 4; mid++) {
        const sk = { type: 46, critical: false, innerType: 42, body: Uint8Array.from(randomBytes(16 + 32 + 16)) } as const;
        // To the responder as a request from the initiator, and to the initiator as a response.
        inject(p.b, p.now, 'b', message(spiI, spiR, ex, FLAG.INITIATOR, mid, [sk]), { address: '198.18.0.1', port: 500 });
        inject(p.a, p.now, 'a', message(spiI, spiR, ex, FLAG.RESPONSE, mid, [sk]), { address: '198.18.0.2', port: 500 });
        n++;
      }
    }
    expect(drain(p.a).tx).toEqual([]);
    expect(drain(p.b).tx).toEqual([]);
    expect(p.a.counters.dropIcv + p.a.counters.dropOutOfWindow + p.a.counters.dropUnexpectedResponse).toBe(icvA + n);
    expect(p.b.counters.dropIcv + p.b.counters.dropOutOfWindow + p.b.counters.dropRetransmitOld).toBe(icvB + n);
    expect(p.b.counters.dropIcv).toBeGreaterThan(0);
    unchanged(p, before);
    stillWorks(p);
  });

  it('a Delete and N(AUTHENTICATION_FAILED) sent in the clear are dropped', () => {
    const { p, spiI, spiR } = upPair();
    const before = { a: snapshot(p.a), b: snapshot(p.b) };
    const rules = p.b.counters.dropRules;
    const del = { type: 42, critical: false, protocolId: 1, spis: [] } as const;
    inject(p.b, p.now, 'b', message(spiI, spiR, EXCHANGE.INFORMATIONAL, FLAG.INITIATOR, 2, [del]), SPOOFER);
    inject(p.b, p.now, 'b', message(spiI, spiR, EXCHANGE.INFORMATIONAL, FLAG.INITIATOR, 2, [notifyPayload(NOTIFY.AUTHENTICATION_FAILED)]), SPOOFER);
    inject(p.a, p.now, 'a', message(spiI, spiR, EXCHANGE.IKE_AUTH, FLAG.RESPONSE, 1, [notifyPayload(NOTIFY.AUTHENTICATION_FAILED)]), SPOOFER);
    expect(p.b.counters.dropRules).toBe(rules + 2);
    expect(drain(p.b).tx).toEqual([]);
    unchanged(p, before);
    stillWorks(p);
  });
});

describe('retransmitted requests', () => {
  it('IKE_SA_INIT twice to a half-open responder: the same response, one half-open SA', () => {
    const p = pskPair();
    p.a.initiate(0, 'gw');
    const init = p.a.pollTransmit()!;
    const from = { address: '198.18.0.1', port: 500 };
    inject(p.b, 1, 'b', init.data, from);
    const first = drain(p.b).tx;
    inject(p.b, 2, 'b', init.data, from);
    const second = drain(p.b).tx;
    expect(first.length).toBe(1);
    expect(second.map((d) => Buffer.from(d.data).toString('hex'))).toEqual(first.map((d) => Buffer.from(d.data).toString('hex')));
    expect(p.b.counters.halfOpen).toBe(1);
    expect(p.b.counters.retransmitsAnswered).toBe(1);
    expect(p.b.status().length).toBe(1);
  });

  it('the last request of an established SA again: the cached response byte for byte, no second state change', () => {
    const { p } = upPair();
    // Rekey the child: CREATE_CHILD_SA, then INFORMATIONAL Delete of the old child (the last request).
    stillWorks(p);
    p.run(1000);
    const toB = p.delivered.filter((d) => d.local.address === '198.18.0.2' && d.data.length >= 28);
    const lastReq = [...toB].reverse().find((d) => (d.data[19]! & FLAG.RESPONSE) === 0)!;
    const reqMsg = decoded(lastReq.data);
    const respToA = p.delivered.filter((d) => d.local.address === '198.18.0.1').map((d) => d.data).filter((x) => {
      const h = decoded(x).header;
      return (h.flags & FLAG.RESPONSE) !== 0 && h.messageId === reqMsg.header.messageId && h.exchangeType === reqMsg.header.exchangeType;
    });
    expect(respToA.length).toBe(1);
    const before = snapshot(p.b);
    const answered = p.b.counters.retransmitsAnswered;
    const events = p.eventsB.length;
    for (let i = 0; i < 3; i++) {
      inject(p.b, p.now, 'b', lastReq.data, lastReq.remote);
      const { tx, events: ev } = drain(p.b);
      expect(tx.map((d) => Buffer.from(d.data).toString('hex'))).toEqual([Buffer.from(respToA[0]!).toString('hex')]);
      expect(ev).toEqual([]);
    }
    expect(p.b.counters.retransmitsAnswered).toBe(answered + 3);
    expect(p.eventsB.length).toBe(events);
    expect(snapshot(p.b)).toBe(before);
    expect(p.b.internalErrors).toBe(0);
  });

  it('an older request (below the window) is dropped, not answered or acted on', () => {
    const { p } = upPair();
    stillWorks(p);
    p.run(1000);
    const auth = p.delivered.find((d) => d.local.address === '198.18.0.2' && d.data[18] === EXCHANGE.IKE_AUTH)!;
    const before = snapshot(p.b);
    const old = p.b.counters.dropRetransmitOld + p.b.counters.dropOutOfWindow;
    inject(p.b, p.now, 'b', auth.data, auth.remote);
    const { tx, events } = drain(p.b);
    expect(tx).toEqual([]);
    expect(events).toEqual([]);
    expect(p.b.counters.dropRetransmitOld + p.b.counters.dropOutOfWindow).toBe(old + 1);
    expect(snapshot(p.b)).toBe(before);
  });
});
