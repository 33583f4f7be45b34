/**
 * Child SA negotiation shared by IKE_AUTH and CREATE_CHILD_SA (RFC 7296 §1.3, §2.9, §2.17, §3.3):
 * the initiator's offer (SA with our inbound SPI, TSi, TSr, optional USE_TRANSPORT_MODE), the
 * responder's selection (proposal, TS narrowing, mode), and the initiator's check of the answer.
 */
import type { DhKeyPair } from '../../crypto/types.js';
import type { IkeChildConfig } from '../config.js';
import { deriveChildKeys } from '../keys.js';
import { parseProposals, toWireProposals } from '../proposal-string.js';
import { acceptChosen, algsToWireProposal, selectProposal, type NegotiatedAlgorithms } from '../proposals.js';
import { PayloadType, ProtocolId, type Payload, type Proposal, type TrafficSelector } from '../payloads/types.js';
import { narrowTs, preferOwnTs, resolveTsDynamic, tsAllWithin } from '../traffic-selectors.js';
import { dynamicAddresses } from './config-payload.js';
import { ChildSa, spiFromBytes, spiToBytes } from '../child-sa.js';
import type { ChildAlgorithms, ChildKeys } from '../events.js';
import { IkeSa, NotifyType, findNotify, findPayload, notify } from '../ike-sa.js';

export interface ChildOffer {
  readonly child: IkeChildConfig;
  readonly spiIn: number;
  readonly proposals: readonly Proposal[];
  readonly tsI: readonly TrafficSelector[];
  readonly tsR: readonly TrafficSelector[];
  readonly transport: boolean;
}

export function espProposalsOf(child: IkeChildConfig): ReturnType<typeof parseProposals> {
  return parseProposals(child.espProposals.join(','), 'esp');
}

/** The PFS group of a child config (first KE in its first proposal), if any. */
export function pfsGroupOf(child: IkeChildConfig): number | undefined {
  for (const p of espProposalsOf(child)) if (p.dh.length > 0) return p.dh[0];
  return undefined;
}

/** Builds SA (our inbound SPI), TSi (our side), TSr (peer side). */
export function buildChildOffer(sa: IkeSa, child: IkeChildConfig, skipKe: boolean, spiIn?: number): ChildOffer {
  const spi = spiIn ?? sa.ctx.allocEspSpi();
  return {
    child,
    spiIn: spi,
    proposals: toWireProposals(espProposalsOf(child), spiToBytes(spi), { skipKe }),
    tsI: resolveTsDynamic(child.localTs, dynamicAddresses(sa, 'local')),
    tsR: resolveTsDynamic(child.remoteTs, dynamicAddresses(sa, 'remote')),
    transport: child.mode === 'transport',
  };
}

/** SA, TSi, TSr [, N(USE_TRANSPORT_MODE)] of an offer (the caller adds Ni/KEi/REKEY_SA). */
export function offerPayloads(o: ChildOffer): { sa: Payload; ts: Payload[]; notifies: Payload[] } {
  return {
    sa: { type: PayloadType.SA, critical: false, proposals: o.proposals },
    ts: [
      { type: PayloadType.TSi, critical: false, selectors: o.tsI },
      { type: PayloadType.TSr, critical: false, selectors: o.tsR },
    ],
    notifies: o.transport ? [notify(NotifyType.USE_TRANSPORT_MODE)] : [],
  };
}

