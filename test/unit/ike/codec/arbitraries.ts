/** fast-check generators for every modelled payload (known types are generated with critical=false:
 *  RFC 7296 §3.2 senders clear the C bit on payloads they define, and so does our encoder). */
import fc from 'fast-check';
import type {
  AuthPayload, CertPayload, CertReqPayload, CpPayload, DeletePayload, IdPayload, KePayload, NoncePayload,
  NotifyPayload, Payload, Proposal, SaPayload, SkPayload, SkfPayload, TrafficSelector, Transform, TsPayload,
  UnknownPayload, VendorPayload,
} from '../../../../src/ike/payloads/types.js';

// fast-check may build null-prototype records; the codec returns plain objects, so ask for those.
function rec<T extends Record<string, fc.Arbitrary<unknown>>>(model: T): fc.Arbitrary<{ [K in keyof T]: T[K] extends fc.Arbitrary<infer U> ? U : never }> {
  return fc.record(model, { noNullPrototype: true }) as never;
}
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });

export const transformArb: fc.Arbitrary<Transform> = fc
  .record({
    type: u8,
    id: u16,
    keyLength: fc.option(u16, { nil: undefined }),
    other: fc.array(
      fc.oneof(
        rec({ attrType: fc.integer({ min: 0, max: 0x7fff }).filter((t) => t !== 14), tv: fc.constant(true), value: bytes(2, 2) }),
        rec({ attrType: fc.integer({ min: 0, max: 0x7fff }), tv: fc.constant(false), value: bytes(0, 8) }),
      ),
      { maxLength: 3 },
    ),
  })
  .map(({ type, id, keyLength, other }) => {
    const t: { type: number; id: number; keyLength?: number; otherAttributes?: Transform['otherAttributes'] } = { type, id };
    if (keyLength !== undefined) t.keyLength = keyLength;
    if (other.length > 0) t.otherAttributes = other;
    return t;
  });

export const proposalArb: fc.Arbitrary<Proposal> = rec({
  number: u8,
  protocolId: u8,
  spi: fc.oneof(bytes(0, 0), bytes(4, 4), bytes(8, 8)),
  transforms: fc.array(transformArb, { maxLength: 12 }),
});

export const saArb: fc.Arbitrary<SaPayload> = rec({
  type: fc.constant(33 as const),
  critical: fc.constant(false),
  proposals: fc.array(proposalArb, { minLength: 1, maxLength: 5 }),
});
export const keArb: fc.Arbitrary<KePayload> = rec({ type: fc.constant(34 as const), critical: fc.constant(false), group: u16, data: bytes(0, 300) });
export const idArb: fc.Arbitrary<IdPayload> = rec({ type: fc.constantFrom(35 as const, 36 as const), critical: fc.constant(false), idType: u8, data: bytes(0, 64) });
export const certArb: fc.Arbitrary<CertPayload> = rec({ type: fc.constant(37 as const), critical: fc.constant(false), encoding: u8, data: bytes(0, 200) });
export const certReqArb: fc.Arbitrary<CertReqPayload> = rec({ type: fc.constant(38 as const), critical: fc.constant(false), encoding: u8, data: bytes(0, 100) });
export const authArb: fc.Arbitrary<AuthPayload> = rec({ type: fc.constant(39 as const), critical: fc.constant(false), method: u8, data: bytes(0, 300) });
export const nonceArb: fc.Arbitrary<NoncePayload> = rec({ type: fc.constant(40 as const), critical: fc.constant(false), nonce: bytes(16, 256) });
export const notifyArb: fc.Arbitrary<NotifyPayload> = rec({
  type: fc.constant(41 as const),
  critical: fc.constant(false),
  protocolId: u8,
  spi: fc.oneof(bytes(0, 0), bytes(4, 4), bytes(8, 8)),
  notifyType: u16,
  data: bytes(0, 64),
});
export const deleteArb: fc.Arbitrary<DeletePayload> = fc.oneof(
  rec({ type: fc.constant(42 as const), critical: fc.constant(false), protocolId: fc.constant(1), spis: fc.constant([] as Uint8Array[]) }),
  rec({ type: fc.constant(42 as const), critical: fc.constant(false), protocolId: fc.constantFrom(2, 3), spis: fc.array(bytes(4, 4), { maxLength: 20 }) }),
);
export const vendorArb: fc.Arbitrary<VendorPayload> = rec({ type: fc.constant(43 as const), critical: fc.constant(false), data: bytes(0, 40) });
export const selectorArb: fc.Arbitrary<TrafficSelector> = fc.constantFrom(7, 8).chain((tsType) =>
  rec({
    tsType: fc.constant(tsType),
    ipProtocol: u8,
    startPort: u16,
    endPort: u16,
    startAddress: bytes(tsType === 7 ? 4 : 16, tsType === 7 ? 4 : 16),
    endAddress: bytes(tsType === 7 ? 4 : 16, tsType === 7 ? 4 : 16),
  }),
);
export const tsArb: fc.Arbitrary<TsPayload> = rec({
  type: fc.constantFrom(44 as const, 45 as const),
  critical: fc.constant(false),
  selectors: fc.array(selectorArb, { minLength: 1, maxLength: 8 }),
});
export const cpArb: fc.Arbitrary<CpPayload> = rec({
  type: fc.constant(47 as const),
  critical: fc.constant(false),
  cfgType: u8,
  attributes: fc.array(rec({ attrType: fc.integer({ min: 0, max: 0x7fff }), value: bytes(0, 20) }), { maxLength: 8 }),
});
export const skArb: fc.Arbitrary<SkPayload> = rec({ type: fc.constant(46 as const), critical: fc.constant(false), innerType: u8, body: bytes(0, 100) });
export const skfArb: fc.Arbitrary<SkfPayload> = rec({
  type: fc.constant(53 as const),
  critical: fc.constant(false),
  innerType: u8,
  fragmentNumber: u16,
  totalFragments: u16,
  body: bytes(0, 100),
});
/** Unknown types (incl. EAP 48, which the model keeps raw); unrecognized ones only non-critical. */
export const unknownArb: fc.Arbitrary<UnknownPayload> = fc.oneof(
  rec({ type: fc.constant(48), critical: fc.boolean(), raw: bytes(0, 40), unknown: fc.constant(true as const) }),
  rec({
    type: fc.integer({ min: 1, max: 255 }).filter((t) => !(t >= 33 && t <= 48) && t !== 53),
    critical: fc.constant(false),
    raw: bytes(0, 40),
    unknown: fc.constant(true as const),
  }),
);

/** Any payload that may appear in a plain chain (no SK/SKF). */
export const plainPayloadArb: fc.Arbitrary<Payload> = fc.oneof(
  saArb, keArb, idArb, certArb, certReqArb, authArb, nonceArb, notifyArb, deleteArb, vendorArb, tsArb, cpArb, unknownArb,
);

export const headerFieldsArb = rec({
  spiI: bytes(8, 8),
  spiR: bytes(8, 8),
  majorVersion: fc.constant(2),
  minorVersion: fc.integer({ min: 0, max: 15 }),
  exchangeType: u8,
  flags: u8,
  messageId: fc.integer({ min: 0, max: 0xffffffff }),
});
