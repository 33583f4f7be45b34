/**
 * Address syntaxes of swanctl.conf: `local_addrs`/`remote_addrs` entries (address, CIDR subnet,
 * range `a-b`, DNS name, `%any`, `%any4`, `%any6`) and the address part of traffic selectors.
 * IPv4 is dotted quad (RFC 791 notation); IPv6 is RFC 4291 §2.2 text, including `::` and a trailing
 * dotted quad. Parsers return bytes or undefined; they never throw.
 */

export { parseIp, parseIpv4, parseIpv6 } from '../wire/addr.js';
import { parseIp } from '../wire/addr.js';

/** `addr/prefix` or a bare address → first and last address of the block. */
export function parseCidr(text: string): { start: Uint8Array; end: Uint8Array } | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (addr === undefined) return undefined;
  const bits = addr.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return undefined;
    prefix = Number(p);
  }
  const start = new Uint8Array(addr.length);
  const end = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    const mask = (0xff << (8 - keep)) & 0xff;
    start[i] = addr[i] & mask;
    end[i] = (addr[i] & mask) | (~mask & 0xff);
  }
  return { start, end };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** `a-b` with both ends of the same family and a <= b. */
export function parseRange(text: string): { start: Uint8Array; end: Uint8Array } | undefined {
  const dash = text.indexOf('-');
  if (dash < 0) return undefined;
  const start = parseIp(text.slice(0, dash).trim());
  const end = parseIp(text.slice(dash + 1).trim());
  if (start === undefined || end === undefined || start.length !== end.length) return undefined;
  if (compareBytes(start, end) > 0) return undefined;
  return { start, end };
}

const LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** A DNS name (RFC 1123 labels); a name whose last label is all digits is not one (it is a bad IPv4). */
export function isDnsName(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]);
}

/** Why an `local_addrs`/`remote_addrs` entry is invalid, or undefined when it is fine. */
export function checkIkeAddress(text: string): string | undefined {
  if (text === '%any' || text === '%any4' || text === '%any6') return undefined;
  if (text.includes('/')) return parseCidr(text) ? undefined : `bad subnet "${text}"`;
  if (text.includes('-') && parseIp(text.split('-')[0].trim()) !== undefined) {
    return parseRange(text) ? undefined : `bad address range "${text}"`;
  }
  if (parseIp(text) !== undefined || isDnsName(text)) return undefined;
  return `bad address "${text}" (expected an IP address, subnet, range, DNS name or %any)`;
}
