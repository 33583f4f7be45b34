/**
 * Real end to end as root: `tsipsec mesh`. Three mesh nodes and a monitoring host, each in a network
 * namespace (prefix `tsm-`), on one Linux bridge in a fifth namespace; every node runs
 * `node dist/src/cli/main.js mesh up --mesh mesh.conf --node nX` with the same mesh file (cluster CA,
 * one ECDSA certificate per node, found by node name; the monitoring host's address in policy group
 * `clear`). Checked:
 *
 * - at start nothing is negotiated, every node has a trap per peer (n1 and n2 list subnets: their pair
 *   also has a tunnel-mode trap between the subnets; the TUN MTU is 1438 there, 1458 on transport-only n3);
 * - two nodes pinging each other at the same moment end with one IKE SA for the pair (the lower
 *   address yields its own duplicate), and every node pings every other (the first packet is held by
 *   the trap, not sent in clear);
 * - subnet to subnet (n1 <-> n2) a tunnel-mode child comes up on the pair's one IKE SA;
 * - a capture on the bridge holds only IKE and ESP between mesh nodes, no subnet address, never the ping's plaintext
 *   marker, while the pings to the monitoring host cross in clear with the marker (the control that
 *   the marker check can see plaintext);
 * - node n2's certificate re-issued by the CA and `tsipsec reload`: the established SAs stay (same
 *   SPIs), traffic keeps flowing, and a new IKE SA after a terminate authenticates.
 *
 * Outside CI without root it does not run, and says so; in CI it must run.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createDecipheriv, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, deleteNamespacesWithPrefix } from '../../src/runtime/netns.js';
import { controlRequest } from '../../src/runtime/control.js';
import type { TunnelStatus } from '../../src/runtime/tunnel.js';
import { iterateCapture } from '../../src/capture/pcap-reader.js';
import { classifyFrame } from '../../src/capture/link.js';
import { readKeylog, type ParsedKeylog } from '../../src/capture/keylog.js';
import { issueNodeCert, makeMeshCa } from '../unit/mesh/pki.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const PREFIX = 'tsm-';
const MARKER = 'TSM-MARK-PLAIN!!'; // 16 bytes: ping -p repeats it through the payload
const MARKER_HEX = Buffer.from(MARKER).toString('hex');

function enabled(): boolean {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  if (!existsSync(cli)) missing.push('dist/ (npm run build)');
  if (!existsSync('/usr/bin/tcpdump') && !existsSync('/usr/sbin/tcpdump')) missing.push('tcpdump');
  if (!existsSync('/usr/bin/openssl')) missing.push('openssl');
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`mesh e2e: missing in CI: ${missing.join(', ')}`);
  console.warn(`\n!!! mesh e2e NOT RUN: missing ${missing.join(', ')} !!!\n`);
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node { name: string; addr: string; socket: string; proc?: ChildProcess; out: string }

const IKE_AUTH = 35;
const PAYLOAD_SK = 46;
const FLAG_RESPONSE = 0x20;

/**
 * The decrypted SK payloads of the IKE_AUTH messages in a capture (RFC 7296 §3.14 with AES-GCM-16-256,
 * RFC 5282: nonce = salt ‖ IV, AAD = IKE header ‖ SK payload header), with the key log's SK_ei / SK_er.
 */
function ikeAuthMessages(pcap: Uint8Array, keys: ParsedKeylog): { spiI: string; plaintext: Buffer }[] {
  const out: { spiI: string; plaintext: Buffer }[] = [];
  for (const rec of iterateCapture(pcap)) {
    const f = classifyFrame(rec.linkType, rec.data);
    if (f.payload.kind !== 'ike') continue;
    const m = Buffer.from(f.payload.message);
    if (m.length < 28 + 4 + 8 + 16 || m[18] !== IKE_AUTH || m[16] !== PAYLOAD_SK) continue;
    const response = (m[19]! & FLAG_RESPONSE) !== 0;
    const spiI = m.subarray(0, 8).toString('hex');
    const entry = keys.ike.find((e) => e.spiI === spiI);
    if (!entry) continue;
    const skLen = m.readUInt16BE(30);
    const iv = m.subarray(32, 40);
    const ct = m.subarray(40, 28 + skLen - 16);
    const icv = m.subarray(28 + skLen - 16, 28 + skLen);
    const sk = response ? entry.skEr : entry.skEi;
    const d = createDecipheriv('aes-256-gcm', sk.subarray(0, 32), Buffer.concat([sk.subarray(32, 36), iv]));
    d.setAAD(m.subarray(0, 32));
    d.setAuthTag(icv);
    out.push({ spiI, plaintext: Buffer.concat([d.update(ct), d.final()]) });
  }
  return out;
}

