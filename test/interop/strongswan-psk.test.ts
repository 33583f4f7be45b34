/**
 * Interop matrix rows 1, 2 and 10 on the host kernel: strongSwan 5.9 (charon + kernel-libipsec: tunnel
 * mode, ESP in UDP 4500) in one namespace, `tsipsec up` in the other, PSK, both directions of initiation.
 * For each: both sides agree on SPIs, a ping and a 64 KiB TCP transfer pass both ways, the capture on
 * the wire bridge holds only IKE and ESP (never the plaintext marker), and tsipsec's decode decrypts
 * every ESP packet with the keys tsipsec logged — as many as tsipsec counted sent and received.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { matrix } from './harness/results.js';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopEnabled } from './env.js';
import { createTopology, destroyTopology, topology } from './harness/topology.js';
import { Charon } from './harness/strongswan.js';
import { TsipsecProc } from './harness/tsipsec.js';
import { run, spawnLogged, killPid, waitFor } from './harness/sh.js';
import { scenarioConf } from './harness/conf.js';
import { tcpBothWays } from './harness/tcp.js';
import { decodeCaptureFile } from '../../src/capture/decode.js';
import { readKeylog } from '../../src/capture/keylog.js';
import { nodeCrypto } from '../../src/crypto/node.js';

const MARKER_HEX = Buffer.from('ipxmark!').toString('hex');

interface Row { name: string; ike: string; esp: string }
const ROWS: Row[] = [
  { name: 'aes256gcm16 / modp2048', ike: 'aes256gcm16-prfsha256-modp2048', esp: 'aes256gcm16' },
  { name: 'aes128gcm16 / x25519', ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' },
  { name: 'aes128gcm16 / ecp256', ike: 'aes128gcm16-prfsha256-ecp256', esp: 'aes128gcm16' },
  { name: 'aes256-sha256 / x25519 (CBC+HMAC)', ike: 'aes256-sha256-x25519', esp: 'aes256-sha256' },
  { name: 'chacha20poly1305 / x25519', ike: 'chacha20poly1305-prfsha256-x25519', esp: 'chacha20poly1305' },
];

describe.runIf(interopEnabled('interop strongswan-psk'))('interop: tsipsec ↔ strongSwan (PSK, tunnel, ESP-in-UDP)', () => {
  const t = topology('tsi');
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-ipx-'));
  const m = matrix('strongswan-psk');
  beforeAll(async () => { await createTopology(t); });
  afterAll(async () => { await m.finish(); await destroyTopology(t); if (!process.env.TSIPSEC_KEEP) rmSync(work, { recursive: true, force: true }); });

  for (const row of ROWS) {
    for (const initiator of ['tsipsec', 'strongswan'] as const) {
      m.cell(`PSK tunnel ESP-in-UDP, ${row.name}`, initiator, 'initiates', async (ctx) => {
        const dir = join(work, `${row.esp}-${initiator}`);
        const ts = new TsipsecProc(t.nsA, join(dir, 'a'), scenarioConf({ local: t.addrA, remote: t.addrB, localId: 'a.ipx.test', remoteId: 'b.ipx.test', localTs: '198.19.1.0/24', remoteTs: '198.19.2.0/24', ike: row.ike, esp: row.esp, encap: true }));
        const ss = new Charon({ name: 'b', ns: t.nsB, dir: join(dir, 'b'), libipsec: true,
          swanctlConf: scenarioConf({ local: t.addrB, remote: t.addrA, localId: 'b.ipx.test', remoteId: 'a.ipx.test', localTs: '198.19.2.0/24', remoteTs: '198.19.1.0/24', ike: row.ike, esp: row.esp }) });
        mkdirSync(dir, { recursive: true });
        const pcap = join(dir, 'wire.pcap');
        const cap = spawnLogged('ip', ['netns', 'exec', t.nsW, 'tcpdump', '-i', t.bridge, '-U', '-n', '-s', '0', '-w', pcap, 'ip and not igmp']);
        let capErr = '';
        cap.stderr?.on('data', (d: Buffer) => { capErr = (capErr + d.toString()).slice(-4000); });
        try {
          await new Promise((r) => setTimeout(r, 500));
          await ss.start();
          await ts.start();
          if (initiator === 'tsipsec') await ts.initiate('ipx');
          else {
            const r = await ss.swanctl(['--initiate', '--child', 'ipx', '--timeout', '20']);
            expect(r.code, r.stdout + r.stderr + ts.output()).toBe(0);
          }
          await waitFor('tsipsec child SA', async () => (await ts.status()).ikeSas.some((s) => s.children.length > 0), 10_000);
          const st = await ts.status();
          const sas = await ss.listSas();
          const child = st.ikeSas[0]!.childCounters[0]!;
          // Both sides agree on the SPIs: charon lists its inbound (our outbound) and outbound SPI.
          expect(sas).toContain(child.spiIn);
          expect(sas).toContain(child.spiOut);
          // ... and on the IKE algorithms (charon writes AES_GCM_16-256 where tsipsec writes AES_GCM_16_256).
          const norm = (x: string): string => x.replace(/[-_]/g, '');
          expect(norm(sas), `${st.ikeSas[0]!.algorithms} vs\n${sas}`).toContain(norm(st.ikeSas[0]!.algorithms));
          // Routes are installed right after the child is up: wait until LAN B routes through the TUN.
          await waitFor('route via the TUN', async () => (await run('ip', ['-n', t.nsA, 'route', 'get', t.lanB])).stdout.includes('tsipx'), 5000);
          const p1 = await run('ip', ['netns', 'exec', t.nsA, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-p', MARKER_HEX, '-I', t.lanA, t.lanB], { timeoutMs: 15_000 });
          expect(p1.stdout, ts.output().slice(-3000)).toMatch(/3 received/);
          const p2 = await run('ip', ['netns', 'exec', t.nsB, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-p', MARKER_HEX, '-I', t.lanB, t.lanA], { timeoutMs: 15_000 });
          expect(p2.stdout).toMatch(/3 received/);
          const tcp = await tcpBothWays(t, dir, 'ipxmark!');
          expect(tcp, ts.output().slice(-3000)).toEqual([]);
          await new Promise((r) => setTimeout(r, 1000));
          const cc = (await ts.status()).ikeSas[0]!.childCounters[0]!;
          await killPid(cap, 'SIGINT');
          const capture = readFileSync(pcap);
          expect(capture.includes(Buffer.from('ipxmark!'))).toBe(false);
          const decoded = decodeCaptureFile(capture, readKeylog(ts.keys), { provider: nodeCrypto });
          const esp = decoded.packets.filter((p) => (p as { kind: string }).kind === 'esp') as Array<{ ok?: boolean }>;
          const other = decoded.packets.filter((p) => !['esp', 'ike', 'keepalive'].includes((p as { kind: string }).kind));
          expect(other.length).toBe(0);
          expect(esp.length).toBeGreaterThanOrEqual(12);
          expect(esp.filter((p) => p.ok).length).toBe(esp.length);
          // tcpdump says when the kernel dropped packets on a loaded machine; otherwise the capture holds
          // exactly the ESP packets tsipsec sent and received.
          const dropped = Number([...capErr.matchAll(/(\d+) packets? dropped by kernel/g)].at(-1)?.[1] ?? 0);
          if (dropped === 0) expect(esp.length, `${cc.packetsOut} out, ${cc.packetsIn} in`).toBe(cc.packetsIn + cc.packetsOut);
          ctx.note(`ESP: ${esp.length} captured, all decrypted; tsipsec counted ${cc.packetsIn + cc.packetsOut}${dropped ? `; tcpdump dropped ${dropped}` : ''}; TCP 64 KiB both ways`);
        } finally {
          await killPid(cap, 'SIGINT');
          await ts.stop();
          await ss.stop();
        }
      }, 60_000);
    }
  }
});
