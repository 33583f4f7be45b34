/**
 * Value syntaxes of swanctl.conf, as strongSwan's vici_config.c parses them:
 * - time: seconds, or a number with s/m/h/d (case-insensitive, spaces before the unit allowed);
 * - bytes: a number with k/M/G meaning 1024, 1024², 1024³ (case-insensitive);
 * - packets and other counts: plain numbers;
 * - booleans: yes/true/enabled/1 and no/false/disabled/0 (case-insensitive);
 * - secrets: `0x` hex, `0s` base64, otherwise the text itself (swanctl load_creds.c).
 * Each parser returns the value, or a string describing what is wrong (never throws).
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

const TIME_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function scaled(text: string, units: Record<string, number>, what: string, example: string): Parsed<number> {
  const m = /^(\d+) *([a-zA-Z]?)$/.exec(text.trim());
  const unit = m?.[2].toLowerCase();
  if (m === null || unit === undefined || !(unit in units)) return fail(`bad ${what} "${text}" (expected ${example})`);
  const n = Number(m[1]) * units[unit];
  if (!Number.isSafeInteger(n)) return fail(`${what} "${text}" is too large`);
  return ok(n);
}

/** `60s`, `5m`, `1h`, `1d`, `90` → seconds. */
export function parseDurationSec(text: string): Parsed<number> {
  return scaled(text, TIME_UNITS, 'duration', 'seconds or a number with s, m, h or d, e.g. "1h"');
}

/** `1024`, `512k`, `10M`, `2G` → bytes (powers of 1024, as strongSwan). */
export function parseBytes(text: string): Parsed<number> {
  return scaled(text, BYTE_UNITS, 'byte count', 'a number, optionally with k, M or G, e.g. "500M"');
}

/** A non-negative integer up to `max`. */
export function parseUint(text: string, max: number = Number.MAX_SAFE_INTEGER): Parsed<number> {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return fail(`bad number "${text}" (expected a non-negative integer)`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n > max) return fail(`number "${text}" is out of range (0..${max})`);
  return ok(n);
}

const TRUE_WORDS = new Set(['yes', 'true', 'enabled', '1']);
const FALSE_WORDS = new Set(['no', 'false', 'disabled', '0']);

export function parseBool(text: string): Parsed<boolean> {
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return ok(true);
  if (FALSE_WORDS.has(t)) return ok(false);
  return fail(`bad boolean "${text}" (expected yes or no)`);
}

/** One of `choices` (case-insensitive, as strongSwan's parse_map), mapped through `aliases` first. */
export function parseChoice<T extends string>(text: string, choices: readonly T[], what: string, aliases: Record<string, T> = {}): Parsed<T> {
  const t = text.trim().toLowerCase();
  const mapped = aliases[t] ?? t;
  const found = choices.find((c) => c === mapped);
  if (found !== undefined) return ok(found);
  return fail(`unknown ${what} "${text}" (expected ${choices.join(', ')})`);
}

/** strongSwan's comma-separated lists: split on ',', trim, drop empty items. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Decode a secret as swanctl does: `0x…` hex, `0s…` base64, anything else as UTF-8 text. */
export function decodeSecret(text: string): Parsed<Uint8Array> {
  const prefix = text.slice(0, 2).toLowerCase();
  if (prefix === '0x') {
    const hex = text.slice(2).replace(/:/g, '');
    if (hex.length === 0 || !/^[0-9a-fA-F]+$/.test(hex)) return fail('bad hex secret: "0x" must be followed by hex digits');
    const even = hex.length % 2 === 0 ? hex : `0${hex}`;
    const out = new Uint8Array(even.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(even.slice(2 * i, 2 * i + 2), 16);
    return ok(out);
  }
  if (prefix === '0s') {
    const b64 = text.slice(2).replace(/\s+/g, '');
    if (b64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
      return fail('bad base64 secret: "0s" must be followed by base64 text');
    }
    return ok(new Uint8Array(Buffer.from(b64, 'base64')));
  }
  return ok(new TextEncoder().encode(text));
}
