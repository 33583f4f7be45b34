/** NAT_DETECTION_*_IP hashes (RFC 7296 §2.23) vs node:crypto SHA-1, on both providers. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../../src/crypto/node.js';
import { natdHash, natdMatches } from '../../../../src/ike/nat-detection.js';

const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe.each([nodeCrypto, nobleCrypto])('natdHash ($name provider)', (provider) => {
  const spiI = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const spiR = new Uint8Array(8);
  it('IPv4: SHA-1(SPIi | SPIr | IP | port)', () => {
    const ip = Uint8Array.of(198, 18, 0, 1);
    const want = createHash('sha1').update(Buffer.concat([spiI, spiR, ip, Buffer.from([0x01, 0xf4])])).digest('hex');
    expect(hx(natdHash(provider, spiI, spiR, ip, 500))).toBe(want);
    expect(natdMatches(provider, Buffer.from(want, 'hex'), spiI, spiR, ip, 500)).toBe(true);
    expect(natdMatches(provider, Buffer.from(want, 'hex'), spiI, spiR, ip, 4500)).toBe(false);
  });
  it('IPv6 with port 4500', () => {
    const ip = new Uint8Array(16);
    ip[0] = 0x20;
    ip[1] = 0x01;
    ip[15] = 1;
    const want = createHash('sha1').update(Buffer.concat([spiI, spiR, ip, Buffer.from([0x11, 0x94])])).digest('hex');
    expect(hx(natdHash(provider, spiI, spiR, ip, 4500))).toBe(want);
  });
  it('rejects bad address and SPI lengths', () => {
    expect(() => natdHash(provider, spiI, spiR, new Uint8Array(5), 500)).toThrow(/address/);
    expect(() => natdHash(provider, spiI, new Uint8Array(4), new Uint8Array(4), 500)).toThrow(/SPI/);
  });
});
