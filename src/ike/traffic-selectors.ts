/**
 * Traffic selectors (RFC 7296 §2.9, §3.13.1): parsing config strings, intersection and the
 * responder's narrowing. Pure functions over the payload model's `TrafficSelector`.
 *
 * Config syntax (strongSwan swanctl.conf `local_ts`/`remote_ts`):
 *   '198.19.1.0/24'   '10.0.0.1'   '10.0.0.1-10.0.0.9'   '2001:db8::/64'   '0.0.0.0/0'   '::/0'
 *   'dynamic'  (the IKE address of that side, /32 or /128)
 *   any of the above + '[proto]', '[proto/port]', '[proto/lo-hi]', '[/port]'  e.g. '10.0.0.1[tcp/80]'
 *
 * §2.9: "the responder ... MAY narrow the selectors to a subset"; our responder answers with every
 * non-empty intersection of a proposed and a configured selector, and TS_UNACCEPTABLE when there
 * is none for TSi or for TSr. The initiator accepts a response only if every returned selector lies
 * inside one it proposed.
 */
import { TsType, type TrafficSelector } from './payloads/types.js';
import { formatIp as formatIpLiteral, parseIp as parseIpLiteral } from '../wire/addr.js';

const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, sctp: 132, icmpv6: 58, 'ipv6-icmp': 58 };

// ---- IP literals ------------------------------------------------------------------------------

/** Parses an IPv4 or IPv6 literal (an IPv6 zone `%id` is ignored) into 4 or 16 bytes; undefined when it is not one. */
export function parseIp(s: string): Uint8Array | undefined {
  const pct = s.indexOf('%');
  return parseIpLiteral(pct >= 0 ? s.slice(0, pct) : s);
}

/** Dotted quad or RFC 5952 IPv6 text. */
export function formatIp(b: Uint8Array): string {
  return formatIpLiteral(b) ?? `<${b.length}-byte address>`;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function maxBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) >= 0 ? a : b;
}

function minBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? a : b;
}

// ---- parsing config strings -----------------------------------------------------------------

function bad(spec: string, why: string): never {
  throw new Error(`traffic selector '${spec}': ${why}`);
}

function parseProtoPort(spec: string, pp: string): { ipProtocol: number; startPort: number; endPort: number } {
  const slash = pp.indexOf('/');
  const protoStr = slash >= 0 ? pp.slice(0, slash) : pp;
  const portStr = slash >= 0 ? pp.slice(slash + 1) : '';
  let ipProtocol = 0;
  if (protoStr !== '' && protoStr !== '%any' && protoStr !== 'any') {
    if (/^\d+$/.test(protoStr)) ipProtocol = Number(protoStr);
    else if (protoStr.toLowerCase() in PROTOCOLS) ipProtocol = PROTOCOLS[protoStr.toLowerCase()];
    else bad(spec, `unknown protocol '${protoStr}'`);
    if (ipProtocol > 255) bad(spec, 'protocol out of range');
  }
  let startPort = 0;
  let endPort = 65535;
  if (portStr !== '' && portStr !== '%any' && portStr !== 'any') {
    const m = /^(\d+)(?:-(\d+))?$/.exec(portStr);
    if (!m) bad(spec, `bad port '${portStr}'`);
    startPort = Number(m[1]);
    endPort = m[2] !== undefined ? Number(m[2]) : startPort;
    if (endPort > 65535 || startPort > endPort) bad(spec, `bad port range '${portStr}'`);
  }
  return { ipProtocol, startPort, endPort };
}

function prefixRange(spec: string, addr: Uint8Array, prefix: number): [Uint8Array, Uint8Array] {
  const bits = addr.length * 8;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) bad(spec, `prefix length ${prefix} out of range`);
  const start = new Uint8Array(addr.length);
  const end = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    start[i] = addr[i] & mask;
    end[i] = (addr[i] & mask) | (~mask & 0xff);
  }
  return [start, end];
}

/**
 * Parses one config selector. `dynamic` is the IKE address of that side (required when the spec
 * says 'dynamic'). Throws on a malformed spec (a config error that names the spec).
 */
