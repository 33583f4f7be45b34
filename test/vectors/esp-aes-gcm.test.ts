/**
 * draft-mcgrew-gcm-test-01 §4: seven complete ESP packets with AES-GCM-16 (RFC 4106), incl. ESN
 * (cases 1, 5, 6), through espSeal (explicit IV hook: the vectors' IVs are not the sequence number),
 * espOpen and the one-shot API, on both providers. RFC 7634 Appendix A (ChaCha20-Poly1305 ESP) likewise.
 */
import { describe, expect, it } from 'vitest';
import { Drop } from '../../src/esp/drop.js';
import { espOpen, OpenResult } from '../../src/esp/open.js';
import { openEspPacket, sealEspPacket } from '../../src/esp/packet.js';
import { createEspSa, type EspAlgorithm } from '../../src/esp/sa.js';
import { Sad } from '../../src/esp/sad.js';
import { espSealWithIv } from '../../src/esp/seal.js';
import { PROVIDERS } from '../unit/esp/helpers.js';
import { hex, loadVectors, toHex } from './load.js';

interface Case {
  name: string;
  alg: EspAlgorithm;
  encKey: Uint8Array; // key ‖ salt
  spi: number;
  esn: boolean;
  seqHi: number;
  seqLo: number;
  iv: Uint8Array;
  payload: Uint8Array;
  padLength: number;
  nextHeader: number;
  packet: Uint8Array;
  mode: 'tunnel' | 'transport';
}

function gcmCases(): Case[] {
  const out: Case[] = [];
  for (const [name, v] of loadVectors('esp-aes-gcm-draft-mcgrew-gcm-test-01.txt')) {
    const key = hex(v.key!);
    const nonce = hex(v.nonce!);
    const seq = hex(v.seq!);
    const esn = seq.length === 8;
    const pt = hex(v.plaintext!);
    const padLength = pt[pt.length - 2]!;
    const sv = new DataView(seq.buffer);
    const encKey = new Uint8Array(key.length + 4);
    encKey.set(key);
    encKey.set(nonce.subarray(0, 4), key.length);
    out.push({
      name,
      alg: { encr: 'aes-gcm-16', keyBits: key.length * 8 },
      encKey,
      spi: new DataView(hex(v.spi!).buffer).getUint32(0),
      esn,
      seqHi: esn ? sv.getUint32(0) : 0,
      seqLo: esn ? sv.getUint32(4) : sv.getUint32(0),
      iv: nonce.subarray(4),
      payload: pt.subarray(0, pt.length - 2 - padLength),
      padLength,
      nextHeader: pt[pt.length - 1]!,
      packet: hex(v.packet!),
      // The vectors carry Next Header 1 with an IPv4 packet inside: treat as transport (no inner check).
      mode: 'transport',
    });
  }
  return out;
}

function chachaCase(): Case {
  const v = loadVectors('chacha20poly1305-rfc7634.txt').get('rfc7634-appendix-a-esp')!;
  const pt = hex(v.plaintext!);
  const padLength = pt[pt.length - 2]!;
  const encKey = new Uint8Array(36);
  encKey.set(hex(v.key!));
  encKey.set(hex(v.salt!), 32);
  return {
    name: 'rfc7634-appendix-a-esp',
    alg: { encr: 'chacha20-poly1305' },
    encKey,
    spi: 0x01020304,
    esn: false,
    seqHi: 0,
    seqLo: 5,
    iv: hex(v.iv!),
    payload: pt.subarray(0, pt.length - 2 - padLength),
    padLength,
    nextHeader: pt[pt.length - 1]!,
    packet: hex(v.packet!),
    mode: 'tunnel', // Next Header 4, inner IPv4 ICMP echo: exercises the inner-header check too
  };
}

const CASES = [...gcmCases(), chachaCase()];

