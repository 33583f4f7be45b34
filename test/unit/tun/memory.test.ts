import { describe, expect, it } from 'vitest';
import { MemoryTun } from '../../../src/tun/memory.js';

const pkt = (...v: number[]) => new Uint8Array(v);

describe('MemoryTun', () => {
  it('delivers injected packets to the handler as copies with the promised head/tailroom', () => {
    const tun = new MemoryTun({ headroom: 16, tailroom: 32 });
    const got: Uint8Array[][] = [];
    tun.onPackets((b) => got.push([...b]));
    const src = pkt(0x45, 1, 2, 3);
    tun.inject(src);
    src[0] = 0;
    expect(got).toHaveLength(1);
    const p = got[0][0];
    expect([...p]).toEqual([0x45, 1, 2, 3]);
    expect(p.byteOffset).toBe(16);
    expect(p.buffer.byteLength - p.byteOffset - p.length).toBe(32);
    expect(tun.stats()).toMatchObject({ rxPackets: 1, rxBytes: 4, rxBatches: 1, rxDrops: 0 });
  });

  it('batches injected packets until flush in batch mode', () => {
    const tun = new MemoryTun({ batch: true });
    const sizes: number[] = [];
    tun.onPackets((b) => sizes.push(b.length));
    tun.inject(pkt(1));
    tun.inject(pkt(2));
    tun.inject(pkt(3));
    expect(sizes).toEqual([]);
    expect(tun.flush()).toBe(3);
    tun.injectBatch([pkt(4), pkt(5)]);
    expect(sizes).toEqual([3, 2]);
    expect(tun.stats().rxBatches).toBe(2);
  });

  it('counts packets injected before a handler exists, or after close, as drops', async () => {
    const tun = new MemoryTun();
    tun.inject(pkt(1));
    expect(tun.stats().rxDrops).toBe(1);
    let n = 0;
    tun.onPackets((b) => (n += b.length));
    await tun.close();
    tun.inject(pkt(2));
    expect(n).toBe(0);
    expect(tun.stats().rxDrops).toBe(2);
  });

  it('records writes (as copies), calls onWrite, and refuses writes after close or above the MTU when enforced', async () => {
    const tun = new MemoryTun({ mtu: 4, enforceMtu: true });
    const seen: number[] = [];
    tun.onWrite = (p) => seen.push(p[0]);
    const a = pkt(9, 9);
    expect(tun.write(a)).toBe(true);
    a[0] = 1;
    expect(tun.writeBatch([pkt(8), pkt(1, 2, 3, 4, 5), pkt(7)])).toBe(2);
    expect(tun.written.map((p) => [...p])).toEqual([[9, 9], [8], [7]]);
    expect(seen).toEqual([9, 8, 7]);
    await tun.close();
    expect(tun.write(pkt(1))).toBe(false);
    expect(tun.stats()).toMatchObject({ txPackets: 3, txBytes: 4, txDrops: 2 });
  });

  it('changes the MTU and rejects an impossible one', async () => {
    const tun = new MemoryTun();
    await tun.setMtu(1280);
    expect(tun.mtu).toBe(1280);
    await expect(tun.setMtu(10)).rejects.toThrow(/mtu/);
  });
});
