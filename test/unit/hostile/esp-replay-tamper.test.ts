/**
 * Hostile ESP traffic (RFC 4303 §3.4): replayed, reordered (within and beyond the anti-replay
 * window), truncated and bit-flipped packets are dropped, and each drop is counted under its
 * reason; only authentic, fresh packets are delivered. Expected outcomes follow from the RFC rules
 * (window W accepts top − W < seq, each number once; the ICV covers SPI ‖ seq ‖ IV ‖ ciphertext),
 * not from the code under test.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import type { CryptoProvider } from '../../../src/crypto/types.js';
import { Drop, DROP_COUNT } from '../../../src/esp/drop.js';
import { espOpen, OpenResult } from '../../../src/esp/open.js';
import { createEspSa, espAlgorithmInfo, type EspAlgorithm, type EspSa } from '../../../src/esp/sa.js';
import { Sad } from '../../../src/esp/sad.js';
import { espSeal, espTailroom } from '../../../src/esp/seal.js';
import { writeIpv4Header } from '../../../src/wire/ip.js';

const WINDOW = 64;
const SPI = 0x4242;

function inner(n: number): Uint8Array {
  const p = new Uint8Array(28 + 16).fill(n & 0xff);
  writeIpv4Header(p, 0, { totalLength: p.length, protocol: 17, src: Uint8Array.of(198, 19, 2, 1), dst: Uint8Array.of(198, 19, 1, 1) });
  return p;
}

interface Fixture {
  sad: Sad;
  inSa: EspSa;
  /** Packets with sequence numbers 1..n (index i = seq i + 1). */
  packets: Uint8Array[];
}

function fixture(alg: EspAlgorithm, provider: CryptoProvider, n: number): Fixture {
  const info = espAlgorithmInfo(alg);
  const encKey = Uint8Array.from(randomBytes(info.keyLength + info.saltLength));
  const integKey = info.aead ? undefined : Uint8Array.from(randomBytes(info.integKeyLength));
  const common = { spi: SPI, algorithm: alg, encKey, integKey, provider, mode: 'tunnel' as const };
  const out = createEspSa({ ...common, direction: 'out', rng: seededRandom(3) });
  const inSa = createEspSa({ ...common, direction: 'in', replayWindow: WINDOW });
  const sad = new Sad();
  sad.add(inSa);
  const packets: Uint8Array[] = [];
  for (let i = 1; i <= n; i++) {
    const payload = inner(i);
    const head = out.headerLength;
    const buf = new Uint8Array(head + payload.length + espTailroom(out, payload.length));
    buf.set(payload, head);
    const len = espSeal(out, buf, head, head + payload.length, 4);
    expect(len).toBeGreaterThan(0);
    packets.push(buf.slice(0, len));
  }
  return { sad, inSa, packets };
}

/** Opens a copy of `pkt` (open decrypts in place). */
function open(f: Fixture, pkt: Uint8Array): Drop {
  return espOpen(f.sad, pkt.slice(), new OpenResult());
}

/** Drop counters of the SA and the SAD added up per code. */
function counts(f: Fixture): number[] {
  return Array.from({ length: DROP_COUNT }, (_, i) => f.inSa.drops[i]! + f.sad.drops[i]!);
}

const CASES: [string, EspAlgorithm, CryptoProvider][] = [
  ['AES-GCM-128 (node)', { encr: 'aes-gcm-16', keyBits: 128 }, nodeCrypto],
  ['AES-CBC-128 + HMAC-SHA-256-128 (noble)', { encr: 'aes-cbc', keyBits: 128, integ: 'hmac-sha256-128' }, nobleCrypto],
];

