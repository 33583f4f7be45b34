/** The DER walker is total (never throws, never reads out of bounds) and formats IPs per RFC 5952. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  certIssuerDer,
  certSpkiDer,
  certSubjectAltNames,
  certSubjectDer,
  certValidity,
  formatIp,
  readTlv,
  tbsParts,
} from '../../../src/crypto/asn1.js';

const der = new Uint8Array(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'pki', 'leaf-rsa.der')));

function runAll(b: Uint8Array): void {
  tbsParts(b);
  certSubjectDer(b);
  certIssuerDer(b);
  certSpkiDer(b);
  certValidity(b);
  certSubjectAltNames(b);
}

describe('asn1 walker', () => {
  it('reads short and long lengths and rejects indefinite / overlong / truncated ones', () => {
    expect(readTlv(new Uint8Array([0x04, 0x01, 0xaa]), 0)).toEqual({ tag: 4, start: 0, valueStart: 2, end: 3 });
    expect(readTlv(new Uint8Array([0x04, 0x81, 0x01, 0xaa]), 0)).toEqual({ tag: 4, start: 0, valueStart: 3, end: 4 });
    expect(readTlv(new Uint8Array([0x30, 0x80, 0x00, 0x00]), 0)).toBeNull();
    expect(readTlv(new Uint8Array([0x04, 0x85, 1, 1, 1, 1, 1]), 0)).toBeNull();
    expect(readTlv(new Uint8Array([0x04, 0x02, 0xaa]), 0)).toBeNull();
    expect(readTlv(new Uint8Array([0x1f, 0x01, 0xaa]), 0)).toBeNull();
    expect(readTlv(new Uint8Array([0x04]), 0)).toBeNull();
  });

  it('finds issuer and SPKI in the fixture', () => {
    expect(certIssuerDer(der)?.[0]).toBe(0x30);
    expect(certSpkiDer(der)?.[0]).toBe(0x30);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        runAll(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutated and truncated certificates', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(der.length), (edits, cut) => {
        const b = der.slice(0, cut === 0 ? der.length : cut);
        for (const [i, v] of edits) if (i < b.length) b[i] = v;
        runAll(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('formats addresses', () => {
    expect(formatIp(new Uint8Array([198, 18, 0, 1]))).toBe('198.18.0.1');
    const v6 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
    expect(formatIp(v6('20010db8000000000000000000000001'))).toBe('2001:db8::1');
    expect(formatIp(v6('00000000000000000000000000000000'))).toBe('::');
    expect(formatIp(v6('00000000000000000000000000000001'))).toBe('::1');
    expect(formatIp(v6('20010db8000000010000000000000000'))).toBe('2001:db8:0:1::');
    expect(formatIp(v6('20010db8000100000001000000000001'))).toBe('2001:db8:1:0:1::1');
    expect(formatIp(v6('20010db80000000100000000000000ff'))).toBe('2001:db8:0:1::ff');
    expect(formatIp(v6('20010db8000000000001000000000001'))).toBe('2001:db8::1:0:0:1'); // first longest run
    expect(formatIp(v6('20010db8000100010001000100010001'))).toBe('2001:db8:1:1:1:1:1:1');
    expect(formatIp(v6('20010db8000000010001000100010001'))).toBe('2001:db8:0:1:1:1:1:1'); // single 0 not compressed
    expect(formatIp(new Uint8Array(5))).toBeNull();
  });
});
