/**
 * CREATE_CHILD_SA for Child SAs (RFC 7296 §1.3.1 new child, §1.3.3 rekey, §2.8 make-before-break,
 * §2.8.1 simultaneous rekey). IKE SA rekeying (§1.3.2) is in `rekey-ike.ts`.
 *
 *   HDR, SK {[N(REKEY_SA),] SA, Ni, [KEi,] TSi, TSr [, N(USE_TRANSPORT_MODE)]}  -->
 *                                      <--  HDR, SK {SA, Nr, [KEr,] TSi, TSr [, N(USE_TRANSPORT_MODE)]}
 *   errors                             <--  HDR, SK {N(NO_PROPOSAL_CHOSEN | TS_UNACCEPTABLE |
 *                                           INVALID_KE_PAYLOAD | TEMPORARY_FAILURE | CHILD_SA_NOT_FOUND)}
 *
 * Rekey (make-before-break): the new SA is installed (child-rekeyed) as soon as it exists; the
 * rekey initiator then deletes the old one (INFORMATIONAL D(ESP)) and both sides report child-down
 * 'rekeyed' for it.
 *
 * Collision (§2.8.1): both peers rekey the same child. Each answers the other's request. Once
 * both exchanges are done, "the SA created with the lowest of the four nonces used in the two
 * exchanges SHOULD be deleted by the node that created it": the node whose own exchange carried
 * the lowest nonce deletes its new SA (redundant, never announced), the other deletes the old SA.
 */
import { PayloadType, ProtocolId, type Payload } from '../payloads/types.js';
import { spiFromBytes, spiToBytes, type ChildSa } from '../child-sa.js';
import type { IkeChildConfig } from '../config.js';
import {
  ExchangeType,
  IkeSa,
  NONCE_LENGTH,
  NotifyType,
  compareNonces,
  findNotify,
  findPayload,
  firstError,
  notify,
  drawBytes,
  type Pending,
} from '../ike-sa.js';
import { answerPayloads, buildChildOffer, checkChildAnswer, makeChild, offerPayloads, pfsGroupOf, selectChild } from './child-negotiation.js';
import { notifyText } from './ike-auth.js';
import { kick } from './tasks.js';
import { handleRekeyIkeRequest } from './rekey-ike.js';

const RETRY_DELAY_MS = 2_000;

function u16(n: number): Uint8Array {
  return new Uint8Array([n >> 8, n & 0xff]);
}

/** Starts a new child or a rekey of `rekey` (one outstanding request). */
export function startCreateChild(sa: IkeSa, now: number, cfg: IkeChildConfig, rekey: ChildSa | undefined, keRetries: number, forcedGroup: number | undefined): void {
  const { ctx } = sa;
  const offer = buildChildOffer(sa, cfg, false);
  const tsI = rekey ? rekey.tsLocal : offer.tsI;
  const tsR = rekey ? rekey.tsRemote : offer.tsR;
  const transport = rekey ? rekey.mode === 'transport' : offer.transport;
  const group = forcedGroup ?? pfsGroupOf(cfg);
  const dhGroup = group === undefined ? undefined : ctx.provider.dhGroup(group);
  const dh = dhGroup?.generate(ctx.rng);
  const nonceI = drawBytes(ctx.rng, NONCE_LENGTH);
  const payloads: Payload[] = [];
  if (rekey) {
    payloads.push(notify(NotifyType.REKEY_SA, new Uint8Array(0), ProtocolId.ESP, spiToBytes(rekey.spiIn)));
    rekey.state = 'rekeying';
    rekey.collision = undefined;
  }
  if (transport) payloads.push(notify(NotifyType.USE_TRANSPORT_MODE));
  payloads.push({ type: PayloadType.SA, critical: false, proposals: offer.proposals });
  payloads.push({ type: PayloadType.NONCE, critical: false, nonce: nonceI });
  if (dh && group !== undefined) payloads.push({ type: PayloadType.KE, critical: false, group, data: dh.publicKey });
  payloads.push({ type: PayloadType.TSi, critical: false, selectors: tsI }, { type: PayloadType.TSr, critical: false, selectors: tsR });
  sa.sendRequest(now, ExchangeType.CREATE_CHILD_SA, payloads, {
    kind: 'create-child',
    child: cfg,
    spiIn: offer.spiIn,
    nonceI,
    dh,
    group,
    proposals: offer.proposals,
    tsI,
    tsR,
    transport,
    rekey,
    keRetries,
  });
}

