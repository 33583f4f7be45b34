/** RFC 7383 fragmentation: encodeProtected splitting and FragmentReassembler. */
import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../../src/crypto/node.js';
import { FragmentReassembler, type FragmentResult } from '../../../../src/ike/fragments.js';
import { decodeMessage, encodeMessage, encodePayloadChain, type IkeMessage } from '../../../../src/ike/message.js';
import type { Payload } from '../../../../src/ike/payloads/types.js';
import { encodeProtected, SkCipher, type SkKeys } from '../../../../src/ike/sk.js';
import { hex, toHex } from '../../../vectors/load.js';

const hdr = { spiI: hex('0102030405060708'), spiR: hex('1112131415161718'), majorVersion: 2, minorVersion: 0, exchangeType: 35, flags: 0x08, messageId: 1 };
const gcmKeys: SkKeys = { kind: 'aead', aead: 'aes-gcm-16', key: hex('000102030405060708090a0b0c0d0e0f'), salt: hex('a0a1a2a3') };
const cbcKeys: SkKeys = { kind: 'cbc', key: new Uint8Array(16).fill(7), integ: 'hmac-sha256-128', integKey: new Uint8Array(32).fill(9) };
const chachaKeys: SkKeys = { kind: 'aead', aead: 'chacha20-poly1305', key: new Uint8Array(32).fill(1), salt: hex('01020304') };

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
/** A large IKE_AUTH request: HDR, SK {IDi, CERT, AUTH, SAi2, TSi, TSr}. */
const inner: Payload[] = [
  { type: 35, critical: false, idType: 2, data: new TextEncoder().encode('a.ipx.test') },
  { type: 37, critical: false, encoding: 4, data: pattern(3000) },
  { type: 39, critical: false, method: 14, data: pattern(400) },
  { type: 33, critical: false, proposals: [{ number: 1, protocolId: 3, spi: hex('c0ffee01'), transforms: [{ type: 1, id: 20, keyLength: 256 }] }] },
  { type: 44, critical: false, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: hex('c6130101'), endAddress: hex('c6130101') }] },
  { type: 45, critical: false, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: hex('c6130201'), endAddress: hex('c6130201') }] },
];

let ivCounter = 0;
const ivs = (n: number) => {
  const iv = new Uint8Array(n);
  new DataView(iv.buffer).setUint32(n - 4, ++ivCounter);
  return iv;
};

