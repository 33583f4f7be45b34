/**
 * TUN read/write throughput through the koffi Linux adapter (src/tun/linux.ts). Needs root.
 *
 *   npm run build && node dist/bench/tun.js [--seconds 3] [--size 64] [--mode uv-poll|async-poll|both] [--rounds 3]
 *
 * Setup, in a namespace `tsb-bench<pid>` (addresses in 198.18.0.0/15):
 *
 *   generator process                 kernel (ip_forward=1)              this process (device under test)
 *   TUN-G 198.18.211.1/24  --write-->  route 198.18.210.0/24  --------->  TUN-D 198.18.210.1/24  --onPackets
 *   (UDP 198.18.211.2 → 198.18.210.2:9)                                   [reflect: swap addresses, write back
 *                                                                          → kernel → TUN-G]
 *
 * The generator is a child process writing crafted IPv4/UDP packets into its own TUN as fast as it can:
 * its rate and CPU per packet are the WRITE figures. This process reads them from TUN-D: rate, CPU per
 * packet (this process only), main-thread busy time per packet (event-loop utilisation) and mean batch
 * are the READ figures. "reflect" also writes every packet back (swapping source and destination keeps
 * both checksums valid), so it measures read+write on one event loop. Kernel-side drops on TUN-D
 * (`tx_dropped`: packets the kernel could not queue because we read too slowly) are reported too.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openLinuxTun, type LinuxTun, type TunReadMode } from '../src/tun/linux.js';
import { NetnsLab } from '../src/runtime/netns.js';
import { run } from '../src/runtime/system.js';

const args = process.argv.slice(2);
function opt(name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}

const DUT_NET = '198.18.210';
const GEN_NET = '198.18.211';

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (b.length & 1) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** IPv4 (RFC 791) + UDP (RFC 768, checksum 0 = none) packet with `size` payload bytes. */
function udpPacket(src: string, dst: string, size: number): Uint8Array {
  const p = new Uint8Array(28 + size);
  const dv = new DataView(p.buffer);
  p[0] = 0x45;
  dv.setUint16(2, p.length);
  p[8] = 64;
  p[9] = 17;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  dv.setUint16(10, checksum(p.subarray(0, 20)));
  dv.setUint16(20, 40000);
  dv.setUint16(22, 9);
  dv.setUint16(24, 8 + size);
  p.fill(0xab, 28);
  return p;
}

/** Child mode: open TUN-G in the namespace, write for `seconds`, print JSON stats. */
async function generator(ns: string, seconds: number, size: number): Promise<void> {
  const tun = await openLinuxTun({ name: 'tsbgen%d', netns: ns, addresses: [`${GEN_NET}.1/24`] });
  tun.onPackets(() => {}); // drain reflected packets so they do not pile up
  const pkt = udpPacket(`${GEN_NET}.2`, `${DUT_NET}.2`, size);
  process.stdout.write('ready\n');
  await new Promise((r) => setTimeout(r, 200));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let n = 0;
  let refused = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) {
      if (tun.write(pkt)) n++;
      else refused++;
    }
    // Let the event loop breathe now and then (reflected packets, timers).
    if ((n & 0xffff) < 256) await new Promise((r) => setImmediate(r));
  }
  const dt = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await tun.close();
  process.stdout.write(`${JSON.stringify({ written: n, refused, seconds: dt, cpuUs: cpu.user + cpu.system })}\n`);
}

interface Round {
  mode: TunReadMode;
  reflect: boolean;
  readPps: number;
  readCpuUsPerPkt: number;
  mainBusyUsPerPkt: number;
  meanBatch: number;
  reflectedPps: number;
  kernelDrops: number;
  writePps: number;
  writeCpuUsPerPkt: number;
}