export function parseTs(spec: string, dynamic?: string): TrafficSelector {
  let s = spec.trim();
  let pp = { ipProtocol: 0, startPort: 0, endPort: 65535 };
  const br = s.indexOf('[');
  if (br >= 0) {
    if (!s.endsWith(']')) bad(spec, "missing ']'");
    pp = parseProtoPort(spec, s.slice(br + 1, -1));
    s = s.slice(0, br);
  }
  let start: Uint8Array;
  let end: Uint8Array;
  if (s === 'dynamic' || s === '%dynamic') {
    if (dynamic === undefined) bad(spec, 'dynamic needs the IKE address');
    const a = parseIp(dynamic);
    if (!a) bad(spec, `dynamic address '${dynamic}' is not an IP`);
    start = a;
    end = a;
  } else if (s.includes('/')) {
    const [a, p] = s.split('/');
    const addr = parseIp(a);
    if (!addr) bad(spec, `'${a}' is not an IP address`);
    if (!/^\d+$/.test(p)) bad(spec, `bad prefix '${p}'`);
    [start, end] = prefixRange(spec, addr, Number(p));
  } else if (s.includes('-')) {
    const [a, b] = s.split('-');
    const x = parseIp(a);
    const y = parseIp(b);
    if (!x || !y || x.length !== y.length) bad(spec, 'bad address range');
    if (compareBytes(x, y) > 0) bad(spec, 'range start after end');
    start = x;
    end = y;
  } else {
    const a = parseIp(s);
    if (!a) bad(spec, `'${s}' is not an IP address`);
    start = a;
    end = a;
  }
  return { tsType: start.length === 4 ? TsType.IPV4_ADDR_RANGE : TsType.IPV6_ADDR_RANGE, ...pp, startAddress: start, endAddress: end };
}

/** Parses a list; 'dynamic' entries become `dynamicAddr`. */
export function resolveTs(specs: readonly string[], dynamicAddr: string): TrafficSelector[] {
  return specs.map((s) => parseTs(s, dynamicAddr));
}

/**
 * Like resolveTs, but a 'dynamic' entry (with its optional [proto/port]) becomes one selector per
 * entry of `dynamic`, which may be addresses or prefixes ('0.0.0.0/0' while a virtual IP is still
 * being requested, RFC 7296 §2.19).
 */
export function resolveTsDynamic(specs: readonly string[], dynamic: readonly string[]): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const spec of specs) {
    const fixed = fixedTsCache.get(spec);
    if (fixed !== undefined) {
      out.push(fixed);
      continue;
    }
    const m = /^%?dynamic(\[.*\])?$/.exec(spec.trim());
    if (m && dynamic.length > 0) for (const d of dynamic) out.push(parseTs(d + (m[1] ?? '')));
    else out.push(rememberFixed(spec, m ? undefined : parseTs(spec, dynamic[0])) ?? parseTs(spec, dynamic[0]));
  }
  return out;
}

/**
 * Selectors of config specs that do not depend on an address ('10.0.0.0/24', not 'dynamic'), parsed
 * once: every CHILD_SA offer and answer resolves its connection's specs again. Bounded; the values are
 * shared, so callers treat selectors as read-only (as they already did).
 */
const fixedTsCache = new Map<string, TrafficSelector>();
const FIXED_TS_CACHE_MAX = 1024;

function rememberFixed(spec: string, ts: TrafficSelector | undefined): TrafficSelector | undefined {
  if (ts === undefined) return undefined;
  if (fixedTsCache.size >= FIXED_TS_CACHE_MAX) fixedTsCache.clear();
  fixedTsCache.set(spec, ts);
  return ts;
}

// ---- set operations -------------------------------------------------------------------------

/** The intersection of two selectors, or undefined when it is empty (RFC 7296 §2.9). */
export function intersectTs(a: TrafficSelector, b: TrafficSelector): TrafficSelector | undefined {
  if (a.tsType !== b.tsType || a.startAddress.length !== b.startAddress.length) return undefined;
  let ipProtocol: number;
  if (a.ipProtocol === 0) ipProtocol = b.ipProtocol;
  else if (b.ipProtocol === 0 || b.ipProtocol === a.ipProtocol) ipProtocol = a.ipProtocol;
  else return undefined;
  const startPort = Math.max(a.startPort, b.startPort);
  const endPort = Math.min(a.endPort, b.endPort);
  if (startPort > endPort) return undefined;
  const startAddress = maxBytes(a.startAddress, b.startAddress);
  const endAddress = minBytes(a.endAddress, b.endAddress);
  if (compareBytes(startAddress, endAddress) > 0) return undefined;
  // The intersection is often one of the two (a configured selector, or a proposal inside it): that
  // selector itself, not a copy. Selectors are read-only values (see fixedTsCache), and a copy costs
  // each child SA two address arrays (~400 bytes of heap) per selector (bench/ike.ts memory).
  if (sameTs(b, ipProtocol, startPort, endPort, startAddress, endAddress)) return b;
  if (sameTs(a, ipProtocol, startPort, endPort, startAddress, endAddress)) return a;
  return { tsType: a.tsType, ipProtocol, startPort, endPort, startAddress: Uint8Array.from(startAddress), endAddress: Uint8Array.from(endAddress) };
}