function childFailed(sa: IkeSa, name: string, reason: string): void {
  sa.ctx.emit({ type: 'child-failed', ikeName: sa.name, ikeId: sa.ikeId, childName: name, reason });
}

/** <-- HDR, SK {SA, Nr, [KEr,] TSi, TSr} (or an error notify) */
export function handleCreateChildResponse(sa: IkeSa, now: number, inner: readonly Payload[], p: Extract<Pending, { kind: 'create-child' }>): void {
  const { ctx } = sa;
  const old = p.rekey;
  const oldAlive = old !== undefined && sa.children.includes(old);
  const err = firstError(inner);
  if (err !== undefined) {
    if (old && oldAlive && old.state === 'rekeying') old.state = 'installed';
    if (err === NotifyType.INVALID_KE_PAYLOAD) {
      const n = findNotify(inner, NotifyType.INVALID_KE_PAYLOAD)!;
      const want = n.data.length === 2 ? (n.data[0] << 8) | n.data[1] : -1;
      const offered = p.proposals.some((pr) => pr.transforms.some((t) => t.type === 4 && t.id === want));
      if (offered && want !== p.group && p.keRetries < 2 && ctx.provider.dhGroup(want) && (!old || oldAlive)) {
        startCreateChild(sa, now, p.child, old, p.keRetries + 1, want);
        return;
      }
    }
    if (old) {
      if (err === NotifyType.TEMPORARY_FAILURE) {
        // §2.25: retry later, unless a collision already replaced the child.
        if (oldAlive && old.collision === undefined && old.state === 'installed') old.rekeyAtMs = now + RETRY_DELAY_MS;
      } else if (err === NotifyType.CHILD_SA_NOT_FOUND) {
        if (oldAlive) {
          sa.removeChild(old, 'peer');
          sa.queueTask({ kind: 'create-child', child: old.config });
        }
      } else {
        childFailed(sa, p.child.name, notifyText(err));
      }
      if (old.collision && oldAlive) old.state = 'rekeyed'; // the peer's rekey won by default
    } else {
      childFailed(sa, p.child.name, notifyText(err));
    }
    return kick(sa, now);
  }
  const ans = checkChildAnswer(p, inner);
  const nonce = findPayload(inner, PayloadType.NONCE);
  const ke = findPayload(inner, PayloadType.KE);
  let gir: Uint8Array | undefined;
  let failure: string | undefined = !ans.ok ? ans.reason : !nonce ? 'no Nr' : undefined;
  if (!failure && ans.ok && p.group !== undefined && ans.algs.dh !== undefined) {
    if (!ke || ke.group !== p.group || !p.dh) failure = 'missing or wrong KEr';
    else {
      gir = ctx.provider.dhGroup(p.group)?.computeSecret(p.dh, ke.data) ?? undefined;
      if (!gir) failure = 'invalid KEr';
    }
  }
  if (failure || !ans.ok || !nonce) {
    if (old && oldAlive && old.state === 'rekeying') old.state = 'installed';
    childFailed(sa, p.child.name, failure ?? 'bad response');
    return kick(sa, now);
  }
  const mode = ans.transport ? 'transport' : 'tunnel';
  const child = makeChild(sa, now, p.child, true, p.spiIn, ans.spiOut, mode, ans.tsI, ans.tsR, ans.algs, gir, gir ? p.group : undefined, p.nonceI, nonce.nonce.slice());
  sa.children.push(child);
  if (!old) {
    sa.emitChildUp(child);
  } else if (!oldAlive || old.deletedByPeer) {
    // The peer deleted the child while we rekeyed it: the new SA has no purpose.
    child.announced = false;
    sa.tasks.unshift({ kind: 'delete-child', spiIn: child.spiIn, reason: 'rekey-collision' });
  } else if (old.collision) {
    // §2.8.1: lowest of the four nonces; its exchange's initiator deletes that exchange's SA.
    const c = old.collision;
    const ours = compareNonces(p.nonceI, nonce.nonce) < 0 ? p.nonceI : nonce.nonce;
    const theirs = compareNonces(c.peerNonceI, c.ourNonceR) < 0 ? c.peerNonceI : c.ourNonceR;
    if (compareNonces(ours, theirs) < 0) {
      // We lost: our new SA is redundant; the peer deletes the old one.
      child.announced = false;
      old.state = 'rekeyed';
      sa.tasks.unshift({ kind: 'delete-child', spiIn: child.spiIn, reason: 'rekey-collision' });
    } else {
      // We won: keep ours, delete the old SA; the peer deletes the SA it created.
      old.state = 'rekeyed';
      sa.emitChildRekeyed(old, child);
      sa.tasks.unshift({ kind: 'delete-child', spiIn: old.spiIn, reason: 'rekeyed' });
    }
  } else {
    old.state = 'rekeyed';
    sa.emitChildRekeyed(old, child);
    sa.tasks.unshift({ kind: 'delete-child', spiIn: old.spiIn, reason: 'rekeyed' });
  }
  kick(sa, now);
}

