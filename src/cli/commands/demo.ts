/**
 * `tsipsec demo`: the self-contained proof that tsipsec carries real traffic. As root it
 *   1. creates two network namespaces joined by a veth link (198.18.20.1 ⇄ 198.18.20.2, "LANs"
 *      198.19.1.1 and 198.19.2.1 on their loopbacks; RFC 2544 benchmarking addresses only),
 *   2. writes two swanctl.conf files with a freshly generated PSK and starts two `tsipsec up`
 *      processes, one per namespace (A initiates, B responds), with key logs,
 *   3. captures the link, pings and sends a TCP transfer through the TUN devices, shows `status`,
 *   4. decodes the capture with tsipsec's own decoder and checks that the wire carried only IKE and ESP
 *      (every ESP packet decrypts, the plaintext marker never appears on the wire),
 *   5. tears everything down, also on failure and on SIGINT/SIGTERM.
 * Exit status 0 only if every check held.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../args.js';
import { CliError, UsageError, EXIT_CODES_HELP } from '../errors.js';
import { run as runCmd } from '../../runtime/system.js';
import { controlRequest } from '../../runtime/control.js';
import type { TunnelStatus } from '../../runtime/tunnel.js';
import { decodeCaptureFile } from '../../capture/decode.js';
import { readKeylog } from '../../capture/keylog.js';
import { nodeCrypto } from '../../crypto/node.js';
import { formatStatus } from './status.js';

const HELP = `Usage: tsipsec demo [--keep] [--pings N] [--bytes N]
Two network namespaces, two tsipsec instances, a real IKEv2 + ESP tunnel between them; ping and a TCP
transfer through it; the capture of the link decoded by tsipsec itself. Needs root, iproute2 and tcpdump.
  --keep     leave the work directory (configs, logs, capture, key logs) for inspection
  --pings N  ICMP echo requests to send (default 5)
  --bytes N  TCP transfer size (default 1000000)
${EXIT_CODES_HELP}`;

const NS_A = 'tsdemo-a';
const NS_B = 'tsdemo-b';
const ADDR_A = '198.18.20.1';
const ADDR_B = '198.18.20.2';
const LAN_A = '198.19.1.1';
const LAN_B = '198.19.2.1';
const MARKER = 'tsipsec-demo-plaintext-marker';
const MARKER_HEX = Buffer.from('tsipsec!').toString('hex');

function say(msg: string): void {
  process.stdout.write(`demo: ${msg}\n`);
}

async function ip(args: string[]): Promise<void> {
  await runCmd('ip', args, { timeoutMs: 10_000 });
}

function swanctlConf(side: 'a' | 'b', psk: string): string {
  const me = side === 'a' ? ADDR_A : ADDR_B;
  const peer = side === 'a' ? ADDR_B : ADDR_A;
  return `# tsipsec demo, side ${side.toUpperCase()} (strongSwan swanctl.conf syntax)
connections {
  demo {
    version = 2
    local_addrs = ${me}
    remote_addrs = ${peer}
    proposals = aes256gcm16-prfsha256-x25519
    encap = yes
    local {
      auth = psk
      id = ${side}.demo.tsipsec
    }
    remote {
      auth = psk
      id = ${side === 'a' ? 'b' : 'a'}.demo.tsipsec
    }
    children {
      net {
        local_ts = ${side === 'a' ? '198.19.1.0/24' : '198.19.2.0/24'}
        remote_ts = ${side === 'a' ? '198.19.2.0/24' : '198.19.1.0/24'}
        esp_proposals = aes256gcm16
        mode = tunnel
        start_action = ${side === 'a' ? 'start' : 'none'}
      }
    }
  }
}
secrets {
  ike-demo {
    id-a = a.demo.tsipsec
    id-b = b.demo.tsipsec
    secret = ${psk}
  }
}
`;
}

async function teardownNamespaces(): Promise<void> {
  for (const ns of [NS_A, NS_B]) await runCmd('ip', ['netns', 'delete', ns], { timeoutMs: 10_000 }).catch(() => undefined);
}

async function setupNamespaces(): Promise<void> {
  await teardownNamespaces();
  await ip(['netns', 'add', NS_A]);
  await ip(['netns', 'add', NS_B]);
  for (const ns of [NS_A, NS_B]) {
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    await runCmd('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']).catch(() => undefined);
  }
  await ip(['-n', NS_A, 'link', 'add', 'tsda0', 'type', 'veth', 'peer', 'name', 'tsdb0', 'netns', NS_B]);
  await ip(['-n', NS_A, 'addr', 'add', `${ADDR_A}/24`, 'dev', 'tsda0']);
  await ip(['-n', NS_B, 'addr', 'add', `${ADDR_B}/24`, 'dev', 'tsdb0']);
  // gso_max_segs 1: tsipsec sends UDP GSO batches; on a veth they would stay one super-datagram in the
  // capture (a NIC cuts them before the wire). With this the capture shows the datagrams a wire would.
  await ip(['-n', NS_A, 'link', 'set', 'tsda0', 'gso_max_segs', '1', 'up']);
  await ip(['-n', NS_B, 'link', 'set', 'tsdb0', 'gso_max_segs', '1', 'up']);
  await ip(['-n', NS_A, 'addr', 'add', `${LAN_A}/32`, 'dev', 'lo']);
  await ip(['-n', NS_B, 'addr', 'add', `${LAN_B}/32`, 'dev', 'lo']);
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    try { child.kill(signal); } catch { clearTimeout(t); resolve(); }
  });
}

async function waitForChild(socket: string, timeoutMs: number, daemon: ChildProcess, log: () => string): Promise<TunnelStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (daemon.exitCode !== null) throw new CliError(`tsipsec (A) exited with ${daemon.exitCode}:\n${log()}`);
    try {
      const s = (await controlRequest(socket, { cmd: 'status' }, 2000)) as TunnelStatus;
      if (s.ikeSas.some((sa) => sa.children.length > 0)) return s;
      last = 'no child SA yet';
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CliError(`the tunnel did not come up within ${timeoutMs} ms (${last}):\n${log()}`);
}

const TCP_SERVER = `
const net = require('node:net'); const crypto = require('node:crypto');
const s = net.createServer((c) => { const h = crypto.createHash('sha256'); let n = 0;
  c.on('data', (d) => { h.update(d); n += d.length; }); c.on('end', () => { c.end(JSON.stringify({ n, sha256: h.digest('hex') })); s.close(); }); });
s.listen(5001, process.argv[1], () => process.stdout.write('listening\\n'));
setTimeout(() => process.exit(2), 60000).unref();`;

const TCP_CLIENT = `
const net = require('node:net'); const crypto = require('node:crypto');
const total = Number(process.argv[2]); const marker = Buffer.from(process.argv[3]);
const buf = Buffer.alloc(total); for (let i = 0; i < total; i += marker.length) marker.copy(buf, i);
const c = net.connect(5001, process.argv[1], () => { c.end(buf); }); let out = '';
c.on('data', (d) => { out += d; }); c.on('end', () => { const r = JSON.parse(out);
  const ok = r.n === total && r.sha256 === crypto.createHash('sha256').update(buf).digest('hex');
  process.stdout.write(JSON.stringify({ ...r, ok }) + '\\n'); process.exit(ok ? 0 : 1); });
c.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
setTimeout(() => { process.stderr.write('timeout\\n'); process.exit(1); }, 30000).unref();`;

function spawnIn(ns: string, cmd: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20000); });
  child.stderr?.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20000); });
  return { child, output: () => out };
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } resolve(-1); }, timeoutMs);
    child.once('exit', (code) => { clearTimeout(t); resolve(code ?? -1); });
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('demo', argv, { keep: { type: 'boolean' }, pings: { type: 'string' }, bytes: { type: 'string' } }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new UsageError(`demo: unexpected argument "${positionals[0]}"\n${HELP}`);
  const pings = values.pings === undefined ? 5 : Number(values.pings);
  const bytes = values.bytes === undefined ? 1_000_000 : Number(values.bytes);
  if (!Number.isInteger(pings) || pings < 1 || pings > 1000) throw new UsageError('demo: --pings must be an integer from 1 to 1000');
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 100_000_000) throw new UsageError('demo: --bytes must be an integer from 1 to 100000000');
  if (process.getuid?.() !== 0) throw new CliError('demo: needs root (network namespaces and TUN devices); run it with sudo');
  if (!existsSync('/dev/net/tun')) throw new CliError('demo: /dev/net/tun is missing (load the tun module)');
  const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find((p) => existsSync(p));
  if (!tcpdump) throw new CliError('demo: tcpdump is needed to capture the link (apt-get install tcpdump, or run scripts/install-system-deps.sh)');

  const work = mkdtempSync(join(tmpdir(), 'tsipsec-demo-'));
  const mainJs = fileURLToPath(new URL('../main.js', import.meta.url));
  const psk = `0s${randomBytes(32).toString('base64')}`;
  const procs: ChildProcess[] = [];
  let interrupted = false;
  const onSignal = () => { interrupted = true; say('interrupted, cleaning up'); for (const p of procs) try { p.kill('SIGTERM'); } catch { /* gone */ } };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const checks: Array<[string, boolean, string]> = [];
  const check = (name: string, ok: boolean, detail = '') => { checks.push([name, ok, detail]); say(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`); };

  try {
    say(`work directory ${work}`);
    await setupNamespaces();
    say(`namespaces ${NS_A} (${ADDR_A}, LAN ${LAN_A}) and ${NS_B} (${ADDR_B}, LAN ${LAN_B}) on a veth link`);
    const dirs = { a: join(work, 'a'), b: join(work, 'b') };
    for (const side of ['a', 'b'] as const) {
      mkdirSync(join(dirs[side], 'keys'), { recursive: true });
      writeFileSync(join(dirs[side], 'swanctl.conf'), swanctlConf(side, psk), { mode: 0o600 });
    }
    const pcap = join(work, 'link.pcap');
    // Everything but ARP, so plaintext on the link would show up (as 'other') rather than be filtered out.
    const cap = spawnIn(NS_A, tcpdump, ['-i', 'tsda0', '-U', '-n', '-s', '0', '-B', '16384', '-w', pcap, 'not', 'arp']);
    procs.push(cap.child);
    // tcpdump prints "listening on" once its capture socket is open: nothing before that is recorded.
    for (let i = 0; i < 100 && !cap.output().includes('listening on') && cap.child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (!cap.output().includes('listening on')) throw new CliError(`tcpdump did not start: ${cap.output()}`);

    const start = (side: 'a' | 'b') => {
      const p = spawnIn(side === 'a' ? NS_A : NS_B, process.execPath, [mainJs, 'up', '--config', join(dirs[side], 'swanctl.conf'),
        '--socket', join(dirs[side], 'tsipsec.sock'), '--keylog', join(dirs[side], 'keys'), '--tun', `tsdemo${side}%d`, '--log-level', 'info']);
      procs.push(p.child);
      return p;
    };
    const b = start('b');
    await new Promise((r) => setTimeout(r, 500));
    const a = start('a');
    const t0 = Date.now();
    const upStatus = await waitForChild(join(dirs.a, 'tsipsec.sock'), 20_000, a.child, () => `--- A ---\n${a.output()}\n--- B ---\n${b.output()}`);
    check('IKE SA and child SA established', true, `${Date.now() - t0} ms, ${upStatus.ikeSas[0]?.algorithms ?? ''}`);
    // Give both sides a moment to install their routes.
    await new Promise((r) => setTimeout(r, 500));

    const ping = await runCmd('ip', ['netns', 'exec', NS_A, 'ping', '-c', String(pings), '-i', '0.2', '-W', '2', '-p', MARKER_HEX, '-I', LAN_A, LAN_B], { timeoutMs: 30_000 }).catch((e: Error) => ({ stdout: e.message, stderr: '' }));
    const received = /(\d+) received/.exec(ping.stdout)?.[1];
    check(`ping ${LAN_A} -> ${LAN_B} through the tunnel`, received === String(pings), `${received ?? 0}/${pings} replies`);
    const rtt = /= [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1];
    if (rtt) say(`ping average RTT ${rtt} ms`);

    const server = spawnIn(NS_B, process.execPath, ['-e', TCP_SERVER, LAN_B]);
    procs.push(server.child);
    for (let i = 0; i < 50 && !server.output().includes('listening'); i++) await new Promise((r) => setTimeout(r, 100));
    const tc = Date.now();
    const client = spawnIn(NS_A, process.execPath, ['-e', TCP_CLIENT, LAN_B, String(bytes), MARKER]);
    procs.push(client.child);
    const code = await waitExit(client.child, 40_000);
    const ms = Date.now() - tc;
    check(`TCP transfer of ${bytes} bytes ${LAN_A} -> ${LAN_B}`, code === 0, code === 0 ? `${ms} ms, ${((bytes * 8) / (ms / 1000) / 1e6).toFixed(1)} Mbit/s, SHA-256 matches` : client.output().trim());
    await waitExit(server.child, 5000);

    const st = (await controlRequest(join(dirs.a, 'tsipsec.sock'), { cmd: 'status' })) as TunnelStatus;
    process.stdout.write(`\n--- tsipsec status (A) ---\n${formatStatus(st)}\n--------------------------\n\n`);
    const cc = st.ikeSas[0]?.childCounters[0];
    check('status counts the traffic', (cc?.packetsOut ?? 0) >= pings && (cc?.packetsIn ?? 0) >= pings, `out ${cc?.packetsOut ?? 0} packets, in ${cc?.packetsIn ?? 0} packets`);

    // libpcap's TPACKET_V3 ring hands a block of packets to tcpdump only when the block is full or its
    // timeout (tcpdump's 1000 ms) expires; on SIGINT tcpdump exits without reading a block still open, so
    // the tail of the capture (often all of the TCP transfer) was lost. Let the open block retire first.
    await new Promise((r) => setTimeout(r, 1300));
    await stopChild(cap.child, 'SIGINT');
    const capture = readFileSync(pcap);
    check('the wire never carries the plaintext marker', !capture.includes(Buffer.from(MARKER)) && !capture.includes(Buffer.from('tsipsec!')), `${capture.length} bytes captured`);
    const keys = readKeylog(join(dirs.a, 'keys'));
    const decoded = decodeCaptureFile(capture, keys, { provider: nodeCrypto });
    const kinds = new Map<string, number>();
    let espOk = 0;
    let espBad = 0;
    let ikeDecrypted = 0;
    for (const p of decoded.packets) {
      const r = p as unknown as { kind: string; ok?: boolean; decrypted?: boolean };
      kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
      if (r.kind === 'esp') { if (r.ok) espOk++; else espBad++; }
      if (r.kind === 'ike' && r.decrypted) ikeDecrypted++;
    }
    say(`capture: ${[...kinds].map(([k, v]) => `${v} ${k}`).join(', ')}; tsipsec decode decrypted ${espOk} ESP packets and ${ikeDecrypted} IKE messages`);
    check('the link carried only IKE and ESP', (kinds.get('other') ?? 0) === 0 && (kinds.get('ike') ?? 0) >= 4, `${kinds.get('other') ?? 0} other packets`);
    const counted = (cc?.packetsOut ?? 0) + (cc?.packetsIn ?? 0);
    check('every captured ESP packet decrypts with the logged keys, and none is missing', espBad === 0 && espOk === counted,
      `${espOk} ok, ${espBad} failed, status counted ${counted} sent and received${decoded.error ? `; decode stopped: ${decoded.error}` : ''}`);
  } catch (e) {
    check(interrupted ? 'demo interrupted' : 'demo ran to the end', false, (e as Error).message);
  } finally {
    for (const p of procs.reverse()) await stopChild(p);
    await teardownNamespaces();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (values.keep) say(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const failed = checks.filter(([, ok]) => !ok);
  say(failed.length === 0 ? `all ${checks.length} checks passed` : `${failed.length} of ${checks.length} checks FAILED`);
  return failed.length === 0 ? 0 : 1;
}
