/**
 * IKE_SA_INIT (RFC 7296 §1.2, §2.6 cookies, §2.23 NAT detection, RFC 7383 §2.3 fragmentation,
 * RFC 7427 §4 signature hash algorithms).
 *
 *   HDR, [N(COOKIE),] SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
 *        [N(IKEV2_FRAGMENTATION_SUPPORTED)], [N(SIGNATURE_HASH_ALGORITHMS)]            -->
 *                              <--  HDR, SAr1, KEr, Nr, N(NAT_D_SRC), N(NAT_D_DST), [CERTREQ,]
 *                                   [N(IKEV2_FRAGMENTATION_SUPPORTED)], [N(SIGNATURE_HASH_ALGORITHMS)]
 * Stateless error answers (SPIr = 0):
 *                              <--  HDR(A,0), N(COOKIE)
 *                              <--  HDR(A,0), N(INVALID_KE_PAYLOAD)      (data: the group we want)
 *                              <--  HDR(A,0), N(NO_PROPOSAL_CHOSEN)
 *
 * With `encap` configured we send a NAT_DETECTION_SOURCE_IP that cannot match (random bytes, as
 * strongSwan and Android do), so both sides see a NAT and move to port 4500 with UDP-encapsulated
 * ESP (RFC 3948).
 */
import { parseProposals, toWireProposals } from '../proposal-string.js';
import { acceptChosen, selectProposal, type NegotiatedAlgorithms } from '../proposals.js';
import { deriveIkeKeys } from '../keys.js';
import { natdHash, natdMatches } from '../nat-detection.js';
import { encodeMessage, type IkeMessage } from '../message.js';
import { HeaderFlag } from '../constants.js';
import { PayloadType, type Payload, type Proposal } from '../payloads/types.js';
import { DEFAULT_SIGNATURE_HASH_ALGORITHMS, decodeSignatureHashAlgorithms, encodeSignatureHashAlgorithms } from '../auth/signature.js';
import { certReqData } from '../auth/certs.js';
import { certReqHashes } from './ike-auth.js';
import type { IkeChildConfig, IkeConnection } from '../config.js';
import type { Addr, Datagram } from '../events.js';
import { parseIp } from '../traffic-selectors.js';
import type { CookieJar } from '../cookies.js';
import { notifyText, startIkeAuth } from './ike-auth.js';
import {
  ExchangeType,
  IkeSa,
  NONCE_LENGTH,
  NotifyType,
  bytesEqual,
  findNotify,
  findPayload,
  findPayloads,
  firstError,
  notify,
  drawBytes,
  type EngineContext,
  type IkePhase,
} from '../ike-sa.js';

const ZERO_SPI = new Uint8Array(8);
const MAX_INIT_RETRIES = 5;

/** Parsed addresses for NAT-D (4 hashes per side per IKE_SA_INIT); bounded, read-only values. */
const addrCache = new Map<string, Uint8Array>();
const ADDR_CACHE_MAX = 1024;

function addrBytes(a: Addr): Uint8Array {
  let b = addrCache.get(a.address);
  if (b === undefined) {
    b = parseIp(a.address) ?? new Uint8Array(4);
    if (addrCache.size >= ADDR_CACHE_MAX) addrCache.clear();
    addrCache.set(a.address, b);
  }
  return b;
}

function usesCerts(conn: IkeConnection): boolean {
  return conn.local.auth === 'pubkey' || conn.remote.auth === 'pubkey';
}

export function ikeProposalsOf(conn: IkeConnection): Proposal[] {
  return toWireProposals(parseProposals(conn.proposals.join(','), 'ike'), new Uint8Array(0));
}

/** N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) for a message with these SPIs. */
function natdPayloads(ctx: EngineContext, conn: IkeConnection, spiI: Uint8Array, spiR: Uint8Array, local: Addr, remote: Addr): Payload[] {
  const src = conn.encap ? drawBytes(ctx.rng, 20) : natdHash(ctx.provider, spiI, spiR, addrBytes(local), local.port);
  const dst = natdHash(ctx.provider, spiI, spiR, addrBytes(remote), remote.port);
  return [notify(NotifyType.NAT_DETECTION_SOURCE_IP, src), notify(NotifyType.NAT_DETECTION_DESTINATION_IP, dst)];
}

