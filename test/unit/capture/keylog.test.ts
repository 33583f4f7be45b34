import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { espEncrName, formatEspLine, formatIkeLine, KeylogWriter, parseEspTable, parseIkeTable, readKeylog } from '../../../src/capture/keylog.js';
import { hex } from '../../vectors/load.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsipsec-keylog-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const seq = (n: number, start: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

const gcmIke = {
  spiI: hex('0123456789abcdef'),
  spiR: hex('fedcba9876543210'),
  skEi: seq(36, 0x00),
  skEr: seq(36, 0x40),
  skAi: new Uint8Array(0),
  skAr: new Uint8Array(0),
  encr: { id: 20, keyLength: 256 },
  integ: 0,
};
const cbcIke = {
  spiI: '1111111111111111',
  spiR: '2222222222222222',
  skEi: seq(16, 0x10),
  skEr: seq(16, 0x20),
  skAi: seq(32, 0x30),
  skAr: seq(32, 0x50),
  encr: { id: 12, keyLength: 128 },
  integ: 12,
};
const gcmEsp = { src: '198.18.10.1', dst: '198.18.10.2', spi: 0x12345678, encr: { id: 20, keyLength: 128 }, encrKey: seq(20, 0xa0), integ: 0, integKey: new Uint8Array(0) };
const cbcEsp = { src: '2001:db8::1', dst: '2001:db8::2', spi: 0xc0ffee, encr: { id: 12, keyLength: 256 }, encrKey: seq(32, 1), integ: 14, integKey: seq(64, 2) };

// Expected rows written out by hand from Wireshark's UAT columns (packet-isakmp.c ikev2_uat_flds,
// packet-ipsec.c esp_uat_flds) and value strings; byte fields unquoted in the IKE table, everything
// quoted in esp_sa (INTEROP.md §8).
const GCM_IKE_LINE =
  '0123456789abcdef,fedcba9876543210,' +
  '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223,' +
  '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263,' +
  '"AES-GCM-256 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"';
const CBC_IKE_LINE =
  '1111111111111111,2222222222222222,101112131415161718191a1b1c1d1e1f,202122232425262728292a2b2c2d2e2f,"AES-CBC-128 [RFC3602]",' +
  '303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f,505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f,' +
  '"HMAC_SHA2_256_128 [RFC4868]"';
const GCM_ESP_LINE = '"IPv4","198.18.10.1","198.18.10.2","0x12345678","AES-GCM with 16 octet ICV [RFC4106]","0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3","NULL",""';

