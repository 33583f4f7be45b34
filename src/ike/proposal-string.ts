/**
 * strongSwan-style proposal strings (swanctl.conf `proposals` / `esp_proposals`) → config proposals.
 *
 * A string is a comma-separated list of proposals; each proposal is a dash-separated list of
 * algorithm keywords (strongSwan `proposal_keywords_static.txt` spellings), e.g.
 *   IKE: "aes256gcm16-prfsha256-x25519, aes128-sha256-modp2048"
 *   ESP: "aes256gcm16, aes128gcm16-x25519, aes256-sha256-esn"
 * The keyword `default` (alone in its list element) inserts tsipsec's default proposals.
 *
 * Rules, following strongSwan (`proposal.c` check_proposal):
 * - IKE, non-AEAD: an integrity keyword (sha256) also implies the matching PRF (prfsha256) when the
 *   proposal names no PRF explicitly (strongSwan derives PRFs from the integrity algorithms).
 * - IKE, AEAD: a PRF keyword is mandatory; integrity keywords are not allowed.
 * - ESP: a DH group makes the proposal require PFS (KE transform in CREATE_CHILD_SA).
 *   Without esn/noesn the proposal offers no-ESN only (strongSwan's default).
 * - An unknown keyword, or a combination the protocol does not allow, throws an Error naming it.
 *
 * Numbers: IANA IKEv2 Transform IDs (RFC 7296 §3.3.2), via `src/crypto/algorithms.ts`.
 */
import { EncrId, EsnId, IntegId, KeId, PrfId, encrIsAead } from '../crypto/algorithms.js';
import { ProtocolId, TransformType, type Proposal, type Transform } from './payloads/types.js';

/** One proposal as configured: each list is in preference order (most preferred first). */
export interface ConfigProposal {
  readonly protocol: 'ike' | 'esp';
  /** `keyLength` is the Key Length attribute in bits (absent for ChaCha20-Poly1305). */
  readonly encr: readonly { readonly id: number; readonly keyLength?: number }[];
  readonly integ: readonly number[];
  readonly prf: readonly number[];
  /** Key exchange methods; for ESP these are PFS groups (empty = no PFS). */
  readonly dh: readonly number[];
  /** ESN transform ids (EsnId.NO = 0, EsnId.YES = 1); empty for IKE. */
  readonly esn: readonly number[];
}

type Keyword =
  | { readonly t: 'encr'; readonly id: number; readonly keyLength?: number }
  | { readonly t: 'integ'; readonly id: number }
  | { readonly t: 'prf'; readonly id: number }
  | { readonly t: 'dh'; readonly id: number }
  | { readonly t: 'esn'; readonly id: number };

function buildKeywords(): Map<string, Keyword> {
  const m = new Map<string, Keyword>();
  for (const bits of [128, 192, 256]) {
    m.set(`aes${bits}`, { t: 'encr', id: EncrId.AES_CBC, keyLength: bits });
    // strongSwan: aesNNNgcm16 == aesNNNgcm128 (16-octet ICV, RFC 4106 §8.4).
    for (const suffix of ['gcm16', 'gcm128']) m.set(`aes${bits}${suffix}`, { t: 'encr', id: EncrId.AES_GCM_16, keyLength: bits });
  }
  m.set('aes', { t: 'encr', id: EncrId.AES_CBC, keyLength: 128 });
  m.set('chacha20poly1305', { t: 'encr', id: EncrId.CHACHA20_POLY1305 });

  const integ: Array<[string[], number, number]> = [
    [['sha256', 'sha2_256'], IntegId.HMAC_SHA2_256_128, PrfId.HMAC_SHA2_256],
    [['sha384', 'sha2_384'], IntegId.HMAC_SHA2_384_192, PrfId.HMAC_SHA2_384],
    [['sha512', 'sha2_512'], IntegId.HMAC_SHA2_512_256, PrfId.HMAC_SHA2_512],
  ];
  for (const [names, id, prf] of integ) {
    for (const n of names) {
      m.set(n, { t: 'integ', id });
      m.set(`prf${n}`, { t: 'prf', id: prf });
    }
  }
  m.set('modp2048', { t: 'dh', id: KeId.MODP_2048 });
  m.set('ecp256', { t: 'dh', id: KeId.ECP_256 });
  m.set('ecp384', { t: 'dh', id: KeId.ECP_384 });
  m.set('ecp521', { t: 'dh', id: KeId.ECP_521 });
  m.set('x25519', { t: 'dh', id: KeId.CURVE25519 });
  m.set('curve25519', { t: 'dh', id: KeId.CURVE25519 });
  m.set('esn', { t: 'esn', id: EsnId.YES });
  m.set('noesn', { t: 'esn', id: EsnId.NO });
  return m;
}