function sameTs(t: TrafficSelector, ipProtocol: number, startPort: number, endPort: number, startAddress: Uint8Array, endAddress: Uint8Array): boolean {
  return t.ipProtocol === ipProtocol && t.startPort === startPort && t.endPort === endPort && compareBytes(t.startAddress, startAddress) === 0 && compareBytes(t.endAddress, endAddress) === 0;
}

/**
 * `returned` with each selector equal to one of `ours` replaced by ours (the initiator keeps what it
 * offered, often the shared config selectors, instead of the decoded copies: heap per child SA).
 */
export function preferOwnTs(returned: readonly TrafficSelector[], ours: readonly TrafficSelector[]): TrafficSelector[] {
  return returned.map((r) => ours.find((o) => o.tsType === r.tsType && o.startAddress.length === r.startAddress.length && sameTs(o, r.ipProtocol, r.startPort, r.endPort, r.startAddress, r.endAddress)) ?? r);
}

/** True when `inner` lies completely inside `outer`. */
export function tsContains(outer: TrafficSelector, inner: TrafficSelector): boolean {
  if (outer.tsType !== inner.tsType || outer.startAddress.length !== inner.startAddress.length) return false;
  if (outer.ipProtocol !== 0 && outer.ipProtocol !== inner.ipProtocol) return false;
  if (inner.startPort < outer.startPort || inner.endPort > outer.endPort) return false;
  return compareBytes(inner.startAddress, outer.startAddress) >= 0 && compareBytes(inner.endAddress, outer.endAddress) <= 0;
}

export function tsEqual(a: TrafficSelector, b: TrafficSelector): boolean {
  return tsContains(a, b) && tsContains(b, a) && a.ipProtocol === b.ipProtocol;
}

/**
 * Responder narrowing (§2.9): every non-empty intersection of a proposed and a configured selector,
 * without duplicates or selectors contained in another result. Empty → TS_UNACCEPTABLE.
 */
export function narrowTs(proposed: readonly TrafficSelector[], configured: readonly TrafficSelector[]): TrafficSelector[] {
  const raw: TrafficSelector[] = [];
  for (const p of proposed) {
    for (const c of configured) {
      const x = intersectTs(p, c);
      if (x) raw.push(x);
    }
  }
  return raw.filter((x, i) => !raw.some((y, j) => j !== i && tsContains(y, x) && (!tsContains(x, y) || j < i)));
}

/** Initiator check on the response: every returned selector lies inside one we proposed. */
export function tsAllWithin(returned: readonly TrafficSelector[], proposed: readonly TrafficSelector[]): boolean {
  return returned.length > 0 && returned.every((r) => proposed.some((p) => tsContains(p, r)));
}

function rangeToText(start: Uint8Array, end: Uint8Array): string {
  // Is it a prefix? Find the first differing bit from the end.
  const bits = start.length * 8;
  let prefix = bits;
  for (let p = 0; p <= bits; p++) {
    const [s, e] = prefixRange('x', start, p);
    if (compareBytes(s, start) === 0 && compareBytes(e, end) === 0) {
      prefix = p;
      return `${formatIp(start)}/${prefix}`;
    }
  }
  return `${formatIp(start)}-${formatIp(end)}`;
}

const PROTO_NAMES = new Map(Object.entries(PROTOCOLS).map(([k, v]) => [v, k] as const));

/** strongSwan-style text: '10.0.0.0/24', '10.0.0.1/32[tcp/80]', '10.0.0.1-10.0.0.9'. */
export function formatTs(ts: TrafficSelector): string {
  const addr = rangeToText(ts.startAddress, ts.endAddress);
  const anyPort = ts.startPort === 0 && ts.endPort === 65535;
  if (ts.ipProtocol === 0 && anyPort) return addr;
  const proto = ts.ipProtocol === 0 ? '' : (PROTO_NAMES.get(ts.ipProtocol) ?? String(ts.ipProtocol));
  const port = anyPort ? '' : ts.startPort === ts.endPort ? `/${ts.startPort}` : `/${ts.startPort}-${ts.endPort}`;
  return `${addr}[${proto}${port}]`;
}
