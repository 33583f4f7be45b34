/**
 * Capture file readers: classic libpcap and pcapng, total (never throw on any bytes).
 *
 * Classic pcap (draft-ietf-opsawg-pcap §4, §5): a 24-byte file header, then records.
 *
 *  File header                                   Record header
 *  +---------------------------------------+     +---------------------------------------+
 *  | magic 0xA1B2C3D4 (µs) / 0xA1B23C4D(ns)|     | timestamp (seconds)                   |
 *  +-------------------+-------------------+     +---------------------------------------+
 *  | major (2)         | minor (4)         |     | timestamp (µs or ns fraction)         |
 *  +-------------------+-------------------+     +---------------------------------------+
 *  | reserved1 (thiszone)                  |     | captured length                       |
 *  | reserved2 (sigfigs)                   |     +---------------------------------------+
 *  | snaplen                               |     | original length                       |
 *  | FCS bits | link type (low 16 bits)    |     +---------------------------------------+
 *  +---------------------------------------+     | packet data (captured length bytes)   |
 *
 * The magic, written in the writer's byte order, tells the reader the byte order of every field.
 *
 * pcapng (draft-ietf-opsawg-pcapng §3.1, §4): a sequence of blocks
 *
 *  +---------------------------------------------------------------+
 *  |                          Block Type                           |
 *  +---------------------------------------------------------------+
 *  |                      Block Total Length                       |
 *  /                          Block Body (padded to 32 bits)       /
 *  +---------------------------------------------------------------+
 *  |                      Block Total Length                       |
 *  +---------------------------------------------------------------+
 *
 * Section Header Block 0x0A0D0D0A (its byte-order magic 0x1A2B3C4D fixes the byte order of the
 * section), Interface Description Block 1 (link type, snaplen, options such as if_tsresol = 9 and
 * if_tsoffset = 14), Enhanced Packet Block 6 (interface id, 64-bit timestamp, captured and original
 * length, data), Simple Packet Block 3 (original length, data; interface 0, no timestamp) and the
 * obsolete Packet Block 2. Other blocks are skipped.
 *
 * Limits: a block or record larger than `maxRecordBytes` (default 1 MiB) or more than `maxRecords`
 * records ends the read with an error, so garbage cannot make the reader allocate or loop without
 * bound. Records are views into the input (no copies).
 */

/** Link-layer header types (tcpdump.org LINKTYPE_* registry) that `link.ts` understands. */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  /** Ethernet II (IEEE 802.3). */
  EN10MB: 1,
  /** Raw IPv4 or IPv6; the version nibble tells which. */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family in network byte order. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (16-byte header). */
  LINUX_SLL: 113,
  /** Raw IPv4. */
  IPV4: 228,
  /** Raw IPv6. */
  IPV6: 229,
  /** Linux "cooked" capture v2 (20-byte header). */
  LINUX_SLL2: 276,
} as const;
export type LinkType = (typeof LinkType)[keyof typeof LinkType];