describe.runIf(enabled())('real namespaces: a three-node mesh on a bridge', () => {
  const lab = new NetnsLab(PREFIX);
  const work = mkdtempSync(join(tmpdir(), 'tsipsec-mesh-'));
  const meshFile = join(work, 'mesh.conf');
  const nodes: Node[] = [1, 2, 3].map((i) => ({ name: `n${i}`, addr: `198.18.70.${i}`, socket: join(work, `n${i}.sock`), out: '' }));
  const [n1, n2, n3] = nodes as [Node, Node, Node];
  const MON = '198.18.70.9';
  // n1 and n2 have a subnet behind them (an address of it on lo): their pair gets a tunnel-mode child too.
  const SUBNETS: Record<string, string> = { n1: '198.19.71.0/24', n2: '198.19.72.0/24' };
  const subnetHost = (n: Node) => SUBNETS[n.name]!.replace(/0\/24$/, '1');
  let cap: { proc: ChildProcess; out: string } | undefined;
  const log = () => nodes.map((n) => `--- ${n.name} ---\n${n.out.slice(-4000)}`).join('\n');

  beforeAll(async () => {
    await deleteNamespacesWithPrefix(PREFIX);
  });
  afterAll(async () => {
    if (cap && cap.proc.exitCode === null) cap.proc.kill('SIGKILL');
    await lab.cleanup();
    rmSync(work, { recursive: true, force: true });
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/tsm-/);
  });

  async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try { if (await cond()) return; } catch (e) { last = (e as Error).message; }
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what} (${last})\n${log()}`);
  }
  const status = (n: Node) => controlRequest(n.socket, { cmd: 'status' }, 3000) as Promise<TunnelStatus>;
  const established = async (n: Node) => (await status(n)).ikeSas.filter((s) => s.state === 'established');
  const ping = async (from: string, to: string, count = 3): Promise<number> => {
    const r = await lab.execIn(from, 'ping', ['-c', String(count), '-i', '0.2', '-W', '3', '-p', MARKER_HEX, to], { timeoutMs: 30_000 }).catch((e: Error) => ({ stdout: e.message }));
    return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  };
  const pingFrom = async (ns: string, src: string, to: string): Promise<number> => {
    const r = await lab.execIn(ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '3', '-p', MARKER_HEX, '-I', src, to], { timeoutMs: 30_000 }).catch((e: Error) => ({ stdout: e.message }));
    return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  };
  const cliRun = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('all-to-all pings over ESP, one IKE SA per pair, only IKE/ESP on the bridge, clear host in clear, certificate rotation keeps the SAs', async () => {
    // ---- topology: bridge br0 in tsm-sw, a veth per host ----
    await lab.createNamespace('sw');
    await lab.execIn('sw', 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    await lab.execIn('sw', 'ip', ['link', 'set', 'br0', 'up']);
    for (const [name, addr] of [...nodes.map((n) => [n.name, n.addr] as const), ['mon', MON] as const]) {
      await lab.createNamespace(name);
      await lab.execIn(name, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']).catch(() => undefined);
      await lab.vethPair(name, `tsm${name}e`, `${addr}/24`, 'sw', `tsm${name}b`, null);
      if (SUBNETS[name]) await lab.execIn(name, 'ip', ['addr', 'add', `${SUBNETS[name]!.replace(/0\/24$/, '1')}/32`, 'dev', 'lo']);
      await lab.execIn('sw', 'ip', ['link', 'set', `tsm${name}b`, 'master', 'br0']);
    }
    await lab.execIn('sw', 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']).catch(() => undefined);

    // ---- the cluster PKI and the mesh file ----
    makeMeshCa(work);
    for (const n of nodes) issueNodeCert(work, n.name);
    writeFileSync(meshFile, `mesh {
  auth = pubkey
  ca = ca.pem
  dpd_delay = 5s
  esp_proposals = aes128gcm16
}
nodes {
${nodes.map((n) => `  ${n.name} {\n    addrs = ${n.addr}\n${SUBNETS[n.name] ? `    subnets = ${SUBNETS[n.name]}\n` : ''}  }`).join('\n')}
}
policies {
  clear = ${MON}
}
`);
    for (const n of nodes) {
      n.proc = lab.spawnIn(n.name, process.execPath, [cli, 'mesh', 'up', '--mesh', meshFile, '--node', n.name, '--socket', n.socket, '--tun', `tsm${n.name}t%d`, '--log-level', 'info',
        ...(n === n2 ? ['--keylog', join(work, 'keys-n2')] : [])]);
      n.proc.stdout?.on('data', (d: Buffer) => { n.out += d.toString(); });
      n.proc.stderr?.on('data', (d: Buffer) => { n.out += d.toString(); });
    }
    for (const n of nodes) await waitFor(`${n.name} control socket`, () => existsSync(n.socket), 20_000);
    expect(n1.out).toContain('TUN MTU 1438'); // n2-net: tunnel mode, 62 bytes of headroom on a 1500-byte link
    expect(n3.out).toContain('TUN MTU 1458'); // transport only: 42

    // Nothing negotiated yet; a trap per peer on every node.
    for (const n of nodes) {
      const st = await status(n);
      expect(st.ikeSas, n.name).toEqual([]);
      const want = nodes.filter((p) => p !== n).flatMap((p) => [`mesh-${p.name}/${p.name}-host`, ...(SUBNETS[n.name] && SUBNETS[p.name] ? [`mesh-${p.name}/${p.name}-net`] : [])]);
      expect(st.traps.map((t) => `${t.connection}/${t.child}`).sort(), n.name).toEqual(want.sort());
    }

    // ---- capture on the bridge ----
    const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p))!;
    const pcapPath = join(work, 'bridge.pcap');
    const c = { proc: lab.spawnIn('sw', tcpdump, ['-i', 'br0', '-U', '-n', '-s', '0', '-B', '16384', '-w', pcapPath, 'not', 'arp']), out: '' };
    cap = c;
    c.proc.stderr?.on('data', (d: Buffer) => { c.out += d.toString(); });
    await waitFor('tcpdump listening', () => c.out.includes('listening on'), 10_000);

    // ---- n1 and n2 send to each other at the same moment ----
    // (Replies lost while the two IKE SAs of the collision come up and one is deleted are not counted
    // against the mesh: the pings below must all pass.)
    await Promise.all([ping('n1', n2.addr, 5), ping('n2', n1.addr, 5)]);
    // Every other pair, each direction (the first packet of a new pair waits in the trap).
    for (const [a, b] of [[n1, n3], [n3, n2], [n2, n3], [n3, n1], [n1, n2], [n2, n1]] as const) {
      expect(await ping(a.name, b.addr), `${a.name} -> ${b.name}\n${log()}`).toBe(3);
    }
    // One IKE SA per pair on every node, the two ends of each pair the same SA.
    await waitFor('one IKE SA per peer on every node', async () => {
      for (const n of nodes) {
        const names = (await established(n)).map((s) => s.name).sort();
        if (names.join() !== nodes.filter((p) => p !== n).map((p) => `mesh-${p.name}`).sort().join()) return false;
      }
      return true;
    }, 15_000);
    for (const [a, b] of [[n1, n2], [n1, n3], [n2, n3]] as const) {
      const sa = (await established(a)).find((s) => s.name === `mesh-${b.name}`)!;
      const sb = (await established(b)).find((s) => s.name === `mesh-${a.name}`)!;
      expect([sa.spiI, sa.spiR]).toEqual([sb.spiI, sb.spiR]);
      await waitFor(`one child SA between ${a.name} and ${b.name}`, async () => {
        const x = (await established(a)).find((s) => s.name === `mesh-${b.name}`)!;
        const y = (await established(b)).find((s) => s.name === `mesh-${a.name}`)!;
        return [x, y].every((z) => z.children.filter((ch) => ch.state === 'installed').map((ch) => ch.mode).join() === 'transport');
      }, 15_000);
    }

    // ---- subnet to subnet: n1-net's trap brings up a tunnel-mode child on the existing n1-n2 IKE SA ----
    expect(await pingFrom('n1', subnetHost(n1), subnetHost(n2)), log()).toBe(3);
    expect(await pingFrom('n2', subnetHost(n2), subnetHost(n1)), log()).toBe(3);
    await waitFor('n1-n2: host and net children on one IKE SA', async () => {
      const x = (await established(n1)).filter((s) => s.name === 'mesh-n2');
      return x.length === 1 && x[0]!.children.filter((ch) => ch.state === 'installed').map((ch) => `${ch.name} ${ch.mode}`).sort().join() === 'n2-host transport,n2-net tunnel';
    }, 15_000);

    // ---- the monitoring host is reached in clear ----
    expect(await ping('n1', MON), log()).toBe(3);
    expect(await ping('n3', MON), log()).toBe(3);

    // ---- the capture: between mesh nodes only IKE and ESP, no marker; the marker to/from the clear host ----
    await sleep(1300); // let libpcap retire its last ring block (real-tunnel.test.ts)
    c.proc.kill('SIGINT');
    await new Promise<void>((r) => { if (c.proc.exitCode !== null) r(); else c.proc.once('exit', () => r()); });
    const pcap = new Uint8Array(readFileSync(pcapPath));
    const meshAddrs = new Set(nodes.map((n) => n.addr));
    const kinds: Record<string, number> = {};
    let meshMarker = 0;
    let monMarker = 0;
    let monIcmp = 0;
    const marker = Buffer.from(MARKER);
    for (const rec of iterateCapture(pcap)) {
      const f = classifyFrame(rec.linkType, rec.data);
      if (!f.ip) continue;
      const hasMarker = Buffer.from(rec.data).includes(marker);
      if (f.ip.src.startsWith('198.19.') || f.ip.dst.startsWith('198.19.')) {
        kinds.subnetPlaintext = (kinds.subnetPlaintext ?? 0) + 1; // tunnel mode shows only the node addresses outside
      } else if (meshAddrs.has(f.ip.src) && meshAddrs.has(f.ip.dst)) {
        kinds[f.payload.kind] = (kinds[f.payload.kind] ?? 0) + 1;
        if (hasMarker) meshMarker++;
      } else if (f.ip.src === MON || f.ip.dst === MON) {
        if (f.ip.protocol === 1) monIcmp++;
        if (hasMarker) monMarker++;
      }
    }
    expect(kinds.other ?? 0, `frames between mesh nodes that are neither IKE nor ESP: ${JSON.stringify(kinds)}`).toBe(0);
    expect(kinds.subnetPlaintext ?? 0, 'subnet addresses on the bridge').toBe(0);
    expect(kinds.esp ?? 0).toBeGreaterThanOrEqual(2 * 3 * 3 * 2); // 6 directed pings x 3 echo/reply pairs, at least
    expect(kinds.ike ?? 0).toBeGreaterThanOrEqual(3 * 4); // 3 pairs x IKE_SA_INIT + IKE_AUTH, request and response
    expect(meshMarker).toBe(0);
    expect(monIcmp).toBe(12);
    expect(monMarker).toBe(12);

    // ---- certificate rotation on n2: reload keeps the SAs, new SAs authenticate with the new one ----
    const before = (await established(n2)).map((s) => ({ name: s.name, spiI: s.spiI, spiR: s.spiR, child: s.children.map((ch) => ch.spiIn).sort() })).sort((x, y) => x.name.localeCompare(y.name));
    // A bad mesh file on reload changes nothing: exit 2 naming file, line and key; the SAs stay.
    const goodMesh = readFileSync(meshFile, 'utf8');
    writeFileSync(meshFile, goodMesh.replace('dpd_delay = 5s', 'dpd_delay = soon'));
    const badReload = cliRun(['reload', '--socket', n2.socket]);
    expect(badReload.status, `${badReload.stdout}${badReload.stderr}`).toBe(2);
    expect(badReload.stderr).toContain(`${meshFile}:4: mesh.dpd_delay: bad duration "soon"`);
    writeFileSync(meshFile, goodMesh);
    expect((await established(n2)).map((s) => ({ name: s.name, spiI: s.spiI, spiR: s.spiR, child: s.children.map((ch) => ch.spiIn).sort() })).sort((x, y) => x.name.localeCompare(y.name))).toEqual(before);
    const oldCert = readFileSync(join(work, 'certs', 'n2.pem'), 'utf8');
    issueNodeCert(work, 'n2');
    expect(readFileSync(join(work, 'certs', 'n2.pem'), 'utf8')).not.toBe(oldCert);
    const rl = cliRun(['reload', '--socket', n2.socket]);
    expect(rl.status, `${rl.stdout}${rl.stderr}\n${log()}`).toBe(0);
    expect(rl.stdout).toMatch(/unchanged: mesh-n1, mesh-n3/);
    expect(rl.stdout).toMatch(/deleting 0 IKE SA\(s\) and 0 child SA\(s\)/);
    expect(rl.stdout).toMatch(/credentials rotated \(SAs kept\): mesh-n1, mesh-n3/);
    const after = (await established(n2)).map((s) => ({ name: s.name, spiI: s.spiI, spiR: s.spiR, child: s.children.map((ch) => ch.spiIn).sort() })).sort((x, y) => x.name.localeCompare(y.name));
    expect(after).toEqual(before);
    expect(await ping('n1', n2.addr), log()).toBe(3);
    expect(await ping('n2', n3.addr), log()).toBe(3);
    // A new IKE SA between n2 and n1: n2 authenticates with its re-issued certificate. The IKE_AUTH
    // request n2 sends, decrypted with the keys n2 logged, carries the new certificate, not the old one.
    const pcap2 = join(work, 'rotation.pcap');
    const c2 = { proc: lab.spawnIn('sw', tcpdump, ['-i', 'br0', '-U', '-n', '-s', '0', '-B', '16384', '-w', pcap2, 'udp', 'and', '(port', '500', 'or', 'port', '4500)']), out: '' };
    cap = c2;
    c2.proc.stderr?.on('data', (d: Buffer) => { c2.out += d.toString(); });
    await waitFor('tcpdump listening', () => c2.out.includes('listening on'), 10_000);
    const t = cliRun(['terminate', '--ike', 'mesh-n1', '--socket', n2.socket]);
    expect(t.status, `${t.stdout}${t.stderr}`).toBe(0);
    await waitFor('the n1-n2 IKE SA gone on both sides', async () => !(await established(n1)).some((s) => s.name === 'mesh-n2') && !(await established(n2)).some((s) => s.name === 'mesh-n1'), 15_000);
    expect(await ping('n2', n1.addr), log()).toBeGreaterThanOrEqual(2);
    const fresh = (await established(n2)).find((s) => s.name === 'mesh-n1');
    expect(fresh, log()).toBeDefined();
    expect(fresh!.spiI).not.toBe(before.find((s) => s.name === 'mesh-n1')!.spiI);
    await sleep(1300);
    c2.proc.kill('SIGINT');
    await new Promise<void>((r) => { if (c2.proc.exitCode !== null) r(); else c2.proc.once('exit', () => r()); });
    const der = (pem: string) => Buffer.from(new X509Certificate(pem).raw);
    const auths = ikeAuthMessages(new Uint8Array(readFileSync(pcap2)), readKeylog(join(work, 'keys-n2'))).filter((a) => a.spiI === fresh!.spiI);
    expect(auths.length, 'IKE_AUTH request and response of the new SA, decrypted').toBe(2);
    expect(auths.some((a) => a.plaintext.includes(der(readFileSync(join(work, 'certs', 'n2.pem'), 'utf8')))), 'the new certificate in IKE_AUTH').toBe(true);
    expect(auths.some((a) => a.plaintext.includes(der(oldCert))), 'the old certificate in IKE_AUTH').toBe(false);
    expect(auths.some((a) => a.plaintext.includes(der(readFileSync(join(work, 'certs', 'n1.pem'), 'utf8')))), "n1's certificate (the decryption works both ways)").toBe(true);
    // n3's SA with n2 was not touched by any of it.
    expect((await established(n2)).find((s) => s.name === 'mesh-n3')!.spiI).toBe(before.find((s) => s.name === 'mesh-n3')!.spiI);

    // ---- down: each node stops; its routes go ----
    for (const n of nodes) {
      const d = cliRun(['down', '--socket', n.socket]);
      expect(d.status, d.stderr).toBe(0);
    }
    for (const n of nodes) await waitFor(`${n.name} exited`, () => n.proc!.exitCode !== null, 15_000);
    const left = await lab.execIn('n1', 'ip', ['-j', 'route', 'show', 'table', 'all']);
    expect(left.stdout).not.toContain('tsmn1t');
  }, 240_000);
});
