/**
 * One-shot ESP: seal or open a single packet with the SA spelled out (algorithm, KEYMAT with salt,
 * SPI, ESN and its high-order bits, replay window), e.g. to check a captured packet or a vector by
 * hand. Allocates freely (not the hot path); builds a throwaway SA per call.
 *
 * `sealEspPacket` throws on bad parameters (config error). `openEspPacket` throws on bad parameters
 * but never on packet bytes: it returns the `Drop` code.
 */
import type { CryptoProvider, RandomSource } from '../crypto/types.js';
import { Drop, dropName } from './drop.js';
import { OpenResult, openWithSa } from './open.js';
import { createEspSa, type EspAlgorithm, type EspMode } from './sa.js';
import { espSeal, espSealWithIv, espTailroom } from './seal.js';

export interface EspPacketSaParams {
  readonly algorithm: EspAlgorithm;
  /** AEAD: key ‖ 4-byte salt. aes-cbc: the AES key. */
  readonly encKey: Uint8Array;
  readonly integKey?: Uint8Array;
  readonly spi: number;
  readonly provider: CryptoProvider;
  readonly esn?: boolean;
  /** Default 'transport' (no inner-header checks on open). */
  readonly mode?: EspMode;
}

export interface SealEspPacketParams extends EspPacketSaParams {
  /** 64-bit sequence number of this packet (seqHi must be 0 without ESN). */
  readonly seqHi?: number;
  readonly seqLo: number;
  readonly payload: Uint8Array;
  readonly nextHeader: number;
  /** Explicit IV (8 bytes AEAD, 16 bytes CBC). Default: the sequence number (AEAD) / from `rng` (CBC). */
  readonly iv?: Uint8Array;
  readonly rng?: RandomSource;
}

/** Returns the ESP packet SPI ‖ seq_lo ‖ IV ‖ ciphertext ‖ ICV. */
export function sealEspPacket(p: SealEspPacketParams): Uint8Array {
  const seqHi = p.seqHi ?? 0;
  const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!u32(seqHi)) throw new RangeError('seqHi: must be a uint32');
  if (!u32(p.seqLo)) throw new RangeError('seqLo: must be a uint32');
  if (seqHi === 0 && p.seqLo === 0) throw new RangeError('seqLo: sequence number 0 is never sent (RFC 4303 §2.2)');
  if (seqHi !== 0 && p.esn !== true) throw new RangeError('seqHi: must be 0 without ESN');
  const noRng: RandomSource = {
    fill(): Uint8Array {
      throw new Error('rng: aes-cbc needs rng or iv');
    },
  };
  const sa = createEspSa({
    direction: 'out',
    spi: p.spi,
    algorithm: p.algorithm,
    encKey: p.encKey,
    integKey: p.integKey,
    provider: p.provider,
    mode: p.mode ?? 'transport',
    esn: p.esn === true,
    rng: p.rng ?? noRng,
    allowReservedSpi: true,
  });
  // setOutboundSeq takes the *previous* number.
  if (p.seqLo === 0) sa.setOutboundSeq(seqHi - 1, 0xffffffff);
  else sa.setOutboundSeq(seqHi, p.seqLo - 1);
  const head = sa.headerLength;
  const buf = new Uint8Array(head + p.payload.length + espTailroom(sa, p.payload.length));
  buf.set(p.payload, head);
  const end = head + p.payload.length;
  const n = p.iv === undefined ? espSeal(sa, buf, head, end, p.nextHeader) : espSealWithIv(sa, buf, head, end, p.nextHeader, p.iv);
  if (n < 0) throw new Error(`sealEspPacket: ${dropName(-n)}${-n === Drop.buffer && p.iv !== undefined ? ' (iv length?)' : ''}`);
  return buf.subarray(0, n);
}

export interface OpenEspPacketParams extends EspPacketSaParams {
  readonly packet: Uint8Array;
  /** ESN: the high-order 32 bits to use. If absent they are inferred from `replayTop`. */
  readonly seqHi?: number;
  /** Replay window state before this packet: highest sequence number seen (default none). */
  readonly replayTop?: { readonly hi: number; readonly lo: number };
  readonly replayWindow?: number;
}

export interface OpenEspPacketResult {
  readonly drop: Drop;
  readonly dropName: string;
  /** Decrypted payload (a copy), or null when dropped. */
  readonly payload: Uint8Array | null;
  readonly nextHeader: number;
  readonly seqHi: number;
  readonly seqLo: number;
  readonly padLength: number;
}

/** Opens one ESP packet (the input is not modified). */
export function openEspPacket(p: OpenEspPacketParams): OpenEspPacketResult {
  const sa = createEspSa({
    direction: 'in',
    spi: p.spi,
    algorithm: p.algorithm,
    encKey: p.encKey,
    integKey: p.integKey,
    provider: p.provider,
    mode: p.mode ?? 'transport',
    esn: p.esn === true,
    replayWindow: p.replayWindow,
    allowReservedSpi: true,
  });
  if (p.seqHi !== undefined && (!Number.isInteger(p.seqHi) || p.seqHi < 0 || p.seqHi > 0xffffffff)) throw new RangeError('seqHi: must be a uint32');
  if (p.replayTop !== undefined) sa.replay!.reset(p.replayTop.hi, p.replayTop.lo);
  // A copy: espOpen works in place. Not p.packet.slice(): on a Node Buffer (a pcap read from disk) that is a view.
  const pkt = Uint8Array.prototype.slice.call(p.packet);
  const out = new OpenResult();
  const d = openWithSa(sa, pkt, out, sa.esn && p.seqHi !== undefined ? p.seqHi : -1);
  const ok = d === Drop.ok;
  return {
    drop: d,
    dropName: dropName(d),
    payload: ok ? pkt.slice(out.payloadStart, out.payloadEnd) : null,
    nextHeader: ok || d === Drop.dummy ? out.nextHeader : 0,
    seqHi: out.seqHi,
    seqLo: out.seqLo,
    padLength: out.padLength,
  };
}
