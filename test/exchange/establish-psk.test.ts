/**
 * Two-endpoint exchange tests: IKE_SA_INIT + IKE_AUTH with PSK and the first Child SA.
 *
 *   HDR, SAi1, KEi, Ni, N(NAT_D_SRC), N(NAT_D_DST), N(FRAG_SUP)  -->
 *                                   <--  HDR, SAr1, KEr, Nr, N(NAT_D_SRC), N(NAT_D_DST), N(FRAG_SUP)
 *   HDR, SK {IDi, IDr, AUTH, SAi2, TSi, TSr}  -->
 *                                   <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/ike/message.js';
import { ADDR_A, ADDR_B, Pair, hexOf, pskConn, pskPair } from './harness.js';

function up(p: Pair): boolean {
  return p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0);
}

describe('IKE_SA_INIT + IKE_AUTH (PSK)', () => {
  for (const [name, proposals, esp] of [
    ['X25519, AES-CBC/SHA-256, ESP AES-GCM', 'aes128-sha256-x25519', 'aes128gcm16'],
    ['MODP-2048, AES-GCM-256, ESP AES-CBC/SHA-256', 'aes256gcm16-prfsha256-modp2048', 'aes256-sha256'],
  ] as const) {
    it(`establishes IKE and child SAs with matching keys (${name})`, () => {
      const p = pskPair({ proposals: [proposals] }, { proposals: [proposals] }, {}, { espProposals: [esp] }, { espProposals: [esp] });
      p.a.initiate(p.now, 'gw');
      expect(up(p)).toBe(true);
      expect(p.a.internalErrors).toBe(0);
      expect(p.b.internalErrors).toBe(0);
      const ia = p.of('a', 'ike-up')[0];
      const ib = p.of('b', 'ike-up')[0];
      expect(ia.initiator).toBe(true);
      expect(ib.initiator).toBe(false);
      expect(ia.spiI).toBe(ib.spiI);
      expect(ia.spiR).toBe(ib.spiR);
      expect(ia.remoteId).toBe('b.ipx.test');
      expect(ib.remoteId).toBe('a.ipx.test');
      expect(ia.encap).toBe(false);
      const ca = p.of('a', 'child-up')[0];
      const cb = p.of('b', 'child-up')[0];
      expect(ca.spiOut).toBe(cb.spiIn);
      expect(ca.spiIn).toBe(cb.spiOut);
      expect(hexOf(ca.keys.encrOut)).toBe(hexOf(cb.keys.encrIn));
      expect(hexOf(ca.keys.encrIn)).toBe(hexOf(cb.keys.encrOut));
      expect(hexOf(ca.keys.integOut)).toBe(hexOf(cb.keys.integIn));
      expect(hexOf(ca.keys.encrOut)).not.toBe(hexOf(ca.keys.encrIn));
      const isGcm = esp.includes('gcm');
      // KEYMAT per direction: AES-GCM-128 key ‖ 4-byte salt = 20; AES-256-CBC 32 + HMAC-SHA-256 key 32.
      expect(ca.keys.encrOut.length).toBe(isGcm ? 20 : 32);
      expect(ca.keys.integOut.length).toBe(isGcm ? 0 : 32);
      expect(ca.algorithms.encr).toBe(isGcm ? 20 : 12);
      expect(ca.mode).toBe('tunnel');
      expect(ca.tsLocal.length).toBe(1);
      expect(ca.localAddr.address).toBe(ADDR_A);
      expect(cb.localAddr.address).toBe(ADDR_B);
      // Status shows one established SA with one child on each side.
      expect(p.a.status()[0].children.map((c) => c.tsLocal)).toEqual([['198.19.1.0/24']]);
      expect(p.b.status()[0].state).toBe('established');
    });
  }

  it('the first message is IKE_SA_INIT with SA, KE, Ni, NAT-D and fragmentation notifies', () => {
    const p = pskPair();
    p.a.initiate(0, 'gw');
    const d = p.a.pollTransmit()!;
    expect(d.remote).toEqual({ address: ADDR_B, port: 500 });
    const m = decodeMessage(d.data);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    expect(m.value.header.exchangeType).toBe(34);
    expect(m.value.header.messageId).toBe(0);
    const types = m.value.payloads.map((x) => (x.type === 41 && 'notifyType' in x ? `N${x.notifyType}` : String(x.type)));
    expect(types).toEqual(['33', '34', '40', 'N16388', 'N16389', 'N16430']);
  });

  it('transport mode is negotiated with USE_TRANSPORT_MODE', () => {
    const p = pskPair({}, {}, {}, { mode: 'transport', localTs: ['dynamic'], remoteTs: ['dynamic'] }, { mode: 'transport', localTs: ['dynamic'], remoteTs: ['dynamic'] });
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    const ca = p.of('a', 'child-up')[0];
    expect(ca.mode).toBe('transport');
    expect(p.of('b', 'child-up')[0].mode).toBe('transport');
    expect(p.a.status()[0].children[0].tsLocal).toEqual([`${ADDR_A}/32`]);
    expect(p.a.status()[0].children[0].tsRemote).toEqual([`${ADDR_B}/32`]);
  });

  it('forced encapsulation fakes NAT-D: both sides float to 4500 and report encap', () => {
    const p = pskPair({ encap: true });
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    const ca = p.of('a', 'child-up')[0];
    const cb = p.of('b', 'child-up')[0];
    expect(ca.encap).toBe(true);
    expect(cb.encap).toBe(true);
    expect(ca.localAddr.port).toBe(4500);
    expect(ca.remoteAddr.port).toBe(4500);
    expect(cb.localAddr.port).toBe(4500);
    // IKE_AUTH (Message ID 1) travelled on 4500.
    const auth = p.delivered.filter((d) => { const m = decodeMessage(d.data); return m.ok && m.value.header.exchangeType === 35; });
    expect(auth.length).toBe(2);
    expect(auth.every((d) => d.local.port === 4500 && d.remote.port === 4500)).toBe(true);
  });

  it('a real NAT in front of the initiator is detected and the responder follows the NAT port', () => {
    const p = pskPair({}, {}, { natA: true });
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    const ib = p.of('b', 'ike-up')[0];
    expect(ib.encap).toBe(true);
    expect(ib.remoteAddr.address).toBe('198.18.99.1');
    expect(ib.remoteAddr.port).toBe(14500);
    expect(p.of('a', 'child-up')[0].encap).toBe(true);
  });

  it('wrong PSK: AUTHENTICATION_FAILED, nothing left on either side', () => {
    const p = new Pair(
      { connections: [pskConn('a', { local: { auth: 'psk', id: 'a.ipx.test', psk: new TextEncoder().encode('not the same psk at all') } })] },
      { connections: [pskConn('b')] },
    );
    p.a.initiate(p.now, 'gw');
    p.runUntil(() => p.count('a', 'ike-down') > 0 && p.count('b', 'ike-down') > 0, 10_000);
    expect(p.of('a', 'ike-down')[0].reason).toBe('auth-failed');
    expect(p.of('b', 'ike-down')[0].reason).toBe('auth-failed');
    expect(p.count('a', 'child-up') + p.count('b', 'child-up') + p.count('a', 'ike-up') + p.count('b', 'ike-up')).toBe(0);
    p.run(300_000);
    expect(p.a.status()).toEqual([]);
    expect(p.b.status()).toEqual([]);
    expect(p.a.nextTimeout()).toBeUndefined();
    expect(p.b.counters.halfOpen).toBe(0);
  });

  it('the responder rejects the initiator after verifying: initiator notifies, both clean', () => {
    // A accepts only the identity "c.ipx.test" from B: A rejects B's (valid) AUTH.
    const p = pskPair({ remote: { auth: 'psk', id: 'c.ipx.test', psk: new TextEncoder().encode('sixteen byte psk, longer is better') } });
    p.a.initiate(p.now, 'gw');
    p.runUntil(() => p.count('a', 'ike-down') > 0 && p.count('b', 'ike-down') > 0, 10_000);
    expect(p.of('a', 'ike-down')[0].reason).toBe('auth-failed');
    expect(p.of('b', 'ike-down')[0].reason).toBe('auth-failed');
    // B briefly had the SA up; it went down again when A said AUTHENTICATION_FAILED.
    expect(p.b.status()).toEqual([]);
    expect(p.a.status()).toEqual([]);
  });

  it('NO_PROPOSAL_CHOSEN in IKE_SA_INIT ends the attempt; the responder keeps no state', () => {
    const p = pskPair({ proposals: ['aes256-sha512-ecp384'] }, { proposals: ['aes128-sha256-x25519'] });
    p.a.initiate(p.now, 'gw');
    p.runUntil(() => p.count('a', 'ike-down') > 0, 10_000);
    expect(p.of('a', 'ike-down')[0].reason).toBe('no-proposal');
    expect(p.b.status()).toEqual([]);
    expect(p.b.counters.halfOpen).toBe(0);
  });

  it('INVALID_KE_PAYLOAD: the initiator retries with the group the responder asks for', () => {
    const p = pskPair({ proposals: ['aes128-sha256-x25519-modp2048'] }, { proposals: ['aes128-sha256-modp2048'] });
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    expect(p.of('a', 'ike-up')[0].algorithms).toContain('MODP_2048');
    // Two IKE_SA_INIT requests reached B, the first answered statelessly.
    const inits = p.delivered.filter((d) => { const m = decodeMessage(d.data); return m.ok && m.value.header.exchangeType === 34 && (m.value.header.flags & 0x20) === 0; });
    expect(inits.length).toBe(2);
  });

  it('COOKIE: above the half-open threshold the responder demands a cookie; the initiator retries with it first', () => {
    const p = pskPair({}, {});
    const pb = new Pair({ connections: [pskConn('a')] }, { connections: [pskConn('b')], limits: { cookieThreshold: 0 } });
    void p;
    pb.a.initiate(pb.now, 'gw');
    expect(up(pb)).toBe(true);
    expect(pb.b.counters.cookiesSent).toBe(1);
    const inits = pb.delivered.filter((d) => { const m = decodeMessage(d.data); return m.ok && m.value.header.exchangeType === 34 && (m.value.header.flags & 0x20) === 0; });
    expect(inits.length).toBe(2);
    const second = decodeMessage(inits[1].data);
    expect(second.ok && second.value.payloads[0].type === 41 && 'notifyType' in second.value.payloads[0] && second.value.payloads[0].notifyType).toBe(16390);
  });

  it('TS_UNACCEPTABLE: the IKE SA stays up, the child fails on both sides', () => {
    const p = pskPair({}, {}, {}, {}, { remoteTs: ['10.99.0.0/16'] });
    p.a.initiate(p.now, 'gw');
    p.runUntil(() => p.count('a', 'child-failed') > 0, 10_000);
    expect(p.of('a', 'child-failed')[0].reason).toBe('TS_UNACCEPTABLE');
    expect(p.count('a', 'ike-up')).toBe(1);
    expect(p.count('b', 'ike-up')).toBe(1);
    expect(p.count('a', 'child-up')).toBe(0);
    expect(p.a.status()[0].state).toBe('established');
  });

  it('ESP NO_PROPOSAL_CHOSEN for the child keeps the IKE SA', () => {
    const p = pskPair({}, {}, {}, { espProposals: ['aes256gcm16'] }, { espProposals: ['aes128-sha256'] });
    p.a.initiate(p.now, 'gw');
    p.runUntil(() => p.count('a', 'child-failed') > 0, 10_000);
    expect(p.of('a', 'child-failed')[0].reason).toBe('NO_PROPOSAL_CHOSEN');
    expect(p.count('a', 'ike-up')).toBe(1);
  });

  it('narrowing: the responder answers with the intersection of proposal and config', () => {
    const p = pskPair({}, {}, {}, { localTs: ['198.19.0.0/16'], remoteTs: ['0.0.0.0/0'] }, { localTs: ['198.19.2.0/24[tcp]'], remoteTs: ['198.19.1.0/24'] });
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    const st = p.a.status()[0].children[0];
    expect(st.tsLocal).toEqual(['198.19.1.0/24']);
    expect(st.tsRemote).toEqual(['198.19.2.0/24[tcp]']);
  });
});
