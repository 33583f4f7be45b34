import { describe, expect, it } from 'vitest';
import { MemoryNetwork, seededRandom, type CapturedDatagram } from '../../../src/net/memory.js';
import type { Datagram } from '../../../src/net/types.js';
import { SimulatedClock } from '../../../src/runtime/clock.js';

const A = '198.18.1.1';
const B = '198.18.2.2';

async function pair(opts: ConstructorParameters<typeof MemoryNetwork>[0]) {
  const net = new MemoryNetwork(opts);
  const a = net.endpoint(A);
  const b = net.endpoint([B, '2001:db8::2']);
  await a.bind({ ports: [500, 4500] });
  await b.bind({ addresses: [B, '2001:db8::2'], ports: [500, 4500] });
  const gotA: Datagram[] = [];
  const gotB: Datagram[] = [];
  a.onDatagram((d) => gotA.push(d));
  b.onDatagram((d) => gotB.push(d));
  return { net, a, b, gotA, gotB };
}

const bytes = (...v: number[]) => new Uint8Array(v);

describe('MemoryNetwork', () => {
  it('delivers by address:port after the configured delay, carrying both ports', async () => {
    const clock = new SimulatedClock(100);
    const { net, a, gotB } = await pair({ clock, delayMs: 5 });
    a.send({ data: bytes(1, 2, 3), remoteAddress: B, remotePort: 4500, localPort: 4500 });
    expect(net.pending()).toBe(1);
    expect(net.nextDeliveryAt()).toBe(105);
    expect(net.deliverUntil(104)).toBe(0);
    expect(gotB).toHaveLength(0);
    expect(net.deliverUntil(105)).toBe(1);
    expect(gotB).toEqual([{ data: bytes(1, 2, 3), remoteAddress: A, remotePort: 4500, localAddress: B, localPort: 4500 }]);
    expect(net.pending()).toBe(0);
  });

  it('copies data so a sender reusing its buffer cannot change what is in flight', async () => {
    const clock = new SimulatedClock();
    const { net, a, gotB } = await pair({ clock });
    const buf = bytes(7, 7);
    a.send({ data: buf, remoteAddress: B, remotePort: 500, localPort: 500 });
    buf[0] = 0;
    net.deliverUntil(0);
    expect(gotB[0].data).toEqual(bytes(7, 7));
    expect(gotB[0].localPort).toBe(500);
  });

  it('routes IPv6 to the endpoint owning the address, from a socket of the same family only', async () => {
    const clock = new SimulatedClock();
    const net = new MemoryNetwork({ clock });
    const a = net.endpoint(['2001:db8::1', A]);
    const b = net.endpoint('2001:db8::2');
    await a.bind({ ports: [500] });
    await b.bind({ ports: [500] });
    const got: Datagram[] = [];
    b.onDatagram((d) => got.push(d));
    a.send({ data: bytes(9), remoteAddress: '2001:db8::2', remotePort: 500, localPort: 500 });
    net.deliverUntil(0);
    expect(got.map((d) => d.remoteAddress)).toEqual(['2001:db8::1']);
    a.send({ data: bytes(9), remoteAddress: '2001:db8::2', remotePort: 500, localPort: 4500 });
    expect(a.stats().txErrors).toBe(1);
  });

  it('loses nothing at loss 0, everything at loss 1, and about the configured share in between', async () => {
    for (const [loss, lo, hi] of [
      [0, 1000, 1000],
      [1, 0, 0],
      [0.3, 600, 800],
    ] as const) {
      const clock = new SimulatedClock();
      const { net, a, gotB } = await pair({ clock, loss, random: seededRandom(42) });
      for (let i = 0; i < 1000; i++) a.send({ data: bytes(i & 255), remoteAddress: B, remotePort: 500, localPort: 500 });
      net.deliverUntil(0);
      expect(gotB.length).toBeGreaterThanOrEqual(lo);
      expect(gotB.length).toBeLessThanOrEqual(hi);
      expect(net.captured.filter((c) => c.fate === 'lost').length).toBe(1000 - gotB.length);
    }
  });

  it('replays the same loss/duplication/reorder/jitter schedule for the same seed, and a different one for another seed', async () => {
    async function runOnce(seed: number): Promise<string[]> {
      const clock = new SimulatedClock();
      const { net, a, gotB } = await pair({ clock, loss: 0.2, duplicate: 0.2, reorder: 0.2, delayMs: 3, jitterMs: 4, random: seededRandom(seed) });
      for (let i = 0; i < 200; i++) {
        a.send({ data: bytes(i), remoteAddress: B, remotePort: 500, localPort: 500 });
        clock.advance(1);
      }
      net.deliverUntil(clock.now() + 100);
      return gotB.map((d) => String(d.data[0]));
    }
    const r1 = await runOnce(7);
    const r2 = await runOnce(7);
    const r3 = await runOnce(8);
    expect(r1).toEqual(r2);
    expect(r1).not.toEqual(r3);
  });

  it('duplicates every datagram at duplicate 1', async () => {
    const clock = new SimulatedClock();
    const { net, a, gotB } = await pair({ clock, duplicate: 1 });
    a.send({ data: bytes(1), remoteAddress: B, remotePort: 500, localPort: 500 });
    a.send({ data: bytes(2), remoteAddress: B, remotePort: 500, localPort: 500 });
    net.deliverUntil(0);
    expect(gotB.map((d) => d.data[0])).toEqual([1, 1, 2, 2]);
    expect(net.captured.map((c) => c.fate)).toEqual(['queued', 'duplicate', 'queued', 'duplicate']);
  });

  it('reorders: a held-back datagram is overtaken by a later one', async () => {
    const clock = new SimulatedClock();
    const { net, a, gotB } = await pair({ clock, delayMs: 1, reorder: 1, reorderDelayMs: 10 });
    a.send({ data: bytes(1), remoteAddress: B, remotePort: 500, localPort: 500 });
    net.setConditions({ reorder: 0 });
    clock.advance(1);
    a.send({ data: bytes(2), remoteAddress: B, remotePort: 500, localPort: 500 });
    net.deliverUntil(2);
    expect(gotB.map((d) => d.data[0])).toEqual([2]);
    net.deliverUntil(11);
    expect(gotB.map((d) => d.data[0])).toEqual([2, 1]);
  });

  it('keeps jittered delivery times inside [delay, delay + jitter)', async () => {
    const clock = new SimulatedClock(1000);
    const { net, a } = await pair({ clock, delayMs: 20, jitterMs: 10, random: seededRandom(3) });
    for (let i = 0; i < 100; i++) a.send({ data: bytes(i), remoteAddress: B, remotePort: 500, localPort: 500 });
    const times = net.captured.map((c) => c.deliverAtMs as number);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(1020);
    expect(Math.max(...times)).toBeLessThan(1030);
    expect(new Set(times).size).toBeGreaterThan(50);
  });

  it('applies per-direction conditions only to that direction', async () => {
    const clock = new SimulatedClock();
    const { net, a, b, gotA, gotB } = await pair({ clock });
    net.setConditions({ loss: 1 }, A, B);
    a.send({ data: bytes(1), remoteAddress: B, remotePort: 500, localPort: 500 });
    b.send({ data: bytes(2), remoteAddress: A, remotePort: 500, localPort: 500 });
    net.deliverUntil(0);
    expect(gotB).toHaveLength(0);
    expect(gotA.map((d) => d.data[0])).toEqual([2]);
  });

  it('lets a filter drop chosen datagrams and logs fates for unknown hosts', async () => {
    const clock = new SimulatedClock();
    const { net, a, gotB } = await pair({ clock });
    net.setFilter((d: CapturedDatagram) => d.data[0] !== 0xee);
    a.send({ data: bytes(0xee), remoteAddress: B, remotePort: 500, localPort: 500 });
    a.send({ data: bytes(0x01), remoteAddress: B, remotePort: 500, localPort: 500 });
    a.send({ data: bytes(0x02), remoteAddress: '198.18.9.9', remotePort: 500, localPort: 500 });
    net.deliverUntil(0);
    expect(gotB.map((d) => d.data[0])).toEqual([1]);
    expect(net.captured.map((c) => c.fate)).toEqual(['filtered', 'queued', 'no-route']);
    expect(net.captured[1].delivered).toBe(true);
  });

  it('delivers replies sent from a handler within the same deliverUntil when already due', async () => {
    const clock = new SimulatedClock();
    const { net, a, b, gotA } = await pair({ clock, delayMs: 2 });
    b.onDatagram((d) => b.send({ data: bytes(d.data[0] + 1), remoteAddress: d.remoteAddress, remotePort: d.remotePort, localPort: d.localPort }));
    a.send({ data: bytes(1), remoteAddress: B, remotePort: 500, localPort: 500 });
    clock.advance(2);
    net.deliverUntil(2);
    expect(gotA).toHaveLength(0); // the reply is stamped at now=2, due at 4
    clock.advance(2);
    net.deliverUntil(4);
    expect(gotA.map((d) => d.data[0])).toEqual([2]);
  });

  it('NATs an inside host: the peer sees the public address and a mapped port, replies come back, unsolicited ones do not', async () => {
    const clock = new SimulatedClock();
    const { net, a, b, gotA, gotB } = await pair({ clock });
    net.addNat(A, '198.18.100.1');
    a.send({ data: bytes(1), remoteAddress: B, remotePort: 500, localPort: 500 });
    a.send({ data: bytes(2), remoteAddress: B, remotePort: 4500, localPort: 4500 });
    net.deliverUntil(0);
    expect(gotB.map((d) => [d.remoteAddress, d.remotePort])).toEqual([
      ['198.18.100.1', 40000],
      ['198.18.100.1', 40001],
    ]);
    b.send({ data: bytes(3), remoteAddress: '198.18.100.1', remotePort: 40001, localPort: 4500 });
    b.send({ data: bytes(4), remoteAddress: '198.18.100.1', remotePort: 40002, localPort: 4500 });
    net.deliverUntil(0);
    expect(gotA.map((d) => [d.data[0], d.localPort, d.remoteAddress])).toEqual([[3, 4500, B]]);
  });

  it('refuses bad conditions and double binds with messages naming the field', async () => {
    const clock = new SimulatedClock();
    expect(() => new MemoryNetwork({ clock, loss: 2 })).toThrow(/loss/);
    const { net } = await pair({ clock });
    expect(() => net.endpoint(A)).toThrow(/already owned/);
    const c = net.endpoint('198.18.3.3');
    await c.bind({ ports: [0, 0] });
    expect(c.boundSockets().map((s) => s.port)).toEqual([49152, 49153]);
    await expect(c.bind({ ports: [1] })).rejects.toThrow(/already bound/);
  });
});

describe('seededRandom', () => {
  it('produces values in [0, 1) that depend on the seed', () => {
    const r = seededRandom(123);
    const xs = Array.from({ length: 1000 }, r);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(Array.from({ length: 5 }, seededRandom(124))).not.toEqual(xs.slice(0, 5));
  });
});
