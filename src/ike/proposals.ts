/**
 * SA proposal negotiation (RFC 7296 §2.7, §3.3).
 *
 * Responder: `selectProposal` walks OUR configured proposals in order and, for each, the peer's
 * offered proposals in order, and takes the first pair that has an acceptable transform of every
 * required type; inside a type it prefers our order (strongSwan's default,
 * `charon.prefer_configured_proposals = yes`). The answer carries the peer's proposal number and
 * SPI and exactly one transform per type (§3.3.6: "The responder MUST ... return exactly one
 * transform of each type").
 *
 * Initiator: `acceptChosen` checks the responder's single proposal: one transform per type, every
 * transform present in the proposal we sent under the same number, all mandatory types present.
 *
 * Mandatory types (§3.3.3): IKE: ENCR, PRF, INTEG (omitted or NONE with an AEAD), KE.
 * ESP: ENCR, INTEG (omitted/NONE with an AEAD), ESN (a missing ESN is read as "no ESN"), KE only
 * with PFS. Transform types tsipsec does not know (e.g. RFC 9370 ADDKE) are acceptable only when
 * the offer includes their id 0 (NONE).
 */
import {
  aeadName as aeadNameOf,
  encrInfo,
  encrIsAead,
  encrKeyLength,
  encrKeymatLength,
  EsnId,
  integInfo,
  integKeyLength,
  integName as integNameOf,
  keInfo,
  prfInfo,
  prfKeyLength,
  prfName as prfNameOf,
} from '../crypto/algorithms.js';
import type { AeadName, IntegName, PrfName } from '../crypto/types.js';
import type { ConfigProposal } from './proposal-string.js';
import { ProtocolId, TransformType, type Proposal, type Transform } from './payloads/types.js';

export interface NegotiatedAlgorithms {
  /** `keyLength` in bits (Key Length attribute); absent for ChaCha20-Poly1305. */
  readonly encr: { readonly id: number; readonly keyLength?: number };
  /** Absent for AEAD ciphers. */
  readonly integ?: number;
  /** IKE only. */
  readonly prf?: number;
  /** IKE: the KE method; ESP: the PFS group (absent = no PFS). */
  readonly dh?: number;
  /** ESP only: true when extended sequence numbers were negotiated. */
  readonly esn?: boolean;
}

export interface Selected {
  /** Proposal number from the offer (echoed back in the reply, §3.3.1). */
  readonly number: number;
  /** The SPI the peer put in its proposal (empty in IKE_SA_INIT). */
  readonly spi: Uint8Array;
  readonly algs: NegotiatedAlgorithms;
}

export interface SelectOptions {
  /**
   * Ignore KE transforms on both sides (the Child SA created inside IKE_AUTH, RFC 7296 §1.2, has
   * no KE payload; peers strip KE transforms or we must ignore them).
   */
  readonly skipKe?: boolean;
}

const KNOWN_TYPES: ReadonlySet<number> = new Set([TransformType.ENCR, TransformType.PRF, TransformType.INTEG, TransformType.KE, TransformType.ESN]);

function protocolIdOf(protocol: 'ike' | 'esp'): number {
  return protocol === 'ike' ? ProtocolId.IKE : ProtocolId.ESP;
}

/**
 * Transforms of one type that we could select: a transform carrying an attribute other than Key
 * Length must not be selected (RFC 7296 §3.3.6, "ignore ... transforms with unrecognized attributes").
 */
function ofType(p: Proposal, type: number): Transform[] {
  return p.transforms.filter((t) => t.type === type && !hasOtherAttributes(t));
}

function hasOtherAttributes(t: Transform): boolean {
  return t.otherAttributes !== undefined && t.otherAttributes.length !== 0;
}

function supportedEncr(id: number, keyLength: number | undefined): boolean {
  const info = encrInfo(id);
  if (!info) return false;
  if (info.keyLengthAttribute === 'forbidden') return keyLength === undefined;
  return keyLength !== undefined && info.keyLengthsBits.includes(keyLength);
}

