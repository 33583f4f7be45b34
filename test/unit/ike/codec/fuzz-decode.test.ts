/** Totality (DESIGN.md rule 3): no byte sequence makes a decoder throw. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHeader } from '../../../../src/ike/header.js';
import { decodeMessage, decodePayloadChain, encodeMessage } from '../../../../src/ike/message.js';
import * as A from './arbitraries.js';

const RUNS = 2000;

function total(r: unknown): void {
  expect(typeof r === 'object' && r !== null && typeof (r as { ok: unknown }).ok === 'boolean').toBe(true);
}

describe('decoders never throw', () => {
  it('decodeMessage on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => total(decodeMessage(b))), { numRuns: RUNS });
  });

  it('decodeMessage on arbitrary bytes behind a plausible header (length field fixed up)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 600 }), (first, body) => {
        const b = new Uint8Array(28 + body.length);
        b[16] = first;
        b[17] = 0x20;
        b.set(body, 28);
        new DataView(b.buffer).setUint32(24, b.length);
        total(decodeMessage(b));
      }),
      { numRuns: RUNS },
    );
  });

  it('decodePayloadChain on arbitrary first type and bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 600 }), (t, b) => total(decodePayloadChain(t, b))),
      { numRuns: RUNS },
    );
  });

  it('decodePayloadChain for every known type with a well-framed but random body', () => {
    const types = [33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 47, 48];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 300 }), (t, body) => {
        const b = new Uint8Array(4 + body.length);
        new DataView(b.buffer).setUint16(2, b.length);
        b.set(body, 4);
        total(decodePayloadChain(t, b));
      }),
      { numRuns: RUNS },
    );
  });

  it('decodeMessage on valid messages with random byte flips and truncations', () => {
    fc.assert(
      fc.property(
        A.headerFieldsArb,
        fc.array(A.plainPayloadArb, { maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (h, ps, flips, cut) => {
          const b = encodeMessage(h, ps);
          for (const [at, v] of flips) b[at % b.length] = v;
          const t = b.subarray(0, b.length - (cut % 3 === 0 ? cut % b.length : 0));
          total(decodeMessage(t));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('decodeHeader on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => total(decodeHeader(b))), { numRuns: RUNS });
  });
});