/** One captured packet. `data` is a view into the capture bytes. */
export interface CaptureRecord {
  /** Wall-clock time of capture, in ms since the Unix epoch (fractional; 0 when the block has none). */
  readonly tsMs: number;
  /** LINKTYPE_* of the interface the packet was captured on. */
  readonly linkType: number;
  readonly data: Uint8Array;
  /** Length of the packet on the wire (≥ data.length when the capture was truncated by snaplen). */
  readonly origLength: number;
  /** pcapng interface id (0 for classic pcap). */
  readonly interfaceId: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureReadResult {
  /** Undefined when the bytes are neither pcap nor pcapng. */
  readonly format: CaptureFormat | undefined;
  /** Every record read before the end of the data or the first error. */
  readonly records: CaptureRecord[];
  /** Why the read stopped early (unknown format, truncated record, bad block length, limit hit). */
  readonly error: string | undefined;
}

export interface CaptureReadLimits {
  /** Largest record/block accepted, in bytes (default 1 MiB). */
  readonly maxRecordBytes?: number;
  /** Most records returned (default 1,000,000). */
  readonly maxRecords?: number;
  /** Most interfaces per pcapng section (default 1024). */
  readonly maxInterfaces?: number;
}

const DEFAULT_MAX_RECORD = 1 << 20;
const DEFAULT_MAX_RECORDS = 1_000_000;
const DEFAULT_MAX_INTERFACES = 1024;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB_OBSOLETE = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** Result of a streaming read: the generator returns this when it stops. */
export interface CaptureEnd {
  readonly format: CaptureFormat | undefined;
  readonly error: string | undefined;
}

/** Reads a whole capture. Never throws. */
export function readCapture(bytes: Uint8Array, limits: CaptureReadLimits = {}): CaptureReadResult {
  const records: CaptureRecord[] = [];
  const it = iterateCapture(bytes, limits);
  for (;;) {
    const step = it.next();
    if (step.done) return { format: step.value.format, records, error: step.value.error };
    records.push(step.value);
  }
}

/** Detects the format from the first 4 bytes (either byte order). */
export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat | undefined {
  if (bytes.length < 4) return undefined;
  const be = u32(bytes, 0, false);
  const le = u32(bytes, 0, true);
  if (be === PCAPNG_SHB) return 'pcapng'; // palindromic: same in both byte orders
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return 'pcap';
  return undefined;
}

/**
 * Yields records one by one and returns `{ format, error }` when it stops. Never throws.
 */
export function* iterateCapture(bytes: Uint8Array, limits: CaptureReadLimits = {}): Generator<CaptureRecord, CaptureEnd, void> {
  const format = detectCaptureFormat(bytes);
  if (format === undefined) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    return {
      format,
      error: bytes.length < 4 ? `not a capture file: only ${bytes.length} bytes` : `not a pcap or pcapng file: magic 0x${head}`,
    };
  }
  const lim = {
    maxRecordBytes: limits.maxRecordBytes ?? DEFAULT_MAX_RECORD,
    maxRecords: limits.maxRecords ?? DEFAULT_MAX_RECORDS,
    maxInterfaces: limits.maxInterfaces ?? DEFAULT_MAX_INTERFACES,
  };
  const error = format === 'pcap' ? yield* readPcap(bytes, lim) : yield* readPcapng(bytes, lim);
  return { format, error };
}

type Limits = { maxRecordBytes: number; maxRecords: number; maxInterfaces: number };

function u16(b: Uint8Array, at: number, le: boolean): number {
  return le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number, le: boolean): number {
  return le
    ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
    : ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function* readPcap(b: Uint8Array, lim: Limits): Generator<CaptureRecord, string | undefined, void> {
  if (b.length < 24) return `pcap file header truncated: ${b.length} of 24 bytes`;
  const magicLe = u32(b, 0, true);
  const le = magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS;
  const nano = (le ? magicLe : u32(b, 0, false)) === PCAP_MAGIC_NS;
  const major = u16(b, 4, le);
  if (major !== 2) return `pcap major version ${major} (expected 2)`;
  const linkType = u32(b, 20, le) & 0xffff;
  let at = 24;
  let count = 0;
  while (at < b.length) {
    if (b.length - at < 16) return `pcap record ${count + 1} header truncated at offset ${at}`;
    const sec = u32(b, at, le);
    const frac = u32(b, at + 4, le);
    const capLen = u32(b, at + 8, le);
    const origLen = u32(b, at + 12, le);
    if (capLen > lim.maxRecordBytes) return `pcap record ${count + 1} at offset ${at}: captured length ${capLen} exceeds the ${lim.maxRecordBytes}-byte limit`;
    if (b.length - at - 16 < capLen) return `pcap record ${count + 1} at offset ${at}: truncated (${capLen} bytes announced, ${b.length - at - 16} left)`;
    if (count >= lim.maxRecords) return `more than ${lim.maxRecords} records`;
    const tsMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    yield { tsMs, linkType, data: b.subarray(at + 16, at + 16 + capLen), origLength: Math.max(origLen, capLen), interfaceId: 0 };
    count++;
    at += 16 + capLen;
  }
  return undefined;
}

interface PcapngInterface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second. */
  unitsPerSec: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offsetSec: number;
}

