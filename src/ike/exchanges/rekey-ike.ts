/**
 * Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18, collisions §2.8.2).
 *
 *   HDR, SK {SA (SPI = new SPIi), Ni, KEi}  -->
 *                         <--  HDR, SK {SA (SPI = new SPIr), Nr, KEr}
 *
 *   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr); the new SA's keys come from prf+ with the new
 *   SPIs. Children move to the new SA; the rekey initiator deletes the old SA (D(IKE) on the old SA,
 *   no child goes down). Message IDs restart at 0 on the new SA; the rekey initiator is the new
 *   SA's original initiator.
 *
 * Collision: both sides rekey at once; each answers the other. The exchange carrying the lowest of
 * the four nonces produced the redundant SA, which its initiator deletes; the winner's new SA takes
 * the children and the winner deletes the old SA.
 */
import { parseProposals, toWireProposals } from '../proposal-string.js';
import { acceptChosen, algsToWireProposal, selectProposal } from '../proposals.js';
import { deriveRekeyedIkeKeys } from '../keys.js';
import { PayloadType, ProtocolId, type Payload } from '../payloads/types.js';
import {
  ExchangeType,
  IkeSa,
  NONCE_LENGTH,
  NotifyType,
  compareNonces,
  findNotify,
  findPayload,
  firstError,
  hex,
  notify,
  drawBytes,
  type Pending,
} from '../ike-sa.js';
import { kick, scheduleIke } from './tasks.js';

const RETRY_DELAY_MS = 10_000;
const LINGER_MS = 30_000;

/** HDR, SK {SA, Ni, KEi} --> */
export function startRekeyIke(sa: IkeSa, now: number, keRetries: number, forcedGroup: number | undefined): void {
  const { ctx } = sa;
  const c = sa.crypto!;
  const newSpiI = ctx.allocIkeSpi();
  const proposals = toWireProposals(parseProposals(sa.conn.proposals.join(','), 'ike'), newSpiI);
  const group = forcedGroup ?? c.algs.dh!;
  const dh = ctx.provider.dhGroup(group)!.generate(ctx.rng);
  const nonceI = drawBytes(ctx.rng, NONCE_LENGTH);
  sa.ikeRekeyCollision = undefined;
  sa.sendRequest(
    now,
    ExchangeType.CREATE_CHILD_SA,
    [
      { type: PayloadType.SA, critical: false, proposals },
      { type: PayloadType.NONCE, critical: false, nonce: nonceI },
      { type: PayloadType.KE, critical: false, group, data: dh.publicKey },
    ],
    { kind: 'rekey-ike', newSpiI, nonceI, dh, group, proposals, keRetries },
  );
}

/** Moves children and pending child work from `old` to `next`; `old` then waits for deletion. */
function moveTo(old: IkeSa, next: IkeSa, now: number): void {
  next.children = old.children;
  old.children = [];
  next.tasks.push(...old.tasks.filter((t) => t.kind !== 'rekey-ike' && t.kind !== 'dpd' && t.kind !== 'delete-ike'));
  old.tasks = [];
  next.localId = old.localId;
  next.remoteId = old.remoteId;
  next.natLocal = old.natLocal;
  next.natRemote = old.natRemote;
  next.fragmentation = old.fragmentation;
  next.localVips = old.localVips;
  next.remoteVips = old.remoteVips;
  next.ikeUpEmitted = true;
  old.replacedBy = next;
  old.ctx.emit({ type: 'ike-rekeyed', ikeName: old.name, ikeId: old.ikeId, spiI: hex(next.spiI), spiR: hex(next.spiR), oldSpiI: hex(old.spiI), oldSpiR: hex(old.spiR) });
  kick(next, now);
}

