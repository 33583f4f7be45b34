/** One-shot seal/open API (checking packets by hand). */
import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import { Drop } from '../../../src/esp/drop.js';
import { openEspPacket, sealEspPacket } from '../../../src/esp/packet.js';
import { PROVIDERS } from './helpers.js';

const CBC = { encr: 'aes-cbc', keyBits: 128, integ: 'hmac-sha256-128' } as const;
const encKey = new Uint8Array(16).map((_, i) => i);
const integKey = new Uint8Array(32).map((_, i) => 0x40 + i);
const iv = new Uint8Array(16).map((_, i) => 0xa0 + i);

/** RFC 3602 + RFC 4868 + RFC 4303 §2.2.1 ESN packet built independently with node:crypto. */
function cbcByHand(spi: number, seqHi: number, seqLo: number, payload: Uint8Array, nh: number): Buffer {
  const pad = (16 - ((payload.length + 2) % 16)) % 16;
  const pt = Buffer.concat([Buffer.from(payload), Buffer.from(Array.from({ length: pad }, (_, i) => i + 1)), Buffer.from([pad, nh])]);
  const c = createCipheriv('aes-128-cbc', encKey, iv);
  c.setAutoPadding(false);
  const ct = Buffer.concat([c.update(pt), c.final()]);
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32BE(spi, 0);
  hdr.writeUInt32BE(seqLo, 4);
  const hi = Buffer.alloc(4);
  hi.writeUInt32BE(seqHi);
  const body = Buffer.concat([hdr, Buffer.from(iv), ct]);
  const icv = createHmac('sha256', integKey).update(body).update(hi).digest().subarray(0, 16);
  return Buffer.concat([body, icv]);
}

describe('sealEspPacket / openEspPacket', () => {
  for (const provider of PROVIDERS) {
    it(`AES-CBC + HMAC-SHA-256-128 with ESN matches an independent construction [${provider.name}]`, () => {
      const payload = Uint8Array.from(Buffer.from('hello, esp transport'));
      const pkt = sealEspPacket({ algorithm: CBC, encKey, integKey, spi: 0xabcdef01, provider, esn: true, seqHi: 2, seqLo: 9, iv, payload, nextHeader: 17 });
      expect(Buffer.from(pkt).toString('hex')).toBe(cbcByHand(0xabcdef01, 2, 9, payload, 17).toString('hex'));
      // Inferred high bits from the replay state…
      const r = openEspPacket({ algorithm: CBC, encKey, integKey, spi: 0xabcdef01, provider, esn: true, replayTop: { hi: 2, lo: 5 }, packet: pkt });
      expect(r.drop).toBe(Drop.ok);
      expect(Buffer.from(r.payload!).toString()).toBe('hello, esp transport');
      expect([r.seqHi, r.seqLo, r.nextHeader]).toEqual([2, 9, 17]);
      // …or, from a fresh window, hi = 0 is inferred and the ICV (which covers seq_hi) fails.
      expect(openEspPacket({ algorithm: CBC, encKey, integKey, spi: 0xabcdef01, provider, esn: true, packet: pkt }).drop).toBe(Drop.icv);
      // A window already past it: replay.
      expect(openEspPacket({ algorithm: CBC, encKey, integKey, spi: 0xabcdef01, provider, esn: true, replayTop: { hi: 2, lo: 9 }, packet: pkt }).dropName).toBe('replay');
      // Wrong SPI given by hand.
      expect(openEspPacket({ algorithm: CBC, encKey, integKey, spi: 0xabcdef02, provider, esn: true, seqHi: 2, packet: pkt }).drop).toBe(Drop.unknownSpi);
    });
  }

  it('draws CBC IVs from rng and rejects bad parameters naming the field', () => {
    const provider = PROVIDERS[0]!;
    const a = sealEspPacket({ algorithm: CBC, encKey, integKey, spi: 0x1000, provider, seqLo: 1, payload: new Uint8Array(3), nextHeader: 17, rng: seededRandom(1) });
    const b = sealEspPacket({ algorithm: CBC, encKey, integKey, spi: 0x1000, provider, seqLo: 1, payload: new Uint8Array(3), nextHeader: 17, rng: seededRandom(2) });
    expect(Buffer.from(a.subarray(8, 24)).equals(Buffer.from(b.subarray(8, 24)))).toBe(false);
    expect(() => sealEspPacket({ algorithm: CBC, encKey, integKey, spi: 0x1000, provider, seqLo: 1, payload: new Uint8Array(3), nextHeader: 17 })).toThrow(/rng/);
    expect(() => sealEspPacket({ algorithm: CBC, encKey, integKey, spi: 0x1000, provider, seqLo: 0, payload: new Uint8Array(3), nextHeader: 17, iv })).toThrow(/^seqLo/);
    expect(() => sealEspPacket({ algorithm: CBC, encKey, integKey, spi: 0x1000, provider, seqHi: 1, seqLo: 1, payload: new Uint8Array(3), nextHeader: 17, iv })).toThrow(/^seqHi/);
    expect(() => sealEspPacket({ algorithm: CBC, encKey, integKey, spi: 0x1000, provider, seqLo: 1, payload: new Uint8Array(3), nextHeader: 17, iv: new Uint8Array(8) })).toThrow(/iv length/);
    expect(() => openEspPacket({ algorithm: CBC, encKey, integKey, spi: 0x1000, provider, packet: a, esn: true, seqHi: -1 })).toThrow(/^seqHi/);
  });
});