/** Reads the peer's NAT-D notifies of a received message: [natLocal, natRemote]. */
function detectNat(ctx: EngineContext, payloads: readonly Payload[], spiI: Uint8Array, spiR: Uint8Array, d: Datagram): [boolean, boolean] | undefined {
  const srcs = findPayloads(payloads, PayloadType.NOTIFY).filter((p) => p.notifyType === NotifyType.NAT_DETECTION_SOURCE_IP);
  const dst = findNotify(payloads, NotifyType.NAT_DETECTION_DESTINATION_IP);
  if (srcs.length === 0 || !dst) return undefined; // peer does not support NAT-T
  const natRemote = !srcs.some((s) => natdMatches(ctx.provider, s.data, spiI, spiR, addrBytes(d.remote), d.remote.port));
  const natLocal = !natdMatches(ctx.provider, dst.data, spiI, spiR, addrBytes(d.local), d.local.port);
  return [natLocal, natRemote];
}

/** The hash ids of the peer's N(SIGNATURE_HASH_ALGORITHMS), RFC 7427 §4; undefined without one. */
function peerHashIds(payloads: readonly Payload[]): number[] | undefined {
  const n = findNotify(payloads, NotifyType.SIGNATURE_HASH_ALGORITHMS);
  return n ? decodeSignatureHashAlgorithms(n.data) : undefined;
}

// ---- initiator ----------------------------------------------------------------------------------

function firstGroup(proposals: readonly Proposal[]): number {
  for (const p of proposals) for (const t of p.transforms) if (t.type === 4) return t.id;
  throw new Error('ike config: proposals contain no key exchange method');
}

function buildInitRequest(sa: IkeSa, phase: Extract<IkePhase, { name: 'init-sent' }>): Uint8Array {
  const { ctx, conn } = sa;
  const payloads: Payload[] = [];
  if (phase.cookie) payloads.push(notify(NotifyType.COOKIE, phase.cookie)); // §2.6: COOKIE first
  payloads.push({ type: PayloadType.SA, critical: false, proposals: phase.proposals });
  payloads.push({ type: PayloadType.KE, critical: false, group: phase.group, data: phase.dh.publicKey });
  payloads.push({ type: PayloadType.NONCE, critical: false, nonce: phase.nonceI });
  payloads.push(...natdPayloads(ctx, conn, sa.spiI, ZERO_SPI, sa.local, sa.remote));
  if (conn.fragmentation) payloads.push(notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
  if (usesCerts(conn)) payloads.push(notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, encodeSignatureHashAlgorithms(DEFAULT_SIGNATURE_HASH_ALGORITHMS)));
  return encodeMessage({ spiI: sa.spiI, spiR: ZERO_SPI, majorVersion: 2, minorVersion: 0, exchangeType: ExchangeType.IKE_SA_INIT, flags: HeaderFlag.INITIATOR, messageId: 0 }, payloads);
}

/** Creates an initiator IKE SA and sends IKE_SA_INIT. */
export function startInitiator(ctx: EngineContext, now: number, conn: IkeConnection, children: readonly IkeChildConfig[], local: Addr, remote: Addr): IkeSa {
  const proposals = ikeProposalsOf(conn);
  const group = firstGroup(proposals);
  const dhGroup = ctx.provider.dhGroup(group);
  if (!dhGroup) throw new Error(`ike config: connections.${conn.name}.proposals: KE group ${group} is not supported by the provider`);
  const phase: IkePhase = {
    name: 'init-sent',
    group,
    dh: dhGroup.generate(ctx.rng),
    nonceI: drawBytes(ctx.rng, NONCE_LENGTH),
    cookie: undefined,
    proposals,
    request: new Uint8Array(0),
    retries: 0,
  };
  const sa = new IkeSa(ctx, conn, true, ctx.allocIkeSpi(), new Uint8Array(8), local, remote, phase, now);
  sa.initialChildren = [...children];
  ctx.registerSa(sa);
  sendInit(sa, now);
  return sa;
}

function sendInit(sa: IkeSa, now: number): void {
  const p = sa.phase;
  if (p.name !== 'init-sent') return;
  p.request = buildInitRequest(sa, p);
  sa.queue.sendRequest(now, ExchangeType.IKE_SA_INIT, [p.request], { kind: 'ike-init' });
  sa.transmitAll([p.request]);
}

