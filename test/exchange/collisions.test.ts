/**
 * Rekey collision orderings (RFC 7296 §2.8.1, §2.8.2, §2.25), after strongSwan's
 * test_child_rekey.c / test_ike_rekey.c: each a deterministic two-endpoint run where messages are
 * held back, released later or lost.
 *
 *   A: HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} -->   <-- HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} :B
 *   each answers the other; the exchange with the lowest of the four nonces made the redundant SA,
 *   which its initiator deletes; the other side deletes the old SA. A request for an SA that is
 *   already rekeyed gets TEMPORARY_FAILURE, for one already deleted CHILD_SA_NOT_FOUND.
 *
 * Every test ends with the same invariant: what the runtime was told (child-up / child-rekeyed
 * minus child-down) is exactly what the engine still holds, the two sides hold mirror-image SPI
 * pairs, and no internal error happened.
 */
import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Datagram, IkeEvent } from '../../src/ike/events.js';
import { decodePayloadChain } from '../../src/ike/message.js';
import type { Payload } from '../../src/ike/payloads/types.js';
import { Pair, pskPair, type NetOptions } from './harness.js';

const CREATE_CHILD_SA = 36;
const INFORMATIONAL = 37;
const R = 0x20;

function established(net: NetOptions = {}): Pair {
  const p = pskPair({}, {}, net);
  p.a.initiate(p.now, 'gw');
  expect(p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0)).toBe(true);
  return p;
}

/** Inbound SPIs the runtime believes installed, from the event stream alone. */
function runtimeView(events: readonly IkeEvent[]): number[] {
  const s = new Set<number>();
  for (const e of events) {
    if (e.type === 'child-up') s.add(e.spiIn);
    else if (e.type === 'child-rekeyed') s.add(e.child.spiIn);
    else if (e.type === 'child-down') s.delete(e.spiIn);
    else if (e.type === 'ike-down') s.clear();
  }
  return [...s].sort((x, y) => x - y);
}

function expectConsistent(p: Pair, children: number): void {
  expect(p.a.internalErrors + p.b.internalErrors, p.a.lastInternalError ?? p.b.lastInternalError).toBe(0);
  const sa = p.a.status();
  const sb = p.b.status();
  expect(sa.length).toBe(1);
  expect(sb.length).toBe(1);
  expect(sa[0]!.spiI).toBe(sb[0]!.spiI);
  expect(sa[0]!.spiR).toBe(sb[0]!.spiR);
  const ca = sa[0]!.children;
  const cb = sb[0]!.children;
  expect(ca.length).toBe(children);
  expect(cb.length).toBe(children);
  expect(ca.map((c) => c.spiIn).sort()).toEqual(cb.map((c) => c.spiOut).sort());
  expect(ca.map((c) => c.spiOut).sort()).toEqual(cb.map((c) => c.spiIn).sort());
  expect(ca.every((c) => c.state === 'installed') && cb.every((c) => c.state === 'installed')).toBe(true);
  expect(runtimeView(p.eventsA)).toEqual(ca.map((c) => c.spiIn).sort((x, y) => x - y));
  expect(runtimeView(p.eventsB)).toEqual(cb.map((c) => c.spiIn).sort((x, y) => x - y));
}

function isRequest(d: Datagram, exchange: number): boolean {
  return d.data[18] === exchange && (d.data[19] & R) === 0;
}

function isResponse(d: Datagram, exchange: number): boolean {
  return d.data[18] === exchange && (d.data[19] & R) !== 0;
}

/** Delivers a held datagram now, as the network would have (addresses seen from the receiver). */
function release(p: Pair, to: 'a' | 'b', d: Datagram): void {
  (to === 'a' ? p.a : p.b).handleDatagram(p.now, { data: d.data, local: d.remote, remote: d.local });
}

/**
 * Decrypts an SK message of the harness's IKE SA (aes128-sha256: AES-128-CBC, IV 16, HMAC-SHA-256-128
 * ICV 16; RFC 7296 §3.14) with node:crypto, using the sender's SK_e.
 */
function openSk(data: Uint8Array, keys: { skEi: Uint8Array; skEr: Uint8Array }): Payload[] {
  const fromInitiator = (data[19] & 0x08) !== 0;
  const key = fromInitiator ? keys.skEi : keys.skEr;
  const iv = data.subarray(32, 48);
  const ct = data.subarray(48, data.length - 16);
  const d = createDecipheriv('aes-128-cbc', key, iv);
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(ct), d.final()]);
  const r = decodePayloadChain(data[28]!, plain.subarray(0, plain.length - 1 - plain[plain.length - 1]!));
  expect(r.ok).toBe(true);
  return r.ok ? r.value : [];
}

