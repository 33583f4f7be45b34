/**
 * One interop cell against a kernel-ESP peer (charon with kernel-netlink, or libreswan's pluto), run by
 * test/interop/uml/scenario.sh in a kernel with ESP (user-mode-linux here, see uml.ts): `prepareCell`
 * writes both sides' configs into the cell directory, `runKernelCell` runs the script, and
 * `verifyCell` checks what it recorded:
 *
 *  - every step of the script passed (topology, daemons, initiation, SA up, routes, traffic);
 *  - tsipsec has one child SA in the expected mode/encapsulation, and the peer's KERNEL holds the same
 *    two SPIs with the same keys tsipsec logged (`ip xfrm state` vs --keylog), the expected mode, UDP
 *    encapsulation and ESN flag; the peer's own listing (swanctl --list-sas / whack) names both SPIs;
 *  - ping (3 each way, each answered; plaintext marker as payload pattern) and a 64 KiB TCP transfer each way pass;
 *  - the wire capture holds only IKE and ESP, never the marker, and `decode` with tsipsec's keylog
 *    decrypts every ESP packet (with ESN when negotiated) — as many as tsipsec counted.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { beforeAll } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarioConf } from './conf.js';
import { strongswanConf } from './strongswan.js';
import { libreswanConf, libreswanSecrets, LS_CERT_NICK } from './libreswan.js';
import { hostKernelHasEsp, LS_ROOT, RUN_CELLS_SH, runInKernelWithEsp, type KernelRun } from './uml.js';
import type { PkiFiles } from '../../exchange/pki.js';
import type { Matrix } from './results.js';
import { decodeCaptureFile, type DecodedEsp, type DecodedIke } from '../../../src/capture/decode.js';
import { readKeylog } from '../../../src/capture/keylog.js';
import { nodeCrypto } from '../../../src/crypto/node.js';
import type { TunnelStatus } from '../../../src/runtime/tunnel.js';

export const REPO = join(import.meta.dirname, '..', '..', '..');
export const MARKER = 'ipxmark!';
/** Default namespace prefix of a cell (private to the guest in UML; test files pass their own, see declareKernelCells). */
export const NS_PREFIX = 'tsu';
/** What swanctl needs (configs, PSKs, PEM certificates and keys): its default plugin list takes seconds to load in UML. */
const SWANCTL_PLUGINS = 'pem pkcs1 pkcs8 x509 pubkey openssl random';

export interface KernelCell {
  /** Directory name of the cell. */
  id: string;
  peer: 'strongswan' | 'libreswan';
  initiator: 'tsipsec' | 'peer';
  mode: 'tunnel' | 'transport';
  auth: 'psk' | 'cert';
  /** tsipsec's (and charon's) proposals, strongSwan syntax. */
  ike?: string;
  esp?: string;
  /** libreswan's ike=/esp=. */
  lsIke?: string;
  lsEsp?: string;
  /** tsipsec's `encap` (yes: it fakes NAT-D so both sides use ESP in UDP 4500). */
  tsEncap: boolean;
  /** What the SA must end up with. */
  expectEncap: boolean;
  expectEsn: boolean;
}

