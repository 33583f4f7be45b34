/**
 * Key material is zeroed when an SA is deleted (best effort in JS; SECURITY.md lists what is not):
 * the SK_* keys, nonces and DH private values of an IKE SA, the KEYMAT and nonces of a child SA,
 * and the salt/scratch of an ESP SA, whose cipher objects are dropped so it can no longer be used.
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { Drop } from '../../../src/esp/drop.js';
import { espOpen, OpenResult } from '../../../src/esp/open.js';
import { createEspSa } from '../../../src/esp/sa.js';
import { Sad } from '../../../src/esp/sad.js';
import { espSeal, espTailroom } from '../../../src/esp/seal.js';
import type { ChildSa } from '../../../src/ike/child-sa.js';
import type { IkeSa } from '../../../src/ike/ike-sa.js';
import type { IkeEndpoint } from '../../../src/ike/endpoint.js';
import { pskPair } from '../../exchange/harness.js';
import { establish } from './helpers.js';
import { DataPath } from '../../../src/runtime/datapath.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';

function sasOf(ep: IkeEndpoint): IkeSa[] {
  return [...new Set((ep as unknown as { sas: Map<string, IkeSa> }).sas.values())];
}

const allZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
const nonZero = (b: Uint8Array): boolean => b.length > 0 && b.some((x) => x !== 0);

/** The IKE keys wiped on delete: all seven SK_* (exportIkeKeys hands out copies). */
function ikeBuffers(sa: IkeSa): Uint8Array[] {
  const k = sa.crypto!.keys;
  return [k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr].filter((b) => b.length > 0);
}

function childBuffers(c: ChildSa): Uint8Array[] {
  return [c.keys.encrIn, c.keys.encrOut, c.nonceI, c.nonceR, ...[c.keys.integIn, c.keys.integOut].filter((b) => b.length > 0)];
}