/**
 * §2.8.1 checked from the wire: of the two CREATE_CHILD_SA exchanges, the one with the lowest of
 * the four nonces created the SA that must go; returns the ESP SPIs (both directions) of the SA
 * that must survive.
 */
function expectedSurvivor(p: Pair, keys: { skEi: Uint8Array; skEr: Uint8Array }): string[] {
  const ex = new Map<string, { nonces: Buffer[]; spis: string[] }>();
  for (const d of p.delivered) {
    if (d.data[18] !== CREATE_CHILD_SA) continue;
    const inner = openSk(d.data, keys);
    const nonce = inner.find((x) => x.type === 40) as Extract<Payload, { type: 40 }> | undefined;
    const sa = inner.find((x) => x.type === 33) as Extract<Payload, { type: 33 }> | undefined;
    if (!nonce || !sa) continue;
    // An exchange: Message ID + who sent the request (I flag XOR R flag).
    const requester = ((d.data[19] & 0x08) !== 0) !== ((d.data[19] & R) !== 0) ? 'I' : 'R';
    const k = `${requester}${Buffer.from(d.data.subarray(20, 24)).toString('hex')}`;
    const e = ex.get(k) ?? { nonces: [], spis: [] };
    e.nonces.push(Buffer.from(nonce.nonce));
    e.spis.push(Buffer.from(sa.proposals[0]!.spi).toString('hex'));
    ex.set(k, e);
  }
  const list = [...ex.values()];
  expect(list.length).toBe(2);
  const lowest = (e: { nonces: Buffer[] }): Buffer => e.nonces.reduce((m, n) => (Buffer.compare(n, m) < 0 ? n : m));
  const [x, y] = list as [{ nonces: Buffer[]; spis: string[] }, { nonces: Buffer[]; spis: string[] }];
  const survivor = Buffer.compare(lowest(x), lowest(y)) < 0 ? y : x;
  return [...survivor.spis].sort();
}