const KEYWORDS: ReadonlyMap<string, Keyword> = buildKeywords();

/** PRF implied by an integrity algorithm (strongSwan derives IKE PRFs from INTEG when none is given). */
const PRF_FOR_INTEG: ReadonlyMap<number, number> = new Map([
  [IntegId.HMAC_SHA2_256_128, PrfId.HMAC_SHA2_256],
  [IntegId.HMAC_SHA2_384_192, PrfId.HMAC_SHA2_384],
  [IntegId.HMAC_SHA2_512_256, PrfId.HMAC_SHA2_512],
]);

/**
 * tsipsec's `default` proposals (the subset of strongSwan's defaults tsipsec implements).
 * IKE: non-AEAD first, then AEAD (swanctl order). ESP: AEAD first, then AES-CBC/HMAC-SHA2.
 */
export const DEFAULT_PROPOSALS = {
  ike: [
    'aes128-aes192-aes256-sha256-sha384-sha512-x25519-ecp256-ecp384-ecp521-modp2048',
    'aes128gcm16-aes192gcm16-aes256gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-ecp521-modp2048',
  ],
  esp: ['aes128gcm16-aes192gcm16-aes256gcm16-chacha20poly1305', 'aes128-aes192-aes256-sha256-sha384-sha512'],
} as const;

function pushUnique(list: number[], id: number): void {
  if (!list.includes(id)) list.push(id);
}

/** Parses one dash-separated proposal. Throws an Error naming the offending keyword. */
export function parseProposal(text: string, protocol: 'ike' | 'esp'): ConfigProposal {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error(`empty ${protocol} proposal`);
  const encr: { id: number; keyLength?: number }[] = [];
  const integ: number[] = [];
  const prf: number[] = [];
  const dh: number[] = [];
  const esn: number[] = [];
  for (const raw of trimmed.split('-')) {
    const word = raw.trim().toLowerCase();
    const kw = KEYWORDS.get(word);
    if (!kw) throw new Error(`unknown algorithm keyword '${raw.trim()}' in ${protocol} proposal '${trimmed}'`);
    switch (kw.t) {
      case 'encr':
        if (!encr.some((e) => e.id === kw.id && e.keyLength === kw.keyLength)) {
          encr.push(kw.keyLength === undefined ? { id: kw.id } : { id: kw.id, keyLength: kw.keyLength });
        }
        break;
      case 'integ':
        pushUnique(integ, kw.id);
        break;
      case 'prf':
        if (protocol !== 'ike') throw new Error(`PRF keyword '${raw.trim()}' is not valid in an ESP proposal '${trimmed}'`);
        pushUnique(prf, kw.id);
        break;
      case 'dh':
        pushUnique(dh, kw.id);
        break;
      case 'esn':
        if (protocol !== 'esp') throw new Error(`keyword '${raw.trim()}' is only valid in an ESP proposal, not IKE '${trimmed}'`);
        pushUnique(esn, kw.id);
        break;
    }
  }
  if (encr.length === 0) throw new Error(`${protocol} proposal '${trimmed}' names no encryption algorithm`);
  const aead = encr.filter((e) => encrIsAead(e.id));
  if (aead.length !== 0 && aead.length !== encr.length) {
    throw new Error(`${protocol} proposal '${trimmed}' mixes AEAD and non-AEAD encryption algorithms; split it with ','`);
  }
  const isAead = aead.length !== 0;
  if (isAead && integ.length !== 0) {
    throw new Error(`${protocol} proposal '${trimmed}': integrity keyword not allowed with an AEAD cipher`);
  }
  if (!isAead && integ.length === 0) throw new Error(`${protocol} proposal '${trimmed}' names no integrity algorithm`);
  if (protocol === 'ike') {
    if (prf.length === 0) {
      if (isAead) throw new Error(`ike proposal '${trimmed}' with an AEAD cipher needs a PRF keyword (e.g. prfsha256)`);
      for (const i of integ) pushUnique(prf, PRF_FOR_INTEG.get(i)!);
    }
    if (dh.length === 0) throw new Error(`ike proposal '${trimmed}' names no key exchange method (e.g. x25519, modp2048)`);
  } else if (esn.length === 0) {
    esn.push(EsnId.NO);
  }
  return { protocol, encr, integ, prf, dh, esn };
}

