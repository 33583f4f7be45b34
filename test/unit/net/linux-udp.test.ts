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
