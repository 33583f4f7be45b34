/**
 * TunnelOptions.ikeProvider / espProvider: the IKE endpoint and the ESP data path each take their own
 * crypto provider (the daemon gives IKE the shared-context native AEAD and ESP the per-SA EVP contexts),
 * and `provider` stays the default of both. Two Tunnels over a MemoryNetwork; every provider counts its
 * calls, so a provider used by the wrong side shows up as a count where none belongs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Tunnel, type TunnelOptions } from '../../src/runtime/tunnel.js';
import { systemClock } from '../../src/runtime/clock.js';
import { seededRandom } from '../../src/crypto/seeded-random.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import type { CryptoProvider } from '../../src/crypto/types.js';
import { icmpEcho, memorySites, pairConfig } from '../support/memory-pair.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const PSK = new TextEncoder().encode('tunnel providers test pre-shared key');

interface Counts { prf: number; dh: number; aeadKeys: number; seal: number; open: number }

/** nodeCrypto with every PRF, DH and AEAD call counted. */
function counting(): { provider: CryptoProvider; counts: Counts } {
  const counts: Counts = { prf: 0, dh: 0, aeadKeys: 0, seal: 0, open: 0 };
  const provider: CryptoProvider = {
    ...nodeCrypto,
    prf: (name) => {
      const p = nodeCrypto.prf(name);
      return { outputLength: p.outputLength, keyLength: p.keyLength, compute: (k, d) => (counts.prf++, p.compute(k, d)) };
    },
    dhGroup: (id) => {
      const g = nodeCrypto.dhGroup(id);
      return g && {
        id: g.id, publicLength: g.publicLength,
        generate: (rng) => (counts.dh++, g.generate(rng)),
        computeSecret: (pair, peer) => (counts.dh++, g.computeSecret(pair, peer)),
      };
    },
    aead: (name, key) => {
      counts.aeadKeys++;
      const a = nodeCrypto.aead(name, key);
      return {
        nonceLength: a.nonceLength, tagLength: a.tagLength,
        seal: (n, aad, pt, dst, tag) => (counts.seal++, a.seal(n, aad, pt, dst, tag)),
        open: (n, aad, ct, tag, dst) => (counts.open++, a.open(n, aad, ct, tag, dst)),
      };
    },
  };
  return { provider, counts };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Tunnel: separate IKE and ESP crypto providers', () => {
  let tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels) await t.close();
    tunnels = [];
  });

  /** A gets `providersA`; B plain nodeCrypto. Brings the child up, then sends one packet A → B. */
  async function run(providersA: Pick<TunnelOptions, 'provider' | 'ikeProvider' | 'espProvider'>) {
    const { net, tunA, tunB, udpA, udpB } = await memorySites();
    const a = new Tunnel({ config: pairConfig('a', { psk: PSK }), udp: udpA, tun: tunA, rng: seededRandom(21), keepaliveSec: 0, ...providersA });
    const b = new Tunnel({ config: pairConfig('b', { psk: PSK }), udp: udpB, tun: tunB, rng: seededRandom(22), keepaliveSec: 0 });
    tunnels.push(a, b);
    let up = 0;
    a.on((e) => { if (e.type === 'child-up') up++; });
    b.on((e) => { if (e.type === 'child-up') up++; });
    a.start();
    for (let i = 0; i < 200 && up < 2; i++) {
      net.deliverUntil(systemClock.now());
      await sleep(2);
    }
    expect(up).toBe(2);
    const sendPing = () => {
      tunA.inject(icmpEcho('198.19.1.1', '198.19.2.1', 1));
      net.deliverUntil(systemClock.now());
      expect(tunB.written.length).toBe(1);
    };
    return { sendPing };
  }

  it('ikeProvider serves the IKE endpoint only and espProvider the ESP data path only', async () => {
    const ike = counting();
    const esp = counting();
    const { sendPing } = await run({ ikeProvider: ike.provider, espProvider: esp.provider });
    // IKE_SA_INIT + IKE_AUTH: a DH keygen and shared secret, the PRF (SKEYSEED, prf+, AUTH), the SK
    // payload sealed (IKE_AUTH request) and opened (its response) on the IKE provider.
    expect(ike.counts.dh).toBe(2);
    expect(ike.counts.prf).toBeGreaterThan(0);
    expect(ike.counts.seal).toBeGreaterThanOrEqual(1);
    expect(ike.counts.open).toBeGreaterThanOrEqual(1);
    // The child's ESP SAs are keyed on the ESP provider (two, plus the data path's warm-up SAs), and
    // nothing of IKE ran there.
    expect(esp.counts.aeadKeys).toBeGreaterThanOrEqual(2);
    expect(esp.counts.dh).toBe(0);
    expect(esp.counts.prf).toBe(0);
    const ikeBefore = { ...ike.counts };
    const espSeals = esp.counts.seal;
    sendPing();
    // The packet was sealed by the ESP provider; the IKE provider saw nothing of it.
    expect(esp.counts.seal).toBe(espSeals + 1);
    expect(ike.counts).toEqual(ikeBefore);
  });

  it('provider alone stays the default of both (backward compatible)', async () => {
    const both = counting();
    const { sendPing } = await run({ provider: both.provider });
    expect(both.counts.dh).toBe(2);
    const sealsAfterIke = both.counts.seal;
    const keysAfterIke = both.counts.aeadKeys;
    expect(keysAfterIke).toBeGreaterThanOrEqual(4); // SK_ei/SK_er ciphers and the child's two ESP SAs
    sendPing();
    expect(both.counts.seal).toBe(sealsAfterIke + 1);
  });

  it('ikeProvider / espProvider override provider on their side only', async () => {
    const base = counting();
    const esp = counting();
    const { sendPing } = await run({ provider: base.provider, espProvider: esp.provider });
    expect(base.counts.dh).toBe(2);
    expect(esp.counts.dh).toBe(0);
    expect(esp.counts.aeadKeys).toBeGreaterThanOrEqual(2);
    expect(esp.counts.prf).toBe(0);
    const baseSeals = base.counts.seal;
    const espSeals = esp.counts.seal;
    sendPing();
    expect(esp.counts.seal).toBe(espSeals + 1);
    expect(base.counts.seal).toBe(baseSeals);
  });
});
