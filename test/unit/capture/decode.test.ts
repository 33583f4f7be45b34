import { createCipheriv, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCapture, decodeCaptureFile, type DecodedEsp, type DecodedIke } from '../../../src/capture/decode.js';
import { KeylogWriter, readKeylog, type ParsedKeylog } from '../../../src/capture/keylog.js';
import { buildEthernet, buildIp, buildUdpPacket, writePcap } from '../../../src/capture/pcap-writer.js';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { sealEspPacket } from '../../../src/esp/packet.js';
import { encodeMessage, encodePayloadChain } from '../../../src/ike/message.js';
import type { Payload } from '../../../src/ike/payloads/types.js';
import { hex, loadVectors, toHex } from '../../vectors/load.js';

const deps = { provider: nodeCrypto };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function keylog(fill: (w: KeylogWriter) => void): ParsedKeylog {
  const d = mkdtempSync(join(tmpdir(), 'tsipsec-decode-'));
  dirs.push(d);
  fill(new KeylogWriter(d));
  return readKeylog(d);
}
const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(p));
const A = '198.18.10.1';
const B = '198.18.10.2';

// draft-mcgrew-gcm-test-01 case 2 (AES-128-GCM, SPI 0x0000a5f8, seq 10): a full ESP packet.
const gcm2 = loadVectors('esp-aes-gcm-draft-mcgrew-gcm-test-01.txt').get('case-2-aes128')!;
const gcmPacket = hex(gcm2.packet!);
const gcmPlain = hex(gcm2.plaintext!);
// KEYMAT = key ‖ salt, the salt being the first 4 bytes of the nonce (RFC 4106 §4, §8.1).
const gcmKeymat = cat(hex(gcm2.key!), hex(gcm2.nonce!).subarray(0, 4));
// The vector's plaintext is an IPv4 packet (its Total Length says how long) followed by the ESP trailer.
const innerLength = (gcmPlain[2]! << 8) | gcmPlain[3]!;

