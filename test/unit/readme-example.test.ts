/** The README's "Checking one ESP packet by hand" snippet, verbatim apart from the import path. */
import { describe, expect, it } from 'vitest';
import { sealEspPacket, openEspPacket, nodeCrypto } from '../../src/index.js';

describe('README one-shot ESP example', () => {
  it('seals and opens; a flipped bit is an ICV drop', () => {
    const sa = {
      algorithm: { encr: 'aes-gcm-16', keyBits: 128 } as const,
      encKey: Buffer.from('feffe9928665731c6d6a8f9467308308cafebabe', 'hex'), // 16-byte key ‖ 4-byte salt (RFC 4106)
      spi: 0x0000a5f8, provider: nodeCrypto, esn: false,
    };
    const packet = sealEspPacket({ ...sa, seqLo: 10, payload: new Uint8Array([1, 2, 3]), nextHeader: 17 });
    const r = openEspPacket({ ...sa, packet });
    expect(r.dropName).toBe('ok');
    expect(Array.from(r.payload ?? [])).toEqual([1, 2, 3]);
    expect(r.nextHeader).toBe(17);
    expect(Buffer.from(packet.subarray(0, 8)).toString('hex')).toBe('0000a5f80000000a');
    const bad = packet.slice();
    bad[bad.length - 1]! ^= 1;
    expect(openEspPacket({ ...sa, packet: bad }).dropName).toBe('icv');
  });
});
