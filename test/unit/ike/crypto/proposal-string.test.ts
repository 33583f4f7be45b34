/**
 * strongSwan-style proposal strings: every keyword, implied PRFs, ESP defaults, lists, `default`,
 * wire encoding, and errors that name the offending keyword.
 */
import { describe, expect, it } from 'vitest';
import { parseProposal, parseProposals, toWireProposals } from '../../../../src/ike/proposal-string.js';

// IANA numbers written out independently of src/crypto/algorithms.ts
const CBC = 12, GCM16 = 20, CHACHA = 28;
const I256 = 12, I384 = 13, I512 = 14;
const P256 = 5, P384 = 6, P512 = 7;

describe('parseProposal (IKE)', () => {
  it('aes256gcm16-prfsha256-x25519', () => {
    expect(parseProposal('aes256gcm16-prfsha256-x25519', 'ike')).toEqual({
      protocol: 'ike', encr: [{ id: GCM16, keyLength: 256 }], integ: [], prf: [P256], dh: [31], esn: [],
    });
  });
  it('aes128-sha256-modp2048 implies prfsha256', () => {
    expect(parseProposal('aes128-sha256-modp2048', 'ike')).toEqual({
      protocol: 'ike', encr: [{ id: CBC, keyLength: 128 }], integ: [I256], prf: [P256], dh: [14], esn: [],
    });
  });
  it('aes256-sha384-ecp384 implies prfsha384', () => {
    const p = parseProposal('aes256-sha384-ecp384', 'ike');
    expect(p.encr).toEqual([{ id: CBC, keyLength: 256 }]);
    expect(p.integ).toEqual([I384]);
    expect(p.prf).toEqual([P384]);
    expect(p.dh).toEqual([20]);
  });
  it('chacha20poly1305-prfsha256-curve25519 (no key length attribute)', () => {
    expect(parseProposal('chacha20poly1305-prfsha256-curve25519', 'ike')).toEqual({
      protocol: 'ike', encr: [{ id: CHACHA }], integ: [], prf: [P256], dh: [31], esn: [],
    });
  });
  it('aes128gcm16-prfsha384-ecp256', () => {
    const p = parseProposal('aes128gcm16-prfsha384-ecp256', 'ike');
    expect(p.encr).toEqual([{ id: GCM16, keyLength: 128 }]);
    expect(p.prf).toEqual([P384]);
    expect(p.dh).toEqual([19]);
  });
  it('an explicit PRF overrides the implied one; several of each type keep their order', () => {
    const p = parseProposal('aes128-aes192-aes256-sha512-sha2_256-prfsha512-ecp521-modp2048-ecp256', 'ike');
    expect(p.encr).toEqual([{ id: CBC, keyLength: 128 }, { id: CBC, keyLength: 192 }, { id: CBC, keyLength: 256 }]);
    expect(p.integ).toEqual([I512, I256]);
    expect(p.prf).toEqual([P512]);
    expect(p.dh).toEqual([21, 14, 19]);
  });
  it('sha2_384 / sha2_512 / prfsha2_256 spellings and case-insensitivity', () => {
    const p = parseProposal('AES-SHA2_384-SHA2_512-prfsha2_256-X25519', 'ike');
    expect(p.encr).toEqual([{ id: CBC, keyLength: 128 }]);
    expect(p.integ).toEqual([I384, I512]);
    expect(p.prf).toEqual([P256]);
  });
  it('aes128gcm128 is AES-GCM with a 16-octet ICV; aes192gcm16 too', () => {
    expect(parseProposal('aes128gcm128-aes192gcm16-prfsha256-ecp256', 'ike').encr).toEqual([
      { id: GCM16, keyLength: 128 },
      { id: GCM16, keyLength: 192 },
    ]);
  });
  it('duplicates collapse', () => {
    expect(parseProposal('aes128-aes128-sha256-sha256-x25519-x25519', 'ike').encr.length).toBe(1);
  });
});

describe('parseProposal (ESP)', () => {
  it('aes256gcm16: no integ, no PFS, noesn by default', () => {
    expect(parseProposal('aes256gcm16', 'esp')).toEqual({
      protocol: 'esp', encr: [{ id: GCM16, keyLength: 256 }], integ: [], prf: [], dh: [], esn: [0],
    });
  });
  it('aes128gcm16-x25519: the DH group is the PFS group', () => {
    expect(parseProposal('aes128gcm16-x25519', 'esp').dh).toEqual([31]);
  });
  it('aes256-sha256: integ only, no PRF', () => {
    const p = parseProposal('aes256-sha256', 'esp');
    expect(p.integ).toEqual([I256]);
    expect(p.prf).toEqual([]);
  });
  it('chacha20poly1305-esn / esn-noesn', () => {
    expect(parseProposal('chacha20poly1305-esn', 'esp').esn).toEqual([1]);
    expect(parseProposal('aes128gcm16-esn-noesn', 'esp').esn).toEqual([1, 0]);
    expect(parseProposal('aes128gcm16-noesn', 'esp').esn).toEqual([0]);
  });
});

