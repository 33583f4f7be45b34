/**
 * LinuxUdpTransport (sendmmsg/recvmmsg through koffi) on loopback sockets: the UdpTransport contract
 * that udp.ts (node:dgram) also meets, plus batching: a burst queued in one tick leaves in sendmmsg
 * calls and arrives intact and in order. The receiving side here is node:dgram, an independent check.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { LinuxUdpTransport, decodeSockaddr, encodeSockaddr } from '../../../src/net/linux-udp.js';
import type { Datagram } from '../../../src/net/types.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

function dgramSocket(type: 'udp4' | 'udp6', address: string): Promise<{ s: dgram.Socket; port: number; got: Array<{ msg: Buffer; port: number; address: string }> }> {
  const s = dgram.createSocket(type);
  const got: Array<{ msg: Buffer; port: number; address: string }> = [];
  s.on('message', (msg, r) => got.push({ msg, port: r.port, address: r.address }));
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
  return new Promise((resolve) => s.bind(0, address, () => {
    s.setRecvBufferSize(4 << 20);
    resolve({ s, port: s.address().port, got });
  }));
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('LinuxUdpTransport', () => {
  it('sockaddr codec round-trips IPv4 and IPv6 with the port in network order', () => {
    const b = new Uint8Array(32);
    expect(encodeSockaddr('198.18.0.1', 4500, b)).toBe(16);
    expect([...b.subarray(0, 8)]).toEqual([2, 0, 0x11, 0x94, 198, 18, 0, 1]);
    expect(decodeSockaddr(b.subarray(0, 16))).toEqual({ address: '198.18.0.1', port: 4500 });
    expect(encodeSockaddr('2001:db8::1', 500, b)).toBe(28);
    expect([b[0], b[1], b[2], b[3]]).toEqual([10, 0, 0x01, 0xf4]);
    expect(decodeSockaddr(b.subarray(0, 28))).toEqual({ address: '2001:db8::1', port: 500 });
    expect(encodeSockaddr('not-an-ip', 1, b)).toBe(0);
  });

  it('a burst of 200 datagrams sent in one tick (several sendmmsg batches) arrives complete and in order, from the bound port', async () => {
    const peer = await dgramSocket('udp4', '127.0.0.1');
    const t = new LinuxUdpTransport();
    open.push(t);
    await t.bind({ addresses: ['127.0.0.1'], ports: [0] });
    const [bound] = t.boundSockets();
    expect(bound!.port).toBeGreaterThan(0);
    expect(bound!.requestedPort).toBe(0);
    for (let i = 0; i < 200; i++) {
      const data = new Uint8Array(100 + ((i * 23) % 1300)).fill(i & 0xff);
      data[0] = i >> 8;
      data[1] = i & 0xff;
      t.send({ data, remoteAddress: '127.0.0.1', remotePort: peer.port, localPort: 0 + bound!.port });
    }
    await until(() => peer.got.length === 200);
    peer.got.forEach((g, i) => {
      expect(g.msg.length).toBe(100 + ((i * 23) % 1300));
      expect((g.msg[0]! << 8) | g.msg[1]!).toBe(i);
      expect(g.msg[g.msg.length - 1]).toBe(g.msg.length > 2 ? i & 0xff : g.msg[1]);
      expect(g.port).toBe(bound!.port);
    });
    expect(t.stats()).toMatchObject({ txDatagrams: 200, txErrors: 0 });
  });

  it('UDP GSO: runs of same-size datagrams (a shorter one ends a run) to two peers arrive as the same datagrams, in order per peer', async () => {
    const p1 = await dgramSocket('udp4', '127.0.0.1');
    const p2 = await dgramSocket('udp4', '127.0.0.1');
    const t = new LinuxUdpTransport({ gso: true });
    open.push(t);
    await t.bind({ addresses: ['127.0.0.1'], ports: [0] });
    const [bound] = t.boundSockets();
    // 150 datagrams of 1200 bytes with a 700-byte one after every 40th, 30 interleaved to p2, then 90 more.
    const want = new Map<number, number[]>([[p1.port, []], [p2.port, []]]);
    let n = 0;
    const send = (port: number, len: number) => {
      const data = new Uint8Array(len).fill(n & 0xff);
      data[0] = n >> 8; data[1] = n & 0xff;
      want.get(port)!.push(len * 65536 + n);
      n++;
      t.send({ data, remoteAddress: '127.0.0.1', remotePort: port, localPort: bound!.port });
    };
    for (let i = 0; i < 150; i++) {
      send(p1.port, 1200);
      if (i % 40 === 39) send(p1.port, 700);
      if (i % 5 === 0) send(p2.port, 1200);
    }
    for (let i = 0; i < 90; i++) send(p1.port, 1000);
    await until(() => p1.got.length + p2.got.length === n);
    for (const p of [p1, p2]) {
      expect(p.got.map((g) => g.msg.length * 65536 + ((g.msg[0]! << 8) | g.msg[1]!))).toEqual(want.get(p.port));
      for (const g of p.got) expect(g.msg[g.msg.length - 1]).toBe(g.msg[1]);
    }
    expect(t.stats()).toMatchObject({ txDatagrams: n, txErrors: 0 });
    // Most went out several per slot (UDP_SEGMENT), which is the point.
    expect(t.gsoStats.segments).toBeGreaterThan(n / 2);
  });

  it('UDP GRO: a GSO run between two transports arrives as the datagrams it carries, in order', async () => {
    const tx = new LinuxUdpTransport({ gso: true });
    const rx = new LinuxUdpTransport({ gso: true });
    open.push(tx, rx);
    await tx.bind({ addresses: ['127.0.0.1'], ports: [0] });
    await rx.bind({ addresses: ['127.0.0.1'], ports: [0] });
    const got: Array<{ len: number; n: number; last: number; port: number }> = [];
    rx.onDatagram((d) => got.push({ len: d.data.length, n: (d.data[4]! << 8) | d.data[5]!, last: d.data[d.data.length - 1]!, port: d.remotePort }));
    const [a] = tx.boundSockets();
    const [b] = rx.boundSockets();
    const lens = [...Array(30).fill(1200), 500, ...Array(10).fill(900)];
    lens.forEach((len, n) => {
      const data = new Uint8Array(len).fill(n);
      data[0] = 0; data[1] = 0; data[2] = 0; data[3] = 1; data[4] = n >> 8; data[5] = n & 0xff;
      tx.send({ data, remoteAddress: '127.0.0.1', remotePort: b!.port, localPort: a!.port });
    });
    await until(() => got.length === lens.length);
    expect(got).toEqual(lens.map((len, n) => ({ len, n, last: n, port: a!.port })));
    expect(rx.stats()).toMatchObject({ rxDatagrams: lens.length, rxBytes: lens.reduce((x, y) => x + y, 0) });
    expect(rx.groStats.segments).toBeGreaterThan(0);
  });

  it('receives datagrams with sender address and port; non-ESP data stays valid after the handler', async () => {
    const t = new LinuxUdpTransport();
    open.push(t);
    await t.bind({ addresses: ['127.0.0.1', '::1'], ports: [0] });
    const got: Datagram[] = [];
    t.onDatagram((d) => got.push(d));
    const [v4, v6] = t.boundSockets();
    const p4 = await dgramSocket('udp4', '127.0.0.1');
    const p6 = await dgramSocket('udp6', '::1');
    for (let i = 0; i < 100; i++) p4.s.send(Buffer.from(`four-${i}`), v4!.port, '127.0.0.1');
    p6.s.send(Buffer.from('six'), v6!.port, '::1');
    await until(() => got.length === 101);
    const fours = got.filter((d) => d.remoteAddress === '127.0.0.1');
    expect(fours.map((d) => Buffer.from(d.data).toString())).toEqual(Array.from({ length: 100 }, (_, i) => `four-${i}`));
    expect(fours.every((d) => d.remotePort === p4.port && d.localPort === v4!.port && d.localAddress === '127.0.0.1')).toBe(true);
    const six = got.find((d) => d.remoteAddress === '::1')!;
    expect(Buffer.from(six.data).toString()).toBe('six');
    expect(six.remotePort).toBe(p6.port);
    expect(t.stats()).toMatchObject({ rxDatagrams: 101 });
  });

  it('counts a send with no matching socket, and rejects binding a port in use (closing what it opened)', async () => {
    const errors: Error[] = [];
    const t = new LinuxUdpTransport({ onError: (e) => errors.push(e) });
    open.push(t);
    await t.bind({ addresses: ['127.0.0.1'], ports: [0] });
    t.send({ data: new Uint8Array(4), remoteAddress: '::1', remotePort: 9, localPort: t.boundSockets()[0]!.port });
    expect(t.stats().txErrors).toBe(1);
    expect(errors[0]!.message).toMatch(/no IPv6 socket/);
    const busy = t.boundSockets()[0]!.port;
    const u = new LinuxUdpTransport();
    await expect(u.bind({ addresses: ['127.0.0.1'], ports: [0, busy] })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${busy}.*EADDRINUSE`));
    expect(u.boundSockets()).toEqual([]);
  });
});