/** <-- HDR, SAr1, KEr, Nr, … (or a stateless COOKIE / INVALID_KE_PAYLOAD / error answer). */
export function handleInitResponse(sa: IkeSa, now: number, msg: IkeMessage, raw: Uint8Array, d: Datagram): void {
  const { ctx } = sa;
  const p = sa.phase;
  if (p.name !== 'init-sent' || !sa.queue.matchesResponse(msg.header.messageId)) {
    ctx.counters.dropUnexpectedResponse++;
    return;
  }
  const payloads = msg.payloads;
  const cookie = findNotify(payloads, NotifyType.COOKIE);
  const invalidKe = findNotify(payloads, NotifyType.INVALID_KE_PAYLOAD);
  if (cookie) {
    // §2.6: retry with the cookie first, all other payloads unchanged.
    if (cookie.data.length < 1 || cookie.data.length > 64 || p.retries >= MAX_INIT_RETRIES) return void ctx.counters.dropRules++;
    sa.queue.takeResponse(msg.header.messageId);
    sa.queue.reuseLastRequestId();
    p.cookie = cookie.data.slice();
    p.retries++;
    sendInit(sa, now);
    return;
  }
  if (invalidKe) {
    // §1.2: retry with the group the responder asked for, if we offered it.
    const want = invalidKe.data.length === 2 ? (invalidKe.data[0] << 8) | invalidKe.data[1] : -1;
    const offered = p.proposals.some((pr) => pr.transforms.some((t) => t.type === 4 && t.id === want));
    const grp = offered && want !== p.group ? ctx.provider.dhGroup(want) : undefined;
    if (!grp || p.retries >= MAX_INIT_RETRIES) {
      sa.queue.takeResponse(msg.header.messageId);
      sa.die(now, 'no-proposal', `INVALID_KE_PAYLOAD asks for group ${want}`);
      return;
    }
    sa.queue.takeResponse(msg.header.messageId);
    sa.queue.reuseLastRequestId();
    p.group = want;
    p.dh = grp.generate(ctx.rng);
    p.retries++;
    sendInit(sa, now);
    return;
  }
  const err = firstError(payloads);
  if (err !== undefined) {
    // NO_PROPOSAL_CHOSEN (or another error) for our pending request: give up (§2.21.1).
    sa.queue.takeResponse(msg.header.messageId);
    sa.die(now, err === NotifyType.NO_PROPOSAL_CHOSEN ? 'no-proposal' : 'error', `peer answered IKE_SA_INIT with ${notifyText(err)}`);
    return;
  }
  const saP = findPayload(payloads, PayloadType.SA);
  const ke = findPayload(payloads, PayloadType.KE);
  const nonce = findPayload(payloads, PayloadType.NONCE);
  if (!saP || !ke || !nonce || saP.proposals.length !== 1 || bytesEqual(msg.header.spiR, ZERO_SPI) || nonce.nonce.length < 16 || nonce.nonce.length > 256) {
    ctx.counters.dropRules++;
    return;
  }
  const chosen = acceptChosen(p.proposals, saP.proposals[0]);
  if (!chosen || chosen.algs.dh !== p.group || ke.group !== p.group) {
    ctx.counters.dropRules++;
    return;
  }
  const gir = ctx.provider.dhGroup(p.group)?.computeSecret(p.dh, ke.data);
  if (!gir) {
    ctx.counters.dropRules++;
    return;
  }
  sa.queue.takeResponse(msg.header.messageId);
  sa.spiR = msg.header.spiR.slice();
  const nonceR = nonce.nonce.slice();
  const { keys } = deriveIkeKeys(ctx.provider, chosen.algs, gir, p.nonceI, nonceR, sa.spiI, sa.spiR);
  const nat = detectNat(ctx, payloads, sa.spiI, sa.spiR, d);
  if (nat) [sa.natLocal, sa.natRemote] = nat;
  sa.fragmentation = sa.conn.fragmentation && findNotify(payloads, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED) !== undefined;
  sa.peerHashIds = peerHashIds(payloads);
  sa.peerCertReq = certReqHashes(payloads);
  sa.lastInboundMs = now;
  // RFC 7296 §2.23: after a NAT is detected (or forced), continue on port 4500.
  if (sa.encap || sa.natLocal || sa.natRemote) sa.floatTo4500();
  sa.phase = {
    name: 'auth-sent',
    crypto: { algs: chosen.algs, keys, protection: ctx.makeProtection(chosen.algs, keys, true) },
    nonceI: p.nonceI,
    nonceR,
    initRequest: p.request,
    initResponse: raw.slice(),
  };
  startIkeAuth(sa, now);
}

// ---- responder -----------------------------------------------------------------------------------

