/**
 * ESP outbound processing (RFC 4303 §3.3) in place in a caller-owned buffer.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
 *   |               Security Parameters Index (SPI)                 |   ^ start - headerLength
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   |
 *   |                      Sequence Number (low 32 bits)            |   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   |
 *   |                IV (8: AEAD = 64-bit seq; 16: CBC, random)     |   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ <-| start (payload was here)
 *   |                    Payload Data (encrypted)                   |   |
 *   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ <-| end
 *   |               |     Padding 1, 2, 3, … (0-255 bytes)          |   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   |
 *   |                               |  Pad Length   | Next Header   |   v
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
 *   |         Integrity Check Value (16, or 16/24/32 for HMAC)      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * AES-GCM (RFC 4106 §3-5) and ChaCha20-Poly1305 (RFC 7634 §2-3): IV = the 64-bit sequence number
 * (unique per key, never repeats since the counter never cycles), nonce = salt ‖ IV, AAD = SPI ‖ seq_lo
 * or, with ESN, SPI ‖ seq_hi ‖ seq_lo; the ciphertext is padded to 4 bytes.
 * AES-CBC + HMAC (RFC 3602, RFC 4868): random IV, padded to 16 bytes, ICV = HMAC over
 * SPI ‖ seq_lo ‖ IV ‖ ciphertext (‖ seq_hi with ESN, RFC 4303 §2.2.1) truncated.
 *
 * Returns the packet length (the packet starts at `start - sa.headerLength`) or a negated `Drop`.
 * No throws, closures or BigInt; the only allocations are `subarray` views passed to the provider,
 * and none when the caller reuses the same buffer and bounds (one-entry view cache on the SA).
 */
import { Drop } from './drop.js';
import { accountPacket, type EspSa, EspSaEvent, ESP_SA_HARD_EVENTS, ESP_SEQ_SOFT_REMAINING } from './sa.js';

/** Bytes of tailroom `espSeal` needs after a payload of `payloadLength`: padding + 2 + ICV. */
export function espTailroom(sa: EspSa, payloadLength: number): number {
  const a = sa.padAlign;
  const pad = (a - ((payloadLength + 2) % a)) % a;
  return pad + 2 + sa.icvLength;
}

/**
 * Seals the payload at `buf[start, end)` with `nextHeader` (4 = IPv4 / 41 = IPv6 in tunnel mode, the
 * transport protocol in transport mode, 59 for a dummy packet). Needs `sa.headerLength` bytes of
 * headroom and `espTailroom(sa, end - start)` bytes of tailroom inside `buf`.
 * Returns the ESP packet length (packet = `buf[start - sa.headerLength, … + length)`) or `-Drop`.
 */
export function espSeal(sa: EspSa, buf: Uint8Array, start: number, end: number, nextHeader: number): number {
  return sealWith(sa, buf, start, end, nextHeader, null);
}

/**
 * `espSeal` with an explicit 8-byte (AEAD) or 16-byte (CBC) IV instead of the sequence number /
 * random IV. For known-answer tests and checking packets by hand only: reusing an AEAD IV under one
 * key destroys confidentiality and integrity (RFC 4106 §3.1). Not exported from the package index.
 */
export function espSealWithIv(sa: EspSa, buf: Uint8Array, start: number, end: number, nextHeader: number, iv: Uint8Array): number {
  if (iv.length !== sa.ivLength) return -Drop.buffer;
  return sealWith(sa, buf, start, end, nextHeader, iv);
}

function fail(sa: EspSa, code: number): number {
  sa.drops[code]!++;
  return -code;
}

