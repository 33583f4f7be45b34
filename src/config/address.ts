/**
 * Address syntaxes of swanctl.conf: `local_addrs`/`remote_addrs` entries (address, CIDR subnet,
 * range `a-b`, DNS name, `%any`, `%any4`, `%any6`) and the address part of traffic selectors.
 * IPv4 is dotted quad (RFC 791 notation); IPv6 is RFC 4291 §2.2 text, including `::` and a trailing
 * dotted quad. Parsers return bytes or undefined; they never throw.
 */

export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  let head = text;
  let tail4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > 0) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = group(halves[0]);
  const right = halves.length === 2 ? group(halves[1]) : [];
  if (left === undefined || right === undefined) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  if (tail4 !== undefined) out.set(tail4, 12);
  return out;
}

/** An IPv4 or IPv6 address. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

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