export interface InitResponderDeps {
  readonly cookies: CookieJar;
  /** Connections acceptable for this local/remote address pair. */
  candidates(d: Datagram): IkeConnection[];
  ikeSasWithPeer(address: string): number;
}

function statelessAnswer(ctx: EngineContext, msg: IkeMessage, d: Datagram, n: Payload): void {
  const data = encodeMessage(
    { spiI: msg.header.spiI, spiR: ZERO_SPI, majorVersion: 2, minorVersion: 0, exchangeType: ExchangeType.IKE_SA_INIT, flags: HeaderFlag.RESPONSE, messageId: msg.header.messageId },
    [n],
  );
  ctx.transmit({ data, local: d.local, remote: d.remote });
}

/**
 * HDR(SPIi, 0), SAi1, KEi, Ni … --> : creates a half-open responder SA, or answers statelessly.
 * Returns the new SA or undefined.
 */
export function respondInit(ctx: EngineContext, deps: InitResponderDeps, now: number, msg: IkeMessage, raw: Uint8Array, d: Datagram): IkeSa | undefined {
  const { limits } = ctx.config;
  const payloads = msg.payloads;
  if (msg.header.messageId !== 0) return void ctx.counters.dropRules++;
  const saP = findPayload(payloads, PayloadType.SA);
  const ke = findPayload(payloads, PayloadType.KE);
  const nonce = findPayload(payloads, PayloadType.NONCE);
  if (!saP || !ke || !nonce || nonce.nonce.length < 16 || nonce.nonce.length > 256) {
    ctx.counters.dropRules++;
    return undefined;
  }
  if (ctx.counters.halfOpen >= limits.halfOpenMax) return void ctx.counters.dropHalfOpenLimit++;
  // §2.6 cookies once the half-open count reaches the threshold.
  if (ctx.counters.halfOpen >= limits.cookieThreshold) {
    const ipI = parseIp(d.remote.address) ?? new Uint8Array(0);
    const c = findNotify(payloads, NotifyType.COOKIE);
    if (!c || !deps.cookies.verify(now, c.data, nonce.nonce, ipI, msg.header.spiI)) {
      if (c) ctx.counters.cookiesRejected++;
      ctx.counters.cookiesSent++;
      statelessAnswer(ctx, msg, d, notify(NotifyType.COOKIE, deps.cookies.make(now, nonce.nonce, ipI, msg.header.spiI)));
      return undefined;
    }
  }
  const candidates = deps.candidates(d);
  let selected: { conn: IkeConnection; algs: NegotiatedAlgorithms; number: number } | undefined;
  const matching: IkeConnection[] = [];
  for (const conn of candidates) {
    const s = selectProposal(saP.proposals, parseProposals(conn.proposals.join(','), 'ike'), 'ike');
    if (!s) continue;
    matching.push(conn);
    if (!selected) selected = { conn, algs: s.algs, number: s.number };
  }
  if (!selected || selected.algs.dh === undefined) {
    statelessAnswer(ctx, msg, d, notify(NotifyType.NO_PROPOSAL_CHOSEN));
    return undefined;
  }
  const group = selected.algs.dh;
  if (ke.group !== group) {
    // §1.2: INVALID_KE_PAYLOAD names the group we selected.
    statelessAnswer(ctx, msg, d, notify(NotifyType.INVALID_KE_PAYLOAD, new Uint8Array([group >> 8, group & 0xff])));
    return undefined;
  }
  if (deps.ikeSasWithPeer(d.remote.address) >= limits.ikeSasPerPeerMax) return void ctx.counters.dropPeerLimit++;
  const dhGroup = ctx.provider.dhGroup(group);
  if (!dhGroup) return void ctx.counters.dropRules++;
  const dh = dhGroup.generate(ctx.rng);
  const gir = dhGroup.computeSecret(dh, ke.data);
  if (!gir) return void ctx.counters.dropRules++;
  const conn = selected.conn;
  const spiR = ctx.allocIkeSpi();
  const spiI = msg.header.spiI.slice();
  const nonceR = drawBytes(ctx.rng, NONCE_LENGTH);
  const nonceI = nonce.nonce.slice();
  const { keys } = deriveIkeKeys(ctx.provider, selected.algs, gir, nonceI, nonceR, spiI, spiR);

  const out: Payload[] = [
    { type: PayloadType.SA, critical: false, proposals: [algsProposal(selected.number, selected.algs)] },
    { type: PayloadType.KE, critical: false, group, data: dh.publicKey },
    { type: PayloadType.NONCE, critical: false, nonce: nonceR },
    ...natdPayloads(ctx, conn, spiI, spiR, d.local, d.remote),
  ];
  const peerFrag = findNotify(payloads, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED) !== undefined;
  if (conn.fragmentation && peerFrag) out.push(notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
  if (usesCerts(conn)) out.push(notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, encodeSignatureHashAlgorithms(DEFAULT_SIGNATURE_HASH_ALGORITHMS)));
  if (conn.remote.auth === 'pubkey' && conn.remote.cacerts) {
    const cas = conn.remote.cacerts.map((c) => ctx.provider.parseCertificate(c)).filter((c) => c !== null);
    if (cas.length > 0) out.push({ type: PayloadType.CERTREQ, critical: false, encoding: 4, data: certReqData(ctx.provider, cas) });
  }
  const response = encodeMessage(
    { spiI, spiR, majorVersion: 2, minorVersion: 0, exchangeType: ExchangeType.IKE_SA_INIT, flags: HeaderFlag.RESPONSE, messageId: 0 },
    out,
  );
  const phase: IkePhase = {
    name: 'half-open',
    crypto: { algs: selected.algs, keys, protection: ctx.makeProtection(selected.algs, keys, false) },
    nonceI,
    nonceR,
    initRequest: raw.slice(),
    initRequestVariants: [],
    initResponse: [response],
    deadlineMs: now + limits.halfOpenTimeoutMs,
    candidates: matching,
    peerSigHash: findNotify(payloads, NotifyType.SIGNATURE_HASH_ALGORITHMS) !== undefined,
  };
  const sa = new IkeSa(ctx, conn, false, spiI, spiR, d.local, d.remote, phase, now);
  const nat = detectNat(ctx, payloads, spiI, new Uint8Array(8), d);
  if (nat) [sa.natLocal, sa.natRemote] = nat;
  sa.fragmentation = conn.fragmentation && peerFrag;
  sa.peerHashIds = peerHashIds(payloads);
  sa.lastRequestRaw = raw.slice();
  sa.queue.recordResponse(0, [response]);
  ctx.counters.halfOpen++;
  ctx.registerSa(sa);
  ctx.transmit({ data: response, local: d.local, remote: d.remote });
  return sa;
}

