/**
 * ESP inbound processing (RFC 4303 §3.4) in place: the decrypted payload overwrites the ciphertext.
 * Packet layout: see seal.ts. Processing order (DESIGN.md §4; strongSwan libipsec, boringtun):
 *
 *   1. length ≥ SPI ‖ seq                                        → Drop.short      (SAD counter)
 *   2. SPI lookup (§3.4.2)                                       → Drop.unknownSpi (SAD counter)
 *      SA hard-expired                                           → Drop.lifetimeExpired
 *      length ≥ header ‖ IV ‖ trailer ‖ ICV; CBC block multiple  → Drop.short / Drop.malformed
 *   3. ESN high bits (App. A.2.2), replay pre-check (§3.4.3)     → Drop.replay
 *   4. ICV verify + decrypt (§3.4.4)                             → Drop.icv
 *   5. replay commit (only authenticated packets move the window)
 *   6. Pad Length ≤ payload, padding = 1, 2, 3, … (§2.4)         → Drop.padding
 *   7. Next Header 59: dummy packet (§2.6), dropped silently     → Drop.dummy
 *   8. tunnel: inner IPv4/IPv6 header matches Next Header 4/41 and fits; TFC padding after the inner
 *      packet (§2.4, §2.7) is cut at the inner total length     → Drop.innerHeader
 *   9. inbound policy: inner src ∈ tsRemote, dst ∈ tsLocal, protocol and ports (RFC 4301 §5.2)
 *                                                                → Drop.policy
 *
 * Never throws on any bytes (a fast-check property drives arbitrary and bit-flipped packets through it).
 */
import { IpPeek, peekIp } from '../wire/ip.js';
import { Drop } from './drop.js';
import { inferSeqHi } from './replay.js';
import { accountPacket, type EspSa } from './sa.js';
import type { Sad } from './sad.js';
import { anySelectorMatches } from './selector.js';
import { writeAad, writeSeqHi } from './seal.js';

/** Reusable caller-owned result of `espOpen` (fields valid when it returns `Drop.ok`). */
export class OpenResult {
  /** The SA the packet was for (set as soon as the SPI is known, also on later drops). */
  sa: EspSa | null = null;
  nextHeader = 0;
  /** Decrypted payload (inner packet in tunnel mode, without TFC padding) is `pkt[payloadStart, payloadEnd)`. */
  payloadStart = 0;
  payloadEnd = 0;
  /** Full 64-bit sequence number (seqHi = 0 without ESN). */
  seqHi = 0;
  seqLo = 0;
  padLength = 0;
}

const peek = new IpPeek();

function drop(sa: EspSa, code: Drop): Drop {
  sa.drops[code]!++;
  return code;
}

/** Opens the ESP packet `pkt` (SPI first) with the SA that `sad` maps its SPI to. See the order above. */
export function espOpen(sad: Sad, pkt: Uint8Array, out: OpenResult): Drop {
  out.sa = null;
  const len = pkt.length;
  if (len < 8) {
    sad.drops[Drop.short]!++;
    return Drop.short;
  }
  const spi = ((pkt[0]! << 24) | (pkt[1]! << 16) | (pkt[2]! << 8) | pkt[3]!) >>> 0;
  const sa = sad.get(spi);
  if (sa === undefined) {
    sad.drops[Drop.unknownSpi]!++;
    return Drop.unknownSpi;
  }
  out.sa = sa;
  return openWithSa(sa, pkt, out, -1);
}

/**
 * Opens `pkt` with `sa` (skipping the SAD lookup, e.g. a single-SA tunnel or a packet checked by hand).
 * `forceSeqHi` ≥ 0 uses that value as the ESN high half instead of inferring it.
 */