/** Unknown transform types must each offer NONE (0) so that they can be dropped. */
function unknownTypesAcceptable(p: Proposal): boolean {
  const unknown = new Map<number, boolean>();
  for (const t of p.transforms) {
    if (KNOWN_TYPES.has(t.type)) continue;
    unknown.set(t.type, (unknown.get(t.type) ?? false) || t.id === 0);
  }
  for (const ok of unknown.values()) if (!ok) return false;
  return true;
}

/** Tries to match one configured proposal against one offered proposal. */
function matchOne(cp: ConfigProposal, offered: Proposal, skipKe: boolean): NegotiatedAlgorithms | undefined {
  if (!unknownTypesAcceptable(offered)) return undefined;
  const oEncr = ofType(offered, TransformType.ENCR);
  const encr = cp.encr.find((e) => supportedEncr(e.id, e.keyLength) && oEncr.some((o) => o.id === e.id && o.keyLength === e.keyLength));
  if (!encr) return undefined;
  const aead = encrIsAead(encr.id);

  let integ: number | undefined;
  if (!aead) {
    const oInteg = ofType(offered, TransformType.INTEG);
    integ = cp.integ.find((i) => integInfo(i) !== undefined && oInteg.some((o) => o.id === i));
    if (integ === undefined) return undefined;
  }

  let prf: number | undefined;
  if (cp.protocol === 'ike') {
    const oPrf = ofType(offered, TransformType.PRF);
    prf = cp.prf.find((i) => prfInfo(i) !== undefined && oPrf.some((o) => o.id === i));
    if (prf === undefined) return undefined;
  }

  let dh: number | undefined;
  if (!skipKe) {
    const oKe = ofType(offered, TransformType.KE);
    if (cp.protocol === 'ike' || cp.dh.length !== 0) {
      dh = cp.dh.find((g) => keInfo(g) !== undefined && oKe.some((o) => o.id === g));
      if (dh === undefined) return undefined;
    } else if (oKe.length !== 0 && !oKe.some((o) => o.id === 0)) {
      // ESP without PFS configured, but the peer insists on PFS.
      return undefined;
    }
  }

  let esn: boolean | undefined;
  if (cp.protocol === 'esp') {
    const oEsn = ofType(offered, TransformType.ESN);
    const offeredEsn = oEsn.length === 0 ? [EsnId.NO] : oEsn.map((t) => t.id);
    const ours = cp.esn.length === 0 ? [EsnId.NO] : cp.esn;
    const pick = ours.find((e) => offeredEsn.includes(e));
    if (pick === undefined) return undefined;
    esn = pick === EsnId.YES;
  }

  const algs: { -readonly [K in keyof NegotiatedAlgorithms]: NegotiatedAlgorithms[K] } = {
    encr: encr.keyLength === undefined ? { id: encr.id } : { id: encr.id, keyLength: encr.keyLength },
  };
  if (integ !== undefined) algs.integ = integ;
  if (prf !== undefined) algs.prf = prf;
  if (dh !== undefined) algs.dh = dh;
  if (esn !== undefined) algs.esn = esn;
  return algs;
}

/**
 * Responder side (RFC 7296 §2.7): choose from the peer's `offered` proposals using our
 * `configured` preference order. Returns undefined when nothing matches (→ NO_PROPOSAL_CHOSEN).
 * Only configured proposals of `protocol` and offered proposals with its protocol id are considered.
 */
export function selectProposal(
  offered: readonly Proposal[],
  configured: readonly ConfigProposal[],
  protocol: 'ike' | 'esp',
  options: SelectOptions = {},
): Selected | undefined {
  const pid = protocolIdOf(protocol);
  for (const cp of configured) {
    if (cp.protocol !== protocol) continue;
    for (const o of offered) {
      if (o.protocolId !== pid) continue;
      const algs = matchOne(cp, o, options.skipKe ?? false);
      if (algs) return { number: o.number, spi: o.spi, algs };
    }
  }
  return undefined;
}

/**
 * Initiator side: validates the responder's chosen proposal against what we `offered`.
 * Returns undefined if the reply has more than one transform of a type, a transform we did not
 * offer (under that proposal number), an unknown transform type, or lacks a mandatory type.
 */
