/**
 * Syntax check of strongSwan proposal strings (swanctl.conf(5) `proposals`, `esp_proposals`):
 * keywords separated by '-', proposals separated by ','; `default` stands alone. Only the keywords
 * tsipsec implements are known (IANA IKEv2 transform registry names in strongSwan spelling,
 * proposal_keywords_static.txt). The IKE engine turns the strings into transforms; this only makes
 * sure it will not meet a word it does not know, and applies the structural rules strongSwan's
 * proposal.c enforces (IKE needs a key exchange; AEAD and classic ciphers do not mix; …).
 */
import type { Parsed } from './values.js';

export const ProposalKeywordKind = { ENCR: 'encr', AEAD: 'aead', INTEG: 'integ', PRF: 'prf', KE: 'ke', ESN: 'esn' } as const;
export type ProposalKeywordKind = (typeof ProposalKeywordKind)[keyof typeof ProposalKeywordKind];

/** Every keyword tsipsec accepts, with what it selects. */
export const PROPOSAL_KEYWORDS: Readonly<Record<string, ProposalKeywordKind>> = {
  aes128: 'encr',
  aes192: 'encr',
  aes256: 'encr',
  aes128gcm16: 'aead',
  aes192gcm16: 'aead',
  aes256gcm16: 'aead',
  aes128gcm128: 'aead',
  aes192gcm128: 'aead',
  aes256gcm128: 'aead',
  aes128gcm: 'aead',
  aes192gcm: 'aead',
  aes256gcm: 'aead',
  chacha20poly1305: 'aead',
  sha256: 'integ',
  sha384: 'integ',
  sha512: 'integ',
  sha2_256: 'integ',
  sha2_384: 'integ',
  sha2_512: 'integ',
  prfsha256: 'prf',
  prfsha384: 'prf',
  prfsha512: 'prf',
  modp2048: 'ke',
  ecp256: 'ke',
  ecp384: 'ke',
  ecp521: 'ke',
  x25519: 'ke',
  curve25519: 'ke',
  esn: 'esn',
  noesn: 'esn',
};

export type ProposalProtocol = 'ike' | 'esp';

/** Check one proposal (no commas). Returns the lower-cased proposal. */
export function checkProposal(text: string, protocol: ProposalProtocol): Parsed<string> {
  const proposal = text.trim().toLowerCase();
  const bad = (why: string): Parsed<string> => ({ ok: false, error: `bad proposal "${text}": ${why}` });
  if (proposal === 'default') return { ok: true, value: proposal };
  if (proposal === '') return bad('empty proposal');
  const seen: Record<ProposalKeywordKind, number> = { encr: 0, aead: 0, integ: 0, prf: 0, ke: 0, esn: 0 };
  for (const word of proposal.split('-')) {
    if (word === '') return bad('empty keyword (two "-" in a row, or one at an end)');
    if (word === 'default') return bad('"default" must be the whole proposal');
    const kind = PROPOSAL_KEYWORDS[word];
    if (kind === undefined) {
      return bad(`unknown keyword "${word}" (tsipsec knows ${Object.keys(PROPOSAL_KEYWORDS).join(' ')})`);
    }
    seen[kind]++;
  }
  if (seen.aead > 0 && seen.encr > 0) return bad('AEAD and non-AEAD encryption algorithms cannot be mixed in one proposal');
  if (seen.aead === 0 && seen.encr === 0) return bad('no encryption algorithm');
  if (protocol === 'ike') {
    if (seen.esn > 0) return bad('esn/noesn apply to ESP proposals only');
    if (seen.ke === 0) return bad('a key exchange method (e.g. x25519, modp2048) is mandatory in IKE proposals');
    if (seen.encr > 0 && seen.integ === 0) return bad('an integrity algorithm (e.g. sha256) is mandatory in non-AEAD IKE proposals');
    if (seen.aead > 0 && seen.prf === 0 && seen.integ === 0) {
      return bad('a PRF (e.g. prfsha256) is mandatory in AEAD IKE proposals');
    }
  } else {
    if (seen.prf > 0) return bad('PRF keywords apply to IKE proposals only');
    if (seen.encr > 0 && seen.integ === 0) return bad('an integrity algorithm (e.g. sha256) is mandatory with a non-AEAD cipher');
  }
  return { ok: true, value: proposal };
}

/** Check a comma-separated proposal list; returns the proposals or every error found. */
export function checkProposalList(text: string, protocol: ProposalProtocol): { proposals: string[]; errors: string[] } {
  const proposals: string[] = [];
  const errors: string[] = [];
  const items = text.split(',').map((s) => s.trim());
  if (items.every((s) => s === '')) return { proposals, errors: ['no proposal given'] };
  for (const item of items) {
    if (item === '') continue;
    const r = checkProposal(item, protocol);
    if (r.ok) proposals.push(r.value);
    else errors.push(r.error);
  }
  return { proposals, errors };
}