function jitter(sa: IkeSa, maxMs: number): number {
  if (maxMs <= 0) return 0;
  const b = sa.ctx.rng.fill(new Uint8Array(4));
  return Math.floor((((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) / 0x1_0000_0000 * maxMs);
}

function childAlgorithms(algs: NegotiatedAlgorithms, group: number | undefined): ChildAlgorithms {
  const a: { -readonly [K in keyof ChildAlgorithms]: ChildAlgorithms[K] } = {
    encr: algs.encr.id,
    encrKeyBits: algs.encr.keyLength ?? 256,
    esn: algs.esn ?? false,
  };
  if (algs.integ !== undefined) a.integ = algs.integ;
  if (group !== undefined) a.dhGroup = group;
  return a;
}

/** Derives KEYMAT (§2.17) and builds the ChildSa for our role in the creating exchange. */
export function makeChild(
  sa: IkeSa,
  now: number,
  cfg: IkeChildConfig,
  weInitiated: boolean,
  spiIn: number,
  spiOut: number,
  mode: 'tunnel' | 'transport',
  tsLocal: readonly TrafficSelector[],
  tsRemote: readonly TrafficSelector[],
  algs: NegotiatedAlgorithms,
  gir: Uint8Array | undefined,
  group: number | undefined,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
): ChildSa {
  const c = sa.crypto;
  if (!c || c.algs.prf === undefined) throw new Error('makeChild: IKE SA has no keys');
  const k = deriveChildKeys(sa.ctx.provider, c.algs.prf, c.keys.skD, gir, nonceI, nonceR, algs);
  const keys: ChildKeys = weInitiated
    ? { encrOut: k.encrI, integOut: k.integI, encrIn: k.encrR, integIn: k.integR }
    : { encrOut: k.encrR, integOut: k.integR, encrIn: k.encrI, integIn: k.integI };
  return new ChildSa(cfg, spiIn, spiOut, mode, tsLocal, tsRemote, childAlgorithms(algs, group), keys, weInitiated, now, nonceI, nonceR, jitter(sa, cfg.randTimeMs));
}

export type ChildSelection =
  | {
      readonly ok: true;
      readonly cfg: IkeChildConfig;
      readonly algs: NegotiatedAlgorithms;
      readonly number: number;
      readonly spiOut: number;
      readonly tsI: TrafficSelector[];
      readonly tsR: TrafficSelector[];
      readonly transport: boolean;
    }
  | { readonly ok: false; readonly notify: number };

/**
 * Responder: picks the child config, ESP proposal and narrowed selectors for SA, TSi, TSr.
 * `restrictTo` limits the choice (a rekey keeps the child's config). NO_PROPOSAL_CHOSEN /
 * TS_UNACCEPTABLE when nothing fits (§2.9, §3.10.1).
 */
export function selectChild(sa: IkeSa, inner: readonly Payload[], skipKe: boolean, restrictTo?: IkeChildConfig): ChildSelection {
  const saP = findPayload(inner, PayloadType.SA);
  const tsi = findPayload(inner, PayloadType.TSi);
  const tsr = findPayload(inner, PayloadType.TSr);
  if (!saP || !tsi || !tsr) return { ok: false, notify: NotifyType.INVALID_SYNTAX };
  const wantTransport = findNotify(inner, NotifyType.USE_TRANSPORT_MODE) !== undefined;
  let tsFailed = false;
  let proposalFailed = false;
  for (const cfg of restrictTo ? [restrictTo] : sa.conn.children) {
    const narrowedI = narrowTs(tsi.selectors, resolveTsDynamic(cfg.remoteTs, dynamicAddresses(sa, 'remote')));
    const narrowedR = narrowTs(tsr.selectors, resolveTsDynamic(cfg.localTs, dynamicAddresses(sa, 'local')));
    if (narrowedI.length === 0 || narrowedR.length === 0) {
      tsFailed = true;
      continue;
    }
    const s = selectProposal(saP.proposals, espProposalsOf(cfg), 'esp', { skipKe });
    const spiOut = s ? spiFromBytes(s.spi) : undefined;
    if (!s || spiOut === undefined || spiOut === 0) {
      proposalFailed = true;
      continue;
    }
    return { ok: true, cfg, algs: s.algs, number: s.number, spiOut, tsI: narrowedI, tsR: narrowedR, transport: wantTransport && cfg.mode === 'transport' };
  }
  return { ok: false, notify: proposalFailed || !tsFailed ? NotifyType.NO_PROPOSAL_CHOSEN : NotifyType.TS_UNACCEPTABLE };
}

/** <-- SA (one proposal with our inbound SPI), TSi, TSr [, N(USE_TRANSPORT_MODE)] */
export function answerPayloads(sel: Extract<ChildSelection, { ok: true }>, spiIn: number): { sa: Payload; ts: Payload[]; notifies: Payload[] } {
  return {
    sa: { type: PayloadType.SA, critical: false, proposals: [algsToWireProposal(sel.number, ProtocolId.ESP, spiToBytes(spiIn), sel.algs)] },
    ts: [
      { type: PayloadType.TSi, critical: false, selectors: sel.tsI },
      { type: PayloadType.TSr, critical: false, selectors: sel.tsR },
    ],
    notifies: sel.transport ? [notify(NotifyType.USE_TRANSPORT_MODE)] : [],
  };
}

export type ChildAnswer =
  | { readonly ok: true; readonly algs: NegotiatedAlgorithms; readonly spiOut: number; readonly tsI: readonly TrafficSelector[]; readonly tsR: readonly TrafficSelector[]; readonly transport: boolean }
  | { readonly ok: false; readonly reason: string };

/** Initiator: checks the responder's SA, TSi, TSr against our offer. */
export function checkChildAnswer(offer: { proposals: readonly Proposal[]; tsI: readonly TrafficSelector[]; tsR: readonly TrafficSelector[]; transport: boolean }, inner: readonly Payload[]): ChildAnswer {
  const saP = findPayload(inner, PayloadType.SA);
  const tsi = findPayload(inner, PayloadType.TSi);
  const tsr = findPayload(inner, PayloadType.TSr);
  if (!saP || !tsi || !tsr || saP.proposals.length !== 1) return { ok: false, reason: 'missing SA/TS in response' };
  const chosen = acceptChosen(offer.proposals, saP.proposals[0]);
  const spiOut = chosen ? spiFromBytes(chosen.spi) : undefined;
  if (!chosen || spiOut === undefined || spiOut === 0) return { ok: false, reason: 'unacceptable proposal in response' };
  if (!tsAllWithin(tsi.selectors, offer.tsI) || !tsAllWithin(tsr.selectors, offer.tsR)) return { ok: false, reason: 'responder selectors outside our proposal' };
  const transport = findNotify(inner, NotifyType.USE_TRANSPORT_MODE) !== undefined;
  if (transport && !offer.transport) return { ok: false, reason: 'transport mode not requested' };
  return { ok: true, algs: chosen.algs, spiOut, tsI: preferOwnTs(tsi.selectors, offer.tsI), tsR: preferOwnTs(tsr.selectors, offer.tsR), transport };
}

export type { DhKeyPair };