export function acceptChosen(offered: readonly Proposal[], chosen: Proposal): Selected | undefined {
  const mine = offered.find((p) => p.number === chosen.number && p.protocolId === chosen.protocolId);
  if (!mine) return undefined;
  const isIke = chosen.protocolId === ProtocolId.IKE;
  if (!isIke && chosen.protocolId !== ProtocolId.ESP) return undefined;
  const byType = new Map<number, Transform>();
  for (const t of chosen.transforms) {
    if (!KNOWN_TYPES.has(t.type) || hasOtherAttributes(t)) return undefined;
    if (byType.has(t.type)) return undefined;
    // INTEG NONE next to an AEAD is tolerated even if we did not list it (RFC 7296 §3.3.3; checked below).
    const integNone = t.type === TransformType.INTEG && t.id === 0;
    if (!integNone && !mine.transforms.some((o) => o.type === t.type && o.id === t.id && o.keyLength === t.keyLength)) return undefined;
    byType.set(t.type, t);
  }
  const encr = byType.get(TransformType.ENCR);
  if (!encr || !supportedEncr(encr.id, encr.keyLength)) return undefined;
  const aead = encrIsAead(encr.id);
  const algs: { -readonly [K in keyof NegotiatedAlgorithms]: NegotiatedAlgorithms[K] } = {
    encr: encr.keyLength === undefined ? { id: encr.id } : { id: encr.id, keyLength: encr.keyLength },
  };

  const integ = byType.get(TransformType.INTEG);
  if (aead) {
    if (integ && integ.id !== 0) return undefined; // RFC 5282 §8: AEAD with a real INTEG is invalid
  } else {
    if (!integ || integInfo(integ.id) === undefined) return undefined;
    algs.integ = integ.id;
  }

  const prf = byType.get(TransformType.PRF);
  if (isIke) {
    if (!prf || prfInfo(prf.id) === undefined) return undefined;
    algs.prf = prf.id;
  } else if (prf) {
    return undefined;
  }

  const ke = byType.get(TransformType.KE);
  const offeredKe = ofType(mine, TransformType.KE);
  if (ke && ke.id !== 0) {
    if (keInfo(ke.id) === undefined) return undefined;
    algs.dh = ke.id;
  } else if (isIke || (offeredKe.length !== 0 && !offeredKe.some((t) => t.id === 0))) {
    // IKE always needs a KE method; ESP: we demanded PFS and the reply dropped it.
    return undefined;
  }

  const esn = byType.get(TransformType.ESN);
  if (isIke) {
    if (esn) return undefined;
  } else {
    algs.esn = esn !== undefined && esn.id === EsnId.YES;
  }
  return { number: chosen.number, spi: chosen.spi, algs };
}

/** Builds the single-proposal reply (or a rekey offer) from negotiated algorithms. */
export function algsToWireProposal(number: number, protocolId: number, spi: Uint8Array, algs: NegotiatedAlgorithms): Proposal {
  const transforms: Transform[] = [];
  transforms.push(
    algs.encr.keyLength === undefined
      ? { type: TransformType.ENCR, id: algs.encr.id }
      : { type: TransformType.ENCR, id: algs.encr.id, keyLength: algs.encr.keyLength },
  );
  if (algs.prf !== undefined) transforms.push({ type: TransformType.PRF, id: algs.prf });
  if (algs.integ !== undefined) transforms.push({ type: TransformType.INTEG, id: algs.integ });
  if (algs.dh !== undefined) transforms.push({ type: TransformType.KE, id: algs.dh });
  if (protocolId !== ProtocolId.IKE) transforms.push({ type: TransformType.ESN, id: algs.esn ? EsnId.YES : EsnId.NO });
  return { number, protocolId, spi: spi.slice(), transforms };
}

// ---- strongSwan-style names (as in `swanctl --list-sas` and charon logs) ----

