/** Identity strings as strongSwan parses them (RFC 7296 §3.5 ID types) and DN DER encoding. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDn, dnEqual, encodeDn, formatDn } from '../../../../src/ike/auth/dn.js';
import { formatIdentity, identitiesEqual, identityMatches, parseIdentity, parseIpv6 } from '../../../../src/ike/identity.js';

const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('parseIdentity', () => {
  it.each([
    ['198.18.0.1', 1, 'c6120001'],
    ['2001:db8::1', 5, '20010db8000000000000000000000001'],
    ['::', 5, '00000000000000000000000000000000'],
    ['::ffff:198.18.0.1', 5, '00000000000000000000ffffc6120001'],
    ['@a.example', 2, hx(enc('a.example'))],
    ['a.example', 2, hx(enc('a.example'))],
    ['@198.18.0.1', 2, hx(enc('198.18.0.1'))],
    ['user@example', 3, hx(enc('user@example'))],
    ['@@user@example', 3, hx(enc('user@example'))],
    ['@#0a0B0c', 11, '0a0b0c'],
  ])('%s → type %i', (s, type, data) => {
    const id = parseIdentity(s);
    expect(id.idType).toBe(type);
    expect(hx(id.data)).toBe(data);
  });

  it('a DN is DER-encoded (hand-computed X.690 bytes)', () => {
    const id = parseIdentity('C=ZZ, O=x, CN=y');
    expect(id.idType).toBe(9);
    expect(hx(id.data)).toBe(
      '3025' + '310b300906035504061302' + '5a5a' + '310a3008060355040a130178' + '310a30080603550403130179',
    );
  });

  it('DN: UTF8String for non-printable values, IA5String for E=, "/" separators, escaped commas', () => {
    const d = encodeDn('CN=Zoë');
    expect(hx(d)).toBe('300f310d300b06035504030c045a6fc3ab');
    const e = encodeDn('E=a@b');
    // 1.2.840.113549.1.9.1 = 2a864886f70d010901, IA5String tag 0x16
    expect(hx(e)).toContain('06092a864886f70d0109011603614062');
    expect(dnEqual(encodeDn('/C=ZZ/O=x/CN=y'), encodeDn('C=ZZ, O=x, CN=y'))).toBe(true);
    expect(formatDn(encodeDn('O=a\\, b, CN=c'))).toBe('O=a\\, b, CN=c');
  });

  it('%any and errors', () => {
    expect(parseIdentity('%any').idType).toBe(0);
    expect(() => parseIdentity('')).toThrow(/empty/);
    expect(() => parseIdentity('@#xyz')).toThrow(/hex/);
    expect(() => parseIdentity('FOO=bar, CN=x')).toThrow(/'FOO'/);
  });

  it('invalid IPv6 texts are not addresses', () => {
    for (const s of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::1', ':::']) expect(parseIpv6(s)).toBeNull();
  });
});

describe('formatIdentity', () => {
  it.each(['198.18.0.1', '2001:db8::1', 'a.example', 'user@example', '@#0a0b0c', 'C=ZZ, O=x, CN=y'])('round-trips %s', (s) => {
    const id = parseIdentity(s);
    expect(formatIdentity(id.idType, id.data)).toBe(s);
    expect(identitiesEqual(parseIdentity(formatIdentity(id.idType, id.data)), id)).toBe(true);
  });
  it('never throws on arbitrary data', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }), (t, d) => {
        expect(typeof formatIdentity(t, d)).toBe('string');
        expect(decodeDn(d) === null || Array.isArray(decodeDn(d))).toBe(true);
      }),
    );
  });
});

describe('identitiesEqual / identityMatches', () => {
  it('FQDN and RFC822 ignore case; types must agree; DNs compare semantically', () => {
    expect(identitiesEqual(parseIdentity('A.Example'), parseIdentity('@a.example'))).toBe(true);
    expect(identitiesEqual(parseIdentity('U@Example'), parseIdentity('u@example'))).toBe(true);
    expect(identitiesEqual(parseIdentity('198.18.0.1'), parseIdentity('@198.18.0.1'))).toBe(false);
    // OpenSSL encodes CN/O as UTF8String, we as PrintableString: still equal
    const utf8Dn = Uint8Array.from(Buffer.from('3025310b300906035504061302' + '5a5a' + '310a3008060355040a0c0178' + '310a300806035504030c0179', 'hex'));
    expect(identitiesEqual(parseIdentity('C=ZZ, O=x, CN=Y'), { idType: 9, data: utf8Dn })).toBe(true);
    expect(identitiesEqual(parseIdentity('C=ZZ, CN=y, O=x'), { idType: 9, data: utf8Dn })).toBe(false);
  });
  it('%any matches anything', () => {
    expect(identityMatches(parseIdentity('%any'), parseIdentity('x.example'))).toBe(true);
    expect(identityMatches(parseIdentity('y.example'), parseIdentity('x.example'))).toBe(false);
  });
});
