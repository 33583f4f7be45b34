/** RFC 3948 classification of UDP/4500 payloads. */
import { describe, expect, it } from 'vitest';
import { classifyNattDatagram, NAT_KEEPALIVE, NattKind, prependNonEspMarker, stripNonEspMarker, writeNonEspMarker } from '../../../src/esp/natt.js';
import fc from 'fast-check';

describe('NAT-T (RFC 3948)', () => {
  const ike = new Uint8Array(28).fill(0x11); // an IKE header's worth of bytes
  it('classifies IKE, ESP, keepalive and invalid datagrams', () => {
    expect(classifyNattDatagram(prependNonEspMarker(ike))).toBe(NattKind.ike);
    expect(classifyNattDatagram(NAT_KEEPALIVE)).toBe(NattKind.keepalive);
    expect(classifyNattDatagram(Uint8Array.of(0xfe))).toBe(NattKind.invalid);
    expect(classifyNattDatagram(new Uint8Array(0))).toBe(NattKind.invalid);
    expect(classifyNattDatagram(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 1))).toBe(NattKind.esp);
    expect(classifyNattDatagram(Uint8Array.of(0, 0, 0, 1, 0, 0, 0))).toBe(NattKind.invalid); // < 8 bytes
    expect(classifyNattDatagram(new Uint8Array(4 + 27))).toBe(NattKind.invalid); // marker + short IKE header
    expect(classifyNattDatagram(new Uint8Array(3))).toBe(NattKind.invalid);
  });
  it('prepends and strips the 4-byte zero marker', () => {
    const d = prependNonEspMarker(ike);
    expect(Array.from(d.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Buffer.from(stripNonEspMarker(d)!).equals(Buffer.from(ike))).toBe(true);
    expect(stripNonEspMarker(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))).toBeNull();
    const buf = new Uint8Array(8).fill(9);
    writeNonEspMarker(buf, 2);
    expect(Array.from(buf)).toEqual([9, 9, 0, 0, 0, 0, 9, 9]);
  });
  it('never throws and is consistent with the first four bytes (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (d) => {
        const k = classifyNattDatagram(d);
        if (k === NattKind.esp) expect(d.length >= 8 && d.subarray(0, 4).some((b) => b !== 0)).toBe(true);
        if (k === NattKind.ike) expect(d.length >= 32 && d.subarray(0, 4).every((b) => b === 0)).toBe(true);
      }),
    );
  });
});
