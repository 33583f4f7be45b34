/** AES-CBC without padding (RFC 3602 §4 test cases 1 and 2) on both providers. */
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import type { CryptoProvider } from '../../src/crypto/types.js';
import { hex, toHex } from './load.js';

const cases = [
  {
    name: 'RFC 3602 case 1 (1 block)',
    key: '06a9214036b8a15b512e03d534120006',
    iv: '3dafba429d9eb430b422da802c9fac41',
    plaintext: toHex(new TextEncoder().encode('Single block msg')),
    ciphertext: 'e353779c1079aeb82708942dbe77181a',
  },
  {
    name: 'RFC 3602 case 2 (2 blocks)',
    key: 'c286696d887c9aa0611bbb3e2025a45a',
    iv: '562e17996d093d28ddb3ba695a2e6f58',
    plaintext: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    ciphertext: 'd296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1',
  },
];

describe.each([nodeCrypto, nobleCrypto])('AES-CBC vectors ($name provider)', (p: CryptoProvider) => {
  it.each(cases)('$name: encrypt, decrypt, in place', (c) => {
    const cbc = p.cbc(hex(c.key));
    expect(cbc.blockSize).toBe(16);
    const pt = hex(c.plaintext);
    const ct = new Uint8Array(pt.length);
    cbc.encrypt(hex(c.iv), pt, ct);
    expect(toHex(ct)).toBe(c.ciphertext);
    const back = new Uint8Array(pt.length);
    expect(cbc.decrypt(hex(c.iv), ct, back)).toBe(true);
    expect(toHex(back)).toBe(c.plaintext);
    const buf = pt.slice();
    cbc.encrypt(hex(c.iv), buf, buf);
    expect(toHex(buf)).toBe(c.ciphertext);
    expect(cbc.decrypt(hex(c.iv), buf, buf)).toBe(true);
    expect(toHex(buf)).toBe(c.plaintext);
  });

  it('decrypt returns false (no throw) for a partial block or bad IV; encrypt throws', () => {
    const cbc = p.cbc(new Uint8Array(32));
    expect(cbc.decrypt(new Uint8Array(16), new Uint8Array(17), new Uint8Array(17))).toBe(false);
    expect(cbc.decrypt(new Uint8Array(8), new Uint8Array(16), new Uint8Array(16))).toBe(false);
    expect(() => cbc.encrypt(new Uint8Array(16), new Uint8Array(15), new Uint8Array(15))).toThrow(/multiple of 16/);
    expect(() => p.cbc(new Uint8Array(17))).toThrow(/key/);
  });
});