function newSa(old: IkeSa, now: number, initiator: boolean, spiI: Uint8Array, spiR: Uint8Array, crypto: NonNullable<IkeSa['crypto']>): IkeSa {
  const sa = new IkeSa(old.ctx, old.conn, initiator, spiI, spiR, old.local, old.remote, { name: 'established', crypto, establishedAtMs: now }, now, old.ikeId);
  scheduleIke(sa, now);
  old.ctx.registerSa(sa);
  return sa;
}

/** The old SA sends D(IKE) once idle; children already moved, so nothing goes down. */
function retireOld(old: IkeSa, now: number): void {
  old.tasks = [{ kind: 'delete-ike', reason: 'rekeyed' }];
  const p = old.phase;
  if (p.name === 'established' && !old.queue.busy) {
    old.phase = { name: 'deleting', crypto: p.crypto };
    old.tasks = [];
    old.sendRequest(now, ExchangeType.INFORMATIONAL, [{ type: PayloadType.DELETE, critical: false, protocolId: ProtocolId.IKE, spis: [] }], { kind: 'delete-ike', reason: 'rekeyed' });
  }
}

/** A redundant new SA (lost collision): HDR(new SA), SK {D(IKE)} --> and forget it. */
function discard(sa: IkeSa, now: number): void {
  sa.sendRequest(now, ExchangeType.INFORMATIONAL, [{ type: PayloadType.DELETE, critical: false, protocolId: ProtocolId.IKE, spis: [] }], { kind: 'delete-ike', reason: 'rekeyed' });
  const p = sa.phase;
  if (p.name === 'established') sa.phase = { name: 'deleting', crypto: p.crypto };
  sa.replacedBy = sa; // silent on death
}

/** <-- HDR, SK {SA, Nr, KEr} */
export function handleRekeyIkeResponse(sa: IkeSa, now: number, inner: readonly Payload[], p: Extract<Pending, { kind: 'rekey-ike' }>): void {
  const { ctx } = sa;
  const collision = sa.ikeRekeyCollision;
  const err = firstError(inner);
  const fail = (): void => {
    if (collision) {
      moveTo(sa, collision.newSa, now); // the peer's rekey stands; it deletes the old SA
      sa.lingerUntilMs = now + LINGER_MS;
    } else {
      sa.rekeyAtMs = now + RETRY_DELAY_MS;
      kick(sa, now);
    }
  };
  if (err !== undefined) {
    if (err === NotifyType.INVALID_KE_PAYLOAD && p.keRetries < 2 && !collision) {
      const n = findNotify(inner, NotifyType.INVALID_KE_PAYLOAD)!;
      const want = n.data.length === 2 ? (n.data[0] << 8) | n.data[1] : -1;
      if (p.proposals.some((pr) => pr.transforms.some((t) => t.type === 4 && t.id === want)) && ctx.provider.dhGroup(want)) {
        startRekeyIke(sa, now, p.keRetries + 1, want);
        return;
      }
    }
    return fail();
  }
  const saP = findPayload(inner, PayloadType.SA);
  const nonce = findPayload(inner, PayloadType.NONCE);
  const ke = findPayload(inner, PayloadType.KE);
  const chosen = saP && saP.proposals.length === 1 ? acceptChosen(p.proposals, saP.proposals[0]) : undefined;
  const gir = ke && ke.group === p.group ? ctx.provider.dhGroup(p.group)?.computeSecret(p.dh, ke.data) : undefined;
  if (!chosen || !nonce || !gir || chosen.spi.length !== 8 || chosen.algs.dh !== p.group) return fail();
  const old = sa.crypto!;
  const newSpiR = chosen.spi.slice();
  const { keys } = deriveRekeyedIkeKeys(ctx.provider, old.algs.prf!, old.keys.skD, chosen.algs, gir, p.nonceI, nonce.nonce, p.newSpiI, newSpiR);
  const next = newSa(sa, now, true, p.newSpiI, newSpiR, { algs: chosen.algs, keys, protection: ctx.makeProtection(chosen.algs, keys, true) });
  if (collision) {
    const ours = compareNonces(p.nonceI, nonce.nonce) < 0 ? p.nonceI : nonce.nonce;
    const theirs = compareNonces(collision.peerNonceI, collision.ourNonceR) < 0 ? collision.peerNonceI : collision.ourNonceR;
    if (compareNonces(ours, theirs) < 0) {
      // We lost: our new SA is redundant; children go to the peer's new SA, the peer deletes the old.
      discard(next, now);
      moveTo(sa, collision.newSa, now);
      sa.lingerUntilMs = now + LINGER_MS;
      return;
    }
    // We won: the peer deletes its new SA (collision.newSa); we delete the old one.
    collision.newSa.replacedBy = collision.newSa;
    collision.newSa.lingerUntilMs = now + LINGER_MS;
  }
  moveTo(sa, next, now);
  retireOld(sa, now);
}