describe('key material is zeroed on delete', () => {
  it('child SA KEYMAT and nonces after a rekey replaced it; IKE SA keys and the remaining child after the IKE delete', () => {
    const p = pskPair({}, {}, {}, { espProposals: ['aes256-sha256'] }, { espProposals: ['aes256-sha256'] });
    establish(p);
    p.run(100);
    const saA = sasOf(p.a)[0]!;
    const saB = sasOf(p.b)[0]!;
    const ikeA = ikeBuffers(saA);
    const ikeB = ikeBuffers(saB);
    for (const b of [...ikeA, ...ikeB]) expect(nonZero(b)).toBe(true);
    const first = saA.children[0]!;
    const firstB = saB.children[0]!;
    const firstBufs = [...childBuffers(first), ...childBuffers(firstB)];
    expect(firstBufs.length).toBe(12); // encr, integ both ways + 2 nonces, per side
    for (const b of firstBufs) expect(nonZero(b)).toBe(true);
    // The runtime's child-up carries the same arrays: zeroing the engine's copy zeroes its copy too.
    expect(p.of('a', 'child-up')[0]!.keys.encrIn).toBe(first.keys.encrIn);

    p.a.rekeyChild(p.now, first.spiIn);
    expect(p.runUntil(() => p.count('a', 'child-down') > 0 && p.count('b', 'child-down') > 0, 10_000)).toBe(true);
    for (const b of firstBufs) expect(allZero(b)).toBe(true);
    const second = saA.children[0]!;
    expect(second).not.toBe(first);
    const secondBufs = [...childBuffers(second), ...childBuffers(saB.children[0]!)];
    for (const b of secondBufs) expect(nonZero(b)).toBe(true);
    // The IKE SA is untouched by a child delete.
    for (const b of [...ikeA, ...ikeB]) expect(nonZero(b)).toBe(true);

    // What the key log got is a copy: it survives the wipe.
    const exported = p.a.exportIkeKeys(saA.ikeId)!;
    expect(exported.skEi).not.toBe(saA.crypto!.keys.skEi);
    expect(exported.skEi).toEqual(saA.crypto!.keys.skEi);

    p.a.terminateIke(p.now, saA.ikeId);
    expect(p.runUntil(() => p.count('a', 'ike-down') > 0 && p.count('b', 'ike-down') > 0, 10_000)).toBe(true);
    expect(ikeA.length).toBe(7);
    for (const b of [...ikeA, ...ikeB, ...secondBufs]) expect(allZero(b)).toBe(true);
    for (const b of [exported.skEi, exported.skEr]) expect(nonZero(b)).toBe(true);
    expect(saA.crypto).toBeUndefined();
    expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
  });

  it('the replaced IKE SA keys after an IKE rekey, not the new ones', () => {
    const p = pskPair();
    establish(p);
    p.run(100);
    const old = sasOf(p.a)[0]!;
    const oldBufs = ikeBuffers(old).filter((b) => b.length > 0);
    p.a.rekeyIke(p.now, old.ikeId);
    expect(p.runUntil(() => p.count('a', 'ike-rekeyed') > 0 && p.count('b', 'ike-rekeyed') > 0, 10_000)).toBe(true);
    p.run(2000);
    const now = sasOf(p.a).filter((s) => s.crypto !== undefined);
    expect(now.length).toBe(1);
    expect(now[0]).not.toBe(old);
    for (const b of oldBufs) expect(allZero(b)).toBe(true);
    for (const b of ikeBuffers(now[0]!).filter((x) => x.length > 0)) expect(nonZero(b)).toBe(true);
    // The children moved to the new SA keep their keys (and still rekey).
    const c = now[0]!.children[0]!;
    for (const b of childBuffers(c)) expect(nonZero(b)).toBe(true);
    const n = p.count('a', 'child-rekeyed');
    p.a.rekeyChild(p.now, c.spiIn);
    expect(p.runUntil(() => p.count('a', 'child-rekeyed') > n, 10_000)).toBe(true);
  });

  it('the DH private value and nonce of an IKE_SA_INIT that never got an answer', () => {
    const p = pskPair();
    p.a.initiate(p.now, 'gw');
    const sa = sasOf(p.a)[0]!;
    const ph = sa.phase;
    if (ph.name !== 'init-sent') throw new Error(`expected init-sent, got ${ph.name}`);
    const priv = ph.dh.privateKey;
    const nonce = ph.nonceI;
    expect(nonZero(priv)).toBe(true);
    expect(nonZero(nonce)).toBe(true);
    sa.die(p.now, 'local');
    expect(allZero(priv)).toBe(true);
    expect(allZero(nonce)).toBe(true);
  });

  it('an ESP SA removed from the SAD: salt zeroed, ciphers dropped, packets refused (not decrypted)', () => {
    // AES-128-GCM KEYMAT = key ‖ salt (RFC 4106 §8.1).
    const encKey = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    const params = { spi: 0x4242, algorithm: { encr: 'aes-gcm-16', keyBits: 128 } as const, encKey, provider: nodeCrypto, mode: 'transport' as const };
    const out = createEspSa({ ...params, direction: 'out' });
    const inSa = createEspSa({ ...params, direction: 'in' });
    const sad = new Sad();
    sad.add(inSa);
    const payload = Uint8Array.of(0x0f, 0xa0, 0x01, 0xf4, 0, 8, 0, 0);
    const buf = new Uint8Array(out.headerLength + payload.length + espTailroom(out, payload.length));
    buf.set(payload, out.headerLength);
    const n = espSeal(out, buf, out.headerLength, out.headerLength + payload.length, 17);
    expect(n).toBeGreaterThan(0);
    const pkt = buf.slice(0, n);
    // Independent check that the packet really is AES-GCM under that key (so "refused" below means the wipe).
    const iv = pkt.subarray(8, 16);
    const c = createCipheriv('aes-128-gcm', encKey.subarray(0, 16), Buffer.concat([encKey.subarray(16), iv]));
    c.setAAD(pkt.subarray(0, 8));
    const plain = c.update(pkt.subarray(16, n - 16));
    expect([...plain.subarray(0, 8)]).toEqual([...payload]);

    expect(nonZero(inSa.nonce.subarray(0, 4))).toBe(true); // the salt
    expect(sad.remove(0x4242)).toBe(true);
    expect(allZero(inSa.nonce)).toBe(true);
    expect(allZero(inSa.aad)).toBe(true);
    expect(inSa.aead).toBeNull();
    expect(inSa.viewBuf).toBeNull();
    // Put back by mistake, it refuses the packet before any cipher is touched.
    sad.add(inSa);
    expect(espOpen(sad, pkt.slice(), new OpenResult())).toBe(Drop.lifetimeExpired);

    out.wipe();
    expect(allZero(out.nonce)).toBe(true);
    const buf2 = new Uint8Array(buf.length);
    buf2.set(payload, out.headerLength);
    expect(espSeal(out, buf2, out.headerLength, out.headerLength + payload.length, 17)).toBeLessThan(0);
    // Nothing was encrypted into the buffer: the payload is still the plaintext, no ciphertext written.
    expect([...buf2.subarray(out.headerLength, out.headerLength + payload.length)]).toEqual([...payload]);
  });

  it('Sad.replace wipes the SA it replaces', () => {
    const mk = (): ReturnType<typeof createEspSa> =>
      createEspSa({ direction: 'in', spi: 0x5151, algorithm: { encr: 'chacha20-poly1305' }, encKey: new Uint8Array(36).fill(9), provider: nodeCrypto, mode: 'tunnel' });
    const a = mk();
    const b = mk();
    const sad = new Sad();
    sad.add(a);
    sad.replace(b);
    expect(allZero(a.nonce)).toBe(true);
    expect(a.aead).toBeNull();
    expect(b.aead).not.toBeNull();
    expect(nonZero(b.nonce.subarray(0, 4))).toBe(true);
  });

  it('DataPath.remove wipes the outbound ESP SA too (salt zeroed, cipher dropped), not only the inbound one', () => {
    const p = pskPair();
    establish(p);
    const info = p.of('a', 'child-up')[0]!;
    const dp = new DataPath(nodeCrypto, seededRandom(5));
    const c = dp.install(info, 0);
    expect(nonZero(c.outSa.nonce.subarray(0, 4))).toBe(true);
    expect(c.outSa.aead).not.toBeNull();
    dp.remove(info.spiIn);
    for (const sa of [c.outSa, c.inSa]) {
      expect(allZero(sa.nonce)).toBe(true);
      expect(sa.aead).toBeNull();
    }
  });
});