describe('child rekey collisions (§2.8.1)', () => {
  for (const delayMs of [5, 20, 200]) {
    it(`both rekey at once, the Deletes of the loser and the winner cross (one-way delay ${delayMs} ms)`, () => {
      const p = established({ delayMs });
      const ca = p.of('a', 'child-up')[0]!;
      const deletes: Array<{ from: 'a' | 'b'; at: number }> = [];
      p.filter = (from, d) => {
        if (isRequest(d, INFORMATIONAL)) deletes.push({ from, at: p.now });
        return true;
      };
      p.a.rekeyChild(p.now, ca.spiIn);
      p.b.rekeyChild(p.now, p.of('b', 'child-up')[0]!.spiIn);
      p.run(30_000);
      // One side deleted the old SA, the other its redundant new SA, in flight at the same time.
      expect(deletes.map((x) => x.from).sort()).toEqual(['a', 'b']);
      expect(Math.abs(deletes[0]!.at - deletes[1]!.at)).toBeLessThan(delayMs);
      expectConsistent(p, 1);
      expect(p.a.status()[0]!.children[0]!.spiIn).not.toBe(ca.spiIn);
      // The SA of the exchange with the lowest nonce was the one deleted (checked from the wire).
      const left = p.a.status()[0]!.children[0]!;
      const keys = p.a.exportIkeKeys(p.of('a', 'ike-up')[0]!.ikeId)!;
      expect([left.spiIn, left.spiOut].map((x) => x.toString(16).padStart(8, '0')).sort()).toEqual(expectedSurvivor(p, keys));
      // The old SA went down 'rekeyed' on both sides, exactly once.
      expect(p.of('a', 'child-down').filter((e) => e.spiIn === ca.spiIn).map((e) => e.reason)).toEqual(['rekeyed']);
    });
  }

  it('the peer\'s request arrives after its own rekey completed here: TEMPORARY_FAILURE, the completed rekey stands', () => {
    const p = established();
    const ca = p.of('a', 'child-up')[0]!;
    let held: Datagram | undefined;
    p.filter = (from, d) => {
      if (from === 'a' && !held && isRequest(d, CREATE_CHILD_SA)) {
        held = d;
        return false;
      }
      return true;
    };
    p.a.rekeyChild(p.now, ca.spiIn);
    p.b.rekeyChild(p.now, p.of('b', 'child-up')[0]!.spiIn);
    // B's rekey completes (A answered it, noting the collision); A's request is still on its way.
    expect(p.runUntil(() => p.count('b', 'child-rekeyed') > 0, 5000)).toBe(true);
    expect(held).toBeDefined();
    release(p, 'b', held!);
    // Answered at once with a notify-only response (TEMPORARY_FAILURE: the SA is already rekeyed).
    const answer = p.b.pollTransmit();
    expect(answer && isResponse(answer, CREATE_CHILD_SA)).toBe(true);
    expect(answer!.data.length).toBeLessThan(100);
    release(p, 'a', answer!);
    p.filter = undefined;
    p.run(30_000);
    expectConsistent(p, 1);
    // B's new SA is the one left: B announced it first, as the rekey's initiator.
    const rb = p.of('b', 'child-rekeyed')[0]!;
    expect(p.b.status()[0]!.children[0]!.spiIn).toBe(rb.child.spiIn);
  });

  it('the peer\'s request arrives after the old SA was deleted here: CHILD_SA_NOT_FOUND, nothing recreated twice', () => {
    const p = established();
    const ca = p.of('a', 'child-up')[0]!;
    let held: Datagram | undefined;
    p.filter = (from, d) => {
      if (from === 'a' && !held && isRequest(d, CREATE_CHILD_SA)) {
        held = d;
        return false;
      }
      return true;
    };
    p.a.rekeyChild(p.now, ca.spiIn);
    p.b.rekeyChild(p.now, p.of('b', 'child-up')[0]!.spiIn);
    // B completes its rekey and its Delete of the old SA (A answers while its own request waits).
    expect(p.runUntil(() => p.count('b', 'child-down') > 0, 5000)).toBe(true);
    release(p, 'b', held!);
    const answer = p.b.pollTransmit();
    expect(answer && isResponse(answer, CREATE_CHILD_SA)).toBe(true);
    expect(answer!.data.length).toBeLessThan(100); // N(CHILD_SA_NOT_FOUND)
    release(p, 'a', answer!);
    p.filter = undefined;
    p.run(30_000);
    expectConsistent(p, 1);
    expect(p.count('a', 'child-up') + p.count('b', 'child-up')).toBe(2); // only the initial ones
  });

  it('one side\'s CREATE_CHILD_SA response is lost: the retransmit gets the cached answer and the collision still resolves', () => {
    for (const lose of ['a', 'b'] as const) {
      const p = established({ delayMs: 10 });
      let lost = 0;
      p.filter = (from, d) => {
        if (from === lose && lost === 0 && isResponse(d, CREATE_CHILD_SA)) {
          lost++;
          return false;
        }
        return true;
      };
      p.a.rekeyChild(p.now, p.of('a', 'child-up')[0]!.spiIn);
      p.b.rekeyChild(p.now, p.of('b', 'child-up')[0]!.spiIn);
      p.run(60_000);
      expect(lost).toBe(1);
      expect((lose === 'a' ? p.a : p.b).counters.retransmitsAnswered, `lost at ${lose}`).toBeGreaterThan(0);
      expectConsistent(p, 1);
    }
  });

  it('a rekey collision where the loser\'s Delete is lost once: retransmitted, same end state', () => {
    const p = established({ delayMs: 10 });
    let lost = 0;
    p.filter = (_from, d) => {
      if (lost === 0 && isRequest(d, INFORMATIONAL)) {
        lost++;
        return false;
      }
      return true;
    };
    p.a.rekeyChild(p.now, p.of('a', 'child-up')[0]!.spiIn);
    p.b.rekeyChild(p.now, p.of('b', 'child-up')[0]!.spiIn);
    p.run(60_000);
    expect(lost).toBe(1);
    expect(p.a.counters.retransmitsSent + p.b.counters.retransmitsSent).toBeGreaterThan(0);
    expectConsistent(p, 1);
  });
});

