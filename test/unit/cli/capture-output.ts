/** Captures process.stdout/stderr writes for in-process CLI tests (reset before each test). */
import { afterEach, beforeEach, vi } from 'vitest';

export interface Captured { out: string; err: string }

export function captureOutput(): Captured {
  const c: Captured = { out: '', err: '' };
  beforeEach(() => {
    c.out = '';
    c.err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { c.out += String(s); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { c.err += String(s); return true; });
  });
  afterEach(() => vi.restoreAllMocks());
  return c;
}
