/**
 * Log lines never carry key bytes: keys under key-like names are redacted, and any byte array a
 * caller passes (at any depth up to 4) is printed as its length only (src/runtime/log.ts).
 */
import { describe, expect, it } from 'vitest';
import { createLogs, scrubBytes } from '../../../src/runtime/log.js';

function capture(): { lines: string[]; dest: { write(s: string): void } } {
  const lines: string[] = [];
  return { lines, dest: { write: (s: string) => void lines.push(s) } };
}

describe('log output carries no key bytes', () => {
  const key = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
  const hex = Buffer.from(key).toString('hex');
  const dec = [...key.subarray(0, 4)].join(',');

  it('byte arrays anywhere in a log object print as [N bytes], at trace level too', () => {
    const { lines, dest } = capture();
    const logs = createLogs({ level: 'trace', destination: dest });
    logs.sub('ike').trace({ sa: { child: { material: key } }, list: [Buffer.from(key)], view: new DataView(key.buffer), spi: 0x1234 }, 'a line');
    logs.sub('esp').debug({ k: key.buffer }, 'raw ArrayBuffer');
    const out = lines.join('');
    expect(lines.length).toBe(2);
    expect(out).not.toContain(hex);
    expect(out).not.toContain(hex.slice(0, 16));
    expect(out).not.toContain(dec);
    expect(out).not.toContain(Buffer.from(key).toString('base64').slice(0, 12));
    expect(out).toContain('[32 bytes]');
    expect(JSON.parse(lines[0]!).spi).toBe(0x1234); // other fields untouched
  });

  it('key-like names are redacted even as strings', () => {
    const { lines, dest } = capture();
    const logs = createLogs({ level: 'trace', destination: dest });
    logs.sub('cfg').info({ psk: 'hunter2-psk', conn: { secret: 'sesame-9' }, skD: hex }, 'config');
    const out = lines.join('');
    expect(out).not.toContain('hunter2-psk');
    expect(out).not.toContain('sesame-9');
    expect(out).not.toContain(hex);
    expect(out).toContain('[redacted]');
  });

  it('scrubBytes leaves objects without bytes as they are (no copy)', () => {
    const o = { a: 1, b: { c: 'x', d: [1, 2] } };
    expect(scrubBytes(o)).toBe(o);
    expect(scrubBytes({ a: { b: key } })).toEqual({ a: { b: '[32 bytes]' } });
  });
});