describe('ESP', () => {
  const keys = keylog((w) =>
    w.addEspSa({ src: A, dst: B, spi: 0xa5f8, encr: { id: 20, keyLength: 128 }, encrKey: gcmKeymat, integ: 0, integKey: new Uint8Array(0) }),
  );

  it('decrypts the draft-mcgrew case 2 packet carried in UDP 4500 with keys from a keylog directory', () => {
    const cap = writePcap([{ tsMs: 1000, data: buildUdpPacket({ src: A, dst: B, srcPort: 4500, dstPort: 4500, payload: gcmPacket }) }]);
    const [p] = decodeCapture(cap, keys, deps) as [DecodedEsp];
    expect(p.kind).toBe('esp');
    expect([p.index, p.tsMs, p.src, p.dst, p.srcPort, p.dstPort, p.transport]).toEqual([1, 1000, A, B, 4500, 4500, 'udp-4500']);
    expect([p.spi, p.seq, p.ok, p.error]).toEqual(['0x0000a5f8', 10, true, undefined]);
    // Next Header is the last plaintext byte; the vector says 1 even though an IPv4 packet follows,
    // so no inner addresses are claimed (they are only read for Next Header 4 / 41).
    expect(p.nextHeader).toBe(gcmPlain[gcmPlain.length - 1]);
    expect(p.nextHeader).toBe(1);
    expect(p.innerHex).toBe(toHex(gcmPlain.subarray(0, innerLength)));
    expect(p.inner).toBeUndefined();
  });

  it('raw ESP (IP protocol 50) in an Ethernet capture, with a tampered copy and an unknown SPI', () => {
    const tampered = gcmPacket.slice();
    tampered[tampered.length - 1]! ^= 1;
    const other = gcmPacket.slice();
    other[3] = 0x99;
    const frames = [gcmPacket, tampered, other].map((e, i) => ({ tsMs: i, data: buildEthernet(buildIp({ src: A, dst: B, protocol: 50, payload: e })) }));
    const out = decodeCapture(writePcap(frames, { linkType: 1 }), keys, deps) as DecodedEsp[];
    expect(out.map((p) => [p.kind, p.transport, p.ok])).toEqual([
      ['esp', 'ip-50', true],
      ['esp', 'ip-50', false],
      ['esp', 'ip-50', false],
    ]);
    expect(out[1]!.error).toBe('ICV mismatch');
    expect(out[2]!.error).toBe('no keys for ESP SPI 0x0000a599');
  });

  it('addresses must match the esp_sa row unless it says "*"', () => {
    const swapped = writePcap([{ tsMs: 0, data: buildIp({ src: B, dst: A, protocol: 50, payload: gcmPacket }) }]);
    expect((decodeCapture(swapped, keys, deps)[0] as DecodedEsp).error).toMatch(/no keys/);
    const wild = keylog((w) => w.addEspSa({ src: '*', dst: '*', spi: 0xa5f8, encr: { id: 20, keyLength: 128 }, encrKey: gcmKeymat, integ: 0, integKey: new Uint8Array(0) }));
    expect((decodeCapture(swapped, wild, deps)[0] as DecodedEsp).ok).toBe(true);
  });

  it('an ESN packet whose high bits cannot be inferred fails cleanly', () => {
    // case 1 uses ESN with seq_hi 0x87654321: not inferable, so it must fail cleanly, not throw.
    const c1 = loadVectors('esp-aes-gcm-draft-mcgrew-gcm-test-01.txt').get('case-1-aes128-esn')!;
    const k = keylog((w) =>
      w.addEspSa({ src: '*', dst: '*', spi: 0x4321, encr: { id: 20, keyLength: 128 }, encrKey: cat(hex(c1.key!), hex(c1.nonce!).subarray(0, 4)), integ: 0, integKey: new Uint8Array(0) }),
    );
    const p = decodeCapture(writePcap([{ tsMs: 0, data: buildIp({ src: A, dst: B, protocol: 50, payload: hex(c1.packet!) }) }]), k, deps)[0] as DecodedEsp;
    expect([p.ok, p.error]).toEqual([false, 'sequence number 0 on the wire (an ESN SA whose high bits are unknown)']);
  });

  it('tunnel-mode packets sealed by the ESP core (ChaCha20-Poly1305, AES-CBC + HMAC-SHA2-512-256) over IPv6', () => {
    const innerPkt = buildIp({ src: '198.19.1.1', dst: '198.19.2.1', protocol: 1, payload: hex('0800f7ff00000000') });
    const chachaKey = Uint8Array.from({ length: 36 }, (_, i) => i);
    const cbcKey = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
    const macKey = Uint8Array.from({ length: 64 }, (_, i) => 200 - i);
    const e1 = sealEspPacket({ algorithm: { encr: 'chacha20-poly1305' }, encKey: chachaKey, spi: 0x1001, provider: nodeCrypto, seqLo: 1, payload: innerPkt, nextHeader: 4 });
    const e2 = sealEspPacket({
      algorithm: { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha512-256' },
      encKey: cbcKey,
      integKey: macKey,
      spi: 0x1002,
      provider: nodeCrypto,
      seqLo: 7,
      payload: innerPkt,
      nextHeader: 4,
      iv: new Uint8Array(16).fill(1),
    });
    const k = keylog((w) => {
      w.addEspSa({ src: '2001:db8::1', dst: '2001:db8::2', spi: 0x1001, encr: { id: 28 }, encrKey: chachaKey, integ: 0, integKey: new Uint8Array(0) });
      w.addEspSa({ src: '2001:db8::1', dst: '2001:db8::2', spi: 0x1002, encr: { id: 12, keyLength: 256 }, encrKey: cbcKey, integ: 14, integKey: macKey });
    });
    const cap = writePcap([e1, e2].map((e, i) => ({ tsMs: i, data: buildUdpPacket({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 4500, dstPort: 4500, payload: e }) })));
    const out = decodeCapture(cap, k, deps) as DecodedEsp[];
    for (const p of out) {
      expect([p.ok, p.nextHeader, p.innerHex, p.inner]).toEqual([true, 4, toHex(innerPkt), { src: '198.19.1.1', dst: '198.19.2.1', protocol: 1 }]);
    }
    expect(out.map((p) => p.seq)).toEqual([1, 7]);
  });

  it('an ESN packet decodes after the failed non-ESN attempt (openEspPacket copies a Buffer too)', () => {
    // The non-ESN attempt fails its ICV; an AEAD that decrypts in place before the verdict (the native
    // path) leaves the bytes unspecified, so the ESN attempt must not reuse them.
    const innerPkt = buildIp({ src: '198.19.1.1', dst: '198.19.2.1', protocol: 1, payload: hex('0800f7ff00000000') });
    const key = Uint8Array.from({ length: 36 }, (_, i) => 50 + i);
    const esp = sealEspPacket({ algorithm: { encr: 'aes-gcm-16', keyBits: 256 }, encKey: key, spi: 0x2001, provider: nodeCrypto, esn: true, seqLo: 3, payload: innerPkt, nextHeader: 4 });
    const k = keylog((w) => w.addEspSa({ src: A, dst: B, spi: 0x2001, encr: { id: 20, keyLength: 256 }, encrKey: key, integ: 0, integKey: new Uint8Array(0) }));
    // A Buffer, as readFileSync gives: its slice() is a view, not a copy.
    const cap = Buffer.from(writePcap([{ tsMs: 0, data: buildUdpPacket({ src: A, dst: B, srcPort: 4500, dstPort: 4500, payload: esp }) }]));
    const p = decodeCapture(cap, k, deps)[0] as DecodedEsp;
    expect([p.ok, p.esn, p.innerHex]).toEqual([true, true, toHex(innerPkt)]);
  });

  it('without keys: SPI and sequence number only', () => {
    const p = decodeCapture(writePcap([{ tsMs: 0, data: buildIp({ src: A, dst: B, protocol: 50, payload: gcmPacket }) }]), undefined, deps)[0] as DecodedEsp;
    expect([p.spi, p.seq, p.ok]).toEqual(['0x0000a5f8', 10, false]);
  });
});

// ---------------------------------------------------------------------------------------------
// IKE

const spiI = hex('8a4b5c6d7e8f9012');
const spiR = hex('1122334455667788');

function saInit(): Uint8Array {
  const payloads: Payload[] = [
    { type: 33, critical: false, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 20, keyLength: 256 }, { type: 2, id: 7 }, { type: 4, id: 31 }] }] },
    { type: 34, critical: false, group: 31, data: new Uint8Array(32).fill(7) },
    { type: 40, critical: false, nonce: new Uint8Array(32).fill(9) },
    { type: 41, critical: false, protocolId: 0, spi: new Uint8Array(0), notifyType: 16388, data: new Uint8Array(20) },
  ];
  return encodeMessage({ spiI, spiR: new Uint8Array(8), majorVersion: 2, minorVersion: 0, exchangeType: 34, flags: 0x08, messageId: 0 }, payloads);
}

