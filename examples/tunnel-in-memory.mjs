// Two tsipsec Tunnels over an in-memory network and in-memory TUN devices: IKEv2 (PSK, X25519) brings
// up a tunnel-mode child SA, then one IPv4 packet crosses as ESP-in-UDP. No root, no real sockets.
// Run: npm run build && node examples/tunnel-in-memory.mjs
import { MemoryNetwork, MemoryTun, Tunnel, systemClock } from 'tsipsec';

const psk = new TextEncoder().encode('an example pre-shared key of some length');
const net = new MemoryNetwork({ clock: systemClock });

async function side(me, peer, lan, peerLan, start) {
  const udp = net.endpoint(me);
  await udp.bind({ ports: [500, 4500] });
  const tun = new MemoryTun({ name: `tun-${me}` });
  tun.onWrite = (p) => console.log(`${me}: TUN got ${p.length} bytes from ${p.slice(12, 16).join('.')}`);
  const tunnel = new Tunnel({
    udp, tun, keepaliveSec: 0,
    config: { connections: [{
      name: 'gw', localAddrs: [me], remoteAddrs: [peer], proposals: ['aes256gcm16-prfsha256-x25519'], encap: true,
      local: { auth: 'psk', id: me, psk },
      remote: { auth: 'psk', id: peer, psk },
      children: [{ name: 'net', localTs: [lan], remoteTs: [peerLan], espProposals: ['aes256gcm16'], startAction: start ? 'start' : 'none' }],
    }] },
  });
  tunnel.on((e) => console.log(`${me}: ${e.type}${e.type === 'child-up' ? ` ${e.childName} spiIn=${e.spiIn.toString(16)}` : ''}`));
  return { tun, tunnel };
}

const a = await side('198.18.0.1', '198.18.0.2', '198.19.1.0/24', '198.19.2.0/24', true);
const b = await side('198.18.0.2', '198.18.0.1', '198.19.2.0/24', '198.19.1.0/24', false);
const childUp = new Promise((resolve) => a.tunnel.on((e) => { if (e.type === 'child-up') resolve(); }));
a.tunnel.start();
// The in-memory network delivers when told to: pump it until the child SA is up.
const pump = setInterval(() => net.deliverUntil(systemClock.now()), 1);
await childUp;

// An IPv4/UDP packet 198.19.1.1 → 198.19.2.1 (checksums left 0: only the tunnel looks at it).
const packet = new Uint8Array(28 + 5);
packet.set([0x45, 0, 0, packet.length, 0, 0, 0, 0, 64, 17, 0, 0, 198, 19, 1, 1, 198, 19, 2, 1]);
packet.set([0x13, 0x88, 0x13, 0x88, 0, 13, 0, 0], 20);
packet.set(new TextEncoder().encode('hello'), 28);
a.tun.inject(packet);
net.deliverUntil(systemClock.now());

// On port 4500 a datagram starting with four zero bytes is IKE (RFC 3948 non-ESP marker); anything else is ESP.
const esp = net.captured.filter((d) => d.toPort === 4500 && d.data.length > 8 && d.data.subarray(0, 4).some((x) => x !== 0)).length;
console.log(`ESP datagrams on the wire: ${esp}; B's TUN received ${b.tun.written.length} packet(s)`);
console.log(`B decrypted: ${new TextDecoder().decode(b.tun.written[0].subarray(28))}`);
clearInterval(pump);
await a.tunnel.close();
await b.tunnel.close();
