/**
 * Logging: pino JSON lines, one child logger per subsystem (ike, esp, net, tun, cfg) and per SA, each
 * subsystem with its own level. Secrets never reach a log line: keys named like key material are redacted
 * by pino's `redact` and byte arrays are never logged raw (callers log SPIs and names, never keys).
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

export interface Logs {
  root: Logger;
  sub(name: Subsystem): Logger;
}

export function createLogs(opts: LogOptions = {}): Logs {
  const root = pino(
    { level: opts.level ?? 'info', base: undefined, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
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
