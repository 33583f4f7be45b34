/** The machine a benchmark ran on, for the report and the JSON results. */
import { cpus, loadavg, release, platform, arch } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  kernel: string;
  platform: string;
  node: string;
  openssl: string;
  loadAvg1: number;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown', cpus: c.length, kernel: release(), platform: `${platform()}/${arch()}`,
    node: process.version, openssl: process.versions.openssl ?? 'unknown', loadAvg1: Math.round(loadavg()[0]! * 10) / 10,
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpuModel} (${m.cpus} CPUs, 1-min load average ${m.loadAvg1} at start), Linux ${m.kernel}, Node.js ${m.node}, OpenSSL ${m.openssl}, ${m.platform}`;
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Replaces (or appends) the `## title` section of a markdown file's text, keeping every other section. */
export function replaceSection(text: string, title: string, body: string): string {
  const head = `## ${title}`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === head);
  const section = [head, '', ...body.trimEnd().split('\n'), ''];
  if (start < 0) return `${text.trimEnd()}\n\n${section.join('\n')}`;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) if (lines[i]!.startsWith('## ')) { end = i; break; }
  return [...lines.slice(0, start), ...section, ...lines.slice(end)].join('\n');
}
