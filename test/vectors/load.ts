/**
 * Loader for the known-answer files in test/vectors/data (copied from ../shared/vectors; see its README):
 * `[section]` headers, `name = hex` lines (spaces inside hex are cosmetic), `#` comments.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type VectorSection = Record<string, string>;

export function loadVectors(file: string): Map<string, VectorSection> {
  const text = readFileSync(join(import.meta.dirname, 'data', file), 'utf8');
  const out = new Map<string, VectorSection>();
  let current: VectorSection | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      current = {};
      out.set(sec[1]!, current);
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv && current) current[kv[1]!] = kv[2]!;
  }
  return out;
}

/** Hex (spaces allowed) to bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${s.slice(0, 40)}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