const authInner: Payload[] = [
  { type: 35, critical: false, idType: 2, data: new TextEncoder().encode('a.ipx.test') },
  { type: 39, critical: false, method: 2, data: new Uint8Array(32).fill(0xaa) },
  { type: 44, critical: false, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: hex('c6130101'), endAddress: hex('c6130101') }] },
];

const skEi = Uint8Array.from({ length: 36 }, (_, i) => i + 1); // AES-256 key ‖ salt
const skEr = Uint8Array.from({ length: 36 }, (_, i) => 0x80 + i);

/** HDR, SK {inner} with AES-256-GCM built independently with node:crypto (RFC 5282 §5). */
function gcmProtected(flags: number, messageId: number, innerType: number, inner: Uint8Array, skE: Uint8Array, skf?: { n: number; total: number }): Uint8Array {
  const iv = hex('0001020304050607');
  const padded = cat(inner, Uint8Array.of(0)); // Pad Length 0
  const skHeaderLen = skf ? 8 : 4;
  const len = 28 + skHeaderLen + 8 + padded.length + 16;
  const hdr = Buffer.alloc(28);
  Buffer.from(spiI).copy(hdr, 0);
  Buffer.from(spiR).copy(hdr, 8);
  hdr[16] = skf ? 53 : 46;
  hdr[17] = 0x20;
  hdr[18] = 35;
  hdr[19] = flags;
  hdr.writeUInt32BE(messageId, 20);
  hdr.writeUInt32BE(len, 24);
  const skh = Buffer.alloc(skHeaderLen);
  skh[0] = innerType;
  skh.writeUInt16BE(skHeaderLen + 8 + padded.length + 16, 2);
  if (skf) {
    skh.writeUInt16BE(skf.n, 4);
    skh.writeUInt16BE(skf.total, 6);
  }
  const aad = Buffer.concat([hdr, skh]);
  const c = createCipheriv('aes-256-gcm', skE.subarray(0, 32), Buffer.concat([skE.subarray(32), iv]));
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(padded), c.final()]);
  return cat(aad, iv, ct, c.getAuthTag());
}