export function openWithSa(sa: EspSa, pkt: Uint8Array, out: OpenResult, forceSeqHi: number): Drop {
  out.sa = sa;
  const replay = sa.replay;
  if (replay === null) return drop(sa, Drop.direction);
  if (sa.expired) return drop(sa, Drop.lifetimeExpired);
  const len = pkt.length;
  const ivLen = sa.ivLength;
  const icvLen = sa.icvLength;
  const ctStart = 8 + ivLen;
  const ctEnd = len - icvLen;
  const ctLen = ctEnd - ctStart;
  if (sa.aead !== null) {
    if (ctLen < 2) return drop(sa, Drop.short);
  } else {
    if (ctLen < 16) return drop(sa, Drop.short);
    if ((ctLen & 15) !== 0) return drop(sa, Drop.malformed);
  }
  if (((pkt[0]! << 24) | (pkt[1]! << 16) | (pkt[2]! << 8) | pkt[3]!) >>> 0 !== sa.spi) return drop(sa, Drop.unknownSpi);

  // Sequence number and anti-replay pre-check (RFC 4303 §3.4.3, App. A.2.2).
  const lo = ((pkt[4]! << 24) | (pkt[5]! << 16) | (pkt[6]! << 8) | pkt[7]!) >>> 0;
  let hi = 0;
  if (sa.esn) {
    hi = forceSeqHi >= 0 ? forceSeqHi : inferSeqHi(replay.topHi, replay.topLo, replay.size, lo);
    if (hi < 0) return drop(sa, Drop.replay);
  }
  if (!replay.check(hi, lo)) return drop(sa, Drop.replay);

  // Integrity and decryption (RFC 4303 §3.4.4). Provider views are cached per SA (EspSa.viewBuf).
  if (pkt !== sa.viewBuf || ctEnd !== sa.viewEnd || sa.viewStart !== len) {
    sa.viewBuf = pkt;
    sa.viewStart = len;
    sa.viewEnd = ctEnd;
    sa.viewCt = pkt.subarray(ctStart, ctEnd);
    sa.viewIcv = pkt.subarray(ctEnd, len);
    if (sa.aead === null) {
      sa.viewIv = pkt.subarray(8, ctStart);
      sa.viewMacIn = pkt.subarray(0, ctEnd);
    }
  }
  const ct = sa.viewCt;
  if (sa.aead !== null) {
    const nonce = sa.nonce;
    for (let i = 0; i < 8; i++) nonce[4 + i] = pkt[8 + i]!;
    writeAad(sa, hi, lo);
    if (!sa.aead.open(nonce, sa.aadView, ct, sa.viewIcv, ct)) return drop(sa, Drop.icv);
  } else {
    const parts = sa.macParts;
    parts[0] = sa.viewMacIn;
    if (sa.esn) writeSeqHi(sa, hi);
    if (!sa.mac!.verify(parts, sa.viewIcv)) return drop(sa, Drop.icv);
    if (!sa.cbc!.decrypt(sa.viewIv, ct, ct)) return drop(sa, Drop.malformed);
  }

  // Authenticated: move the window.
  if (!replay.commit(hi, lo)) return drop(sa, Drop.replay);
  sa.seqHi = replay.topHi;
  sa.seqLo = replay.topLo;
  out.seqHi = hi;
  out.seqLo = lo;

  // Trailer (RFC 4303 §2.4): padding must be 1, 2, 3, … Pad Length.
  const padLength = pkt[ctEnd - 2]!;
  const nextHeader = pkt[ctEnd - 1]!;
  const payloadStart = ctStart;
  let payloadEnd = ctEnd - 2 - padLength;
  if (payloadEnd < payloadStart) return drop(sa, Drop.padding);
  for (let i = 0; i < padLength; i++) if (pkt[payloadEnd + i] !== i + 1) return drop(sa, Drop.padding);
  out.nextHeader = nextHeader;
  out.padLength = padLength;

  // Dummy packet (RFC 4303 §2.6): discard silently.
  if (nextHeader === 59) return drop(sa, Drop.dummy);

  if (sa.tunnel) {
    // Inner header sanity: IPv4 for Next Header 4, IPv6 for 41; the IP length tells the real end
    // (anything after it is TFC padding, RFC 4303 §2.7).
    if (nextHeader !== 4 && nextHeader !== 41) return drop(sa, Drop.innerHeader);
    if (!peekIp(pkt, payloadStart, payloadEnd, peek)) return drop(sa, Drop.innerHeader);
    if (peek.version !== (nextHeader === 4 ? 4 : 6)) return drop(sa, Drop.innerHeader);
    payloadEnd = payloadStart + peek.totalLength;
    // Inbound policy check (RFC 4301 §5.2): source in the peer's selectors, destination in ours.
    if (sa.tsRemote.length !== 0 && !anySelectorMatches(sa.tsRemote, pkt, peek.srcOffset, peek.addressLength, peek.protocol, peek.srcPort)) {
      return drop(sa, Drop.policy);
    }
    if (sa.tsLocal.length !== 0 && !anySelectorMatches(sa.tsLocal, pkt, peek.dstOffset, peek.addressLength, peek.protocol, peek.dstPort)) {
      return drop(sa, Drop.policy);
    }
  } else if (sa.tsRemote.length !== 0 || sa.tsLocal.length !== 0) {
    // Transport mode: the addresses are the outer ones (checked by the caller that delivered the
    // datagram); here the protocol and ports of the transport header are checked.
    let srcPort = -1;
    let dstPort = -1;
    const n = nextHeader;
    if ((n === 6 || n === 17 || n === 132 || n === 136) && payloadEnd - payloadStart >= 4) {
      srcPort = (pkt[payloadStart]! << 8) | pkt[payloadStart + 1]!;
      dstPort = (pkt[payloadStart + 2]! << 8) | pkt[payloadStart + 3]!;
    } else if ((n === 1 || n === 58) && payloadEnd - payloadStart >= 2) {
      srcPort = dstPort = (pkt[payloadStart]! << 8) | pkt[payloadStart + 1]!;
    }
    if (sa.tsRemote.length !== 0 && !anySelectorMatches(sa.tsRemote, pkt, 0, 0, n, srcPort)) return drop(sa, Drop.policy);
    if (sa.tsLocal.length !== 0 && !anySelectorMatches(sa.tsLocal, pkt, 0, 0, n, dstPort)) return drop(sa, Drop.policy);
  }

  out.payloadStart = payloadStart;
  out.payloadEnd = payloadEnd;
  accountPacket(sa, payloadEnd - payloadStart);
  return Drop.ok;
}
