/**
 * Round-trip property: every cipher × mode × ESN × provider (and across providers), random payloads
 * and sequence numbers (incl. the 2^32 boundary with ESN). Each sealed packet is also checked by an
 * independent decryption with node:crypto written here from the RFCs (not by the code under test).
 */
import { createDecipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Drop } from '../../../src/esp/drop.js';
import { openWithSa, OpenResult } from '../../../src/esp/open.js';
import { espAlgorithmInfo, type EspAlgorithm } from '../../../src/esp/sa.js';
import { espSeal } from '../../../src/esp/seal.js';
import { ALGORITHMS, algName, ipv4Packet, makePair, PROVIDERS, type Keys } from './helpers.js';

const TWO32 = 1n << 32n;

/** RFC 4106 / 7634 / 3602+4868 decryption of `pkt` by hand; returns the plaintext incl. trailer. */
function independentOpen(alg: EspAlgorithm, keys: Keys, pkt: Uint8Array, esn: boolean, seqHi: number): Uint8Array {
  const info = espAlgorithmInfo(alg);
  const b = Buffer.from(pkt);
  const spiSeq = b.subarray(0, 8);
  const hiBuf = Buffer.alloc(4);
  hiBuf.writeUInt32BE(seqHi);
  if (info.aead) {
    const key = Buffer.from(keys.encKey.subarray(0, info.keyLength));
    const salt = Buffer.from(keys.encKey.subarray(info.keyLength));
    const iv = b.subarray(8, 16);
    const nonce = Buffer.concat([salt, iv]);
    const aad = esn ? Buffer.concat([b.subarray(0, 4), hiBuf, b.subarray(4, 8)]) : spiSeq;
    const algo = alg.encr === 'chacha20-poly1305' ? 'chacha20-poly1305' : `aes-${info.keyLength * 8}-gcm`;
    const d = createDecipheriv(algo as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(b.subarray(b.length - 16));
    const pt = Buffer.concat([d.update(b.subarray(16, b.length - 16)), d.final()]);
    // IV = the 64-bit sequence number (RFC 4106 §3.1 "a counter"; DESIGN.md §4).
    expect(iv.readUInt32BE(0)).toBe(seqHi);
    expect(iv.readUInt32BE(4)).toBe(b.readUInt32BE(4));
    return pt;
  }
  const icvLen = info.icvLength;
  const hash = alg.integ === 'hmac-sha256-128' ? 'sha256' : alg.integ === 'hmac-sha384-192' ? 'sha384' : 'sha512';
  const h = createHmac(hash, Buffer.from(keys.integKey!));
  h.update(b.subarray(0, b.length - icvLen));
  if (esn) h.update(hiBuf); // RFC 4303 §2.2.1: seq_hi appended for the ICV only
  expect(h.digest().subarray(0, icvLen).toString('hex')).toBe(b.subarray(b.length - icvLen).toString('hex'));
  const d = createDecipheriv(`aes-${info.keyLength * 8}-cbc`, Buffer.from(keys.encKey), b.subarray(8, 24));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(b.subarray(24, b.length - icvLen)), d.final()]);
}

const seqLoArb = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.integer({ min: 0xffffff00, max: 0xffffffff }),
  fc.integer({ min: 0, max: 300 }),
);

