/**
 * The payload-per-exchange table (rules.ts) runs before protocol logic in the engine (DESIGN.md
 * rule 3). Authenticated but rule-breaking messages are built here with node:crypto
 * (AES-128-CBC + HMAC-SHA-256-128, RFC 7296 §3.14) from the keys of a live IKE SA:
 *
 *   HDR, SK {SA, D}  -->            (SA is not allowed in INFORMATIONAL)
 *                    <--  HDR, SK {N(INVALID_SYNTAX)}      the IKE SA stays up
 *   HDR, SK {N, N, … 33 notifies}  -->   too many            <--  N(INVALID_SYNTAX)
 *   IKE_SA_INIT with two SA payloads / without KE  -->  counted drop, no answer, no state
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeMessage, encodePayloadChain, decodePayloadChain } from '../../src/ike/message.js';
import type { Payload } from '../../src/ike/payloads/types.js';
import { Pair, pskPair } from './harness.js';

const INFORMATIONAL = 37;

function established(): Pair {
  const p = pskPair();
  p.a.initiate(p.now, 'gw');
  expect(p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0)).toBe(true);
  return p;
}

/** A → B request sealed like A would (original initiator: SK_ei / SK_ai). */
function sealFromA(p: Pair, messageId: number, exchangeType: number, inner: Payload[]): Uint8Array {
  const st = p.a.status()[0]!;
  const k = p.a.exportIkeKeys(st.ikeId)!;
  const { firstType, bytes } = encodePayloadChain(inner);
  const padLen = (16 - ((bytes.length + 1) % 16)) % 16;
  const plain = Buffer.concat([bytes, Buffer.alloc(padLen), Buffer.from([padLen])]);
  const iv = Buffer.alloc(16, 7);
  const c = createCipheriv('aes-128-cbc', k.skEi, iv);
  c.setAutoPadding(false);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  const total = 28 + 4 + 16 + ct.length + 16;
  const hdr = Buffer.alloc(32);
  Buffer.from(st.spiI, 'hex').copy(hdr, 0);
  Buffer.from(st.spiR, 'hex').copy(hdr, 8);
  hdr[16] = 46; hdr[17] = 0x20; hdr[18] = exchangeType; hdr[19] = 0x08;
  hdr.writeUInt32BE(messageId, 20);
  hdr.writeUInt32BE(total, 24);
  hdr[28] = firstType; hdr.writeUInt16BE(total - 28, 30);
  const body = Buffer.concat([hdr, iv, ct]);
  const icv = createHmac('sha256', k.skAi).update(body).digest().subarray(0, 16);
  return new Uint8Array(Buffer.concat([body, icv]));
}

/** Decrypts B's answer (SK_er). */
function openFromB(p: Pair, data: Uint8Array): Payload[] {
  const k = p.a.exportIkeKeys(p.a.status()[0]!.ikeId)!;
  const d = createDecipheriv('aes-128-cbc', k.skEr, data.subarray(32, 48));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(data.subarray(48, data.length - 16)), d.final()]);
  const r = decodePayloadChain(data[28]!, plain.subarray(0, plain.length - 1 - plain[plain.length - 1]!));
  expect(r.ok).toBe(true);
  return r.ok ? r.value : [];
}

function toB(p: Pair, data: Uint8Array): Uint8Array | undefined {
  p.b.handleDatagram(p.now, { data, local: { address: '198.18.0.2', port: 500 }, remote: { address: '198.18.0.1', port: 500 } });
  return p.b.pollTransmit()?.data;
}

const notifyN = (t: number): Payload => ({ type: 41, critical: false, protocolId: 0, spi: new Uint8Array(0), notifyType: t, data: new Uint8Array(0) });