/** HDR, SK {[N(REKEY_SA),] SA, Ni, [KEi,] TSi, TSr} --> (responder) */
export function handleCreateChildRequest(sa: IkeSa, now: number, messageId: number, inner: readonly Payload[]): void {
  const { ctx } = sa;
  const respond = (payloads: Payload[]): void => sa.sendResponse(messageId, ExchangeType.CREATE_CHILD_SA, payloads);
  const saP = findPayload(inner, PayloadType.SA);
  if (saP && saP.proposals.length > 0 && saP.proposals[0].protocolId === ProtocolId.IKE) return handleRekeyIkeRequest(sa, now, messageId, inner);
  if (sa.phase.name !== 'established' || sa.replacedBy) return respond([notify(NotifyType.TEMPORARY_FAILURE)]);
  const out = sa.queue.outstanding?.context;
  if (out?.kind === 'rekey-ike' || out?.kind === 'delete-ike') return respond([notify(NotifyType.TEMPORARY_FAILURE)]);
  const rekeyN = findNotify(inner, NotifyType.REKEY_SA);
  let old: ChildSa | undefined;
  if (rekeyN) {
    const spi = spiFromBytes(rekeyN.spi);
    old = spi === undefined ? undefined : sa.findChildByOut(spi);
    if (!old) return respond([notify(NotifyType.CHILD_SA_NOT_FOUND, new Uint8Array(0), ProtocolId.ESP, rekeyN.spi)]);
    if (old.state === 'deleting' || old.state === 'rekeyed') return respond([notify(NotifyType.TEMPORARY_FAILURE)]);
  }
  const nonce = findPayload(inner, PayloadType.NONCE);
  if (!nonce || nonce.nonce.length < 16 || nonce.nonce.length > 256) return respond([notify(NotifyType.INVALID_SYNTAX)]);
  const sel = selectChild(sa, inner, false, old?.config);
  if (!sel.ok) {
    if (!old) childFailed(sa, sa.conn.children[0]?.name ?? '', notifyText(sel.notify));
    return respond([notify(sel.notify)]);
  }
  const ke = findPayload(inner, PayloadType.KE);
  let gir: Uint8Array | undefined;
  let dhPublic: Uint8Array | undefined;
  const group = sel.algs.dh;
  if (group !== undefined) {
    if (!ke || ke.group !== group) return respond([notify(NotifyType.INVALID_KE_PAYLOAD, u16(group))]);
    const g = ctx.provider.dhGroup(group);
    const pair = g?.generate(ctx.rng);
    gir = pair ? (g!.computeSecret(pair, ke.data) ?? undefined) : undefined;
    if (!gir || !pair) return respond([notify(NotifyType.INVALID_SYNTAX)]);
    dhPublic = pair.publicKey;
  }
  const nonceR = drawBytes(ctx.rng, NONCE_LENGTH);
  const spiIn = ctx.allocEspSpi();
  const mode = old ? old.mode : sel.transport ? 'transport' : 'tunnel';
  const child = makeChild(sa, now, sel.cfg, false, spiIn, sel.spiOut, mode, sel.tsR, sel.tsI, sel.algs, gir, gir ? group : undefined, nonce.nonce.slice(), nonceR);
  const a = answerPayloads({ ...sel, transport: mode === 'transport' }, spiIn);
  const payloads: Payload[] = [...a.notifies, a.sa, { type: PayloadType.NONCE, critical: false, nonce: nonceR }];
  if (dhPublic && group !== undefined) payloads.push({ type: PayloadType.KE, critical: false, group, data: dhPublic });
  payloads.push(...a.ts);
  respond(payloads);
  sa.children.push(child);
  if (!old) return sa.emitChildUp(child);
  if (old.state === 'rekeying') {
    // Collision: our own rekey of this child is in flight; decide when it completes.
    old.collision = { peerNonceI: nonce.nonce.slice(), ourNonceR: nonceR, newChild: child };
  } else {
    old.state = 'rekeyed';
  }
  sa.emitChildRekeyed(old, child);
}
