/**
 * A TCP transfer each way through the tunnel (the interop issue: "ping and a TCP transfer pass in both
 * directions"): socat listens on one side's LAN address and writes what it receives to a file, the
 * other side sends `bytes` of payload with the plaintext marker in every 16 bytes; both transfers run
 * at once, each bounded in time, and the received files must equal the payload.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Topology } from './topology.js';

const PORT = 5001;

/** `bytes` of payload: the 8-byte marker then 8 bytes of counter, repeated. */
export function markedPayload(marker: string, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let o = 0, i = 0; o < bytes; o += 16, i++) {
    b.write(marker.padEnd(8).slice(0, 8), o, 'latin1');
    if (o + 16 <= bytes) b.writeBigUInt64BE(BigInt(i), o + 8);
  }
  return b;
}

function exec(args: string[], timeoutMs: number): Promise<{ code: number; err: string }> {
  return new Promise((resolve) => {
    const c = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', (e) => { clearTimeout(t); resolve({ code: -1, err: String(e) }); });
    c.on('exit', (code) => { clearTimeout(t); resolve({ code: code ?? -1, err }); });
  });
}

async function oneWay(name: string, fromNs: string, toNs: string, fromAddr: string, toAddr: string, payloadFile: string, dir: string): Promise<string | undefined> {
  const out = join(dir, `recv-${name}.bin`);
  const rx = exec(['netns', 'exec', toNs, 'timeout', '30', 'socat', '-u', `TCP-LISTEN:${PORT},bind=${toAddr},reuseaddr`, `OPEN:${out},creat,trunc`], 35_000);
  const tx = await exec(['netns', 'exec', fromNs, 'timeout', '25', 'socat', '-u', `OPEN:${payloadFile}`, `TCP:${toAddr}:${PORT},bind=${fromAddr},retry=50,interval=0.1`], 30_000);
  const r = await rx;
  if (tx.code !== 0) return `${name}: sender exited ${tx.code}: ${tx.err.trim()}`;
  if (r.code !== 0) return `${name}: receiver exited ${r.code}: ${r.err.trim()}`;
  return undefined;
}

/**
 * Sends `bytes` from LAN A to LAN B and from LAN B to LAN A at the same time; returns the failures
 * (empty when both files arrived intact).
 */
export async function tcpBothWays(t: Topology, dir: string, marker: string, bytes = 64 * 1024): Promise<string[]> {
  const payload = markedPayload(marker, bytes);
  const payloadFile = join(dir, 'tcp-payload.bin');
  writeFileSync(payloadFile, payload);
  const results = await Promise.all([
    oneWay('ab', t.nsA, t.nsB, t.lanA, t.lanB, payloadFile, dir),
    oneWay('ba', t.nsB, t.nsA, t.lanB, t.lanA, payloadFile, dir),
  ]);
  const failures = results.filter((x): x is string => x !== undefined);
  for (const name of ['ab', 'ba']) {
    if (failures.some((f) => f.startsWith(name))) continue;
    let got: Buffer;
    try { got = readFileSync(join(dir, `recv-${name}.bin`)); } catch { failures.push(`${name}: nothing received`); continue; }
    if (!got.equals(payload)) failures.push(`${name}: received ${got.length} bytes, ${got.length === payload.length ? 'contents differ' : `expected ${payload.length}`}`);
  }
  return failures;
}
