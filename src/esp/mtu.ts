/**
 * ESP overhead and MTU arithmetic (RFC 4303 §2, RFC 4106 §3-4, RFC 7634 §3, RFC 3602 §3, RFC 3948 §2.1).
 *
 * An ESP packet around a payload of L bytes is
 *
 *   [outer IP (tunnel: 20 IPv4 / 40 IPv6)] [UDP 8 (RFC 3948)] SPI 4 ‖ Seq 4 ‖ IV ‖
 *   ciphertext = payload L ‖ padding ‖ Pad Length 1 ‖ Next Header 1   (padded to `align`) ‖ ICV
 *
 * with  IV / ICV / align =  8 / 16 / 4   for AES-GCM-16 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634),
 *                          16 / 16,24,32 / 16  for AES-CBC (RFC 3602) + HMAC-SHA2-256/384/512 (RFC 4868).
 * In tunnel mode L is the whole inner IP packet and a new outer header is added. In transport mode the
 * packet's own IP header (H bytes) stays in front and L is what follows it, so alignment is of L − H.
 *
 * ## Where "46 bytes" comes from (AES-GCM-16, transport mode)
 * The figure used by OVN/OpenShift for IPsec with aes_gcm (openshift/cluster-network-operator PR 928,
 * "ovn-ipsec: Adjust MTU to account for additional ESP overhead") adds up
 *
 *   SPI 4 + Sequence Number 8 + IV 8 + Salt 4 + Pad 4 + Pad Length 1 + Next Header 1 + ICV 16 = 46.
 *
 * On the wire RFC 4106 transport mode adds only 8 (SPI ‖ seq) + 8 (IV) + 0..3 (pad) + 2 + 16 (ICV)
 * = 34..37 bytes: 37 is the exact worst case (`espMaxOverhead`). The other 9 bytes are not sent:
 *   - 4: the high half of an ESN sequence number is never transmitted (RFC 4303 §2.2.1);
 *   - 4: the salt is part of the KEYMAT and only enters the nonce (RFC 4106 §4, §8.1);
 *   - 1: padding to a 4-byte boundary is at most 3 bytes, counted as 4.
 * 46 therefore even covers NAT-T UDP encapsulation (37 + 8 = 45). The Docker-style formula keeps the
 * result 4-byte aligned as the libnetwork overlay driver does (`mtu -= expansion; mtu -= mtu % 4`):
 *
 *   inner MTU = EXTMTU − 46 − ((EXTMTU − 46) mod 4)          (`fixedOverheadInnerMtu`)
 *
 * It is conservative: for EXTMTU 1500 it gives 1452, the exact transport-mode figure is 1466
 * (1458 with UDP encapsulation). `espInnerMtu` computes the exact value.
 */
import { type EspAlgorithm, espAlgorithmInfo, type EspMode } from './sa.js';

/** OVN/OpenShift's per-packet budget for AES-GCM ESP (see the derivation above). */
export const OVN_IPSEC_OVERHEAD = 46;
/** RFC 3948 UDP header. */
export const UDP_ENCAP_LENGTH = 8;

export interface EspOverheadParams {
  readonly algorithm: EspAlgorithm;
  readonly mode: EspMode;
  /** ESP in UDP (RFC 3948): +8 bytes. */
  readonly udpEncap: boolean;
  /** Outer IP version. Tunnel mode adds a 20 (IPv4) or 40 (IPv6) byte header. */
  readonly outerIp: 4 | 6;
  /** Transport mode: the packet's own IP header length that stays in front (default 20 / 40). */
  readonly ipHeaderLength?: number;
}

interface Parts {
  fixed: number; // bytes outside the ciphertext, including any outer/kept IP header
  align: number;
  kept: number; // transport: IP header kept in front (not aligned); tunnel: 0
}

function parts(p: EspOverheadParams): Parts {
  const info = espAlgorithmInfo(p.algorithm);
  if (p.outerIp !== 4 && p.outerIp !== 6) throw new RangeError('outerIp: must be 4 or 6');
  if (p.mode !== 'tunnel' && p.mode !== 'transport') throw new RangeError("mode: must be 'tunnel' or 'transport'");
  const ipHdr = p.outerIp === 4 ? 20 : 40;
  const udp = p.udpEncap ? UDP_ENCAP_LENGTH : 0;
  const esp = 8 + info.ivLength + info.icvLength;
  if (p.mode === 'tunnel') return { fixed: ipHdr + udp + esp, align: info.padAlign, kept: 0 };
  const kept = p.ipHeaderLength ?? ipHdr;
  if (!Number.isInteger(kept) || kept < 20) throw new RangeError('ipHeaderLength: must be an integer ≥ 20');
  return { fixed: kept + udp + esp, align: info.padAlign, kept };
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * Size on the wire of the packet carrying an inner packet of `innerLength` bytes (tunnel: the whole
 * inner IP packet; transport: the IP packet including its header, which is kept).
 */
export function espPacketLength(p: EspOverheadParams, innerLength: number): number {
  const q = parts(p);
  if (!Number.isInteger(innerLength) || innerLength < q.kept) throw new RangeError('innerLength: too small');
  return q.fixed + roundUp(innerLength - q.kept + 2, q.align);
}

/** Bytes ESP adds to an inner packet of `innerLength` bytes (exact, including padding). */
export function espOverhead(p: EspOverheadParams, innerLength: number): number {
  return espPacketLength(p, innerLength) - innerLength;
}

/** Worst-case bytes added (maximum padding, align − 1). */
export function espMaxOverhead(p: EspOverheadParams): number {
  const q = parts(p);
  return q.fixed - q.kept + 2 + (q.align - 1);
}

/** The largest inner packet whose ESP packet fits in `outerMtu` bytes (may be ≤ 0 if nothing fits). */
export function espInnerMtu(p: EspOverheadParams, outerMtu: number): number {
  const q = parts(p);
  if (!Number.isInteger(outerMtu) || outerMtu < 0) throw new RangeError('outerMtu: must be a non-negative integer');
  const ct = Math.floor((outerMtu - q.fixed) / q.align) * q.align;
  return q.kept + ct - 2;
}

/** Docker/OVN-style inner MTU with a fixed overhead, kept 4-byte aligned: m − o − ((m − o) mod 4). */
export function fixedOverheadInnerMtu(externalMtu: number, overhead: number = OVN_IPSEC_OVERHEAD): number {
  const m = externalMtu - overhead;
  return m - (((m % 4) + 4) % 4);
}