/** HDR, SK {SA, Ni, KEi} --> (responder; called from the CREATE_CHILD_SA dispatcher) */
export function handleRekeyIkeRequest(sa: IkeSa, now: number, messageId: number, inner: readonly Payload[]): void {
  const { ctx } = sa;
  const respond = (payloads: Payload[]): void => sa.sendResponse(messageId, ExchangeType.CREATE_CHILD_SA, payloads);
  const out = sa.queue.outstanding?.context;
  if (sa.phase.name !== 'established' || sa.replacedBy || out?.kind === 'create-child' || out?.kind === 'delete-child' || out?.kind === 'delete-ike') {
    return respond([notify(NotifyType.TEMPORARY_FAILURE)]);
  }
  const saP = findPayload(inner, PayloadType.SA)!;
  const nonce = findPayload(inner, PayloadType.NONCE);
  const ke = findPayload(inner, PayloadType.KE);
  if (!nonce || !ke || nonce.nonce.length < 16 || nonce.nonce.length > 256) return respond([notify(NotifyType.INVALID_SYNTAX)]);
  const sel = selectProposal(saP.proposals, parseProposals(sa.conn.proposals.join(','), 'ike'), 'ike');
  if (!sel || sel.spi.length !== 8 || sel.algs.dh === undefined) return respond([notify(NotifyType.NO_PROPOSAL_CHOSEN)]);
  const group = sel.algs.dh;
  if (ke.group !== group) return respond([notify(NotifyType.INVALID_KE_PAYLOAD, new Uint8Array([group >> 8, group & 0xff]))]);
  const g = ctx.provider.dhGroup(group);
  const pair = g?.generate(ctx.rng);
  const gir = pair ? g!.computeSecret(pair, ke.data) : null;
  if (!gir || !pair) return respond([notify(NotifyType.INVALID_SYNTAX)]);
  const old = sa.crypto!;
  const nonceR = drawBytes(ctx.rng, NONCE_LENGTH);
  const newSpiR = ctx.allocIkeSpi();
  const newSpiI = sel.spi.slice();
  const { keys } = deriveRekeyedIkeKeys(ctx.provider, old.algs.prf!, old.keys.skD, sel.algs, gir, nonce.nonce, nonceR, newSpiI, newSpiR);
  respond([
    { type: PayloadType.SA, critical: false, proposals: [algsToWireProposal(sel.number, ProtocolId.IKE, newSpiR, sel.algs)] },
    { type: PayloadType.NONCE, critical: false, nonce: nonceR },
    { type: PayloadType.KE, critical: false, group, data: pair.publicKey },
  ]);
  const next = newSa(sa, now, false, newSpiI, newSpiR, { algs: sel.algs, keys, protection: ctx.makeProtection(sel.algs, keys, false) });
  if (out?.kind === 'rekey-ike') {
    // Collision: decide when our own rekey completes.
    sa.ikeRekeyCollision = { peerNonceI: nonce.nonce.slice(), ourNonceR: nonceR, newSa: next };
    return;
  }
  moveTo(sa, next, now);
  sa.lingerUntilMs = now + LINGER_MS;
}
