import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { NodeUdpTransport } from '../../../src/net/udp.js';
import type { Datagram } from '../../../src/net/types.js';

const open: NodeUdpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

function transport(): NodeUdpTransport {
  const t = new NodeUdpTransport({ onError: () => {} });
  open.push(t);
  return t;
}

function next(t: NodeUdpTransport): Promise<Datagram> {
  return new Promise((resolve) => t.onDatagram(resolve));
}

describe('NodeUdpTransport on loopback', () => {
  it('binds several ports per family and reports the actual ports', async () => {
    const t = transport();
    await t.bind({ addresses: ['127.0.0.1', '::1'], ports: [0, 0] });
    const s = t.boundSockets();
    expect(s.map((x) => [x.address, x.family, x.requestedPort])).toEqual([
      ['127.0.0.1', 4, 0],
      ['127.0.0.1', 4, 0],
      ['::1', 6, 0],
      ['::1', 6, 0],
    ]);
    expect(s.every((x) => x.port > 0)).toBe(true);
    expect(new Set(s.map((x) => `${x.address}/${x.port}`)).size).toBe(4);
  });

  it('sends from the socket of the requested local port and tags received datagrams with theirs (IPv4 and IPv6)', async () => {
    const a = transport();
    const b = transport();
    await a.bind({ addresses: ['127.0.0.1', '::1'], ports: [0, 0] });
    await b.bind({ addresses: ['127.0.0.1', '::1'], ports: [0, 0] });
    const [a1, a2, a61] = a.boundSockets();
    const [, b2, , b62] = b.boundSockets();

    let got = next(b);
    a.send({ data: new Uint8Array([1, 2, 3]), remoteAddress: '127.0.0.1', remotePort: b2.port, localPort: a2.port });
    let d = await got;
    expect([...d.data]).toEqual([1, 2, 3]);
    expect(d.remotePort).toBe(a2.port);
    expect(d.remoteAddress).toBe('127.0.0.1');
    expect(d.localPort).toBe(b2.port);
    expect(d.localAddress).toBe('127.0.0.1');

    got = next(b);
    a.send({ data: new Uint8Array([9]), remoteAddress: '::1', remotePort: b62.port, localPort: a61.port });
    d = await got;
    expect(d.remoteAddress).toBe('::1');
    expect(d.remotePort).toBe(a61.port);
    expect(d.localPort).toBe(b62.port);

    got = next(a);
    b.send({ data: new Uint8Array([4]), remoteAddress: d.remoteAddress, remotePort: d.remotePort, localPort: d.localPort });
    const back = await got;
    expect(back.localPort).toBe(a61.port);
    expect(b.stats().rxDatagrams).toBe(2);
    expect(b.stats().txDatagrams).toBe(1);
  });

  it('receives from a plain dgram socket (interop with anything else on the wire)', async () => {
    const t = transport();
    await t.bind({ addresses: ['127.0.0.1'], ports: [0] });
    const port = t.boundSockets()[0].port;
    const s = dgram.createSocket('udp4');
    const got = next(t);
    await new Promise<void>((r) => s.send(Buffer.from('hello'), port, '127.0.0.1', () => r()));
    const d = await got;
    expect(Buffer.from(d.data).toString()).toBe('hello');
    expect(d.remotePort).toBe((s.address() as { port: number }).port);
    s.close();
  });

  it('counts a send with no socket for that port or family instead of throwing', async () => {
    const t = transport();
    await t.bind({ addresses: ['127.0.0.1'], ports: [0] });
    t.send({ data: new Uint8Array(1), remoteAddress: '::1', remotePort: 9, localPort: t.boundSockets()[0].port });
    t.send({ data: new Uint8Array(1), remoteAddress: '127.0.0.1', remotePort: 9, localPort: 1 });
    expect(t.stats().txErrors).toBe(2);
  });

  it('fails to bind a port in use, naming it, and leaves nothing bound', async () => {
    const a = transport();
    await a.bind({ addresses: ['127.0.0.1'], ports: [0] });
    const port = a.boundSockets()[0].port;
    const b = transport();
    await expect(b.bind({ addresses: ['127.0.0.1'], ports: [0, port] })).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port}`));
    expect(b.boundSockets()).toEqual([]);
  });

  it('rejects invalid port numbers', async () => {
    await expect(transport().bind({ ports: [70000] })).rejects.toThrow(/ports/);
  });
});