/** HDR, SK {inner} with AES-128-CBC + HMAC-SHA2-256-128 built with node:crypto (RFC 7296 §3.14). */
function cbcProtected(flags: number, inner: Uint8Array, skE: Uint8Array, skA: Uint8Array): Uint8Array {
  const iv = Buffer.alloc(16, 0x5a);
  const padLen = 15 - (inner.length % 16);
  const padded = cat(inner, new Uint8Array(padLen), Uint8Array.of(padLen));
  const c = createCipheriv('aes-128-cbc', skE, iv).setAutoPadding(false);
  const ct = Buffer.concat([c.update(padded), c.final()]);
  const len = 28 + 4 + 16 + ct.length + 16;
  const hdr = Buffer.alloc(28);
  Buffer.from(spiI).copy(hdr, 0);
  Buffer.from(spiR).copy(hdr, 8);
  hdr[16] = 46;
  hdr[17] = 0x20;
  hdr[18] = 37; // INFORMATIONAL
  hdr[19] = flags;
  hdr.writeUInt32BE(2, 20);
  hdr.writeUInt32BE(len, 24);
  const skh = Buffer.from([42, 0, 0, 0]); // first inner payload: D
  skh.writeUInt16BE(4 + 16 + ct.length + 16, 2);
  const signed = Buffer.concat([hdr, skh, iv, ct]);
  const icv = createHmac('sha256', skA).update(signed).digest().subarray(0, 16);
  return cat(signed, icv);
}

const udp = (payload: Uint8Array, fromA = true) => buildUdpPacket({ src: fromA ? A : B, dst: fromA ? B : A, srcPort: 4500, dstPort: 4500, payload: cat(new Uint8Array(4), payload) });

describe('IKE', () => {
  const gcmKeys = keylog((w) => w.addIkeSa({ spiI, spiR, skEi, skEr, skAi: new Uint8Array(0), skAr: new Uint8Array(0), encr: { id: 20, keyLength: 256 }, integ: 0 }));

  it('IKE_SA_INIT encoded with the IKE codec, on UDP 500', () => {
    const pkt = buildUdpPacket({ src: A, dst: B, srcPort: 500, dstPort: 500, payload: saInit() });
    const [p] = decodeCapture(writePcap([{ tsMs: 5, data: pkt }]), undefined, deps) as [DecodedIke];
    expect(p).toMatchObject({
      kind: 'ike',
      transport: 'udp-500',
      exchange: 'IKE_SA_INIT',
      exchangeType: 34,
      messageId: 0,
      response: false,
      initiator: true,
      spiI: '8a4b5c6d7e8f9012',
      spiR: '0000000000000000',
      payloads: ['SA', 'KE', 'No', 'N(NAT_DETECTION_SOURCE_IP)'],
      ids: [],
      decrypted: false,
    });
    expect(p.error).toBeUndefined();
  });

  it('IKE_AUTH: SK (AES-256-GCM) opened with the keylog keys for the sender direction', () => {
    const inner = encodePayloadChain(authInner);
    const req = gcmProtected(0x08, 1, inner.firstType, inner.bytes, skEi);
    const resp = gcmProtected(0x20, 1, inner.firstType, inner.bytes, skEr);
    const cap = writePcap([
      { tsMs: 0, data: udp(req) },
      { tsMs: 1, data: udp(resp, false) },
    ]);
    const [q, r] = decodeCapture(cap, gcmKeys, deps) as DecodedIke[];
    expect(q).toMatchObject({ exchange: 'IKE_AUTH', initiator: true, response: false, decrypted: true, payloads: ['SK', 'IDi', 'AUTH', 'TSi'], ids: ['a.ipx.test'] });
    expect(r).toMatchObject({ initiator: false, response: true, decrypted: true, payloads: ['SK', 'IDi', 'AUTH', 'TSi'] });
    // Keys of the wrong direction (or no keys) → an error, never a throw.
    const wrongDir = gcmProtected(0x08, 1, inner.firstType, inner.bytes, skEr);
    const [w] = decodeCapture(writePcap([{ tsMs: 0, data: udp(wrongDir) }]), gcmKeys, deps) as DecodedIke[];
    expect([w!.decrypted, w!.error, w!.payloads]).toEqual([false, 'SK integrity check failed (wrong SK_ei?)', ['SK']]);
    const [n] = decodeCapture(cap, undefined, deps) as DecodedIke[];
    expect(n!.error).toBe('no keys for IKE SA 8a4b5c6d7e8f9012/1122334455667788');
  });

  it('INFORMATIONAL: SK with AES-128-CBC + HMAC-SHA2-256-128', () => {
    const skE = Uint8Array.from({ length: 16 }, (_, i) => 3 * i);
    const skA = Uint8Array.from({ length: 32 }, (_, i) => 5 * i);
    const keys = keylog((w) => w.addIkeSa({ spiI, spiR, skEi: new Uint8Array(16), skEr: skE, skAi: new Uint8Array(32), skAr: skA, encr: { id: 12, keyLength: 128 }, integ: 12 }));
    const inner = encodePayloadChain([{ type: 42, critical: false, protocolId: 3, spis: [hex('c0ffee01')] }]);
    const [p] = decodeCapture(writePcap([{ tsMs: 0, data: udp(cbcProtected(0x20, inner.bytes, skE, skA), false) }]), keys, deps) as DecodedIke[];
    expect(p).toMatchObject({ exchange: 'INFORMATIONAL', response: true, initiator: false, decrypted: true, payloads: ['SK', 'D(ESP)'] });
  });

  it('SKF (RFC 7383): each fragment opened, inner payloads listed when the last one arrives', () => {
    const inner = encodePayloadChain(authInner);
    const cut = 20;
    const f1 = gcmProtected(0x08, 1, inner.firstType, inner.bytes.subarray(0, cut), skEi, { n: 1, total: 2 });
    const f2 = gcmProtected(0x08, 1, 0, inner.bytes.subarray(cut), skEi, { n: 2, total: 2 });
    const out = decodeCapture(writePcap([{ tsMs: 0, data: udp(f2) }, { tsMs: 1, data: udp(f1) }]), gcmKeys, deps) as DecodedIke[];
    expect(out.map((p) => [p.fragment, p.decrypted, p.payloads])).toEqual([
      [{ number: 2, total: 2 }, true, ['SKF(2/2)']],
      [{ number: 1, total: 2 }, true, ['SKF(1/2)', 'IDi', 'AUTH', 'TSi']],
    ]);
    expect(out[1]!.ids).toEqual(['a.ipx.test']);
  });
});

