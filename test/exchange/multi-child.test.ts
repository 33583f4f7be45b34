/**
 * Several children on one connection (strongSwan semantics): one IKE SA per connection and peer; the
 * first child rides in IKE_AUTH, the others follow with CREATE_CHILD_SA (RFC 7296 §1.3.1) on the same
 * IKE SA, also when they are requested while IKE_SA_INIT/IKE_AUTH are still outstanding.
 *
 *   HDR, SAi1, KEi, Ni                          -->
 *   HDR, SK {IDi, AUTH, SAi2, TSi, TSr}  (net1) -->
 *   HDR, SK {SA, Ni, TSi, TSr}           (net2) -->   CREATE_CHILD_SA on the same IKE SA
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType } from '../../src/ike/constants.js';
import { decodeMessage } from '../../src/ike/message.js';
import { child, Pair, pskConn } from './harness.js';

function pair(): Pair {
  const a = pskConn('a', { children: [child({ name: 'net1' }, 'a'), child({ name: 'net2', localTs: ['198.19.3.0/24'], remoteTs: ['198.19.4.0/24'] }, 'a')] });
  const b = pskConn('b', { children: [child({ name: 'net1' }, 'b'), child({ name: 'net2', localTs: ['198.19.4.0/24'], remoteTs: ['198.19.3.0/24'] }, 'b')] });
  return new Pair({ connections: [a] }, { connections: [b] });
}

/** Exchange types of the requests A sent, in order (unencrypted header only). */
function requestsOfA(p: Pair): number[] {
  const out: number[] = [];
  for (const d of p.delivered) {
    if (d.remote.address !== '198.18.0.1') continue; // delivered to B: sent by A
    const m = decodeMessage(d.data);
    if (m.ok && (m.value.header.flags & 0x20) === 0) out.push(m.value.header.exchangeType);
  }
  return out;
}

describe('several children of one connection', () => {
  it('initiating each child separately before the IKE SA is up makes one IKE SA, the second child by CREATE_CHILD_SA', () => {
    const p = pair();
    p.a.initiate(p.now, 'gw', 'net1');
    p.a.initiate(p.now, 'gw', 'net2');
    expect(p.runUntil(() => p.count('a', 'child-up') >= 2, 30_000)).toBe(true);
    p.run(1000);
    expect(p.count('a', 'ike-up')).toBe(1);
    expect(p.count('b', 'ike-up')).toBe(1);
    expect(p.a.status()).toHaveLength(1);
    expect(p.b.status()).toHaveLength(1);
    const names = p.a.status()[0]!.children.map((c) => c.name).sort();
    expect(names).toEqual(['net1', 'net2']);
    const reqs = requestsOfA(p);
    expect(reqs.filter((t) => t === ExchangeType.IKE_SA_INIT)).toHaveLength(1);
    expect(reqs.filter((t) => t === ExchangeType.IKE_AUTH)).toHaveLength(1);
    expect(reqs.filter((t) => t === ExchangeType.CREATE_CHILD_SA)).toHaveLength(1);
  });

  it('a child requested while IKE_AUTH is outstanding is queued and created after it', () => {
    const p = pair();
    p.a.initiate(p.now, 'gw', 'net1');
    // Run until A has sent IKE_AUTH (B answered IKE_SA_INIT), then ask for the second child.
    expect(p.runUntil(() => requestsOfA(p).includes(ExchangeType.IKE_AUTH), 10_000)).toBe(true);
    expect(p.count('a', 'ike-up')).toBe(0);
    p.a.initiate(p.now, 'gw', 'net2');
    expect(p.runUntil(() => p.count('a', 'child-up') >= 2, 30_000)).toBe(true);
    expect(p.a.status()).toHaveLength(1);
    expect(p.count('b', 'ike-up')).toBe(1);
    expect(requestsOfA(p).filter((t) => t === ExchangeType.IKE_SA_INIT)).toHaveLength(1);
  });

  it('asking twice for the same child while establishing creates it once', () => {
    const p = pair();
    p.a.initiate(p.now, 'gw', 'net1');
    p.a.initiate(p.now, 'gw', 'net1');
    p.a.initiate(p.now, 'gw', 'net2');
    expect(p.runUntil(() => p.count('a', 'child-up') >= 2, 30_000)).toBe(true);
    p.run(5000);
    expect(p.count('a', 'child-up')).toBe(2);
    expect(p.a.status()[0]!.children.map((c) => c.name).sort()).toEqual(['net1', 'net2']);
  });

  it('initiate without a child name brings every child up on one IKE SA', () => {
    const p = pair();
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') >= 2, 30_000)).toBe(true);
    expect(p.a.status()).toHaveLength(1);
  });
});