describe('ESP known-answer packets', () => {
  it('loads all 7 draft-mcgrew cases and the RFC 7634 packet', () => {
    expect(CASES.length).toBe(8);
    expect(CASES.filter((c) => c.esn).map((c) => c.name)).toEqual(['case-1-aes128-esn', 'case-5-aes128-esn', 'case-6-aes128-esn-short']);
  });

  for (const provider of PROVIDERS) {
    for (const c of CASES) {
      describe(`${c.name} [${provider.name}]`, () => {
        it('espSeal (explicit IV) reproduces the packet byte for byte', () => {
          const sa = createEspSa({ direction: 'out', spi: c.spi, algorithm: c.alg, encKey: c.encKey, provider, mode: c.mode, esn: c.esn, allowReservedSpi: true });
          if (c.seqLo === 0) sa.setOutboundSeq(c.seqHi - 1, 0xffffffff);
          else sa.setOutboundSeq(c.seqHi, c.seqLo - 1);
          const head = sa.headerLength;
          const buf = new Uint8Array(head + c.payload.length + 64);
          buf.set(c.payload, head);
          const n = espSealWithIv(sa, buf, head, head + c.payload.length, c.nextHeader, c.iv);
          expect(n).toBe(c.packet.length);
          expect(toHex(buf.subarray(0, n))).toBe(toHex(c.packet));
          expect([sa.seqHi, sa.seqLo]).toEqual([c.seqHi, c.seqLo]);
        });

        it('espOpen through the SAD recovers payload, next header and the 64-bit sequence number', () => {
          const sa = createEspSa({ direction: 'in', spi: c.spi, algorithm: c.alg, encKey: c.encKey, provider, mode: c.mode, esn: c.esn, allowReservedSpi: true });
          // ESN: put the window just below the vector's number so the high half is inferred (App. A.2.2).
          if (c.esn) {
            if (c.seqLo >= 16) sa.replay!.reset(c.seqHi, c.seqLo - 16);
            else sa.replay!.reset(c.seqHi - 1, 0xfffffff0);
          }
          const sad = new Sad();
          sad.add(sa);
          const pkt = c.packet.slice();
          const out = new OpenResult();
          expect(espOpen(sad, pkt, out)).toBe(Drop.ok);
          expect(out.sa).toBe(sa);
          expect(toHex(pkt.subarray(out.payloadStart, out.payloadEnd))).toBe(toHex(c.payload));
          expect(out.nextHeader).toBe(c.nextHeader);
          expect(out.padLength).toBe(c.padLength);
          expect([out.seqHi, out.seqLo]).toEqual([c.seqHi, c.seqLo]);
          // Replaying the same packet is refused before decryption.
          expect(espOpen(sad, c.packet.slice(), out)).toBe(Drop.replay);
        });

        it('one-shot API seals and opens the packet', () => {
          const sealed = sealEspPacket({ algorithm: c.alg, encKey: c.encKey, spi: c.spi, provider, esn: c.esn, seqHi: c.seqHi, seqLo: c.seqLo, iv: c.iv, payload: c.payload, nextHeader: c.nextHeader, mode: c.mode });
          expect(toHex(sealed)).toBe(toHex(c.packet));
          const r = openEspPacket({ algorithm: c.alg, encKey: c.encKey, spi: c.spi, provider, esn: c.esn, seqHi: c.esn ? c.seqHi : undefined, packet: c.packet, mode: c.mode });
          expect(r.dropName).toBe('ok');
          expect(toHex(r.payload!)).toBe(toHex(c.payload));
          expect([r.seqHi, r.seqLo]).toEqual([c.seqHi, c.seqLo]);
          if (c.esn) {
            // The wrong high-order bits change the AAD: the ICV fails.
            const bad = openEspPacket({ algorithm: c.alg, encKey: c.encKey, spi: c.spi, provider, esn: true, seqHi: (c.seqHi + 1) >>> 0, packet: c.packet, mode: c.mode });
            expect(bad.drop).toBe(Drop.icv);
          }
        });
      });
    }
  }
});
