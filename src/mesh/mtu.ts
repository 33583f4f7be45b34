/**
 * MTU headroom of a mesh (REFERENCE §5.6; RFC 4303 §2, RFC 4106 §3-4, RFC 7634 §3, RFC 3948 §2.1).
 * Every mesh SA is ESP in UDP 4500, so a packet crossing the link is
 *
 *   transport:  [IP hdr kept] UDP 8 ‖ SPI 4 ‖ Seq 4 ‖ IV ‖ payload ‖ pad ‖ PadLen 1 ‖ NH 1 ‖ ICV
 *   tunnel:     outer IP (20 / 40) ‖ UDP 8 ‖ SPI 4 ‖ Seq 4 ‖ IV ‖ inner IP packet ‖ pad ‖ 2 ‖ ICV
 *
 * With AES-GCM-16 (IV 8, ICV 16, 4-byte alignment) that is 34–37 bytes of ESP plus 8 of UDP (plus the
 * outer header in tunnel mode). The arithmetic is src/esp/mtu.ts's `espInnerMtu`; this file picks the
 * algorithm from the mesh's ESP proposals (the worst case over them) and the mode and family per peer.
 */
import { espInnerMtu, type EspOverheadParams } from '../esp/mtu.js';
import type { EspAlgorithm } from '../esp/sa.js';

/** The ESP algorithm of one strongSwan ESP proposal string ('aes256gcm16', 'aes128-sha256-modp2048'), or undefined. */
export function espAlgorithmOfProposal(proposal: string): EspAlgorithm | undefined {
  const tokens = proposal.toLowerCase().split('-');
  let encr: EspAlgorithm | undefined;
  let integ: EspAlgorithm['integ'];
  for (const t of tokens) {
    const gcm = /^aes(128|192|256)gcm(16|128)?$/.exec(t);
    if (gcm) encr ??= { encr: 'aes-gcm-16', keyBits: Number(gcm[1]) };
    else if (t === 'chacha20poly1305') encr ??= { encr: 'chacha20-poly1305' };
    else if (/^aes(128|192|256)?$/.test(t)) encr ??= { encr: 'aes-cbc', keyBits: Number(t.slice(3) || 128) };
    else if (t === 'sha256' || t === 'sha2_256') integ ??= 'hmac-sha256-128';
    else if (t === 'sha384' || t === 'sha2_384') integ ??= 'hmac-sha384-192';
    else if (t === 'sha512' || t === 'sha2_512') integ ??= 'hmac-sha512-256';
  }
  if (!encr) return undefined;
  if (encr.encr === 'aes-cbc') return integ ? { ...encr, integ } : undefined;
  return encr;
}

export interface MeshMtuLine {
  /** Connection and child it applies to. */
  readonly connection: string;
  readonly child: string;
  readonly mode: 'transport' | 'tunnel';
  readonly family: 4 | 6;
  readonly outerMtu: number;
  /** Largest inner packet that fits (the worst case over the mesh's ESP proposals). */
  readonly innerMtu: number;
  /** outerMtu − innerMtu. */
  readonly headroom: number;
}

/** The inner MTU of one child: the smallest over the ESP proposals tsipsec knows the layout of. */
export function meshInnerMtu(espProposals: readonly string[], mode: 'transport' | 'tunnel', family: 4 | 6, outerMtu: number): number {
  const algs = espProposals.map(espAlgorithmOfProposal).filter((a): a is EspAlgorithm => a !== undefined);
  // 'default' or an unknown layout: assume AES-CBC + HMAC-SHA2-512 (16-byte IV and alignment, 32-byte ICV), the largest tsipsec speaks.
  if (algs.length === 0) algs.push({ encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha512-256' });
  let min = Infinity;
  for (const algorithm of algs) {
    const p: EspOverheadParams = { algorithm, mode, udpEncap: true, outerIp: family };
    min = Math.min(min, espInnerMtu(p, outerMtu));
  }
  return min;
}