/**
 * Parses a swanctl-style proposal list ("a, b", or "default"). Throws an Error naming the keyword
 * for anything unknown.
 */
/**
 * Parsed proposal lists by text, so each establishment does not re-parse its connection's strings
 * (the parse is pure; a bounded cache of results, which callers treat as read-only).
 */
const parsedCache = new Map<string, readonly ConfigProposal[]>();
const PARSED_CACHE_MAX = 256;

export function parseProposals(text: string, protocol: 'ike' | 'esp'): ConfigProposal[] {
  const key = `${protocol}|${text}`;
  const hit = parsedCache.get(key);
  if (hit) return hit as ConfigProposal[];
  const out = parseProposalsUncached(text, protocol);
  if (parsedCache.size >= PARSED_CACHE_MAX) parsedCache.clear();
  parsedCache.set(key, out);
  return out;
}

function parseProposalsUncached(text: string, protocol: 'ike' | 'esp'): ConfigProposal[] {
  const out: ConfigProposal[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    if (p === '') throw new Error(`empty ${protocol} proposal in '${text}'`);
    if (p.toLowerCase() === 'default') {
      for (const d of DEFAULT_PROPOSALS[protocol]) out.push(parseProposal(d, protocol));
    } else {
      out.push(parseProposal(p, protocol));
    }
  }
  return out;
}

/** Options for building wire proposals. */
export interface WireProposalOptions {
  /**
   * Omit KE transforms (RFC 7296 §1.2: the Child SA created in IKE_AUTH has no KE payload, so its
   * SA payload carries no KE transforms; strongSwan strips them the same way).
   */
  readonly skipKe?: boolean;
}

/**
 * Config proposals → wire proposals, numbered from 1 (RFC 7296 §3.3.1), transforms ordered
 * ENCR, PRF, INTEG, KE, ESN. ESP proposals always carry at least one ESN transform (§3.3.3).
 */
export function toWireProposals(cps: readonly ConfigProposal[], spi: Uint8Array, options: WireProposalOptions = {}): Proposal[] {
  return cps.map((cp, i) => {
    const transforms: Transform[] = [];
    for (const e of cp.encr) {
      transforms.push(e.keyLength === undefined ? { type: TransformType.ENCR, id: e.id } : { type: TransformType.ENCR, id: e.id, keyLength: e.keyLength });
    }
    if (cp.protocol === 'ike') for (const id of cp.prf) transforms.push({ type: TransformType.PRF, id });
    for (const id of cp.integ) transforms.push({ type: TransformType.INTEG, id });
    if (!options.skipKe) for (const id of cp.dh) transforms.push({ type: TransformType.KE, id });
    if (cp.protocol === 'esp') {
      const esn = cp.esn.length === 0 ? [EsnId.NO] : cp.esn;
      for (const id of esn) transforms.push({ type: TransformType.ESN, id });
    }
    return {
      number: i + 1,
      protocolId: cp.protocol === 'ike' ? ProtocolId.IKE : ProtocolId.ESP,
      spi: spi.slice(),
      transforms,
    };
  });
}
