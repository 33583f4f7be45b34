/**
 * DataPath.warmUp: runs the per-packet path on a throwaway pair of SAs. It must leave the real data path
 * untouched (no child, no SAD entry, no counter), never draw from the real RandomSource, and the real
 * child installed afterwards must still seal packets that a mirror child opens.
 */
import { describe, expect, it } from 'vitest';
import { DataPath } from '../../../src/runtime/datapath.js';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { withEvpAead } from '../../../src/crypto/node-evp.js';
import type { RandomSource } from '../../../src/crypto/types.js';
import type { ChildSaInfo } from '../../../src/ike/events.js';

const ts = (a: number[], b: number[]) => ({ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.from(a), endAddress: Uint8Array.from(b) });

function info(spiIn: number, spiOut: number, encrIn: Uint8Array, encrOut: Uint8Array, flip = false): ChildSaInfo {
  const l = ts([198, 19, 1, 0], [198, 19, 1, 255]);
  const r = ts([198, 19, 2, 0], [198, 19, 2, 255]);
  return {
    ikeName: 'gw', ikeId: 1, childName: 'net', spiIn, spiOut, mode: 'tunnel', encap: true,
    tsLocal: [flip ? r : l], tsRemote: [flip ? l : r],
    algorithms: { encr: 20, encrKeyBits: 256, esn: false },
    keys: { encrIn, encrOut, integIn: new Uint8Array(0), integOut: new Uint8Array(0) },
    localAddr: { address: '198.18.0.1', port: 4500 }, remoteAddr: { address: '198.18.0.2', port: 4500 },
    lifetimes: { rekeyAtMs: undefined, expireAtMs: undefined }, replayWindow: 128, initiator: true,
  };
}

describe('DataPath.warmUp', () => {
  for (const [name, provider] of [['node:crypto', nodeCrypto], ['node-evp', withEvpAead(nodeCrypto)]] as const) {
    it(`leaves the data path empty, draws no randomness, and real SAs still interoperate (${name})`, () => {
      let draws = 0;
      const rng: RandomSource = { fill: (o) => { draws++; return o.fill(7); } };
      const dp = new DataPath(provider, rng);
      const k1 = new Uint8Array(36).fill(1);
      const k2 = new Uint8Array(36).fill(2);
      dp.warmUp(info(0x1001, 0x2002, k1, k2), 300);
      expect(dp.installed().length).toBe(0);
      expect(dp.sad.size).toBe(0);
      expect(Array.from(dp.tunDrops)).toEqual([0, 0, 0, 0]);
      expect(draws).toBe(0);
      // A real child on this data path and its mirror on another one: a packet crosses.
      dp.install(info(0x1001, 0x2002, k1, k2), 1.5);
      const peer = new DataPath(provider, rng);
      peer.install(info(0x2002, 0x1001, k2, k1, true), 1.5);
      const pkt = new Uint8Array(60);
      pkt.set([0x45, 0, 0, 60, 0, 0, 0, 0, 64, 17, 0, 0, 198, 19, 1, 5, 198, 19, 2, 9]);
      const out = dp.outbound(pkt);
      expect(out).not.toBeNull();
      expect(new DataView(out!.data.buffer, out!.data.byteOffset).getUint32(0)).toBe(0x2002);
      const back = peer.inbound(out!.data.slice(), 2.5);
      expect(back === null ? null : Buffer.from(back).toString('hex')).toBe(Buffer.from(pkt).toString('hex'));
    });
  }
});