/** Writes scenario.env, ts/ and peer/ into `out`; `prefix` names the cell's namespaces (<prefix>-a, -b, -w). */
export async function prepareCell(out: string, c: KernelCell, pki: PkiFiles | undefined, prefix = NS_PREFIX): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  for (const d of ['ts/x509', 'ts/x509ca', 'ts/private', 'peer']) mkdirSync(join(out, d), { recursive: true });
  // Daemon run directories stay off hostfs (unix sockets there are unreliable): the guest's tmpfs.
  const runDir = (await hostKernelHasEsp()) ? join(out, 'run') : '/var/lib/tsu-run';
  const cert = c.auth === 'cert';
  if (cert && !pki) throw new Error(`${c.id}: certificates need a PKI`);
  const tunnel = c.mode === 'tunnel';
  writeFileSync(join(out, 'ts', 'swanctl.conf'), scenarioConf({
    local: '198.18.10.1', remote: '198.18.10.2', localId: 'a.ipx.test', remoteId: 'b.ipx.test',
    localTs: tunnel ? '198.19.1.0/24' : 'dynamic', remoteTs: tunnel ? '198.19.2.0/24' : 'dynamic',
    ike: c.ike, esp: c.esp, encap: c.tsEncap, mode: c.mode, ...(cert ? { cert: 'a.pem', cacert: 'ca.pem' } : {}),
  }), { mode: 0o600 });
  if (cert && pki) {
    writeFileSync(join(out, 'ts', 'x509', 'a.pem'), pki.pem('a'));
    writeFileSync(join(out, 'ts', 'x509ca', 'ca.pem'), pki.pem('ca'));
    writeFileSync(join(out, 'ts', 'private', 'a.key'), pki.key('a'), { mode: 0o600 });
  }
  const peerDir = join(out, 'peer');
  if (c.peer === 'strongswan') {
    for (const d of ['etc/swanctl/x509', 'etc/swanctl/x509ca', 'etc/swanctl/private']) mkdirSync(join(peerDir, d), { recursive: true });
    writeFileSync(join(peerDir, 'etc', 'strongswan.conf'), strongswanConf({
      name: 'b', vici: `unix://${runDir}/peer/run/charon.vici`, logFile: `${runDir}/peer/log/charon.log`, libipsec: false,
      swanctlLoad: SWANCTL_PLUGINS,
    }));
    writeFileSync(join(peerDir, 'etc', 'swanctl', 'swanctl.conf'), scenarioConf({
      local: '198.18.10.2', remote: '198.18.10.1', localId: 'b.ipx.test', remoteId: 'a.ipx.test',
      localTs: tunnel ? '198.19.2.0/24' : 'dynamic', remoteTs: tunnel ? '198.19.1.0/24' : 'dynamic',
      ike: c.ike, esp: c.esp, encap: false, mode: c.mode, ...(cert ? { cert: 'b.pem', cacert: 'ca.pem' } : {}),
    }));
    if (cert && pki) {
      writeFileSync(join(peerDir, 'etc', 'swanctl', 'x509', 'b.pem'), pki.pem('b'));
      writeFileSync(join(peerDir, 'etc', 'swanctl', 'x509ca', 'ca.pem'), pki.pem('ca'));
      writeFileSync(join(peerDir, 'etc', 'swanctl', 'private', 'b.key'), pki.key('b'), { mode: 0o600 });
    }
  } else {
    writeFileSync(join(peerDir, 'ipsec.conf'), libreswanConf({ logFile: `${runDir}/peer/log/pluto.log`, mode: c.mode, auth: c.auth, ike: c.lsIke, esp: c.lsEsp }));
    writeFileSync(join(peerDir, 'ipsec.secrets'), libreswanSecrets(), { mode: 0o600 });
    if (cert && pki) {
      writeFileSync(join(peerDir, 'ca.pem'), pki.pem('ca'));
      execFileSync('/usr/bin/openssl', ['pkcs12', '-export', '-in', pki.path('b.pem'), '-inkey', pki.path('b.key'), '-name', LS_CERT_NICK,
        '-passout', 'pass:', '-out', join(peerDir, 'b.p12')], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    // pluto's NSS database (it needs one even for PSK), with the CA and b's PKCS#12 for certificates
    // (INTEROP.md §5). Built here on the host: the NSS tools take seconds each to start in UML.
    const nss = `sql:${join(peerDir, 'nss')}`;
    const tool = (cmd: string, args: string[]): void => { execFileSync(cmd, ['-d', nss, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }); };
    mkdirSync(join(peerDir, 'nss'));
    tool('/usr/bin/certutil', ['-N', '--empty-password']);
    if (cert && pki) {
      tool('/usr/bin/certutil', ['-A', '-n', 'tsipsec interop CA', '-t', 'CT,,', '-a', '-i', join(peerDir, 'ca.pem')]);
      tool('/usr/bin/pk12util', ['-i', join(peerDir, 'b.p12'), '-W', '']);
      tool('/usr/bin/certutil', ['-M', '-n', 'tsipsec interop CA', '-t', 'CT,,']);
    }
  }
  // 64 KiB of TCP payload, the marker in every 16 bytes.
  const payload = Buffer.alloc(64 * 1024);
  for (let i = 0; i < payload.length; i += 16) { payload.write(MARKER, i, 'latin1'); payload.writeUInt32BE(i, i + 8); payload.writeUInt32BE(0x7473_7500, i + 12); }
  writeFileSync(join(out, 'payload.bin'), payload);
  const env: Record<string, string> = {
    P: prefix, PEER: c.peer, INITIATOR: c.initiator, MODE: c.mode, AUTH: c.auth, RUN: runDir,
    REPO, NODE: process.execPath, LSROOT: LS_ROOT,
  };
  writeFileSync(join(out, 'scenario.env'), Object.entries(env).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n');
}

/**
 * Runs the prepared cells (directories under `batch`) one after another in ONE kernel with ESP (one UML
 * boot for the lot), each bounded by `cellTimeoutSec`. Each cell directory gets exit-status and seconds.
 */
export async function runKernelCells(batch: string, cells: readonly string[], cellTimeoutSec = 90): Promise<KernelRun> {
  writeFileSync(join(batch, 'cells'), cells.map((c) => join(batch, c)).join('\n') + '\n');
  writeFileSync(join(batch, 'cell-timeout'), `${cellTimeoutSec}\n`);
  return runInKernelWithEsp({ out: batch, script: RUN_CELLS_SH, timeoutMs: (60 + cells.length * (cellTimeoutSec + 10)) * 1000 });
}

/** A cell's own exit status and seconds from a batch (-1 / NaN when it never ran). */
export function cellOutcome(out: string): { code: number; seconds: number } {
  const code = Number(read(out, 'exit-status').trim() || -1);
  return { code: Number.isFinite(code) ? code : -1, seconds: Number(read(out, 'seconds').trim() || NaN) };
}

const read = (out: string, f: string): string => { try { return readFileSync(join(out, f), 'utf8'); } catch { return ''; } };

/** One kernel SA from `ip xfrm state`. */
export interface XfrmState {
  src: string; dst: string; spi: number; mode: string; esn: boolean;
  /** aead/enc algorithm name and key (hex, no 0x). */
  alg: string; key: string;
  authAlg?: string; authKey?: string;
  encap: boolean;
}

export function parseXfrmStates(text: string): XfrmState[] {
  const states: XfrmState[] = [];
  for (const block of text.split(/\n(?=src )/)) {
    const head = /^src (\S+) dst (\S+)/.exec(block);
    const spi = /proto esp spi 0x([0-9a-f]+).*?mode (\w+)/.exec(block);
    if (!head || !spi) continue;
    const aead = /\taead (\S+) 0x([0-9a-f]+)/.exec(block);
    const enc = /\tenc (\S+) 0x([0-9a-f]+)/.exec(block);
    const auth = /\tauth(?:-trunc)? (\S+) 0x([0-9a-f]+)/.exec(block);
    const flags = /flag ([^\n]*)/.exec(block)?.[1] ?? '';
    states.push({
      src: head[1]!, dst: head[2]!, spi: parseInt(spi[1]!, 16), mode: spi[2]!, esn: /\besn\b/.test(flags),
      alg: (aead ?? enc)?.[1] ?? '', key: (aead ?? enc)?.[2] ?? '',
      ...(auth ? { authAlg: auth[1]!, authKey: auth[2]! } : {}),
      encap: /encap type espinudp/.test(block),
    });
  }
  return states;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const tail = (s: string, n: number): string => s.split('\n').filter((l) => !/^\S+ \d+\[\w+\] (<[^>]*> )?\s+\d+: /.test(l)).slice(-n).join('\n');

/** Context for a failure message: the script's log and both daemons' log tails. */
export function cellDiagnostics(out: string): string {
  return [
    `--- steps ---\n${read(out, 'steps')}`,
    `--- scenario.log tail ---\n${tail(read(out, 'scenario.log'), 30)}`,
    `--- initiate ---\n${read(out, 'initiate.txt').slice(-1500)}`,
    `--- tsipsec log tail ---\n${tail(read(out, 'ts.log'), 25)}`,
    `--- charon log tail ---\n${tail(read(out, 'charon.log'), 30)}`,
    `--- pluto log tail ---\n${tail(read(out, 'pluto.log'), 30)}`,
  ].join('\n');
}

/** The checks listed at the top; returns notes for the matrix (SPIs, ESP packet counts). Throws on failure. */
export function verifyCell(out: string, c: KernelCell): string[] {
  const notes: string[] = [];
  const fail = (msg: string): never => { throw new Error(`${c.id}: ${msg}\n${cellDiagnostics(out)}`); };
  const steps = new Map(read(out, 'steps').trim().split('\n').filter(Boolean).map((l) => { const [k, v] = l.split(' '); return [k!, Number(v)] as const; }));
  for (const s of ['topology', 'capture', 'peer-start', 'tsipsec-start', 'initiate', 'sa-up', 'routes', 'ping-ab', 'ping-ba', 'tcp-ab', 'tcp-ba', 'done']) {
    const v = steps.get(s);
    if (v === undefined) fail(`the scenario never reached step "${s}"`);
    if (v !== 0) fail(`step "${s}" failed (${v})`);
  }

  // tsipsec's view.
  let st: TunnelStatus;
  try { st = JSON.parse(read(out, 'ts-status.json')) as TunnelStatus; } catch { return fail('ts-status.json is not JSON'); }
  if (st.ikeSas.length !== 1) fail(`tsipsec has ${st.ikeSas.length} IKE SAs, expected 1`);
  const ike = st.ikeSas[0]!;
  if (ike.children.length !== 1) fail(`tsipsec has ${ike.children.length} child SAs, expected 1`);
  const child = ike.children[0]!;
  if (child.mode !== c.mode) fail(`tsipsec child mode ${child.mode}, expected ${c.mode}`);
  if (child.encap !== c.expectEncap) fail(`tsipsec child encap ${child.encap}, expected ${c.expectEncap}`);
  if (ike.initiator !== (c.initiator === 'tsipsec')) fail(`tsipsec initiator flag ${ike.initiator}`);
  const spiIn = child.spiIn >>> 0, spiOut = child.spiOut >>> 0;

  // The peer's kernel holds the same SAs with the keys tsipsec logged.
  const keys = readKeylog(join(out, 'ts-keys'));
  const states = parseXfrmStates(read(out, 'peer-xfrm-state.txt'));
  for (const [spi, src, dst, dir] of [[spiOut, '198.18.10.1', '198.18.10.2', 'tsipsec→peer'], [spiIn, '198.18.10.2', '198.18.10.1', 'peer→tsipsec']] as const) {
    const k = states.find((s) => s.spi === spi);
    if (!k) fail(`the peer's kernel has no SA with SPI ${hex8(spi)} (${dir}); it has ${states.map((s) => hex8(s.spi)).join(', ') || 'none'}`);
    if (k!.src !== src || k!.dst !== dst) fail(`SA ${hex8(spi)}: kernel says ${k!.src} → ${k!.dst}, expected ${src} → ${dst}`);
    if (k!.mode !== c.mode) fail(`SA ${hex8(spi)}: kernel mode ${k!.mode}, expected ${c.mode}`);
    if (k!.encap !== c.expectEncap) fail(`SA ${hex8(spi)}: kernel UDP encapsulation ${k!.encap}, expected ${c.expectEncap}`);
    if (k!.esn !== c.expectEsn) fail(`SA ${hex8(spi)}: kernel ESN flag ${k!.esn}, expected ${c.expectEsn}`);
    const ours = keys.esp.find((e) => e.spi === spi);
    if (!ours) fail(`tsipsec's keylog has no esp_sa row for SPI ${hex8(spi)}`);
    if (Buffer.from(ours!.encrKey).toString('hex') !== k!.key) fail(`SA ${hex8(spi)}: encryption key differs between tsipsec (${ours!.encrName}) and the kernel (${k!.alg})`);
    if (ours!.integKey.length > 0 && Buffer.from(ours!.integKey).toString('hex') !== k!.authKey) fail(`SA ${hex8(spi)}: integrity key differs between tsipsec and the kernel (${k!.authAlg})`);
    if (dir === 'tsipsec→peer') notes.push(`${k!.alg}${k!.authAlg ? `+${k!.authAlg}` : ''}${k!.esn ? ' esn' : ''}${k!.encap ? ' udp-encap' : ' raw'} ${c.mode}`);
  }
  notes.push(`SPIs in ${hex8(spiIn)} out ${hex8(spiOut)}`);

  // The daemon's own listing agrees.
  const sas = read(out, 'peer-sas.txt');
  if (c.peer === 'strongswan') {
    if (!/ipx: #\d+, ESTABLISHED, IKEv2/.test(sas)) fail(`swanctl --list-sas shows no established IKE SA:\n${sas}`);
    if (!sas.includes(`in  ${hex8(spiOut)}`) || !sas.includes(`out ${hex8(spiIn)}`)) fail(`swanctl --list-sas does not list SPIs in ${hex8(spiOut)} / out ${hex8(spiIn)}:\n${sas}`);
    const modeWord = `${c.mode.toUpperCase()}${c.expectEncap ? '-in-UDP' : ''},`;
    if (!sas.includes(modeWord)) fail(`swanctl --list-sas: expected "${modeWord}":\n${sas}`);
    if (c.expectEsn !== /ESP:[^\n]*\/ESN/.test(sas)) fail(`swanctl --list-sas: ESN ${c.expectEsn ? 'missing' : 'unexpected'}:\n${sas}`);
  } else {
    if (!/"ipx"[^\n]*type=ESP/.test(sas)) fail(`whack --trafficstatus shows no ESP SA:\n${sas}`);
    // whack prints "esp.<spi>@<destination>" with the SPI in hex without leading zeros.
    for (const [spi, dst] of [[spiIn, '198.18.10.1'], [spiOut, '198.18.10.2']] as const) {
      const want = `esp.${spi.toString(16)}@${dst}`;
      if (!sas.toLowerCase().includes(want)) fail(`whack --status does not name ${want}:\n${sas.slice(-3000)}`);
    }
  }

  // Traffic.
  // ping -c 3 -w 10 (scenario.sh): requests 1, 2 and 3 each answered. A request whose reply is only late
  // makes ping send a 4th (it stops at 3 replies), which is fine; a lost one leaves its icmp_seq unanswered.
  for (const f of ['ping-ab.txt', 'ping-ba.txt']) {
    const text = read(out, f);
    const unanswered = [1, 2, 3].filter((n) => !new RegExp(`bytes from [\\d.]+: icmp_seq=${n} `).test(text));
    if (unanswered.length || !/\d+ packets transmitted, 3 received/.test(text)) fail(`${f}: requests ${unanswered.join(', ') || '-'} unanswered:\n${text}`);
  }
  const payload = readFileSync(join(out, 'payload.bin'));
  for (const f of ['recv-ab.bin', 'recv-ba.bin']) {
    const got = existsSync(join(out, f)) ? readFileSync(join(out, f)) : Buffer.alloc(0);
    if (!got.equals(payload)) fail(`${f}: received ${got.length} bytes, not the ${payload.length}-byte payload`);
  }

  // The wire: only IKE and ESP, never the marker, and every ESP packet decrypts with tsipsec's keys.
  const pcap = readFileSync(join(out, 'wire.pcap'));
  if (pcap.includes(Buffer.from(MARKER, 'latin1'))) fail('the plaintext marker is on the wire');
  const decoded = decodeCaptureFile(pcap, keys, { provider: nodeCrypto });
  const other = decoded.packets.filter((p) => !['esp', 'ike', 'keepalive'].includes(p.kind));
  if (other.length) fail(`${other.length} captured packets are neither IKE nor ESP: ${JSON.stringify(other.slice(0, 3))}`);
  const ikeMsgs = decoded.packets.filter((p): p is DecodedIke => p.kind === 'ike');
  const sealed = ikeMsgs.filter((p) => p.payloads.some((x) => x.startsWith('SK')));
  const undecrypted = sealed.filter((p) => !p.decrypted);
  if (undecrypted.length) fail(`${undecrypted.length} of ${sealed.length} encrypted IKE messages do not decrypt with tsipsec's keylog`);
  if (c.auth === 'cert') {
    // RSA-3072 makes IKE_AUTH larger than the 1280-byte fragment size: both sides send SKF (RFC 7383).
    for (const src of ['198.18.10.1', '198.18.10.2']) {
      if (!ikeMsgs.some((p) => p.src === src && p.exchange === 'IKE_AUTH' && p.payloads.some((x) => x.startsWith('SKF')))) fail(`no IKE_AUTH fragments (SKF) from ${src} on the wire`);
    }
    notes.push('IKE_AUTH fragmented (SKF) both ways');
  }
  const esp = decoded.packets.filter((p): p is DecodedEsp => p.kind === 'esp');
  const bad = esp.filter((p) => !p.ok);
  if (bad.length) fail(`${bad.length} of ${esp.length} captured ESP packets do not decrypt with tsipsec's keylog: ${JSON.stringify(bad.slice(0, 2))}`);
  const wrongTransport = esp.filter((p) => p.transport !== (c.expectEncap ? 'udp-4500' : 'ip-50'));
  if (wrongTransport.length) fail(`${wrongTransport.length} ESP packets travelled as ${wrongTransport[0]!.transport}`);
  const esnMismatch = esp.filter((p) => (p.esn === true) !== c.expectEsn);
  if (esnMismatch.length) fail(`${esnMismatch.length} ESP packets decrypted ${c.expectEsn ? 'without' : 'with'} ESN`);
  let after: TunnelStatus | undefined;
  try { after = JSON.parse(read(out, 'ts-status-after.json')) as TunnelStatus; } catch { /* below */ }
  const cc = after?.ikeSas[0]?.childCounters[0];
  if (!cc) fail('ts-status-after.json has no child counters');
  const counted = cc!.packetsIn + cc!.packetsOut;
  // tcpdump prints its counters on SIGUSR1 too (scenario.sh waits for it to drain): the last block is the final one.
  const dropped = Number([...read(out, 'tcpdump.txt').matchAll(/(\d+) packets? dropped by kernel/g)].at(-1)?.[1] ?? 0);
  notes.push(`ESP: ${esp.length} captured, all decrypted; tsipsec counted ${counted}${dropped ? `; tcpdump dropped ${dropped}` : ''}`);
  if (esp.length < 12) fail(`only ${esp.length} ESP packets captured (≥ 12 pings alone)`);
  // tcpdump on a loaded machine can drop packets (it says so); otherwise the capture holds exactly what tsipsec sent and received.
  if (dropped === 0 && esp.length !== counted) fail(`captured ${esp.length} ESP packets but tsipsec counted ${counted} (${cc!.packetsOut} out, ${cc!.packetsIn} in)`);
  return notes;
}

export interface KernelEntry {
  cell: KernelCell;
  /** Matrix row and column (the side that initiates). */
  scenario: string;
  column: 'tsipsec' | 'strongswan' | 'libreswan';
}

/**
 * How many kernels with ESP run a file's cells side by side: user-mode-linux has one CPU, so two UML
 * boots on a machine with two or more cores halve the wall time (each boot costs ~4 s). Cells are dealt
 * round-robin. TSIPSEC_UML_BATCHES overrides (1 = all cells in one boot, one after another).
 */
export function kernelBatches(cells: number): number {
  const want = Number(process.env.TSIPSEC_UML_BATCHES) || Math.min(2, availableParallelism());
  return Math.max(1, Math.min(want, cells));
}

/**
 * Declares the cells of one test file: a beforeAll that prepares every cell and runs them in
 * `kernelBatches` kernels with ESP at once (cells of a batch one after another), then one matrix cell
 * (vitest test) per entry that checks its records. The matrix gets each cell's own wall time inside
 * the kernel. `prefix` names the file's namespaces (with the batch number: <prefix>0-a, ...), distinct
 * per file so that files and batches never share a namespace when they run on a host kernel with ESP.
 */
export function declareKernelCells(m: Matrix, work: string, prefix: string, entries: readonly KernelEntry[], pki: () => PkiFiles | undefined, cellTimeoutSec = 90): void {
  const n = kernelBatches(entries.length);
  const batchOf = (i: number): number => i % n;
  const batchDir = (b: number): string => join(work, `b${b}`);
  const cellDir = (i: number): string => join(batchDir(batchOf(i)), entries[i]!.cell.id);
  const batches: Array<KernelRun | undefined> = [];
  let batchError: Error | undefined;
  beforeAll(async () => {
    try {
      for (const [i, e] of entries.entries()) await prepareCell(cellDir(i), e.cell, e.cell.auth === 'cert' ? pki() : undefined, `${prefix}${batchOf(i)}`);
      const cellsOf = (b: number): string[] => entries.flatMap((e, i) => (batchOf(i) === b ? [e.cell.id] : []));
      const runs = await Promise.all(Array.from({ length: n }, (_, b) => runKernelCells(batchDir(b), cellsOf(b), cellTimeoutSec)));
      batches.push(...runs);
    } catch (e) {
      batchError = e as Error;
    }
  }, (60 + Math.ceil(entries.length / n) * (cellTimeoutSec + 15)) * 1000);
  for (const [i, e] of entries.entries()) {
    m.cell(e.scenario, e.column, 'initiates', async (ctx) => {
      if (batchError) throw batchError;
      const out = cellDir(i);
      const o = cellOutcome(out);
      if (Number.isFinite(o.seconds)) ctx.seconds(o.seconds);
      if (o.code !== 0) {
        const batch = batches[batchOf(i)];
        const why = o.code === -1 ? 'never ran (kernel boot failed or the batch timed out)' : o.code === 124 || o.code === 137 ? 'timed out' : `ended with ${o.code}`;
        throw new Error(`${e.cell.id}: scenario ${why}\n${batch ? `batch ${batchOf(i)}: ${batch.where}, ${batch.seconds.toFixed(1)} s, exit ${batch.code}${batch.timedOut ? ' (TIMED OUT)' : ''}\n${read(batchDir(batchOf(i)), 'guest.log').slice(-1500)}\n${batch.console.slice(-1000)}` : ''}\n${cellDiagnostics(out)}`);
      }
      for (const note of verifyCell(out, e.cell)) ctx.note(note);
    }, 30_000);
  }
}