describe('errors name the keyword or the problem', () => {
  it.each([
    ['aes256-sha256-modp1024', 'ike', /'modp1024'/],
    ['aes256-sha1-x25519', 'ike', /'sha1'/],
    ['3des-sha256-x25519', 'ike', /'3des'/],
    ['aes256gcm8-prfsha256-x25519', 'ike', /'aes256gcm8'/],
    ['aes256gcm16-prfsha256-x25519-esn', 'ike', /'esn'/],
    ['aes256gcm16-prfsha256', 'esp', /'prfsha256'/],
    ['aes256gcm16-x25519', 'ike', /PRF/],
    ['aes256-sha256', 'ike', /key exchange/],
    ['aes256-x25519', 'ike', /integrity/],
    ['aes256', 'esp', /integrity/],
    ['aes256gcm16-sha256', 'esp', /AEAD/],
    ['aes256gcm16-aes256-sha256', 'esp', /mixes AEAD/],
    ['sha256-x25519', 'ike', /encryption/],
    ['', 'esp', /empty/],
  ] as const)('%s (%s)', (text, proto, re) => {
    expect(() => parseProposal(text, proto)).toThrow(re);
  });
});

describe('parseProposals', () => {
  it('splits swanctl comma lists', () => {
    const ps = parseProposals('aes256gcm16-prfsha256-x25519, aes128-sha256-modp2048', 'ike');
    expect(ps.map((p) => p.encr[0]!.id)).toEqual([GCM16, CBC]);
  });
  it('default expands to a non-AEAD and an AEAD proposal (IKE) / AEAD first (ESP)', () => {
    const ike = parseProposals('default', 'ike');
    expect(ike.length).toBe(2);
    expect(ike[0]!.encr.every((e) => e.id === CBC)).toBe(true);
    expect(ike[0]!.prf).toEqual([P256, P384, P512]);
    expect(ike[1]!.encr.map((e) => e.id)).toContain(CHACHA);
    expect(ike[1]!.dh).toContain(14);
    const esp = parseProposals('aes256gcm16, default', 'esp');
    expect(esp.length).toBe(3);
    expect(esp[1]!.encr[0]!.id).toBe(GCM16);
    expect(esp[2]!.integ).toContain(I256);
  });
  it('an empty element throws', () => {
    expect(() => parseProposals('aes256gcm16,,aes128gcm16', 'esp')).toThrow(/empty/);
  });
  it('errors inside a list still name the keyword', () => {
    expect(() => parseProposals('aes256gcm16, aes256-md5', 'esp')).toThrow(/'md5'/);
  });
});

describe('toWireProposals', () => {
  it('numbers proposals from 1, orders ENCR, PRF, INTEG, KE, and copies the SPI', () => {
    const spi = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const w = toWireProposals(parseProposals('aes128-sha256-modp2048, aes256gcm16-prfsha384-x25519', 'ike'), spi);
    expect(w.map((p) => p.number)).toEqual([1, 2]);
    expect(w[0]!.protocolId).toBe(1);
    expect(w[0]!.transforms).toEqual([
      { type: 1, id: CBC, keyLength: 128 },
      { type: 2, id: P256 },
      { type: 3, id: I256 },
      { type: 4, id: 14 },
    ]);
    expect(w[1]!.transforms).toEqual([
      { type: 1, id: GCM16, keyLength: 256 },
      { type: 2, id: P384 },
      { type: 4, id: 31 },
    ]);
    spi[0] = 99;
    expect(w[0]!.spi[0]).toBe(1);
  });
  it('ESP carries ESN transforms, chacha20 has no key length, skipKe drops PFS groups', () => {
    const spi = Uint8Array.of(0xc0, 0, 0, 1);
    const cps = parseProposals('chacha20poly1305-x25519-esn-noesn', 'esp');
    const w = toWireProposals(cps, spi);
    expect(w[0]!.protocolId).toBe(3);
    expect(w[0]!.transforms).toEqual([
      { type: 1, id: CHACHA },
      { type: 4, id: 31 },
      { type: 5, id: 1 },
      { type: 5, id: 0 },
    ]);
    expect(toWireProposals(cps, spi, { skipKe: true })[0]!.transforms.some((t) => t.type === 4)).toBe(false);
  });
});
