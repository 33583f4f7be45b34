/**
 * Logging: pino JSON lines, one child logger per subsystem (ike, esp, net, tun, cfg) and per SA, each
 * subsystem with its own level. Secrets never reach a log line: keys named like key material are redacted
 * by pino's `redact`, and byte arrays are never logged raw: `scrubBytes` (pino's `formatters.log`)
 * replaces every Uint8Array/Buffer/ArrayBuffer in a log object (to depth 4) with `[N bytes]`, so a
 * caller that passes a key by mistake prints its length only. Levels: `--log-level` (fatal … trace)
 * and per subsystem `--log-levels ike=trace,esp=debug`; trace is the most verbose.
 * test/e2e/hostile-secrets.test.ts runs at trace and searches everything printed for keys and PSKs.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type Subsystem = 'ike' | 'esp' | 'net' | 'tun' | 'cfg' | 'ctl' | 'main';
export const SUBSYSTEMS: readonly Subsystem[] = ['ike', 'esp', 'net', 'tun', 'cfg', 'ctl', 'main'];

export interface LogOptions {
  level?: LevelWithSilent;
  levels?: Partial<Record<Subsystem, LevelWithSilent>>;
  destination?: NodeJS.WritableStream | { write(s: string): void };
}

/** Paths redacted in every log line, whatever the caller passes. */
export const REDACT_PATHS = [
  'psk', 'secret', 'key', 'keys', 'skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr', 'privateKey',
  'encrIn', 'encrOut', 'integIn', 'integOut', 'keys.*', '*.psk', '*.secret', '*.key', '*.keys', '*.privateKey',
];

/** Replaces byte arrays (any depth ≤ 4) by `[N bytes]`; other values unchanged. Returns a new object only when needed. */
export function scrubBytes(v: unknown, depth = 0): unknown {
  if (v instanceof Uint8Array || ArrayBuffer.isView(v)) return `[${(v as ArrayBufferView).byteLength} bytes]`;
  if (v instanceof ArrayBuffer) return `[${v.byteLength} bytes]`;
  if (v === null || typeof v !== 'object' || depth >= 4 || v instanceof Error) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    v.forEach((x, i) => {
      const y = scrubBytes(x, depth + 1);
      if (y !== x) (out ??= [...v])[i] = y;
    });
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    const y = scrubBytes(x, depth + 1);
    if (y !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = y;
  }
  return out ?? v;
}

export interface Logs {
  root: Logger;
  sub(name: Subsystem): Logger;
}

export function createLogs(opts: LogOptions = {}): Logs {
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (o) => scrubBytes(o) as Record<string, unknown> },
    },
    (opts.destination as NodeJS.WritableStream | undefined) ?? pino.destination(2),
  );
  const cache = new Map<Subsystem, Logger>();
  return {
    root,
    sub(name) {
      let l = cache.get(name);
      if (!l) {
        l = root.child({ sub: name }, { level: opts.levels?.[name] ?? opts.level ?? 'info' });
        cache.set(name, l);
      }
      return l;
    },
  };
}

/** Parses `ike=debug,esp=warn` (CLI --log-levels) into per-subsystem levels; throws naming the bad item. */
export function parseLogLevels(spec: string): Partial<Record<Subsystem, LevelWithSilent>> {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const out: Partial<Record<Subsystem, LevelWithSilent>> = {};
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [k, v] = item.split('=');
    if (!k || !v || !(SUBSYSTEMS as readonly string[]).includes(k)) throw new Error(`--log-levels: unknown subsystem in "${item}" (expected one of ${SUBSYSTEMS.join(', ')})`);
    if (!levels.includes(v)) throw new Error(`--log-levels: unknown level "${v}" for ${k} (expected one of ${levels.join(', ')})`);
    out[k as Subsystem] = v as LevelWithSilent;
  }
  return out;
}