function sealWith(sa: EspSa, buf: Uint8Array, start: number, end: number, nextHeader: number, iv: Uint8Array | null): number {
  if (!sa.outbound) return fail(sa, Drop.direction);
  if ((sa.flags & ESP_SA_HARD_EVENTS) !== 0) {
    return fail(sa, (sa.flags & EspSaEvent.seqHard) !== 0 ? Drop.seqExhausted : Drop.lifetimeExpired);
  }
  const hdr = sa.headerLength;
  const payloadLength = end - start;
  const align = sa.padAlign;
  const pad = (align - ((payloadLength + 2) % align)) % align;
  const ctEnd = end + pad + 2;
  const pktStart = start - hdr;
  const icvLen = sa.icvLength;
  if (!(pktStart >= 0 && payloadLength >= 0 && ctEnd + icvLen <= buf.length)) return fail(sa, Drop.buffer);

  // RFC 4303 §3.3.3: the counter never cycles; with ESN the 64-bit counter.
  let hi = sa.seqHi;
  let lo = sa.seqLo;
  if (lo === 0xffffffff) {
    if (!sa.esn || hi === 0xffffffff) {
      sa.raise(EspSaEvent.seqHard | EspSaEvent.seqSoft);
      return fail(sa, Drop.seqExhausted);
    }
    hi = hi + 1;
    lo = 0;
  } else {
    lo = lo + 1;
  }
  sa.seqHi = hi;
  sa.seqLo = lo;
  if (lo >= 0xffffffff - ESP_SEQ_SOFT_REMAINING && (!sa.esn || hi === 0xffffffff)) sa.raise(EspSaEvent.seqSoft);

  // Header: SPI ‖ seq_lo.
  const spi = sa.spi;
  buf[pktStart] = spi >>> 24;
  buf[pktStart + 1] = (spi >>> 16) & 0xff;
  buf[pktStart + 2] = (spi >>> 8) & 0xff;
  buf[pktStart + 3] = spi & 0xff;
  buf[pktStart + 4] = lo >>> 24;
  buf[pktStart + 5] = (lo >>> 16) & 0xff;
  buf[pktStart + 6] = (lo >>> 8) & 0xff;
  buf[pktStart + 7] = lo & 0xff;

  // Trailer (RFC 4303 §2.4): padding bytes 1, 2, 3, …, Pad Length, Next Header.
  for (let i = 0; i < pad; i++) buf[end + i] = i + 1;
  buf[end + pad] = pad;
  buf[end + pad + 1] = nextHeader & 0xff;

  const ivOff = pktStart + 8;
  // Provider views: reuse the previous packet's when buffer and bounds are the same (see EspSa.viewBuf).
  if (buf !== sa.viewBuf || start !== sa.viewStart || ctEnd !== sa.viewEnd) {
    sa.viewBuf = buf;
    sa.viewStart = start;
    sa.viewEnd = ctEnd;
    sa.viewCt = buf.subarray(start, ctEnd);
    sa.viewIcv = buf.subarray(ctEnd, ctEnd + icvLen);
    if (sa.aead === null) {
      sa.viewIv = buf.subarray(ivOff, start);
      sa.viewMacIn = buf.subarray(pktStart, ctEnd);
    }
  }
  const ct = sa.viewCt;
  if (sa.aead !== null) {
    const nonce = sa.nonce;
    if (iv === null) {
      // IV = 64-bit sequence number, big-endian, in the packet and in nonce[4..12).
      nonce[4] = buf[ivOff] = hi >>> 24;
      nonce[5] = buf[ivOff + 1] = (hi >>> 16) & 0xff;
      nonce[6] = buf[ivOff + 2] = (hi >>> 8) & 0xff;
      nonce[7] = buf[ivOff + 3] = hi & 0xff;
      nonce[8] = buf[ivOff + 4] = lo >>> 24;
      nonce[9] = buf[ivOff + 5] = (lo >>> 16) & 0xff;
      nonce[10] = buf[ivOff + 6] = (lo >>> 8) & 0xff;
      nonce[11] = buf[ivOff + 7] = lo & 0xff;
    } else {
      for (let i = 0; i < 8; i++) nonce[4 + i] = buf[ivOff + i] = iv[i]!;
    }
    writeAad(sa, hi, lo);
    sa.aead.seal(nonce, sa.aadView, ct, ct, sa.viewIcv);
  } else {
    const ivLen = sa.ivLength;
    if (iv === null) {
      let pos = sa.ivPoolPos;
      const pool = sa.ivPool;
      if (pos + ivLen > pool.length) {
        sa.rng!.fill(pool);
        pos = 0;
      }
      for (let i = 0; i < ivLen; i++) buf[ivOff + i] = pool[pos + i]!;
      sa.ivPoolPos = pos + ivLen;
    } else {
      for (let i = 0; i < ivLen; i++) buf[ivOff + i] = iv[i]!;
    }
    sa.cbc!.encrypt(sa.viewIv, ct, ct);
    const parts = sa.macParts;
    parts[0] = sa.viewMacIn;
    if (sa.esn) writeSeqHi(sa, hi);
    sa.mac!.compute(parts, sa.viewIcv);
  }
  accountPacket(sa, payloadLength);
  return ctEnd + icvLen - pktStart;
}

/** AAD = SPI ‖ seq_lo (8) or SPI ‖ seq_hi ‖ seq_lo (12, ESN) — SPI is preset in `sa.aad`. */
export function writeAad(sa: EspSa, hi: number, lo: number): void {
  const a = sa.aad;
  let o = 4;
  if (sa.esn) {
    a[4] = hi >>> 24;
    a[5] = (hi >>> 16) & 0xff;
    a[6] = (hi >>> 8) & 0xff;
    a[7] = hi & 0xff;
    o = 8;
  }
  a[o] = lo >>> 24;
  a[o + 1] = (lo >>> 16) & 0xff;
  a[o + 2] = (lo >>> 8) & 0xff;
  a[o + 3] = lo & 0xff;
}

export function writeSeqHi(sa: EspSa, hi: number): void {
  const b = sa.seqHiBytes;
  b[0] = hi >>> 24;
  b[1] = (hi >>> 16) & 0xff;
  b[2] = (hi >>> 8) & 0xff;
  b[3] = hi & 0xff;
}
