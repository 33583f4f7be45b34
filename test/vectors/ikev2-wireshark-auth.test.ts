/**
 * Wireshark's IKEv2 decryption table (test/config/ikev2_decryption_table.tmpl) records real SK_e/SK_a
 * values from strongSwan/libreswan captures. The captures themselves (and so the AUTH payloads the
 * `expected_auth_data` rows refer to) are not in the repo (see the data file's notes), so what is
 * usable here is the KEYMAT LAYOUT those peers produced: for the rows whose algorithms tsipsec
 * implements, our key lengths and the SK codec split (key ‖ salt for AEAD) must fit them exactly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncrId, IntegId, PrfId } from '../../src/crypto/algorithms.js';
import { skKeysFor, type IkeKeys } from '../../src/ike/keys.js';
import { keymatLengths, type NegotiatedAlgorithms } from '../../src/ike/proposals.js';
import { hex, toHex } from './load.js';

interface Row {
  spiI: string;
  skEi: Uint8Array;
  skEr: Uint8Array;
  encr: string;
  skAi: Uint8Array;
  skAr: Uint8Array;
  integ: string;
}

function csvRows(): Row[] {
  const text = readFileSync(join(import.meta.dirname, 'data', 'wireshark-ikev2-esp-decryption-keys.txt'), 'utf8');
  const out: Row[] = [];
  let inTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inTable = line === '[ikev2_decryption_table]';
      continue;
    }
    if (!inTable || line === '' || line.startsWith('#')) continue;
    const cols = [...line.matchAll(/"([^"]*)"|([^,]*)/g)].filter((m) => m.index === 0 || line[m.index - 1] === ',').map((m) => m[1] ?? m[2] ?? '');
    out.push({ spiI: cols[0]!, skEi: hex(cols[2]!), skEr: hex(cols[3]!), encr: cols[4]!, skAi: hex(cols[5]!), skAr: hex(cols[6]!), integ: cols[7]! });
  }
  return out;
}

const ALGS: Record<string, NegotiatedAlgorithms> = {
  // integ/prf as in those captures where they matter for lengths; the PRF does not affect SK_e/SK_a
  'AES-CBC-256 [RFC3602]|HMAC_SHA2_256_128 [RFC4868]': {
    encr: { id: EncrId.AES_CBC, keyLength: 256 },
    integ: IntegId.HMAC_SHA2_256_128,
    prf: PrfId.HMAC_SHA2_256,
  },
  'AES-GCM-256 with 16 octet ICV [RFC5282]|NONE [RFC4306]': { encr: { id: EncrId.AES_GCM_16, keyLength: 256 }, prf: PrfId.HMAC_SHA2_256 },
};

describe('Wireshark ikev2_decryption_table: KEYMAT layout of real peers', () => {
  const all = csvRows();
  const usable = all.filter((r) => ALGS[`${r.encr}|${r.integ}`] !== undefined);

  it('finds the rows tsipsec can use (AES-CBC-256/HMAC-SHA2-256-128 and AES-GCM-16-256)', () => {
    expect(all.length).toBe(9);
    expect(usable.map((r) => r.spiI).sort()).toEqual(['0158b8fb90b7623d', '191ccd371a7a1f7b']);
  });

  for (const r of usable) {
    it(`${r.encr}: SK_e/SK_a lengths and the SK codec split`, () => {
      const algs = ALGS[`${r.encr}|${r.integ}`]!;
      const l = keymatLengths(algs);
      expect(r.skEi.length).toBe(l.encrKeymat);
      expect(r.skEr.length).toBe(l.encrKeymat);
      expect(r.skAi.length).toBe(l.integKey);
      expect(r.skAr.length).toBe(l.integKey);
      const keys: IkeKeys = { skD: new Uint8Array(32), skAi: r.skAi, skAr: r.skAr, skEi: r.skEi, skEr: r.skEr, skPi: new Uint8Array(32), skPr: new Uint8Array(32) };
      const i = skKeysFor(algs, keys, 'i');
      const rr = skKeysFor(algs, keys, 'r');
      if (i.kind === 'aead' && rr.kind === 'aead') {
        expect(i.aead).toBe('aes-gcm-16');
        expect(toHex(i.key)).toBe(toHex(r.skEi.subarray(0, 32)));
        expect(toHex(i.salt)).toBe(toHex(r.skEi.subarray(32)));
        expect(i.salt.length).toBe(4);
        expect(toHex(rr.key)).toBe(toHex(r.skEr.subarray(0, 32)));
      } else if (i.kind === 'cbc' && rr.kind === 'cbc') {
        expect(i.integ).toBe('hmac-sha256-128');
        expect(toHex(i.key)).toBe(toHex(r.skEi));
        expect(toHex(i.integKey)).toBe(toHex(r.skAi));
        expect(toHex(rr.integKey)).toBe(toHex(r.skAr));
      } else {
        throw new Error('direction kinds differ');
      }
    });
  }
});