function decoded(raw: Uint8Array): IkeMessage {
  const m = decodeMessage(raw);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

function feed(r: FragmentReassembler, raws: Uint8Array[], cipher: SkCipher): FragmentResult[] {
  return raws.map((raw) => r.add(raw, decoded(raw), cipher));
}

describe.each([
  ['aes-gcm-16', gcmKeys],
  ['aes-cbc + hmac-sha256-128', cbcKeys],
  ['chacha20-poly1305', chachaKeys],
] as const)('fragmentation round trip (%s)', (_name, keys) => {
  const tx = new SkCipher(nodeCrypto, keys);
  const rx = new SkCipher(nobleCrypto, keys);

  for (const size of [576, 1280]) {
    it(`splits at fragmentSize ${size}: each datagram fits, fragment 1 names IDi, the rest 0`, () => {
      const frags = encodeProtected(hdr, inner, tx, ivs, { fragmentSize: size });
      const innerLength = encodePayloadChain(inner).bytes.length;
      expect(frags.length).toBeGreaterThanOrEqual(Math.ceil(innerLength / size));
      frags.forEach((f, i) => {
        expect(f.length).toBeLessThanOrEqual(size);
        const m = decoded(f);
        expect(m.header.nextPayload).toBe(53);
        expect(m.header.messageId).toBe(1);
        expect(m.payloads).toHaveLength(1);
        expect(m.payloads[0]).toMatchObject({ type: 53, fragmentNumber: i + 1, totalFragments: frags.length, innerType: i === 0 ? 35 : 0 });
      });
      // all but the last fragment are filled to within one cipher block of the limit
      for (const f of frags.slice(0, -1)) expect(f.length).toBeGreaterThan(size - 16);
    });
  }

  it('reassembles in any order with duplicates, completing exactly on the last missing fragment', () => {
    const frags = encodeProtected(hdr, inner, tx, ivs, { fragmentSize: 576 });
    fc.assert(
      fc.property(fc.shuffledSubarray(frags.map((_, i) => i), { minLength: frags.length, maxLength: frags.length }), fc.array(fc.nat(frags.length - 1), { maxLength: 6 }), (order, dups) => {
        const r = new FragmentReassembler();
        const sequence = [...order];
        for (const d of dups) sequence.splice(Math.min(d + 1, sequence.length - 1), 0, sequence[Math.min(d, sequence.length - 1)]!);
        const seen = new Set<number>();
        let done: FragmentResult | undefined;
        for (const idx of sequence) {
          const res = r.add(frags[idx]!, decoded(frags[idx]!), rx);
          seen.add(idx);
          if (res.status === 'complete') {
            expect(seen.size).toBe(frags.length);
            done = res;
            break;
          }
          expect(res.status).toBe('incomplete');
        }
        expect(done).toEqual({ status: 'complete', payloads: inner, firstType: 35 });
        expect(r.pending).toBe(0);
      }),
      { numRuns: 50 },
    );
  });
});

describe('fragments on the wire', () => {
  it('the AAD covers IKE header ‖ SKF header ‖ Fragment Number ‖ Total Fragments (RFC 7383 §2.5), checked with node:crypto', () => {
    const frags = encodeProtected(hdr, inner, new SkCipher(nodeCrypto, gcmKeys), ivs, { fragmentSize: 1280 });
    const f = frags[1]!;
    const iv = f.subarray(36, 44);
    const d = createDecipheriv('aes-128-gcm', gcmKeys.key, Buffer.concat([gcmKeys.salt, iv]), { authTagLength: 16 });
    d.setAAD(f.subarray(0, 36));
    d.setAuthTag(f.subarray(f.length - 16));
    const plain = Buffer.concat([d.update(f.subarray(44, f.length - 16)), d.final()]);
    expect(plain[plain.length - 1]).toBe(0); // pad length
    expect(toHex(f.subarray(32, 36))).toBe('0002' + frags.length.toString(16).padStart(4, '0'));
  });

  it('a message that fits is sent as a single SK payload even with fragmentSize', () => {
    const small = encodeProtected(hdr, inner.slice(0, 1), new SkCipher(nodeCrypto, gcmKeys), ivs, { fragmentSize: 1280 });
    expect(small).toHaveLength(1);
    expect(small[0]![16]).toBe(46);
  });

  it('throws when the fragment size leaves no room (configuration error)', () => {
    expect(() => encodeProtected(hdr, inner, new SkCipher(nodeCrypto, cbcKeys), ivs, { fragmentSize: 80 })).toThrow(/fragmentSize/);
  });
});

describe('FragmentReassembler errors and limits', () => {
  const c = new SkCipher(nodeCrypto, gcmKeys);
  const frags576 = encodeProtected(hdr, inner, c, ivs, { fragmentSize: 576 });
  const frags1280 = encodeProtected(hdr, inner, c, ivs, { fragmentSize: 1280 });

  /** A correctly sealed single fragment with arbitrary numbers. */
  function forged(n: number, total: number): Uint8Array {
    const body = c.seal(new Uint8Array(0), new Uint8Array(4), ivs(8)); // wrong AAD: but numbers are checked first
    return encodeMessage({ ...hdr, messageId: 7 }, [{ type: 53, critical: false, innerType: 0, fragmentNumber: n, totalFragments: total, body }]);
  }

  it('bad-fragment: number 0, number > total, total 0 (before any decryption)', () => {
    const r = new FragmentReassembler();
    for (const [n, t] of [[0, 2], [3, 2], [0, 0]] as const) {
      const raw = forged(n, t);
      expect(r.add(raw, decoded(raw), c)).toMatchObject({ status: 'error', error: { code: 'bad-fragment' } });
    }
    expect(r.stats.badFragments).toBe(3);
    expect(r.stats.icvFailures).toBe(0);
  });

  it('icv: a tampered fragment is rejected and not stored', () => {
    const r = new FragmentReassembler();
    const bad = frags576[0]!.slice();
    bad[bad.length - 20]! ^= 0x80;
    const res = r.add(bad, decoded(bad), c);
    expect(res).toMatchObject({ status: 'error', error: { code: 'icv' } });
    expect(res.status === 'error' && res.error.notify).toBeUndefined();
    expect(r.pending).toBe(0);
    expect(r.stats.icvFailures).toBe(1);
    // the real one still completes the message afterwards
    const out = feed(r, frags576, c);
    expect(out[out.length - 1]).toMatchObject({ status: 'complete' });
  });

  it('fragment-limit: more fragments than maxFragments', () => {
    const r = new FragmentReassembler({ maxFragments: frags576.length - 1 });
    expect(r.add(frags576[0]!, decoded(frags576[0]!), c)).toMatchObject({ status: 'error', error: { code: 'fragment-limit' } });
    expect(r.stats.limitHits).toBe(1);
  });

  it('fragment-limit: reassembled bytes beyond maxBytes drop the whole message', () => {
    const r = new FragmentReassembler({ maxBytes: 1000 });
    const out = feed(r, frags576, c);
    expect(out.some((x) => x.status === 'error' && x.error.code === 'fragment-limit')).toBe(true);
    expect(out.every((x) => x.status !== 'complete')).toBe(true);
  });

  it('maxMessages: the oldest partial message is evicted', () => {
    const r = new FragmentReassembler({ maxMessages: 2 });
    for (const id of [1, 2, 3]) {
      const fs = encodeProtected({ ...hdr, messageId: id }, inner, c, ivs, { fragmentSize: 576 });
      expect(r.add(fs[0]!, decoded(fs[0]!), c).status).toBe('incomplete');
    }
    expect(r.pending).toBe(2);
    expect(r.stats.evictions).toBe(1);
    r.discard(2, false);
    expect(r.pending).toBe(1);
    r.clear();
    expect(r.pending).toBe(0);
  });

  it('a larger Total Fragments restarts reassembly; a smaller one is rejected', () => {
    expect(frags576.length).toBeGreaterThan(frags1280.length);
    const r = new FragmentReassembler();
    expect(r.add(frags1280[0]!, decoded(frags1280[0]!), c).status).toBe('incomplete');
    const out = feed(r, frags576, c);
    expect(r.stats.restarts).toBe(1);
    expect(out[out.length - 1]).toEqual({ status: 'complete', payloads: inner, firstType: 35 });

    const r2 = new FragmentReassembler();
    expect(r2.add(frags576[0]!, decoded(frags576[0]!), c).status).toBe('incomplete');
    expect(r2.add(frags1280[1]!, decoded(frags1280[1]!), c)).toMatchObject({ status: 'error', error: { code: 'bad-fragment' } });
  });

  it('requests and responses with the same Message ID are kept apart', () => {
    const r = new FragmentReassembler();
    const resp = encodeProtected({ ...hdr, flags: 0x20 }, inner, c, ivs, { fragmentSize: 1280 });
    expect(r.add(frags1280[0]!, decoded(frags1280[0]!), c).status).toBe('incomplete');
    const out = feed(r, resp, c);
    expect(out[out.length - 1]).toMatchObject({ status: 'complete' });
    expect(r.pending).toBe(1);
  });

  it('missing-sk: a message without SKF', () => {
    const raw = encodeProtected(hdr, inner.slice(0, 1), c, ivs)[0]!;
    expect(new FragmentReassembler().add(raw, decoded(raw), c)).toMatchObject({ status: 'error', error: { code: 'missing-sk' } });
  });

  it('never throws on junk SKF bodies and numbers', () => {
    const r = new FragmentReassembler();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 100 }), (id, n, t, body) => {
        const raw = encodeMessage({ ...hdr, messageId: id }, [{ type: 53, critical: false, innerType: 35, fragmentNumber: n, totalFragments: t, body }]);
        const res = r.add(raw, decoded(raw), c);
        expect(res.status).toBe('error');
      }),
      { numRuns: 2000 },
    );
    expect(r.pending).toBe(0);
  });

  it('rejects nonsensical limits at construction', () => {
    expect(() => new FragmentReassembler({ maxFragments: 0 })).toThrow(/maxFragments/);
  });
});
