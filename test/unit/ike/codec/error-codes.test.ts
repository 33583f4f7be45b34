/** Every DecodeErrorCode has a producer: the union cannot grow a code nobody can hit. */
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../../src/crypto/node.js';
import { FragmentReassembler } from '../../../../src/ike/fragments.js';
import { DECODE_ERROR_CODES, decodeMessage, decodePayloadChain, encodeMessage, Limits, type DecodeError, type DecodeErrorCode } from '../../../../src/ike/message.js';
import type { Payload } from '../../../../src/ike/payloads/types.js';
import { checkRules } from '../../../../src/ike/rules.js';
import { encodeProtected, openProtected, SkCipher } from '../../../../src/ike/sk.js';
import { hex } from '../../../vectors/load.js';

const hdr = { spiI: hex('0102030405060708'), spiR: new Uint8Array(8), majorVersion: 2, minorVersion: 0, exchangeType: 35, flags: 8, messageId: 3 };
const cipher = new SkCipher(nodeCrypto, { kind: 'aead', aead: 'aes-gcm-16', key: new Uint8Array(16), salt: new Uint8Array(4) });
const vendor = (n: number): Payload => ({ type: 43, critical: false, data: new Uint8Array(n) });

function errorOf(r: { ok: boolean; error?: DecodeError } | { status: string; error?: DecodeError }): DecodeErrorCode | undefined {
  return r.error?.code;
}

function msg(raw: Uint8Array) {
  const m = decodeMessage(raw);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

const producers: Record<DecodeErrorCode, () => DecodeErrorCode | undefined> = {
  truncated: () => errorOf(decodeMessage(new Uint8Array(20))),
  'bad-length': () => errorOf(decodePayloadChain(43, hex('00000003'))),
  'bad-version': () => {
    const b = encodeMessage(hdr, []);
    b[17] = 0x30;
    return errorOf(decodeMessage(b));
  },
  'unsupported-critical': () => errorOf(decodePayloadChain(99, hex('00800004'))),
  'bad-payload': () => errorOf(decodePayloadChain(40, hex('00000005ff'))),
  'too-many-payloads': () => errorOf(decodeMessage(encodeMessage(hdr, Array.from({ length: Limits.MAX_PAYLOADS + 1 }, () => vendor(0))))),
  'too-many-items': () => errorOf(decodePayloadChain(44, hex('00000008ff000000'))),
  'too-large': () => errorOf(decodeMessage(new Uint8Array(Limits.MAX_MESSAGE_SIZE + 1))),
  'misplaced-sk': () => errorOf(decodePayloadChain(46, hex('00000004'))),
  'missing-sk': () => {
    const raw = encodeMessage(hdr, [vendor(1)]);
    return errorOf(openProtected(raw, msg(raw), cipher));
  },
  rules: () => errorOf(checkRules(34, false, [vendor(1)], undefined)),
  icv: () => {
    const raw = encodeProtected(hdr, [vendor(4)], cipher, (n) => new Uint8Array(n))[0]!;
    raw[raw.length - 1]! ^= 1;
    return errorOf(openProtected(raw, msg(raw), cipher));
  },
  'bad-fragment': () => {
    const raw = encodeMessage(hdr, [{ type: 53, critical: false, innerType: 0, fragmentNumber: 2, totalFragments: 1, body: new Uint8Array(30) }]);
    return errorOf(new FragmentReassembler().add(raw, msg(raw), cipher));
  },
  'fragment-limit': () => {
    const raw = encodeMessage(hdr, [{ type: 53, critical: false, innerType: 0, fragmentNumber: 1, totalFragments: 1000, body: new Uint8Array(30) }]);
    return errorOf(new FragmentReassembler().add(raw, msg(raw), cipher));
  },
};

describe('DecodeErrorCode coverage', () => {
  it('the producer table lists exactly the declared codes', () => {
    expect(Object.keys(producers).sort()).toEqual([...DECODE_ERROR_CODES].sort());
  });
  it.each([...DECODE_ERROR_CODES])('%s is produced', (code) => {
    expect(producers[code]()).toBe(code);
  });
});
