/**
 * Real end to end as root: two network namespaces (prefix `tsr-`) joined by a veth link, two
 * `node dist/src/cli/main.js up` processes, traffic through real TUN devices.
 *
 *   (a) tunnel mode, ECDSA certificates from a private CA made here with strongSwan's `pki`;
 *   (b) transport mode, PSK (routing through table 220, UDP source ports 500/4500 kept in main).
 *
 * Each: ping, a TCP transfer whose SHA-256 the receiver reports, `status --json` on both sides agreeing
 * on SPIs, a tcpdump capture of the link carrying only IKE and ESP and never the plaintext marker, and
 * `tsipsec decode --keys` decrypting every captured ESP packet. Then, on the running tunnel-mode pair,
 * configuration reload: a second child added (SIGHUP / `tsipsec reload`) comes up and carries traffic
 * without touching the first; a bad file is rejected with file:line and changes nothing; the child
 * removed again is deleted on both sides with its route.
 *
 * Outside CI without root it does not run, and says so; in CI it must run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab } from '../../src/runtime/netns.js';
import { controlRequest } from '../../src/runtime/control.js';
import type { TunnelStatus } from '../../src/runtime/tunnel.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const PREFIX = 'tsr-';
const MARKER = 'tsr-plaintext-marker-0123456789';
const MARKER_HEX = Buffer.from('tsr-mark').toString('hex');

function enabled(): boolean {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  if (!existsSync('/usr/bin/tcpdump') && !existsSync('/usr/sbin/tcpdump')) missing.push('tcpdump');
  if (spawnSync('pki', ['--help']).error) missing.push('pki (strongswan-pki)');
  if (!existsSync(cli)) missing.push('dist/ (npm run build)');
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`real e2e: missing in CI: ${missing.join(', ')}`);
  console.warn(`\n!!! real tsipsec e2e NOT RUN: missing ${missing.join(', ')} !!!\n`);
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc { child: ChildProcess; output(): string }

function track(child: ChildProcess): Proc {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-40_000); });
  child.stderr?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-40_000); });
  return { child, output: () => out };
}

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } resolve(null); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(t); resolve(code); });
  });
}

/** The CLI inside a namespace (or outside with ns null), run to completion. */
function cliIn(ns: string | null, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const cmd = ns ? ['ip', ['netns', 'exec', ns, process.execPath, cli, ...args]] as const : [process.execPath, [cli, ...args]] as const;
  const r = spawnSync(cmd[0], [...cmd[1]], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try { if (await cond()) return; } catch (e) { last = (e as Error).message; }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what} (${last})\n${log()}`);
}

const TCP_SERVER = `
const net = require('node:net'); const crypto = require('node:crypto');
const s = net.createServer((c) => { const h = crypto.createHash('sha256'); let n = 0;
  c.on('data', (d) => { h.update(d); n += d.length; }); c.on('end', () => { const r = JSON.stringify({ n, sha256: h.digest('hex') });
  process.stdout.write(r + '\\n'); c.end(r); s.close(); }); });
s.listen(5201, process.argv[1], () => process.stdout.write('listening\\n'));
setTimeout(() => process.exit(2), 30000).unref();`;

const TCP_CLIENT = `
const net = require('node:net');
const total = Number(process.argv[2]); const marker = Buffer.from(process.argv[3]);
const buf = Buffer.alloc(total); for (let i = 0; i < total; i += marker.length) marker.copy(buf, i);
const c = net.connect(5201, process.argv[1], () => c.end(buf)); let out = '';
c.on('data', (d) => { out += d; }); c.on('end', () => { process.stdout.write(out + '\\n'); process.exit(0); });
c.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
setTimeout(() => { process.stderr.write('timeout\\n'); process.exit(1); }, 20000).unref();`;

/** The bytes TCP_CLIENT sends, computed independently here. */
function expectedSha(total: number): string {
  const m = Buffer.from(MARKER);
  const buf = Buffer.alloc(total);
  for (let i = 0; i < total; i += m.length) m.copy(buf, i);
  return createHash('sha256').update(buf).digest('hex');
}

interface Side { ns: string; dir: string; socket: string; conf: string; proc?: Proc; veth: string; addr: string; lan: string; lan2: string; id: string }

interface Scenario {
  name: 'cert' | 'psk';
  mode: 'tunnel' | 'transport';
  subnet: number;
}

function swanctl(s: Scenario, me: Side, peer: Side, o: { start: boolean; net2?: boolean; extraLine?: string }): string {
  const ts = (l: Side, r: Side, which: 'lan' | 'lan2') => (s.mode === 'tunnel' ? `        local_ts = ${l[which]}/32\n        remote_ts = ${r[which]}/32\n` : '');
  const auth = s.name === 'cert'
    ? `    local {\n      auth = pubkey\n      certs = ${me.id}.pem\n      id = ${me.id}\n    }\n    remote {\n      auth = pubkey\n      id = ${peer.id}\n      cacerts = ca.pem\n    }\n`
    : `    local {\n      auth = psk\n      id = ${me.id}\n    }\n    remote {\n      auth = psk\n      id = ${peer.id}\n    }\n`;
  const child = (name: string, which: 'lan' | 'lan2') => `      ${name} {\n${ts(me, peer, which)}        esp_proposals = aes128gcm16\n        mode = ${s.mode}\n        start_action = ${o.start ? 'start' : 'none'}\n      }\n`;
  return `connections {
  tsr {
    version = 2
    local_addrs = ${me.addr}
    remote_addrs = ${peer.addr}
    proposals = aes128gcm16-prfsha256-ecp256
    encap = yes
${auth}    children {
${child('net', 'lan')}${o.net2 ? child('net2', 'lan2') : ''}    }
  }
}
${s.name === 'psk' ? `secrets {\n  ike-tsr {\n    id-a = a.tsr.test\n    id-b = b.tsr.test\n    secret = 0sdHNyIHRlc3QgcHJlLXNoYXJlZCBrZXkgb2YgZW5vdWdoIGxlbmd0aA==\n  }\n}\n` : ''}${o.extraLine ?? ''}`;
}

function makePki(dir: string): void {
  const pki = (args: string[], out: string, input?: Buffer) => {
    const r = spawnSync('pki', args, { input, maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`pki ${args.join(' ')}: ${r.stderr.toString()}`);
    writeFileSync(join(dir, out), r.stdout);
    return r.stdout;
  };
  pki(['--gen', '--type', 'ecdsa', '--size', '256', '--outform', 'pem'], 'ca.key');
  pki(['--self', '--ca', '--lifetime', '30', '--in', join(dir, 'ca.key'), '--type', 'ecdsa', '--dn', 'C=ZZ, O=tsipsec, CN=tsr test CA', '--outform', 'pem'], 'ca.pem');
  for (const n of ['a', 'b']) {
    pki(['--gen', '--type', 'ecdsa', '--size', '256', '--outform', 'pem'], `${n}.key`);
    const pub = spawnSync('pki', ['--pub', '--in', join(dir, `${n}.key`), '--type', 'ecdsa']).stdout;
    pki(['--issue', '--lifetime', '30', '--cacert', join(dir, 'ca.pem'), '--cakey', join(dir, 'ca.key'), '--type', 'pub',
      '--dn', `C=ZZ, O=tsipsec, CN=${n}.tsr.test`, '--san', `${n}.tsr.test`, '--outform', 'pem'], `${n}.pem`, pub);
  }
}

class Pair {
  readonly lab = new NetnsLab(PREFIX);
  readonly work = mkdtempSync(join(tmpdir(), 'tsipsec-real-'));
  a!: Side;
  b!: Side;
  cap?: Proc;
  constructor(readonly s: Scenario) {}

  log = (): string => `--- A ---\n${this.a?.proc?.output().slice(-6000) ?? ''}\n--- B ---\n${this.b?.proc?.output().slice(-6000) ?? ''}`;

  async setup(): Promise<void> {
    const n = this.s.subnet;
    const mk = (x: 'a' | 'b', i: number): Side => ({
      ns: `${PREFIX}${this.s.name}-${x}`, dir: join(this.work, x), socket: join(this.work, x, 'ctl.sock'), conf: join(this.work, x, 'swanctl.conf'),
      veth: `tsr${this.s.name[0]}${x}0`, addr: `198.18.${n}.${i}`, lan: `198.19.${n}.${i}`, lan2: `198.19.${n}.${10 + i}`, id: `${x}.tsr.test`,
    });
    this.a = mk('a', 1);
    this.b = mk('b', 2);
    await this.lab.createNamespace(`${this.s.name}-a`);
    await this.lab.createNamespace(`${this.s.name}-b`);
    await this.lab.vethPair(`${this.s.name}-a`, this.a.veth, `${this.a.addr}/24`, `${this.s.name}-b`, this.b.veth, `${this.b.addr}/24`);
    for (const side of [this.a, this.b]) {
      const short = side.ns.slice(PREFIX.length);
      await this.lab.execIn(short, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']).catch(() => undefined);
      await this.lab.execIn(short, 'ip', ['addr', 'add', `${side.lan}/32`, 'dev', 'lo']);
      await this.lab.execIn(short, 'ip', ['addr', 'add', `${side.lan2}/32`, 'dev', 'lo']);
      mkdirSync(join(side.dir, 'keys'), { recursive: true });
    }
    if (this.s.name === 'cert') {
      const pkiDir = join(this.work, 'pki');
      mkdirSync(pkiDir);
      makePki(pkiDir);
      for (const [side, n] of [[this.a, 'a'], [this.b, 'b']] as const) {
        for (const d of ['x509', 'x509ca', 'private']) mkdirSync(join(side.dir, d));
        writeFileSync(join(side.dir, 'x509', `${n}.tsr.test.pem`), readFileSync(join(pkiDir, `${n}.pem`)));
        writeFileSync(join(side.dir, 'x509ca', 'ca.pem'), readFileSync(join(pkiDir, 'ca.pem')));
        writeFileSync(join(side.dir, 'private', `${n}.key`), readFileSync(join(pkiDir, `${n}.key`)), { mode: 0o600 });
      }
    }
    this.writeConf({});
  }

  writeConf(o: { net2?: boolean; extraLine?: string }): void {
    writeFileSync(this.a.conf, swanctl(this.s, this.a, this.b, { start: true, ...o }), { mode: 0o600 });
    writeFileSync(this.b.conf, swanctl(this.s, this.b, this.a, { start: false, ...o }), { mode: 0o600 });
  }

  async startCapture(): Promise<void> {
    const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p))!;
    // Everything on the link except ARP: plaintext would show up as 'other'. -U writes each packet at once;
    // a 16 MiB ring (-B) so a busy CI machine does not drop bursts before tcpdump gets the CPU.
    this.cap = track(this.lab.spawnIn(this.a.ns.slice(PREFIX.length), tcpdump, ['-i', this.a.veth, '-U', '-n', '-s', '0', '-B', '16384', '-w', join(this.work, 'link.pcap'), 'not', 'arp']));
    await waitFor('tcpdump listening', () => this.cap!.output().includes('listening on'), 10_000, () => this.cap!.output());
  }

  async stopCapture(): Promise<{ pcap: Buffer; stats: string }> {
    const cap = this.cap!;
    // libpcap (TPACKET_V3) passes a ring block to tcpdump when it is full or after tcpdump's 1 s timeout;
    // tcpdump exits on SIGINT without reading a block still open. Let it retire first.
    await sleep(1300);
    cap.child.kill('SIGINT');
    await exited(cap.child, 5000);
    return { pcap: readFileSync(join(this.work, 'link.pcap')), stats: cap.output() };
  }

  async startDaemons(): Promise<void> {
    const start = (side: Side, tun: string) => {
      side.proc = track(this.lab.spawnIn(side.ns.slice(PREFIX.length), process.execPath, [cli, 'up', '--config', side.conf, '--socket', side.socket,
        '--keylog', join(side.dir, 'keys'), '--tun', tun, '--log-level', 'info']));
    };
    start(this.b, `tsr${this.s.name[0]}b%d`);
    // The responder first: an initiator talking to a not yet bound port would retransmit IKE_SA_INIT.
    await waitFor('B control socket', () => existsSync(this.b.socket), 20_000, this.log);
    start(this.a, `tsr${this.s.name[0]}a%d`);
  }

  /** Both sides route `dst` (from `src`) into their TUN device: routes are installed after child-up, asynchronously. */
  async waitRoutes(src: string, dst: string, src2 = dst, dst2 = src): Promise<void> {
    const via = async (side: Side, to: string, from: string) => {
      const r = await this.lab.execIn(side.ns.slice(PREFIX.length), 'ip', ['-j', 'route', 'get', to, 'from', from]);
      return (JSON.parse(r.stdout) as Array<{ dev?: string }>)[0]?.dev ?? '';
    };
    const tunA = (await this.status(this.a)).tun?.name;
    const tunB = (await this.status(this.b)).tun?.name;
    await waitFor(`routes ${src} -> ${dst} through the TUN devices`, async () => (await via(this.a, dst, src)) === tunA && (await via(this.b, dst2, src2)) === tunB, 10_000, this.log);
  }

  status(side: Side): Promise<TunnelStatus> {
    return controlRequest(side.socket, { cmd: 'status' }, 3000) as Promise<TunnelStatus>;
  }

  installed(st: TunnelStatus): string[] {
    return st.ikeSas.flatMap((s) => s.children.filter((c) => c.state === 'installed').map((c) => c.name)).sort();
  }

  async waitChildren(names: string[], timeoutMs = 15_000): Promise<void> {
    await waitFor(`children ${names.join(',')} on both sides`, async () => {
      for (const side of [this.a, this.b]) {
        if (side.proc!.child.exitCode !== null) throw new Error(`${side.ns} exited ${side.proc!.child.exitCode}`);
        if (this.installed(await this.status(side)).join() !== names.join()) return false;
      }
      return true;
    }, timeoutMs, this.log);
  }

  /** Echo replies received; without `from` the kernel picks the source (as the TCP client below lets it). */
  async ping(from: string | undefined, to: string, count: number): Promise<number> {
    const r = await this.lab.execIn(this.a.ns.slice(PREFIX.length), 'ping', ['-c', String(count), '-i', '0.2', '-W', '2', '-p', MARKER_HEX, ...(from ? ['-I', from] : []), to], { timeoutMs: 20_000 })
      .catch((e: Error) => ({ stdout: e.message }));
    return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
  }

  async tcp(to: string, bytes: number): Promise<{ n: number; sha256: string }> {
    const server = track(this.lab.spawnIn(this.b.ns.slice(PREFIX.length), process.execPath, ['-e', TCP_SERVER, to]));
    await waitFor('TCP server', () => server.output().includes('listening'), 5000, server.output);
    const client = track(this.lab.spawnIn(this.a.ns.slice(PREFIX.length), process.execPath, ['-e', TCP_CLIENT, to, String(bytes), MARKER]));
    const code = await exited(client.child, 25_000);
    await exited(server.child, 5000);
    if (code !== 0) {
      const st = async (side: Side) => JSON.stringify({ tun: (await this.status(side)).tun, drops: (await this.status(side)).drops, c: (await this.status(side)).ikeSas[0]?.childCounters });
      throw new Error(`TCP client exited ${code}: ${client.output()}\nserver: ${server.output()}\nA: ${await st(this.a)}\nB: ${await st(this.b)}\n${this.log()}`);
    }
    const line = server.output().split('\n').find((l) => l.startsWith('{'));
    return JSON.parse(line ?? '{}') as { n: number; sha256: string };
  }

  async cleanup(): Promise<void> {
    await this.lab.cleanup();
    if (!process.env.TSIPSEC_KEEP) rmSync(this.work, { recursive: true, force: true });
  }
}

const SCENARIOS: Scenario[] = [
  { name: 'cert', mode: 'tunnel', subnet: 41 },
  { name: 'psk', mode: 'transport', subnet: 42 },
];

describe.runIf(enabled())('real namespaces: two tsipsec processes, TUN, UDP', () => {
  const pairs = new Map<string, Pair>();
  beforeAll(async () => {
    const { deleteNamespacesWithPrefix } = await import('../../src/runtime/netns.js');
    await deleteNamespacesWithPrefix(PREFIX);
  });
  afterAll(async () => {
    for (const p of pairs.values()) await p.cleanup();
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(left).not.toMatch(/tsr-/);
  });

  for (const s of SCENARIOS) {
    it(`${s.mode} mode with ${s.name === 'cert' ? 'ECDSA certificates' : 'PSK'}: ping, TCP, status on both sides, capture decoded`, async () => {
      const p = new Pair(s);
      pairs.set(s.name, p);
      await p.setup();
      await p.startCapture();
      await p.startDaemons();
      await p.waitChildren(['net']);
      const [src, dst] = s.mode === 'tunnel' ? [p.a.lan, p.b.lan] : [p.a.addr, p.b.addr];
      await p.waitRoutes(src, dst);
      expect(await p.ping(s.mode === 'tunnel' ? src : undefined, dst, 3), p.log()).toBe(3);
      const bytes = 300_000;
      const got = await p.tcp(dst, bytes);
      expect(got).toEqual({ n: bytes, sha256: expectedSha(bytes) });

      // status --json from the CLI on both sides: the same IKE SPIs, each side's inbound SPI is the other's outbound.
      const sa = JSON.parse(cliIn(null, ['status', '--json', '--socket', p.a.socket]).stdout) as TunnelStatus;
      const sb = JSON.parse(cliIn(null, ['status', '--json', '--socket', p.b.socket]).stdout) as TunnelStatus;
      expect(sa.ikeSas).toHaveLength(1);
      expect(sb.ikeSas).toHaveLength(1);
      expect([sa.ikeSas[0]!.spiI, sa.ikeSas[0]!.spiR]).toEqual([sb.ikeSas[0]!.spiI, sb.ikeSas[0]!.spiR]);
      const ca = sa.ikeSas[0]!.childCounters[0]!;
      const cb = sb.ikeSas[0]!.childCounters[0]!;
      expect(ca.spiIn).toBe(cb.spiOut);
      expect(ca.spiOut).toBe(cb.spiIn);
      expect(sa.ikeSas[0]!.children[0]!.mode).toBe(s.mode);
      expect(ca.packetsOut).toBeGreaterThanOrEqual(3 + bytes / 1500);
      expect(cb.packetsIn).toBe(ca.packetsOut);
      if (s.name === 'cert') expect(sa.ikeSas[0]!.remoteId).toMatch(/b\.tsr\.test/);

      const { pcap, stats } = await p.stopCapture();
      writeFileSync(join(p.work, 'link.pcap'), pcap);
      const dec = cliIn(null, ['decode', join(p.work, 'link.pcap'), '--keys', join(p.a.dir, 'keys'), '--json']);
      expect(dec.status, dec.stderr).toBe(0);
      const packets = dec.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; ok?: boolean; spi?: number | string; exchange?: string; error?: string });
      const kinds: Record<string, number> = {};
      for (const x of packets) kinds[x.kind] = (kinds[x.kind] ?? 0) + 1;
      const esp = packets.filter((x) => x.kind === 'esp');
      expect(kinds.other ?? 0, `${JSON.stringify(kinds)}: ${dec.stdout.split('\n').filter((l) => l.includes('"other"')).slice(0, 5).join('\n')}`).toBe(0);
      expect(pcap.includes(Buffer.from(MARKER))).toBe(false);
      expect(pcap.includes(Buffer.from('tsr-mark'))).toBe(false);
      expect(packets.filter((x) => x.kind === 'ike').map((x) => x.exchange).slice(0, 4)).toEqual(['IKE_SA_INIT', 'IKE_SA_INIT', 'IKE_AUTH', 'IKE_AUTH']);
      expect(esp.filter((x) => x.ok !== true).map((x) => x.error)).toEqual([]);
      // Every ESP packet both sides counted crossed this link and was captured (tcpdump reports no drops).
      expect(esp.length, `tcpdump: ${stats}`).toBe(ca.packetsOut + ca.packetsIn);
    }, 60_000);
  }

  it('reload on the running tunnel-mode pair: a child added comes up, a bad file changes nothing, the child removed goes', async () => {
    const p = pairs.get('cert');
    expect(p, 'the tunnel-mode scenario ran first').toBeDefined();
    if (!p) return;
    const before = await p.status(p.a);
    const ike = before.ikeSas[0]!.spiI;
    const net = before.ikeSas[0]!.childCounters[0]!.spiIn;

    // Add net2: the responder by `tsipsec reload`, the initiator (start_action = start) by SIGHUP.
    p.writeConf({ net2: true });
    const rb = cliIn(null, ['reload', '--socket', p.b.socket, '--json']);
    expect(rb.status, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({ unchanged: ['tsr'], childrenAdded: ['tsr.net2'] });
    p.a.proc!.child.kill('SIGHUP');
    await p.waitChildren(['net', 'net2']);
    await p.waitRoutes(p.a.lan2, p.b.lan2);
    expect(await p.ping(p.a.lan2, p.b.lan2, 2), p.log()).toBe(2);
    const mid = await p.status(p.a);
    expect(mid.ikeSas.map((s) => s.spiI)).toEqual([ike]);
    expect(mid.ikeSas[0]!.children.find((c) => c.name === 'net')!.spiIn).toBe(Number.parseInt(before.ikeSas[0]!.childCounters[0]!.spiIn, 16));
    expect(mid.ikeSas[0]!.childCounters.find((c) => c.spiIn === net)).toBeDefined();

    // A bad file: rejected with file:line: key, exit 2, nothing changes; SIGHUP with it leaves the daemon running.
    writeFileSync(p.a.conf, readFileSync(p.a.conf, 'utf8') + 'connections {\n  bad {\n    no_such_key = 1\n  }\n}\n');
    const bad = cliIn(null, ['reload', '--socket', p.a.socket]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`${p.a.conf.replace(/[.]/g, '\\.')}:\\d+: .*no_such_key`));
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    p.a.proc!.child.kill('SIGHUP');
    await sleep(300);
    expect(p.a.proc!.child.exitCode).toBeNull();
    expect(p.a.proc!.output()).toMatch(/reload failed: bad configuration/);
    expect(p.installed(await p.status(p.a))).toEqual(['net', 'net2']);

    // Remove net2 again: deleted on both sides, its route gone, net untouched.
    p.writeConf({});
    p.a.proc!.child.kill('SIGHUP');
    const rb2 = cliIn(null, ['reload', '--socket', p.b.socket]);
    expect(rb2.status, rb2.stderr).toBe(0);
    await p.waitChildren(['net']);
    const after = await p.status(p.a);
    expect(after.ikeSas.map((s) => s.spiI)).toEqual([ike]);
    expect(after.ikeSas[0]!.childCounters[0]!.spiIn).toBe(net);
    await waitFor('net2 route removed', async () => (await p.lab.execIn(p.a.ns.slice(PREFIX.length), 'ip', ['route', 'show', `${p.b.lan2}/32`])).stdout.trim() === '', 3000, p.log);
    expect(await p.ping(p.a.lan, p.b.lan, 1), p.log()).toBe(1);
  }, 60_000);
});
