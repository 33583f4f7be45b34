/**
 * Traffic selectors for the ESP data plane: the inbound policy check (RFC 4301 §5.2 step 4: "the
 * packet … must match the selectors of the SA") and the outbound SPD lookup (RFC 4301 §4.4.1).
 *
 * The shape is structurally the IKEv2 Traffic Selector (RFC 7296 §3.13.1), so the selectors negotiated
 * in TSi/TSr can be installed as they are:
 *
 *   TS Type (7 = TS_IPV4_ADDR_RANGE, 8 = TS_IPV6_ADDR_RANGE) ‖ IP Protocol ID (0 = any) ‖
 *   Start Port ‖ End Port ‖ Starting Address ‖ Ending Address
 *
 * Ports: for ICMP/ICMPv6 the "port" is type << 8 | code (RFC 7296 §3.13.1). Packets without ports
 * (other protocols, non-first fragments; `port < 0`) match only selectors whose port range is the
 * full 0..65535 (RFC 4301 §4.4.1.1 "ANY" vs "OPAQUE").
 */

export const TsType = { IPV4_ADDR_RANGE: 7, IPV6_ADDR_RANGE: 8 } as const;
export type TsType = (typeof TsType)[keyof typeof TsType];

export interface EspTrafficSelector {
  readonly tsType: number; // TsType
  readonly ipProtocol: number; // 0 = any
  readonly startPort: number;
  readonly endPort: number;
  readonly startAddress: Uint8Array; // 4 or 16 bytes
  readonly endAddress: Uint8Array;
}

/** Throws (config error) naming `field` when `ts` is not a valid selector. */
export function validateSelector(ts: EspTrafficSelector, field: string): void {
  const len = ts.tsType === 7 ? 4 : ts.tsType === 8 ? 16 : -1;
  if (len < 0) throw new RangeError(`${field}.tsType: must be 7 (IPv4) or 8 (IPv6), got ${String(ts.tsType)}`);
  if (!(ts.startAddress instanceof Uint8Array) || ts.startAddress.length !== len) throw new RangeError(`${field}.startAddress: must be ${len} bytes`);
  if (!(ts.endAddress instanceof Uint8Array) || ts.endAddress.length !== len) throw new RangeError(`${field}.endAddress: must be ${len} bytes`);
  if (compareBytes(ts.startAddress, 0, ts.endAddress) > 0) throw new RangeError(`${field}: startAddress > endAddress`);
  if (!Number.isInteger(ts.ipProtocol) || ts.ipProtocol < 0 || ts.ipProtocol > 255) throw new RangeError(`${field}.ipProtocol: must be 0..255`);
  if (!Number.isInteger(ts.startPort) || ts.startPort < 0 || ts.startPort > 65535) throw new RangeError(`${field}.startPort: must be 0..65535`);
  if (!Number.isInteger(ts.endPort) || ts.endPort < ts.startPort || ts.endPort > 65535) throw new RangeError(`${field}.endPort: must be startPort..65535`);
}

/** Compares `a` with `buf[off, off + a.length)` as big-endian unsigned numbers: <0, 0, >0. */
function compareBytes(a: Uint8Array, off: number, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[off + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * True when the address at `buf[addrOff, addrOff + addrLen)`, protocol and port fall inside `ts`
 * (`addrLen` 0 skips the address).
 * No allocation; never throws for in-bounds offsets.
 */
export function selectorMatches(
  ts: EspTrafficSelector,
  buf: Uint8Array,
  addrOff: number,
  addrLen: number,
  protocol: number,
  port: number,
): boolean {
  // addrLen 0: compare protocol and ports only (transport mode, addresses checked by the caller).
  if (addrLen !== 0 && ts.startAddress.length !== addrLen) return false;
  if (ts.ipProtocol !== 0 && ts.ipProtocol !== protocol) return false;
  if (port < 0) {
    if (ts.startPort !== 0 || ts.endPort !== 65535) return false;
  } else if (port < ts.startPort || port > ts.endPort) {
    return false;
  }
  // startAddress ≤ addr ≤ endAddress
  const s = ts.startAddress;
  const e = ts.endAddress;
  for (let i = 0; i < addrLen; i++) {
    const a = buf[addrOff + i]!;
    const d = a - s[i]!;
    if (d > 0) break;
    if (d < 0) return false;
  }
  for (let i = 0; i < addrLen; i++) {
    const a = buf[addrOff + i]!;
    const d = a - e[i]!;
    if (d < 0) break;
    if (d > 0) return false;
  }
  return true;
}

/** True if any selector in `list` matches (see `selectorMatches`). */
export function anySelectorMatches(
  list: readonly EspTrafficSelector[],
  buf: Uint8Array,
  addrOff: number,
  addrLen: number,
  protocol: number,
  port: number,
): boolean {
  for (let i = 0; i < list.length; i++) if (selectorMatches(list[i]!, buf, addrOff, addrLen, protocol, port)) return true;
  return false;
}

/**
 * Builds a selector covering `address/prefixLength` (4- or 16-byte address), optionally restricted to
 * a protocol and a port range. Config-time helper (allocates).
 */
export function selectorFromPrefix(
  address: Uint8Array,
  prefixLength: number,
  opts: { ipProtocol?: number; startPort?: number; endPort?: number } = {},
): EspTrafficSelector {
  const len = address.length;
  if (len !== 4 && len !== 16) throw new RangeError('selectorFromPrefix.address: must be 4 or 16 bytes');
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > len * 8) throw new RangeError('selectorFromPrefix.prefixLength: out of range');
  const start = new Uint8Array(len);
  const end = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    const m = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    start[i] = address[i]! & m;
    end[i] = (address[i]! & m) | (~m & 0xff);
  }
  const ts: EspTrafficSelector = {
    tsType: len === 4 ? 7 : 8,
    ipProtocol: opts.ipProtocol ?? 0,
    startPort: opts.startPort ?? 0,
    endPort: opts.endPort ?? 65535,
    startAddress: start,
    endAddress: end,
  };
  validateSelector(ts, 'selectorFromPrefix');
  return ts;
}