function* readPcapng(b: Uint8Array, lim: Limits): Generator<CaptureRecord, string | undefined, void> {
  let at = 0;
  let le = false;
  let ifaces: PcapngInterface[] = [];
  let count = 0;
  let sawShb = false;
  while (at < b.length) {
    if (b.length - at < 12) return `pcapng block at offset ${at} truncated (${b.length - at} bytes left, a block has at least 12)`;
    let type = u32(b, at, le);
    if (u32(b, at, false) === PCAPNG_SHB) {
      // A new section: its byte-order magic decides how to read everything up to the next SHB.
      type = PCAPNG_SHB;
      const bom = u32(b, at + 8, false);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else if (u32(b, at + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else return `pcapng section header at offset ${at}: bad byte-order magic 0x${bom.toString(16)}`;
      ifaces = [];
      sawShb = true;
    } else if (!sawShb) {
      return 'pcapng file does not start with a section header block';
    }
    const len = u32(b, at + 4, le);
    if (len < 12 || len % 4 !== 0) return `pcapng block type ${type} at offset ${at}: bad total length ${len}`;
    if (len > lim.maxRecordBytes + 64) return `pcapng block type ${type} at offset ${at}: length ${len} exceeds the limit`;
    if (len > b.length - at) return `pcapng block type ${type} at offset ${at}: truncated (${len} bytes announced, ${b.length - at} left)`;
    if (u32(b, at + len - 4, le) !== len) return `pcapng block type ${type} at offset ${at}: trailing length does not match ${len}`;
    const body = b.subarray(at + 8, at + len - 4);
    switch (type) {
      case PCAPNG_SHB: {
        if (body.length < 16) return `pcapng section header at offset ${at}: body too short`;
        const major = u16(body, 4, le);
        if (major !== 1) return `pcapng section header at offset ${at}: major version ${major} (expected 1)`;
        break;
      }
      case BLOCK_IDB: {
        if (body.length < 8) return `pcapng interface description at offset ${at}: body too short`;
        if (ifaces.length >= lim.maxInterfaces) return `more than ${lim.maxInterfaces} interfaces in one section`;
        const iface: PcapngInterface = { linkType: u16(body, 0, le), snapLen: u32(body, 4, le), unitsPerSec: 1e6, offsetSec: 0 };
        readIdbOptions(body.subarray(8), le, iface);
        ifaces.push(iface);
        break;
      }
      case BLOCK_EPB:
      case BLOCK_PB_OBSOLETE: {
        if (body.length < 20) return `pcapng packet block at offset ${at}: body too short`;
        const ifId = type === BLOCK_EPB ? u32(body, 0, le) : u16(body, 0, le);
        const iface = ifaces[ifId];
        if (iface === undefined) return `pcapng packet block at offset ${at}: unknown interface ${ifId}`;
        const hi = u32(body, 4, le);
        const lo = u32(body, 8, le);
        const capLen = u32(body, 12, le);
        const origLen = u32(body, 16, le);
        if (capLen > body.length - 20) return `pcapng packet block at offset ${at}: captured length ${capLen} exceeds the block`;
        if (count >= lim.maxRecords) return `more than ${lim.maxRecords} records`;
        const tsMs = ((hi * 4294967296 + lo) / iface.unitsPerSec + iface.offsetSec) * 1000;
        yield { tsMs, linkType: iface.linkType, data: body.subarray(20, 20 + capLen), origLength: Math.max(origLen, capLen), interfaceId: ifId };
        count++;
        break;
      }
      case BLOCK_SPB: {
        if (body.length < 4) return `pcapng simple packet block at offset ${at}: body too short`;
        const iface = ifaces[0];
        if (iface === undefined) return `pcapng simple packet block at offset ${at}: no interface described`;
        const origLen = u32(body, 0, le);
        let capLen = Math.min(origLen, body.length - 4);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        if (count >= lim.maxRecords) return `more than ${lim.maxRecords} records`;
        yield { tsMs: 0, linkType: iface.linkType, data: body.subarray(4, 4 + capLen), origLength: origLen, interfaceId: 0 };
        count++;
        break;
      }
      default:
        break; // name resolution, interface statistics, custom and unknown blocks: skipped
    }
    at += len;
  }
  return undefined;
}

/** Options (code u16, length u16, value padded to 32 bits). Stops quietly at a malformed option. */
function readIdbOptions(opts: Uint8Array, le: boolean, iface: PcapngInterface): void {
  let at = 0;
  while (opts.length - at >= 4) {
    const code = u16(opts, at, le);
    const len = u16(opts, at + 2, le);
    if (code === OPT_ENDOFOPT) return;
    if (len > opts.length - at - 4) return;
    const v = opts.subarray(at + 4, at + 4 + len);
    if (code === OPT_IF_TSRESOL && len >= 1) {
      const r = v[0]!;
      // MSB clear: 10^-r seconds per unit; set: 2^-(r & 0x7f). Beyond ~1e-30 the value is nonsense.
      const exp = r & 0x7f;
      if (r & 0x80) iface.unitsPerSec = exp <= 63 ? 2 ** exp : 1e6;
      else iface.unitsPerSec = exp <= 18 ? 10 ** exp : 1e6;
    } else if (code === OPT_IF_TSOFFSET && len >= 8) {
      const hi = u32(v, le ? 4 : 0, le);
      const lo = u32(v, le ? 0 : 4, le);
      // Signed 64-bit seconds.
      iface.offsetSec = (hi | 0) * 4294967296 + lo;
    }
    at += 4 + ((len + 3) & ~3);
  }
}