describe('payload rules in the engine (rules.ts before protocol logic)', () => {
  it('INFORMATIONAL carrying an SA payload: answered N(INVALID_SYNTAX), nothing deleted, SA stays up', () => {
    const p = established();
    const spiIn = p.of('b', 'child-up')[0]!.spiIn;
    const req = sealFromA(p, 2, INFORMATIONAL, [
      { type: 33, critical: false, proposals: [{ number: 1, protocolId: 3, spi: new Uint8Array(4), transforms: [{ type: 1, id: 20, keyLength: 128 }] }] },
      { type: 42, critical: false, protocolId: 3, spis: [new Uint8Array([spiIn >>> 24, (spiIn >>> 16) & 255, (spiIn >>> 8) & 255, spiIn & 255])] },
    ]);
    const before = p.b.counters.dropRules;
    const ans = toB(p, req);
    expect(ans).toBeDefined();
    expect(ans![19] & 0x20).toBe(0x20);
    const inner = openFromB(p, ans!);
    expect(inner).toEqual([expect.objectContaining({ type: 41, notifyType: 7 })]);
    expect(p.b.counters.dropRules).toBe(before + 1);
    expect(p.b.counters.invalidSyntaxSent).toBe(1);
    expect(p.b.status()[0]!.state).toBe('established');
    expect(p.b.status()[0]!.children.length).toBe(1);
    expect(p.b.internalErrors).toBe(0);
    // The same request again is a retransmit: the cached INVALID_SYNTAX, no second processing.
    const again = toB(p, req);
    expect(again && Buffer.from(again).equals(Buffer.from(ans!))).toBe(true);
    expect(p.b.counters.invalidSyntaxSent).toBe(1);
  });

  it('too many notifies (33 > 32) in an INFORMATIONAL: INVALID_SYNTAX; 32 are fine', () => {
    const p = established();
    const bad = toB(p, sealFromA(p, 2, INFORMATIONAL, Array.from({ length: 33 }, () => notifyN(40000))));
    expect(openFromB(p, bad!)).toEqual([expect.objectContaining({ notifyType: 7 })]);
    const good = toB(p, sealFromA(p, 3, INFORMATIONAL, Array.from({ length: 32 }, () => notifyN(40000))));
    expect(openFromB(p, good!)).toEqual([]);
    expect(p.b.status()[0]!.state).toBe('established');
  });

  it('CREATE_CHILD_SA without a nonce is INVALID_SYNTAX before any child logic', () => {
    const p = established();
    const before = p.b.counters.dropRules;
    const ans = toB(p, sealFromA(p, 2, 36, [
      { type: 33, critical: false, proposals: [{ number: 1, protocolId: 3, spi: new Uint8Array([1, 2, 3, 4]), transforms: [{ type: 1, id: 20, keyLength: 128 }, { type: 5, id: 0 }] }] },
    ]));
    expect(openFromB(p, ans!)).toEqual([expect.objectContaining({ notifyType: 7 })]);
    expect(p.count('b', 'child-up')).toBe(1);
    expect(p.count('b', 'child-failed')).toBe(0);
    expect(p.b.counters.dropRules).toBe(before + 1); // the table said no, not the CREATE_CHILD_SA code
  });

  it('IKE_SA_INIT with two SA payloads, or without KE, is dropped without an answer or state', () => {
    const p = pskPair();
    p.a.initiate(p.now, 'gw');
    const init = p.a.pollTransmit()!;
    const hdr = { spiI: init.data.subarray(0, 8), spiR: new Uint8Array(8), majorVersion: 2, minorVersion: 0, exchangeType: 34, flags: 0x08, messageId: 0 };
    const sa: Payload = { type: 33, critical: false, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 12, keyLength: 128 }, { type: 2, id: 5 }, { type: 3, id: 12 }, { type: 4, id: 31 }] }] };
    const ke: Payload = { type: 34, critical: false, group: 31, data: new Uint8Array(32).fill(9) };
    const nonce: Payload = { type: 40, critical: false, nonce: new Uint8Array(32).fill(1) };
    for (const payloads of [[sa, sa, ke, nonce], [sa, nonce]]) {
      const before = p.b.counters.dropRules;
      p.b.handleDatagram(p.now, { data: encodeMessage(hdr, payloads), local: { address: '198.18.0.2', port: 500 }, remote: { address: '198.18.0.1', port: 500 } });
      expect(p.b.counters.dropRules).toBe(before + 1);
      expect(p.b.pollTransmit()).toBeUndefined();
    }
    expect(p.b.counters.halfOpen).toBe(0);
    expect(p.b.status()).toEqual([]);
    // The well-formed original still works.
    p.b.handleDatagram(p.now, { data: init.data, local: init.remote, remote: init.local });
    expect(p.b.pollTransmit()).toBeDefined();
    expect(p.b.counters.halfOpen).toBe(1);
  });

  it('unknown payloads in a protected request (§2.5): a critical one → N(UNSUPPORTED_CRITICAL_PAYLOAD, type), a non-critical one skipped', () => {
    const p = established();
    const unknown = (critical: boolean): Payload => ({ type: 200, critical, raw: new Uint8Array([1, 2, 3, 4]), unknown: true });
    const ans = toB(p, sealFromA(p, 2, INFORMATIONAL, [unknown(true)]));
    expect(ans).toBeDefined();
    // <-- HDR, SK {N(UNSUPPORTED_CRITICAL_PAYLOAD) with the one-octet payload type}
    expect(openFromB(p, ans!)).toEqual([expect.objectContaining({ notifyType: 1, data: new Uint8Array([200]) })]);
    // Non-critical: skipped, the empty INFORMATIONAL is a liveness check answered empty.
    const ans2 = toB(p, sealFromA(p, 3, INFORMATIONAL, [unknown(false)]));
    expect(openFromB(p, ans2!)).toEqual([]);
    expect(p.b.status().length).toBe(1);
    expect(p.count('b', 'ike-down')).toBe(0);
  });

  it('IKE_SA_INIT request with an unknown critical payload: <-- HDR, N(UNSUPPORTED_CRITICAL_PAYLOAD, type), no state', () => {
    const p = pskPair();
    p.a.initiate(p.now, 'gw');
    const init = p.a.pollTransmit()!;
    const hdr = { spiI: init.data.subarray(0, 8), spiR: new Uint8Array(8), majorVersion: 2, minorVersion: 0, exchangeType: 34, flags: 0x08, messageId: 0 };
    const sa: Payload = { type: 33, critical: false, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 12, keyLength: 128 }, { type: 2, id: 5 }, { type: 3, id: 12 }, { type: 4, id: 31 }] }] };
    const ke: Payload = { type: 34, critical: false, group: 31, data: new Uint8Array(32).fill(9) };
    const nonce: Payload = { type: 40, critical: false, nonce: new Uint8Array(32).fill(1) };
    const odd: Payload = { type: 222, critical: true, raw: new Uint8Array(4), unknown: true };
    p.b.handleDatagram(p.now, { data: encodeMessage(hdr, [sa, ke, nonce, odd]), local: { address: '198.18.0.2', port: 500 }, remote: { address: '198.18.0.1', port: 500 } });
    const ans = p.b.pollTransmit();
    expect(ans).toBeDefined();
    const d = ans!.data;
    expect(Buffer.from(d.subarray(0, 8)).equals(Buffer.from(init.data.subarray(0, 8)))).toBe(true);
    expect(Array.from(d.subarray(8, 16))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect([d[16], d[18], d[19]]).toEqual([41, 34, 0x20]); // N, IKE_SA_INIT, response
    const chain = decodePayloadChain(41, d.subarray(28));
    expect(chain.ok && chain.value).toEqual([expect.objectContaining({ notifyType: 1, data: new Uint8Array([222]) })]);
    expect(p.b.counters.halfOpen).toBe(0);
    expect(p.b.status()).toEqual([]);
  });

  it('requests outside the window (§2.3, window size 1) are ignored: no answer, counted, the SA untouched', () => {
    const p = established();
    // A has used Message IDs 0 (IKE_SA_INIT) and 1 (IKE_AUTH): B expects 2 next.
    const before = p.b.counters.dropOutOfWindow;
    for (const id of [3, 40, 0x7fffffff]) expect(toB(p, sealFromA(p, id, INFORMATIONAL, []))).toBeUndefined();
    expect(p.b.counters.dropOutOfWindow).toBe(before + 3);
    // The in-window request is still answered (and is a liveness check: empty answer).
    const ans = toB(p, sealFromA(p, 2, INFORMATIONAL, []));
    expect(openFromB(p, ans!)).toEqual([]);
    expect(p.b.status().length).toBe(1);
  });
});