describe('IKE rekey against other exchanges (§2.8.2, §2.25)', () => {
  it('IKE rekey vs child rekey at once: both get TEMPORARY_FAILURE, both retry, one IKE SA and one rekeyed child', () => {
    const p = established({ delayMs: 10 });
    const ia = p.of('a', 'ike-up')[0]!;
    const ca = p.of('a', 'child-up')[0]!;
    let tempFails = 0;
    p.filter = (_from, d) => {
      if (isResponse(d, CREATE_CHILD_SA) && d.data.length < 100) tempFails++; // a notify-only answer
      return true;
    };
    p.a.rekeyIke(p.now, ia.ikeId);
    p.b.rekeyChild(p.now, p.of('b', 'child-up')[0]!.spiIn);
    p.run(60_000);
    expect(tempFails).toBe(2);
    expect(p.count('a', 'ike-rekeyed')).toBe(1);
    expect(p.count('b', 'ike-rekeyed')).toBe(1);
    expect(p.count('a', 'child-rekeyed')).toBe(1);
    expect(p.count('a', 'ike-down') + p.count('b', 'ike-down')).toBe(0);
    expect(p.a.status()[0]!.spiI).not.toBe(ia.spiI);
    expect(p.a.status()[0]!.children[0]!.spiIn).not.toBe(ca.spiIn);
    expectConsistent(p, 1);
  });

  it('simultaneous IKE rekey with the loser\'s redundant-SA Delete crossing the winner\'s old-SA Delete', () => {
    for (const delayMs of [5, 50]) {
      const p = established({ delayMs });
      const ia = p.of('a', 'ike-up')[0]!;
      const oldKeys = p.a.exportIkeKeys(ia.ikeId)!;
      p.a.rekeyIke(p.now, ia.ikeId);
      p.b.rekeyIke(p.now, p.of('b', 'ike-up')[0]!.ikeId);
      p.run(120_000);
      // §2.8.2: the new IKE SA of the exchange without the lowest nonce survives (checked from the wire).
      const st = p.a.status()[0]!;
      expect([st.spiI, st.spiR].sort()).toEqual(expectedSurvivor(p, oldKeys));
      expect(p.count('a', 'ike-down') + p.count('b', 'ike-down')).toBe(0);
      expect(p.count('a', 'child-down') + p.count('b', 'child-down')).toBe(0);
      expect(p.a.status()[0]!.spiI).not.toBe(ia.spiI);
      expectConsistent(p, 1);
      // The surviving SA carries traffic: a child rekey through it works.
      p.a.rekeyChild(p.now, p.a.status()[0]!.children[0]!.spiIn);
      p.run(10_000);
      expectConsistent(p, 1);
      expect(p.count('a', 'child-rekeyed')).toBe(1);
    }
  });

  it('IKE rekey response lost once: the retransmit is answered from the cache, one new IKE SA on each side', () => {
    const p = established({ delayMs: 10 });
    const ia = p.of('a', 'ike-up')[0]!;
    let lost = 0;
    p.filter = (from, d) => {
      if (from === 'b' && lost === 0 && isResponse(d, CREATE_CHILD_SA)) {
        lost++;
        return false;
      }
      return true;
    };
    p.a.rekeyIke(p.now, ia.ikeId);
    p.run(60_000);
    expect(lost).toBe(1);
    expect(p.b.counters.retransmitsAnswered).toBe(1);
    expect(p.count('a', 'ike-rekeyed')).toBe(1);
    expect(p.count('b', 'ike-rekeyed')).toBe(1);
    expectConsistent(p, 1);
  });

  it('child rekey vs IKE delete: the IKE SA goes on both sides and nothing is left', () => {
    const p = established({ delayMs: 10 });
    p.a.rekeyChild(p.now, p.of('a', 'child-up')[0]!.spiIn);
    p.b.terminateIke(p.now, p.of('b', 'ike-up')[0]!.ikeId);
    p.run(60_000);
    expect(p.of('a', 'ike-down').map((e) => e.reason)).toEqual(['peer']);
    expect(p.of('b', 'ike-down').map((e) => e.reason)).toEqual(['local']);
    expect(p.a.status()).toEqual([]);
    expect(p.b.status()).toEqual([]);
    expect(runtimeView(p.eventsA)).toEqual([]);
    expect(runtimeView(p.eventsB)).toEqual([]);
    expect(p.a.nextTimeout()).toBeUndefined();
    expect(p.b.nextTimeout()).toBeUndefined();
    expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
  });

  it('IKE rekey vs child delete: the delete is answered, the rekey retried or done, the child gone on both sides', () => {
    const p = established({ delayMs: 10 });
    p.a.rekeyIke(p.now, p.of('a', 'ike-up')[0]!.ikeId);
    p.b.terminateChild(p.now, p.of('b', 'child-up')[0]!.spiIn);
    p.run(60_000);
    expect(p.count('a', 'ike-down') + p.count('b', 'ike-down')).toBe(0);
    expect(p.count('a', 'ike-rekeyed')).toBe(1);
    expectConsistent(p, 0);
  });
});
