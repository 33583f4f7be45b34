/**
 * The measurements of one row: iperf3 TCP (one stream), iperf3 UDP at the highest rate with < 1 % loss
 * (bounded bisection), ping RTT, and the tunnel processes' CPU seconds per GB carried by the TCP test.
 */
import { cpuSeconds, sh, sleep, spawnIn, stop, waitFor, type Proc } from './proc.js';
import { LAN_A, LAN_B, NS_A, NS_B } from './topology.js';

/** One iperf3 report interval (1 s): seconds from the test start, Gbit/s sent in it. */
export interface TcpInterval { start: number; end: number; gbps: number; retransmits?: number }
export interface TcpResult { gbps: number; bytes: number; cpuSeconds: number; cpuSecPerGB: number; retransmits: number; intervals: TcpInterval[] }
export interface UdpStep { rateMbps: number; lossPercent: number; receivedGbps: number; pps: number }
export interface UdpResult { gbps: number; pps: number; rateMbps: number; lossPercent: number; steps: UdpStep[] }
export interface PingResult { avgMs: number; minMs: number; maxMs: number; received: number; sent: number }

const PORT = 5201;

export async function startIperfServer(): Promise<Proc> {
  const p = spawnIn('iperf3-server', NS_B, 'iperf3', ['-s', '-B', LAN_B, '-p', String(PORT)]);
  await waitFor('iperf3 server', async () => {
    if (p.child.exitCode !== null) throw new Error(`iperf3 -s exited: ${p.output()}`);
    return (await sh('ip', ['netns', 'exec', NS_B, 'ss', '-ltnH', `sport = :${PORT}`])).stdout.includes(String(PORT));
  }, 10_000, 100);
  return p;
}

export { stop as stopIperfServer };

interface IperfJson {
  error?: string;
  intervals?: Array<{ sum?: { start?: number; end?: number; bits_per_second?: number; retransmits?: number } }>;
  end?: {
    sum_received?: { bytes?: number; bits_per_second?: number };
    sum_sent?: { retransmits?: number };
    sum?: { bytes?: number; bits_per_second?: number; lost_percent?: number; packets?: number; lost_packets?: number; seconds?: number };
  };
}

async function iperfClient(args: string[], seconds: number): Promise<IperfJson> {
  const r = await sh('ip', ['netns', 'exec', NS_A, 'iperf3', '-c', LAN_B, '-B', LAN_A, '-p', String(PORT), '-J', '-t', String(seconds), ...args],
    { timeoutMs: (seconds + 25) * 1000 });
  let j: IperfJson;
  try { j = JSON.parse(r.stdout) as IperfJson; } catch { throw new Error(`iperf3 ${args.join(' ')}: no JSON (${r.code}): ${(r.stderr || r.stdout).slice(-500)}`); }
  if (j.error) throw new Error(`iperf3 ${args.join(' ')}: ${j.error}`);
  return j;
}

/** `onStart` runs just before iperf3 starts (the rekey watcher's time origin). */
export async function measureTcp(seconds: number, procs: readonly Proc[], onStart?: () => void): Promise<TcpResult> {
  const before = procs.map((p) => cpuSeconds(p.pid));
  onStart?.();
  const j = await iperfClient([], seconds);
  const after = procs.map((p) => cpuSeconds(p.pid));
  const cpu = procs.reduce((s, _, i) => s + (after[i]! - before[i]!), 0);
  const bytes = j.end?.sum_received?.bytes ?? 0;
  return {
    gbps: (j.end?.sum_received?.bits_per_second ?? 0) / 1e9, bytes, cpuSeconds: cpu,
    cpuSecPerGB: procs.length === 0 || bytes === 0 ? NaN : cpu / (bytes / 1e9), retransmits: j.end?.sum_sent?.retransmits ?? 0,
    intervals: (j.intervals ?? []).map((x) => ({ start: x.sum?.start ?? 0, end: x.sum?.end ?? 0, gbps: (x.sum?.bits_per_second ?? 0) / 1e9, retransmits: x.sum?.retransmits })),
  };
}

async function udpStep(rateMbps: number, len: number, seconds: number): Promise<UdpStep> {
  const j = await iperfClient(['-u', '-l', String(len), '-b', `${Math.round(rateMbps * 1e6)}`], seconds);
  const s = j.end?.sum ?? {};
  const lost = s.lost_percent ?? 100;
  const packets = s.packets ?? 0;
  const got = packets - (s.lost_packets ?? packets);
  const secs = s.seconds && s.seconds > 0 ? s.seconds : seconds;
  return { rateMbps, lossPercent: lost, receivedGbps: (got * len * 8) / secs / 1e9, pps: got / secs };
}

/**
 * Highest offered rate with < 1 % loss: try `startMbps`; if it loses, bisect geometrically between
 * startMbps/128 and it for `steps` steps (each a short iperf3 run). The result is the best passing step.
 */
export async function measureUdp(startMbps: number, len: number, seconds: number, steps: number): Promise<UdpResult> {
  const all: UdpStep[] = [];
  let best: UdpStep | undefined;
  let lo = startMbps / 128;
  let hi = startMbps;
  let rate = startMbps;
  for (let i = 0; i <= steps; i++) {
    const s = await udpStep(rate, len, seconds);
    all.push(s);
    if (s.lossPercent < 1) {
      if (!best || s.receivedGbps > best.receivedGbps) best = s;
      lo = rate;
      if (i === 0) break;
    } else {
      hi = rate;
    }
    rate = Math.sqrt(lo * hi);
    await sleep(300);
  }
  const b = best ?? { rateMbps: 0, lossPercent: NaN, receivedGbps: 0, pps: 0 };
  return { gbps: b.receivedGbps, pps: b.pps, rateMbps: b.rateMbps, lossPercent: b.lossPercent, steps: all };
}

export async function measurePing(count = 20, intervalSec = 0.05): Promise<PingResult> {
  const r = await sh('ip', ['netns', 'exec', NS_A, 'ping', '-q', '-c', String(count), '-i', String(intervalSec), '-W', '2', '-I', LAN_A, LAN_B],
    { timeoutMs: 30_000 });
  const rec = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(r.stdout);
  return {
    sent: rec ? Number(rec[1]) : count, received: rec ? Number(rec[2]) : 0,
    minMs: rtt ? Number(rtt[1]) : NaN, avgMs: rtt ? Number(rtt[2]) : NaN, maxMs: rtt ? Number(rtt[3]) : NaN,
  };
}

/** Waits until a ping from LAN A reaches LAN B (routes and SAs installed on both sides). */
export async function waitPath(timeoutMs = 30_000): Promise<void> {
  await waitFor('a ping LAN A → LAN B', async () =>
    (await sh('ip', ['netns', 'exec', NS_A, 'ping', '-c', '1', '-W', '1', '-I', LAN_A, LAN_B], { timeoutMs: 5000 })).code === 0, timeoutMs, 200);
}
