/**
 * MTU headroom of the mesh, against an independent computation in this file: the RFC 4303 §2 packet
 * layout with RFC 3948 UDP encapsulation, searched for the largest inner packet that fits (no closed
 * form shared with the code), and REFERENCE §5.6's figures.
 *
 *   transport: IP hdr H ‖ UDP 8 ‖ SPI 4 ‖ Seq 4 ‖ IV ‖ align(L − H + 2) ‖ ICV        (L = whole IP packet)
 *   tunnel:    outer IP H ‖ UDP 8 ‖ SPI 4 ‖ Seq 4 ‖ IV ‖ align(L + 2) ‖ ICV
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { espAlgorithmOfProposal, meshInnerMtu } from '../../../src/mesh/mtu.js';
import { loadMesh } from '../../../src/mesh/load.js';

/** IV, ICV, ciphertext alignment per RFC 4106 §3 (GCM), RFC 7634 §3 (ChaCha20), RFC 3602 + RFC 4868 (CBC + HMAC). */
const LAYOUT: Record<string, { iv: number; icv: number; align: number }> = {
  aes256gcm16: { iv: 8, icv: 16, align: 4 },
  aes128gcm16: { iv: 8, icv: 16, align: 4 },
  chacha20poly1305: { iv: 8, icv: 16, align: 4 },
  'aes256-sha256': { iv: 16, icv: 16, align: 16 },
  'aes128-sha512': { iv: 16, icv: 32, align: 16 },
};

function wireLength(alg: string, mode: 'transport' | 'tunnel', family: 4 | 6, inner: number): number {
  const { iv, icv, align } = LAYOUT[alg]!;
  const h = family === 4 ? 20 : 40;
  const payload = mode === 'transport' ? inner - h : inner; // transport keeps the packet's own header in front
  const ct = Math.ceil((payload + 2) / align) * align; // payload ‖ padding ‖ Pad Length ‖ Next Header
  return h + 8 + 4 + 4 + iv + ct + icv;
}

function largestFitting(alg: string, mode: 'transport' | 'tunnel', family: 4 | 6, outer: number): number {
  for (let inner = outer; inner > 0; inner--) if (wireLength(alg, mode, family, inner) <= outer) return inner;
  return 0;
}

describe('mesh MTU headroom', () => {
  it('AES-GCM-16 ESP-in-UDP, 1500-byte links: the figures worked out by hand', () => {
    // transport IPv4: 20 + 8 + 8 + 8 + align4(L − 20 + 2) + 16 ≤ 1500 → L = 1458 (headroom 42 = 8 UDP + 34 ESP)
    expect(meshInnerMtu(['aes256gcm16'], 'transport', 4, 1500)).toBe(1458);
    // tunnel IPv4: 20 + 8 + 8 + 8 + align4(L + 2) + 16 ≤ 1500 → align4(L + 2) ≤ 1440 → L = 1438
    expect(meshInnerMtu(['aes256gcm16'], 'tunnel', 4, 1500)).toBe(1438);
    // tunnel IPv6: 40 outer → L = 1418; transport IPv6: the kept 40-byte header is not aligned → 1458
    expect(meshInnerMtu(['aes256gcm16'], 'tunnel', 6, 1500)).toBe(1418);
    expect(meshInnerMtu(['aes256gcm16'], 'transport', 6, 1500)).toBe(1458);
    // REFERENCE §5.6: Docker's EXTMTU − 46 − ((EXTMTU − 46) mod 4) = 1452 is conservative for transport mode.
    expect(1500 - 46 - ((1500 - 46) % 4)).toBeLessThanOrEqual(meshInnerMtu(['aes256gcm16'], 'transport', 4, 1500));
  });

  it('matches the packet layout searched exhaustively, for every algorithm, mode, family and MTU (property)', () => {
    fc.assert(fc.property(
      fc.constantFrom(...Object.keys(LAYOUT)), fc.constantFrom('transport' as const, 'tunnel' as const), fc.constantFrom(4 as const, 6 as const), fc.integer({ min: 576, max: 9216 }),
      (alg, mode, family, outer) => {
        expect(meshInnerMtu([alg], mode, family, outer)).toBe(largestFitting(alg, mode, family, outer));
      },
    ), { numRuns: 400 });
  });

  it('several ESP proposals: the worst case over them', () => {
    const both = meshInnerMtu(['aes256gcm16', 'aes256-sha256'], 'tunnel', 4, 1500);
    expect(both).toBe(Math.min(largestFitting('aes256gcm16', 'tunnel', 4, 1500), largestFitting('aes256-sha256', 'tunnel', 4, 1500)));
  });

  it('proposal strings map to their ESP layout', () => {
    expect(espAlgorithmOfProposal('aes256gcm16-modp2048')).toEqual({ encr: 'aes-gcm-16', keyBits: 256 });
    expect(espAlgorithmOfProposal('aes128gcm128')).toEqual({ encr: 'aes-gcm-16', keyBits: 128 });
    expect(espAlgorithmOfProposal('chacha20poly1305')).toEqual({ encr: 'chacha20-poly1305' });
    expect(espAlgorithmOfProposal('aes256-sha384')).toEqual({ encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha384-192' });
    expect(espAlgorithmOfProposal('aes256')).toBeUndefined(); // CBC without integrity is no ESP tsipsec speaks
    expect(espAlgorithmOfProposal('default')).toBeUndefined();
  });

  it("a node's plan reports headroom per child and sets the TUN MTU to the smallest inner MTU", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsm-mtu-'));
    try {
      writeFileSync(join(dir, 'm.conf'), `mesh {\n  auth = psk\n  psk = "mtu test key of some length"\n  outer_mtu = 9000\n}\nnodes {\n  a {\n    addrs = 198.18.0.1\n    subnets = 198.19.1.0/24\n  }\n  b {\n    addrs = 198.18.0.2\n    subnets = 198.19.2.0/24\n  }\n  c {\n    addrs = 198.18.0.3\n  }\n}\n`);
      const { plan } = loadMesh(join(dir, 'm.conf'), 'a');
      expect(plan.mtu.map((l) => [l.child, l.mode, l.family, l.innerMtu, l.headroom])).toEqual([
        ['b-host', 'transport', 4, largestFitting('aes256gcm16', 'transport', 4, 9000), 9000 - largestFitting('aes256gcm16', 'transport', 4, 9000)],
        ['b-net', 'tunnel', 4, largestFitting('aes256gcm16', 'tunnel', 4, 9000), 9000 - largestFitting('aes256gcm16', 'tunnel', 4, 9000)],
        ['c-host', 'transport', 4, largestFitting('aes256gcm16', 'transport', 4, 9000), 9000 - largestFitting('aes256gcm16', 'transport', 4, 9000)],
      ]);
      expect(plan.tunMtu).toBe(largestFitting('aes256gcm16', 'tunnel', 4, 9000));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