describe('ESP seal → open round trip (fast-check)', () => {
  for (const alg of ALGORITHMS) {
    for (const mode of ['tunnel', 'transport'] as const) {
      for (const esn of [false, true]) {
        for (const provider of PROVIDERS) {
          it(`${algName(alg)} ${mode} esn=${esn} sealed by ${provider.name}`, () => {
            const other = PROVIDERS.find((p) => p !== provider)!;
            fc.assert(
              fc.property(
                fc.integer({ min: 0, max: 400 }),
                fc.uint8Array({ minLength: 0, maxLength: 400 }),
                fc.integer({ min: 0, max: 0xffffffff }),
                seqLoArb,
                fc.integer({ min: -127, max: 5000 }),
                fc.boolean(),
                (bodyLen, bytes, hiRand, lo, ahead, cross) => {
                  const hi = esn ? hiRand : 0;
                  const seq = (BigInt(hi) << 32n) | BigInt(lo);
                  if (seq === 0n) return; // sequence number 0 is never sent
                  // Receiver's top: `ahead` packets before this one (negative: this one is older but in window).
                  let top = seq - BigInt(ahead === 0 ? 1 : ahead);
                  if (top < 0n) top = 0n;
                  if (!esn && top >= TWO32) return;
                  if (top >= TWO32 * TWO32) return; // the receiver cannot be past 2^64 − 1
                  const { out, in: inb, keys } = makePair(alg, provider, { mode, esn, inProvider: cross ? other : provider, replayWindow: 128 });
                  out.setOutboundSeq(Number((seq - 1n) >> 32n), Number((seq - 1n) & 0xffffffffn));
                  inb.replay!.reset(Number(top >> 32n), Number(top & 0xffffffffn));
                  let payload: Uint8Array;
                  let nh: number;
                  if (mode === 'tunnel') {
                    payload = ipv4Packet('198.18.0.1', '198.18.1.1', 17, bodyLen);
                    nh = 4;
                  } else {
                    payload = bytes;
                    nh = 17;
                  }
                  const head = out.headerLength;
                  const buf = new Uint8Array(head + payload.length + 64);
                  buf.set(payload, head);
                  const n = espSeal(out, buf, head, head + payload.length, nh);
                  expect(n).toBeGreaterThan(0);
                  const pkt = buf.slice(0, n);
                  // Independent check of the wire format.
                  const pt = independentOpen(alg, keys, pkt, esn, hi);
                  const padLen = pt[pt.length - 2]!;
                  expect(pt[pt.length - 1]).toBe(nh);
                  expect(Buffer.from(pt.subarray(0, pt.length - 2 - padLen)).equals(Buffer.from(payload))).toBe(true);
                  expect(pt.length % espAlgorithmInfo(alg).padAlign).toBe(0);
                  expect(padLen).toBeLessThan(espAlgorithmInfo(alg).padAlign);
                  // And through espOpen.
                  const res = new OpenResult();
                  const inBuf = pkt.slice();
                  const d = openWithSa(inb, inBuf, res, -1);
                  expect(d).toBe(Drop.ok); // |ahead| ≤ 127 < window 128 when behind
                  expect([res.seqHi, res.seqLo]).toEqual([hi, lo]);
                  expect(res.nextHeader).toBe(nh);
                  expect(Buffer.from(inBuf.subarray(res.payloadStart, res.payloadEnd)).equals(Buffer.from(payload))).toBe(true);
                },
              ),
              { numRuns: 25 },
            );
          });
        }
      }
    }
  }

  it('ESN: consecutive packets across the 2^32 boundary are inferred and accepted in order and out of order', () => {
    for (const provider of PROVIDERS) {
      const { out, in: inb } = makePair({ encr: 'aes-gcm-16', keyBits: 128 }, provider, { esn: true, mode: 'transport', replayWindow: 64 });
      out.setOutboundSeq(6, 0xfffffffc);
      inb.replay!.reset(6, 0xfffffff0);
      const pkts: Uint8Array[] = [];
      for (let i = 0; i < 8; i++) {
        const buf = new Uint8Array(16 + 10 + 64);
        const n = espSeal(out, buf, 16, 26, 17);
        pkts.push(buf.slice(0, n));
      }
      expect([out.seqHi, out.seqLo]).toEqual([7, 4]);
      const res = new OpenResult();
      // Deliver 0xfffffffd, then 7:2 (ahead, across the boundary), then the rest out of order.
      const order = [0, 5, 1, 2, 3, 4, 7, 6];
      const seen: Array<[number, number]> = [];
      for (const i of order) {
        expect(openWithSa(inb, pkts[i]!.slice(), res, -1)).toBe(Drop.ok);
        seen.push([res.seqHi, res.seqLo]);
      }
      expect(seen).toEqual([[6, 0xfffffffd], [7, 2], [6, 0xfffffffe], [6, 0xffffffff], [7, 0], [7, 1], [7, 4], [7, 3]]);
      for (const p of pkts) expect(openWithSa(inb, p.slice(), res, -1)).toBe(Drop.replay);
    }
  });

  it('the per-SA view cache stays correct when buffers and bounds repeat, change and alternate', () => {
    for (const alg of [ALGORITHMS[0]!, ALGORITHMS[4]!]) {
      for (const provider of PROVIDERS) {
        const { out, in: inb, keys } = makePair(alg, provider, { mode: 'transport' });
        const tx = [new Uint8Array(300), new Uint8Array(300)];
        const rx = new Map<number, Uint8Array>(); // one reused receive buffer per packet length
        const res = new OpenResult();
        const plan: Array<[number, number, number]> = [[0, 32, 10], [0, 32, 10], [0, 32, 11], [1, 32, 11], [0, 40, 11], [0, 32, 10], [1, 32, 100], [1, 32, 100]];
        plan.forEach(([which, start, len], i) => {
          const buf = tx[which]!;
          const payload = Uint8Array.from({ length: len }, (_, x) => (x * 31 + i) & 0xff);
          buf.set(payload, start);
          const n = espSeal(out, buf, start, start + len, 17);
          const pktStart = start - out.headerLength;
          const wire = buf.slice(pktStart, pktStart + n);
          const pt = independentOpen(alg, keys, wire, false, 0);
          expect(Buffer.from(pt.subarray(0, len)).equals(Buffer.from(payload))).toBe(true);
          let r = rx.get(n);
          if (r === undefined) rx.set(n, (r = new Uint8Array(n)));
          r.set(wire);
          expect(openWithSa(inb, r, res, -1)).toBe(Drop.ok);
          expect(Buffer.from(r.subarray(res.payloadStart, res.payloadEnd)).equals(Buffer.from(payload))).toBe(true);
        });
      }
    }
  });
});