describe('capture level', () => {
  it('keepalives, non-IPsec traffic and garbage files are reported, not thrown', () => {
    const cap = writePcap([
      { tsMs: 0, data: buildUdpPacket({ src: A, dst: B, srcPort: 4500, dstPort: 4500, payload: Uint8Array.of(0xff) }) },
      { tsMs: 1, data: buildUdpPacket({ src: A, dst: B, srcPort: 53, dstPort: 53, payload: Uint8Array.of(1) }) },
    ]);
    expect(decodeCapture(cap, undefined, deps).map((p) => p.kind)).toEqual(['keepalive', 'other']);
    const bad = decodeCaptureFile(new TextEncoder().encode('not a capture'), undefined, deps);
    expect([bad.format, bad.packets, bad.error]).toEqual([undefined, [], 'not a pcap or pcapng file: magic 0x6e6f7420']);
  });

  it('never throws on arbitrary IKE or ESP payloads (with keys loaded)', () => {
    const keys = keylog((w) => {
      w.addIkeSa({ spiI, spiR, skEi, skEr, skAi: new Uint8Array(0), skAr: new Uint8Array(0), encr: { id: 20, keyLength: 256 }, integ: 0 });
      w.addEspSa({ src: '*', dst: '*', spi: 0xa5f8, encr: { id: 20, keyLength: 128 }, encrKey: gcmKeymat, integ: 0, integKey: new Uint8Array(0) });
    });
    const valid = gcmProtected(0x08, 1, 35, encodePayloadChain(authInner).bytes, skEi);
    fc.assert(
      fc.property(fc.constantFrom(valid, gcmPacket, saInit()), fc.nat(600), fc.integer({ min: 0, max: 255 }), fc.nat(600), fc.boolean(), (base, at, v, cut, marker) => {
        const b = base.slice(0, Math.max(1, Math.min(base.length, cut + 8)));
        if (at < b.length) b[at] = v;
        const payload = marker ? cat(new Uint8Array(4), b) : b;
        const cap = writePcap([{ tsMs: 0, data: buildUdpPacket({ src: A, dst: B, srcPort: 4500, dstPort: marker ? 4500 : 500, payload }) }]);
        const [p] = decodeCapture(cap, keys, deps);
        expect(['ike', 'esp', 'keepalive', 'other']).toContain(p!.kind);
        if (p!.kind === 'other') expect(p!.reason).not.toMatch(/internal decoder error/);
      }),
      { numRuns: 1500 },
    );
  });
});