function algsProposal(number: number, algs: NegotiatedAlgorithms): Proposal {
  const transforms: { type: number; id: number; keyLength?: number }[] = [];
  transforms.push(algs.encr.keyLength === undefined ? { type: 1, id: algs.encr.id } : { type: 1, id: algs.encr.id, keyLength: algs.encr.keyLength });
  if (algs.prf !== undefined) transforms.push({ type: 2, id: algs.prf });
  if (algs.integ !== undefined) transforms.push({ type: 3, id: algs.integ });
  if (algs.dh !== undefined) transforms.push({ type: 4, id: algs.dh });
  return { number, protocolId: 1, spi: new Uint8Array(0), transforms };
}

const MAX_INIT_VARIANTS = 2;

/** The message's payloads without a COOKIE notify, re-encoded: what §2.6 says stays unchanged. */
function withoutCookie(msg: IkeMessage): Uint8Array {
  const rest = msg.payloads.filter((x) => !(x.type === PayloadType.NOTIFY && 'notifyType' in x && x.notifyType === NotifyType.COOKIE));
  return encodeMessage({ ...msg.header, flags: HeaderFlag.INITIATOR }, rest);
}

/**
 * A half-open SA from `sa.phase.initRequest` receives an IKE_SA_INIT request from the same
 * SPIi, address and port with other bytes. If it is that request with a COOKIE added (or changed)
 * and every other payload unchanged, the initiator retried after a COOKIE answer that overtook our
 * full answer (a flood around the cookie threshold does this), and its IKE_AUTH will sign the retry:
 * keep it as a variant and re-send the cached answer. Anything else is not ours to answer (false).
 */
export function acceptInitVariant(sa: IkeSa, msg: IkeMessage, raw: Uint8Array, stored: IkeMessage | undefined): boolean {
  const p = sa.phase;
  if (p.name !== 'half-open' || !stored || findNotify(msg.payloads, NotifyType.COOKIE) === undefined) return false;
  if (p.initRequestVariants.some((v) => bytesEqual(v, raw))) return true;
  if (p.initRequestVariants.length >= MAX_INIT_VARIANTS) return false;
  if (!bytesEqual(withoutCookie(msg), withoutCookie(stored))) return false;
  p.initRequestVariants.push(raw.slice());
  return true;
}
