/** Shared fixtures for the ESP tests (not a test file itself). */
import { randomBytes } from 'node:crypto';
import { nobleCrypto } from '../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import type { CryptoProvider } from '../../../src/crypto/types.js';
import { createEspSa, espAlgorithmInfo, type EspAlgorithm, type EspSa, type EspSaParams } from '../../../src/esp/sa.js';
import { writeIpv4Header } from '../../../src/wire/ip.js';

export const PROVIDERS: readonly CryptoProvider[] = [nodeCrypto, nobleCrypto];

export const ALGORITHMS: readonly EspAlgorithm[] = [
  { encr: 'aes-gcm-16', keyBits: 128 },
  { encr: 'aes-gcm-16', keyBits: 192 },
  { encr: 'aes-gcm-16', keyBits: 256 },
  { encr: 'chacha20-poly1305' },
  { encr: 'aes-cbc', keyBits: 128, integ: 'hmac-sha256-128' },
  { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha256-128' },
  { encr: 'aes-cbc', keyBits: 128, integ: 'hmac-sha384-192' },
  { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha384-192' },
  { encr: 'aes-cbc', keyBits: 128, integ: 'hmac-sha512-256' },
  { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha512-256' },
];

export function algName(a: EspAlgorithm): string {
  return `${a.encr}${a.keyBits ? `-${a.keyBits}` : ''}${a.integ ? `+${a.integ}` : ''}`;
}

export interface Keys {
  encKey: Uint8Array;
  integKey?: Uint8Array;
}

export function randomKeys(alg: EspAlgorithm): Keys {
  const info = espAlgorithmInfo(alg);
  const encKey = Uint8Array.from(randomBytes(info.keyLength + info.saltLength));
  return info.aead ? { encKey } : { encKey, integKey: Uint8Array.from(randomBytes(info.integKeyLength)) };
}

export type PairOpts = Partial<Omit<EspSaParams, 'direction' | 'algorithm' | 'provider' | 'encKey' | 'integKey'>> & {
  inProvider?: CryptoProvider;
  keys?: Keys;
};

/** An outbound and an inbound SA sharing keys. */
export function makePair(alg: EspAlgorithm, provider: CryptoProvider, opts: PairOpts = {}): { out: EspSa; in: EspSa; keys: Keys } {
  const keys = opts.keys ?? randomKeys(alg);
  const { inProvider, keys: _k, replayWindow, ...rest } = opts;
  const common = { spi: 0x1000, mode: 'tunnel' as const, ...rest, algorithm: alg, encKey: keys.encKey, integKey: keys.integKey };
  const out = createEspSa({ ...common, direction: 'out', provider, rng: seededRandom(7) });
  const inb = createEspSa({ ...common, direction: 'in', provider: inProvider ?? provider, replayWindow });
  return { out, in: inb, keys };
}

export function ip4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

/** An IPv4 packet (UDP or other protocol) with `payloadLen` body bytes; ports for TCP/UDP. */
export function ipv4Packet(src: string, dst: string, protocol: number, payloadLen: number, srcPort = 1234, dstPort = 80, fill = 0xab): Uint8Array {
  const total = 20 + payloadLen;
  const p = new Uint8Array(total).fill(fill);
  writeIpv4Header(p, 0, { totalLength: total, protocol, src: ip4(src), dst: ip4(dst) });
  if ((protocol === 6 || protocol === 17) && payloadLen >= 4) {
    p[20] = srcPort >>> 8;
    p[21] = srcPort & 0xff;
    p[22] = dstPort >>> 8;
    p[23] = dstPort & 0xff;
  }
  return p;
}

/** Copies `payload` into a fresh buffer with `head` bytes of headroom and 64 bytes of tailroom. */
export function withRoom(payload: Uint8Array, head: number): { buf: Uint8Array; start: number; end: number } {
  const buf = new Uint8Array(head + payload.length + 64);
  buf.set(payload, head);
  return { buf, start: head, end: head + payload.length };
}