describe.each(CASES)('ESP under attack: %s', (_name, alg, provider) => {
  it('a replayed packet is dropped as replay, however often it comes back', () => {
    const f = fixture(alg, provider, 3);
    expect(open(f, f.packets[0]!)).toBe(Drop.ok);
    for (let i = 0; i < 5; i++) expect(open(f, f.packets[0]!)).toBe(Drop.replay);
    expect(counts(f)[Drop.replay]).toBe(5);
    expect(f.inSa.stats[0]).toBe(1); // one packet delivered
  });

  it('reordering within the window is delivered once each; older than the window is dropped', () => {
    const n = WINDOW + 40;
    const f = fixture(alg, provider, n);
    // Highest first, then everything below in reverse: seq n..1. With top = n the window
    // accepts n - W < seq, i.e. seq ≥ n - W + 1 = 41.
    const results = [...f.packets].reverse().map((p) => open(f, p));
    const seqOf = (i: number): number => n - i;
    results.forEach((r, i) => expect([seqOf(i), r]).toEqual([seqOf(i), seqOf(i) > n - WINDOW ? Drop.ok : Drop.replay]));
    expect(results.filter((r) => r === Drop.ok).length).toBe(WINDOW);
    expect(counts(f)[Drop.replay]).toBe(n - WINDOW);
    // In-window duplicates after the reordering are replays too.
    expect(open(f, f.packets[n - 5]!)).toBe(Drop.replay);
  });

  it('truncated packets are dropped as short (or ICV) and never delivered', () => {
    const f = fixture(alg, provider, 1);
    const p = f.packets[0]!;
    const info = espAlgorithmInfo(alg);
    const minimum = 8 + info.ivLength + (info.aead ? 2 : 16) + info.icvLength;
    for (let len = 0; len < p.length; len++) {
      const r = open(f, p.subarray(0, len));
      if (len < minimum) expect([len, r]).toEqual([len, Drop.short]);
      else expect([len, [Drop.icv, Drop.malformed].includes(r as 4 | 11)]).toEqual([len, true]);
    }
    // The untouched packet is still fresh: nothing above moved the window.
    expect(open(f, p)).toBe(Drop.ok);
    const c = counts(f);
    expect(c[Drop.short]! + c[Drop.icv]! + c[Drop.malformed]!).toBe(p.length);
  });

  it('every single-bit flip is dropped: SPI bits as unknownSpi, the rest as ICV failures', () => {
    const f = fixture(alg, provider, 1);
    const p = f.packets[0]!;
    let unknown = 0;
    let icv = 0;
    for (let bit = 0; bit < p.length * 8; bit++) {
      const q = p.slice();
      q[bit >> 3]! ^= 0x80 >> (bit & 7);
      const r = open(f, q);
      if (bit < 32) {
        expect([bit, r]).toEqual([bit, Drop.unknownSpi]);
        unknown++;
      } else {
        // A flip in the sequence number can make it 0 or leave it fresh: replay or ICV, never ok.
        expect([bit, r === Drop.icv || r === Drop.replay]).toEqual([bit, true]);
        if (r === Drop.icv) icv++;
      }
    }
    expect(unknown).toBe(32);
    const c = counts(f);
    expect(c[Drop.unknownSpi]).toBe(32);
    expect(c[Drop.icv]).toBe(icv);
    expect(icv).toBeGreaterThanOrEqual(p.length * 8 - 32 - 32);
    expect(f.inSa.stats[0]).toBe(0);
    // Forgeries did not move the window: the authentic packet is still accepted.
    expect(open(f, p)).toBe(Drop.ok);
  });

  it('a forged packet far ahead does not advance the window (ICV before commit)', () => {
    const f = fixture(alg, provider, 2);
    const forged = f.packets[1]!.slice();
    // Sequence number 2 → 0x00100002, far ahead of everything; the ICV no longer matches.
    forged[5] = 0x10;
    expect(open(f, forged)).toBe(Drop.icv);
    expect(open(f, f.packets[0]!)).toBe(Drop.ok);
    expect(open(f, f.packets[1]!)).toBe(Drop.ok);
  });
});