async function ifaceTxDropped(ns: string, dev: string): Promise<number> {
  const { stdout } = await run('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev]);
  const j = JSON.parse(stdout) as Array<{ stats64?: { tx?: { dropped?: number } } }>;
  return j[0]?.stats64?.tx?.dropped ?? 0;
}

async function oneRound(lab: NetnsLab, ns: string, mode: TunReadMode, reflect: boolean, seconds: number, size: number): Promise<Round> {
  const tun: LinuxTun = await openLinuxTun({ name: 'tsbdut%d', netns: ns, addresses: [`${DUT_NET}.1/24`], readMode: mode });
  try {
    let count = 0;
    let counting = false;
    let reflected = 0;
    tun.onPackets((batch) => {
      if (!counting) return;
      count += batch.length;
      if (!reflect) return;
      for (const p of batch) {
        // swap IPv4 source and destination: both checksums stay valid (the sums are order-independent)
        for (let i = 12; i < 16; i++) {
          const t = p[i];
          p[i] = p[i + 4];
          p[i + 4] = t;
        }
        if (tun.write(p)) reflected++;
      }
    });
    const drops0 = await ifaceTxDropped(ns, tun.name);
    const child = lab.spawnIn(ns.slice(lab.prefix.length), process.execPath, [
      fileURLToPath(import.meta.url), '--generator', ns, '--seconds', String(seconds), '--size', String(size),
    ]);
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`generator exited early: ${err}`)));
    });
    counting = true;
    const c0 = process.cpuUsage();
    const e0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    const code = await exited;
    await new Promise((r) => setTimeout(r, 50)); // drain the tail
    const dt = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const elu = performance.eventLoopUtilization(e0);
    counting = false;
    if (code !== 0) throw new Error(`generator failed (${code}): ${err}`);
    const gen = JSON.parse(out.split('\n').filter((l) => l.startsWith('{'))[0]) as { written: number; seconds: number; cpuUs: number };
    const st = tun.stats();
    const kernelDrops = (await ifaceTxDropped(ns, tun.name)) - drops0;
    return {
      mode,
      reflect,
      readPps: count / dt,
      readCpuUsPerPkt: (cpu.user + cpu.system) / Math.max(1, count),
      mainBusyUsPerPkt: (elu.active * 1000) / Math.max(1, count),
      meanBatch: st.rxPackets / Math.max(1, st.rxBatches),
      reflectedPps: reflected / dt,
      kernelDrops,
      writePps: gen.written / gen.seconds,
      writeCpuUsPerPkt: gen.cpuUs / Math.max(1, gen.written),
    };
  } finally {
    await tun.close();
  }
}

async function main(): Promise<void> {
  if (args[0] === '--generator') {
    await generator(args[1], Number(opt('seconds', '3')), Number(opt('size', '64')));
    return;
  }
  if (process.getuid?.() !== 0) {
    console.error('bench/tun: needs root (TUN devices and network namespaces)');
    process.exitCode = 1;
    return;
  }
  const seconds = Number(opt('seconds', '3'));
  const size = Number(opt('size', '64'));
  const rounds = Number(opt('rounds', '3'));
  const modeArg = opt('mode', 'both');
  const modes: TunReadMode[] = modeArg === 'both' ? ['uv-poll', 'async-poll'] : [modeArg as TunReadMode];
  const lab = new NetnsLab('tsb-');
  const nsShort = `bench${process.pid % 100000}`;
  try {
    const ns = await lab.createNamespace(nsShort);
    await lab.execIn(nsShort, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    const results: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const reflect of [false, true]) {
        for (const mode of modes) {
          const res = await oneRound(lab, ns, mode, reflect, seconds, size);
          results.push(res);
          console.error(`round ${r + 1} ${mode}${reflect ? ' reflect' : ''}: read ${Math.round(res.readPps)} pkt/s`);
        }
      }
    }
    const f = (x: number, d = 0) => x.toFixed(d);
    console.log(`\nTUN benchmark: ${size}-byte UDP payloads, ${seconds}s rounds, median of ${rounds} (node ${process.version}, ${(await import('node:os')).cpus().length} CPUs)\n`);
    console.log('| mode | reflect | read pkt/s | read CPU µs/pkt | main busy µs/pkt | mean batch | reflected pkt/s | kernel drops | generator write pkt/s | write CPU µs/pkt |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const reflect of [false, true]) {
      for (const mode of modes) {
        const rs = results.filter((x) => x.mode === mode && x.reflect === reflect).sort((a, b) => a.readPps - b.readPps);
        const m = rs[Math.floor(rs.length / 2)];
        console.log(
          `| ${mode} | ${reflect ? 'yes' : 'no'} | ${f(m.readPps)} | ${f(m.readCpuUsPerPkt, 2)} | ${f(m.mainBusyUsPerPkt, 2)} | ${f(m.meanBatch, 1)} | ${reflect ? f(m.reflectedPps) : '-'} | ${m.kernelDrops} | ${f(m.writePps)} | ${f(m.writeCpuUsPerPkt, 2)} |`,
        );
      }
    }
  } finally {
    await lab.cleanup();
  }
}

await main();
