/** decode(encode(x)) ≡ x for every payload type, the whole chain and the whole message. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, decodePayloadChain, encodeMessage, encodePayloadChain } from '../../../../src/ike/message.js';
import type { Payload } from '../../../../src/ike/payloads/types.js';
import * as A from './arbitraries.js';

function roundTrip(p: Payload): void {
  const { firstType, bytes } = encodePayloadChain([p]);
  expect(firstType).toBe(p.type);
  const d = decodePayloadChain(firstType, bytes);
  expect(d).toEqual({ ok: true, value: [p] });
}

const perType: Array<[string, fc.Arbitrary<Payload>]> = [
  ['SA', A.saArb], ['KE', A.keArb], ['ID', A.idArb], ['CERT', A.certArb], ['CERTREQ', A.certReqArb],
  ['AUTH', A.authArb], ['Nonce', A.nonceArb], ['Notify', A.notifyArb], ['Delete', A.deleteArb],
  ['Vendor', A.vendorArb], ['TS', A.tsArb], ['CP', A.cpArb], ['unknown/EAP', A.unknownArb],
];

describe('payload round trip (fast-check)', () => {
  for (const [name, arb] of perType) {
    it(`${name}: decode(encode(x)) ≡ x`, () => {
      fc.assert(fc.property(arb, roundTrip), { numRuns: 300 });
    });
  }

  it('chains of mixed payloads round-trip', () => {
    fc.assert(
      fc.property(fc.array(A.plainPayloadArb, { maxLength: 10 }), (ps) => {
        const { firstType, bytes } = encodePayloadChain(ps);
        expect(decodePayloadChain(firstType, bytes)).toEqual({ ok: true, value: ps });
      }),
      { numRuns: 300 },
    );
  });

  it('whole messages round-trip, with SK or SKF last', () => {
    const tail = fc.oneof(fc.constant([] as Payload[]), A.skArb.map((p) => [p] as Payload[]), A.skfArb.map((p) => [p] as Payload[]));
    fc.assert(
      fc.property(A.headerFieldsArb, fc.array(A.plainPayloadArb, { maxLength: 6 }), tail, (h, ps, t) => {
        const payloads = [...ps, ...t];
        const bytes = encodeMessage(h, payloads);
        const d = decodeMessage(bytes);
        expect(d).toEqual({
          ok: true,
          value: { header: { ...h, nextPayload: payloads[0]?.type ?? 0, length: bytes.length }, payloads },
        });
      }),
      { numRuns: 300 },
    );
  });
});
