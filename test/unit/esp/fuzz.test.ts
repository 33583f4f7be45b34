/** espOpen is total: arbitrary bytes and bit-flipped valid packets never throw and return a code in range. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Drop, DROP_COUNT } from '../../../src/esp/drop.js';
import { espOpen, OpenResult } from '../../../src/esp/open.js';
import { Sad } from '../../../src/esp/sad.js';
import { espSeal } from '../../../src/esp/seal.js';
import { ALGORITHMS, algName, ipv4Packet, makePair, PROVIDERS } from './helpers.js';

describe('espOpen never throws', () => {
  for (const provider of PROVIDERS) {
    for (const alg of ALGORITHMS.filter((_, i) => i === 0 || i === 3 || i === 4 || i === 9)) {
      for (const esn of [false, true]) {
        it(`arbitrary bytes and bit flips: ${algName(alg)} esn=${esn} [${provider.name}]`, () => {
          const { out, in: inb } = makePair(alg, provider, { mode: 'tunnel', esn, spi: 0x01020304 });
          const sad = new Sad();
          sad.add(inb);
          const res = new OpenResult();
          const valid: Uint8Array[] = [];
          for (let i = 0; i < 8; i++) {
            const ip = ipv4Packet('198.18.0.1', '198.18.0.2', 17, i * 37);
            const buf = new Uint8Array(out.headerLength + ip.length + 64);
            buf.set(ip, out.headerLength);
            valid.push(buf.slice(0, espSeal(out, buf, out.headerLength, out.headerLength + ip.length, 4)));
          }
          const inRange = (d: number): boolean => Number.isInteger(d) && d >= 0 && d < DROP_COUNT;
          // Arbitrary bytes, half of them with our SPI so they get past the lookup.
          fc.assert(
            fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, ours) => {
              const pkt = bytes.slice();
              if (ours && pkt.length >= 4) pkt.set([1, 2, 3, 4]);
              const d = espOpen(sad, pkt, res);
              expect(inRange(d)).toBe(true);
              if (pkt.length >= 4 && ours) expect(d).not.toBe(Drop.ok); // forging needs the key
            }),
            { numRuns: 300 },
          );
          // Bit flips, truncations and extensions of valid packets.
          fc.assert(
            fc.property(
              fc.integer({ min: 0, max: valid.length - 1 }),
              fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
              fc.integer({ min: -20, max: 20 }),
              (which, flips, resize) => {
                const src = valid[which]!;
                const len = Math.max(0, src.length + resize);
                const pkt = new Uint8Array(len);
                pkt.set(src.subarray(0, Math.min(len, src.length)));
                for (const f of flips) if (len > 0) pkt[(f >>> 3) % len] ^= 1 << (f & 7);
                // Decided before espOpen, which decrypts in place: flips that cancel leave the packet authentic.
                const changed = len !== src.length || pkt.some((b, i) => b !== src[i]);
                const d = espOpen(sad, pkt, res);
                expect(inRange(d)).toBe(true);
                if (changed) expect(d).not.toBe(Drop.ok);
              },
            ),
            { numRuns: 300 },
          );
        });
      }
    }
  }
});