describe('keylog line format', () => {
  it('ikev2_decryption_table rows: unquoted hex, quoted algorithm names', () => {
    expect(formatIkeLine(gcmIke)).toBe(GCM_IKE_LINE);
    expect(formatIkeLine(cbcIke)).toBe(CBC_IKE_LINE);
  });

  it('esp_sa rows: every field quoted, 0x-prefixed keys', () => {
    expect(formatEspLine(gcmEsp)).toBe(GCM_ESP_LINE);
    expect(formatEspLine(cbcEsp)).toBe(
      '"IPv6","2001:db8::1","2001:db8::2","0x00c0ffee","AES-CBC [RFC3602]","0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",' +
        '"HMAC-SHA-512-256 [RFC4868]","0x02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041"',
    );
  });

  it('maps every supported transform to its Wireshark name', () => {
    const ike = (id: number, keyLength: number | undefined, integ = 0) => formatIkeLine({ ...cbcIke, encr: { id, keyLength }, integ }).split(',');
    expect(ike(20, 128)[4]).toBe('"AES-GCM-128 with 16 octet ICV [RFC5282]"');
    expect(ike(20, 192)[4]).toBe('"AES-GCM-192 with 16 octet ICV [RFC5282]"');
    expect(ike(12, 256, 13)[4]).toBe('"AES-CBC-256 [RFC3602]"');
    expect(ike(12, 256, 13)[7]).toBe('"HMAC_SHA2_384_192 [RFC4868]"');
    expect(ike(12, 192, 14)[7]).toBe('"HMAC_SHA2_512_256 [RFC4868]"');
    expect(espEncrName({ id: 28 })).toBe('ChaCha20 with Poly1305 [RFC7634]');
    expect(formatEspLine({ ...cbcEsp, integ: 12 })).toContain('"HMAC-SHA-256-128 [RFC4868]"');
    expect(formatEspLine({ ...cbcEsp, integ: 13 })).toContain('"HMAC-SHA-384-192 [RFC4868]"');
  });

  it('ChaCha20-Poly1305 IKE SAs (no Wireshark name) become a #tsipsec comment row', () => {
    expect(formatIkeLine({ ...gcmIke, encr: { id: 28 } })).toMatch(/^#tsipsec 0123456789abcdef,fedcba9876543210,.*,"ChaCha20-Poly1305 \[RFC7634\]",,,"NONE \[RFC4306\]"$/);
  });

  it('config errors throw naming the field', () => {
    expect(() => formatIkeLine({ ...gcmIke, spiI: hex('0102') })).toThrow(/spiI/);
    expect(() => formatIkeLine({ ...gcmIke, encr: { id: 3, keyLength: 192 } })).toThrow(/encr id 3/);
    expect(() => formatEspLine({ ...gcmEsp, spi: 2 ** 32 })).toThrow(/spi/);
    expect(() => formatEspLine({ ...gcmEsp, integ: 2 })).toThrow(/integ id 2/);
  });
});

describe('KeylogWriter and readKeylog', () => {
  it('writes both files with mode 0600 and reads back every key', () => {
    const dir = tmp();
    const w = new KeylogWriter(dir);
    w.addIkeSa(gcmIke);
    w.addIkeSa(cbcIke);
    w.addIkeSa({ ...gcmIke, spiI: '0a0b0c0d0e0f0102', encr: { id: 28 } });
    w.addEspSa(gcmEsp);
    w.addEspSa(cbcEsp);
    for (const f of ['ikev2_decryption_table', 'esp_sa']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const ikeText = readFileSync(join(dir, 'ikev2_decryption_table'), 'utf8');
    expect(ikeText.split('\n')).toContain(GCM_IKE_LINE);
    expect(ikeText.split('\n')).toContain(CBC_IKE_LINE);
    expect(readFileSync(join(dir, 'esp_sa'), 'utf8').split('\n')).toContain(GCM_ESP_LINE);

    const k = readKeylog(dir);
    expect(k.errors).toEqual([]);
    expect(k.ike.length).toBe(3);
    const g = k.ike.find((e) => e.spiI === '0123456789abcdef')!;
    expect([g.spiR, Buffer.from(g.skEi).equals(Buffer.from(gcmIke.skEi)), g.encr, g.integ, g.skAi.length]).toEqual(['fedcba9876543210', true, { id: 20, keyLength: 256 }, 0, 0]);
    const c = k.ike.find((e) => e.spiI === '1111111111111111')!;
    expect([Buffer.from(c.skAr).equals(Buffer.from(cbcIke.skAr)), c.encr, c.integ]).toEqual([true, { id: 12, keyLength: 128 }, 12]);
    expect(k.ike.find((e) => e.spiI === '0a0b0c0d0e0f0102')!.encr).toEqual({ id: 28, keyLength: undefined });
    const e1 = k.esp.find((e) => e.spi === 0x12345678)!;
    expect([e1.protocol, e1.src, e1.dst, e1.encr, e1.integ, Buffer.from(e1.encrKey).equals(Buffer.from(gcmEsp.encrKey)), e1.integKey.length]).toEqual([
      'IPv4',
      '198.18.10.1',
      '198.18.10.2',
      { id: 20, keyLength: 128 },
      0,
      true,
      0,
    ]);
    const e2 = k.esp.find((e) => e.spi === 0xc0ffee)!;
    expect([e2.protocol, e2.encr, e2.integ, Buffer.from(e2.integKey).equals(Buffer.from(cbcEsp.integKey))]).toEqual(['IPv6', { id: 12, keyLength: 256 }, 14, true]);
  });

  it('keeps old entries, replaces a re-added SA, and keeps rows from a previous run', () => {
    const dir = tmp();
    new KeylogWriter(dir).addEspSa(gcmEsp);
    const w2 = new KeylogWriter(dir); // a second run in the same directory
    w2.addEspSa(cbcEsp);
    w2.addEspSa({ ...gcmEsp, encrKey: seq(20, 0) }); // same dst + SPI → replaces
    const k = readKeylog(dir);
    expect(k.esp.map((e) => e.spi).sort()).toEqual([0xc0ffee, 0x12345678]);
    expect(k.esp.find((e) => e.spi === 0x12345678)!.encrKey[0]).toBe(0);
  });

  it('reports a missing directory or unusable rows without throwing', () => {
    expect(readKeylog(join(tmp(), 'nope')).errors[0]).toMatch(/neither/);
    const dir = tmp();
    writeFileSync(join(dir, 'esp_sa'), '"IPv4","a","b","0xzz","NULL","",""\ngarbage"\n');
    const k = readKeylog(dir);
    expect(k.esp).toEqual([]);
    expect(k.errors.length).toBe(2);
  });
});

describe('parsing Wireshark\'s own key tables', () => {
  // Rows from Wireshark's test/config/ikev2_decryption_table.tmpl and esp_sa.tmpl (vendored in test/vectors/data).
  const text = readFileSync(join(import.meta.dirname, '../../vectors/data/wireshark-ikev2-esp-decryption-keys.txt'), 'utf8');
  const section = (name: string): string => text.split(`[${name}]`)[1]!.split('\n[')[0]!.replace(/^#.*$/gm, '');

  it('reads the AES-CBC-256/HMAC_SHA2_256_128 and AES-GCM-256-16 rows and reports the unsupported ones', () => {
    const r = parseIkeTable(section('ikev2_decryption_table'));
    expect(r.entries.map((e) => [e.spiI, e.encr.id, e.encr.keyLength, e.integ])).toEqual([
      ['191ccd371a7a1f7b', 12, 256, 12],
      ['0158b8fb90b7623d', 20, 256, 0],
    ]);
    expect(r.entries[1]!.skEi.length).toBe(36);
    expect(r.errors.length).toBe(7); // NULL, 3DES, CCM x2, CTR x2, GCM-8
  });

  it('esp_sa rows with HMAC-SHA-1-96 are reported as unsupported', () => {
    const r = parseEspTable(section('esp_sa'));
    expect(r.entries).toEqual([]);
    expect(r.errors.every((e) => /HMAC-SHA-1-96/.test(e))).toBe(true);
    expect(r.errors.length).toBe(2);
  });
});