const ENCR_NAMES: ReadonlyMap<number, string> = new Map([
  [12, 'AES_CBC'],
  [20, 'AES_GCM_16'],
  [28, 'CHACHA20_POLY1305'],
]);
const INTEG_NAMES: ReadonlyMap<number, string> = new Map([
  [12, 'HMAC_SHA2_256_128'],
  [13, 'HMAC_SHA2_384_192'],
  [14, 'HMAC_SHA2_512_256'],
]);
const PRF_NAMES: ReadonlyMap<number, string> = new Map([
  [5, 'PRF_HMAC_SHA2_256'],
  [6, 'PRF_HMAC_SHA2_384'],
  [7, 'PRF_HMAC_SHA2_512'],
]);
const KE_NAMES: ReadonlyMap<number, string> = new Map([
  [14, 'MODP_2048'],
  [19, 'ECP_256'],
  [20, 'ECP_384'],
  [21, 'ECP_521'],
  [31, 'CURVE_25519'],
]);

/**
 * strongSwan-style description, ENCR/INTEG/PRF/KE/ESN: `AES_GCM_16_256/PRF_HMAC_SHA2_256/MODP_2048`,
 * `AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519`, `AES_GCM_16_128/NO_EXT_SEQ`.
 */
export function describeAlgs(algs: NegotiatedAlgorithms): string {
  const parts: string[] = [];
  const encrName = ENCR_NAMES.get(algs.encr.id) ?? `ENCR_${algs.encr.id}`;
  // ChaCha20-Poly1305 has no Key Length attribute (RFC 7634): named without one, as swanctl does.
  const bits = algs.encr.keyLength;
  parts.push(bits === undefined ? encrName : `${encrName}_${bits}`);
  if (algs.integ !== undefined) parts.push(INTEG_NAMES.get(algs.integ) ?? `INTEG_${algs.integ}`);
  if (algs.prf !== undefined) parts.push(PRF_NAMES.get(algs.prf) ?? `PRF_${algs.prf}`);
  if (algs.dh !== undefined) parts.push(KE_NAMES.get(algs.dh) ?? `KE_${algs.dh}`);
  if (algs.esn !== undefined) parts.push(algs.esn ? 'EXT_SEQ' : 'NO_EXT_SEQ');
  return parts.join('/');
}

// ---- provider names and key lengths ----

/** CryptoProvider AEAD name for the negotiated ENCR, or undefined for AES-CBC. */
export function aeadName(algs: NegotiatedAlgorithms): AeadName | undefined {
  return encrIsAead(algs.encr.id) ? aeadNameOf(algs.encr.id) : undefined;
}

/** CryptoProvider integrity name, or undefined for AEAD ciphers. */
export function integName(algs: NegotiatedAlgorithms): IntegName | undefined {
  return algs.integ === undefined ? undefined : integNameOf(algs.integ);
}

/** CryptoProvider PRF name; throws (programmer error) when `algs.prf` is absent (not an IKE SA). */
export function prfName(algs: NegotiatedAlgorithms): PrfName {
  if (algs.prf === undefined) throw new Error('prfName: algs.prf is missing (only IKE SAs negotiate a PRF)');
  return prfNameOf(algs.prf);
}

/** Byte lengths of the key material one direction takes from prf+ (RFC 7296 §2.13, §2.17). */
export interface KeymatLengths {
  /** Cipher key without salt. */
  readonly encrKey: number;
  /** Salt appended to the cipher key (AEAD: 4; CBC: 0). */
  readonly salt: number;
  /** encrKey + salt: what SK_e / the ESP encryption KEYMAT holds. */
  readonly encrKeymat: number;
  /** Integrity key (0 for AEAD). */
  readonly integKey: number;
}

export function keymatLengths(algs: NegotiatedAlgorithms): KeymatLengths {
  const encrKey = encrKeyLength(algs.encr.id, algs.encr.keyLength);
  const encrKeymat = encrKeymatLength(algs.encr.id, algs.encr.keyLength);
  const integKey = algs.integ === undefined ? 0 : integKeyLength(algs.integ);
  return { encrKey, salt: encrKeymat - encrKey, encrKeymat, integKey };
}

/** SK_d / SK_pi / SK_pr length: the PRF's preferred key length (RFC 7296 §2.13). */
export function prfKeyBytes(algs: NegotiatedAlgorithms): number {
  if (algs.prf === undefined) throw new Error('prfKeyBytes: algs.prf is missing');
  return prfKeyLength(algs.prf);
}
