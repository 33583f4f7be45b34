/**
 * INFORMATIONAL exchanges (RFC 7296 §1.4): Delete, liveness, error notifications.
 *
 *   HDR, SK {D(ESP, SPIs)}  -->            <--  HDR, SK {D(ESP, our inbound SPIs of those)}
 *   HDR, SK {D(IKE)}        -->            <--  HDR, SK {}           (§1.4.1; all children go)
 *   HDR, SK {}              -->            <--  HDR, SK {}           (liveness, §2.4)
 *   HDR, SK {N(AUTHENTICATION_FAILED)} --> <--  HDR, SK {}           (§2.21.2: peer rejected our AUTH)
 *
 * §1.4.1 simultaneous deletes: a Delete for a child we are deleting ourselves is answered
 * without that SPI, and the child goes away once.
 */
import { PayloadType, ProtocolId, type Payload } from '../payloads/types.js';
import { spiFromBytes, spiToBytes, type ChildSa } from '../child-sa.js';
import { ExchangeType, IkeSa, NotifyType, findNotify, findPayloads, type Pending } from '../ike-sa.js';
import { kick } from './tasks.js';

export function handleInformationalRequest(sa: IkeSa, now: number, messageId: number, inner: readonly Payload[]): void {
  const respond = (payloads: Payload[]): void => sa.sendResponse(messageId, ExchangeType.INFORMATIONAL, payloads);
  if (findNotify(inner, NotifyType.AUTHENTICATION_FAILED)) {
    respond([]);
    return sa.die(now, 'auth-failed', 'peer sent AUTHENTICATION_FAILED');
  }
  const deletes = findPayloads(inner, PayloadType.DELETE);
  if (deletes.some((d) => d.protocolId === ProtocolId.IKE)) {
    respond([]);
    // Children of a rekeyed SA already moved; a redundant/replaced SA goes quietly.
    return sa.die(now, 'peer', undefined, sa.replacedBy === undefined);
  }
  const ours: Uint8Array[] = [];
  const gone: Array<[ChildSa, 'peer' | 'rekeyed' | 'rekey-collision']> = [];
  for (const d of deletes) {
    if (d.protocolId !== ProtocolId.ESP) continue;
    for (const raw of d.spis) {
      const spi = spiFromBytes(raw);
      const child = spi === undefined ? undefined : sa.findChildByOut(spi);
      if (!child || gone.some(([c]) => c === child)) continue;
      if (child.state !== 'deleting') ours.push(spiToBytes(child.spiIn));
      let reason: 'peer' | 'rekeyed' | 'rekey-collision' = 'peer';
      if (child.state === 'rekeyed' || (child.state === 'rekeying' && child.collision)) reason = 'rekeyed';
      else if (sa.children.some((c) => c.collision?.newChild === child)) reason = 'rekey-collision';
      if (child.state === 'rekeying') child.deletedByPeer = true;
      gone.push([child, reason]);
    }
  }
  respond(ours.length > 0 ? [{ type: PayloadType.DELETE, critical: false, protocolId: ProtocolId.ESP, spis: ours }] : []);
  for (const [child, reason] of gone) sa.removeChild(child, reason);
  kick(sa, now);
}

export function handleInformationalResponse(sa: IkeSa, now: number, _inner: readonly Payload[], p: Extract<Pending, { kind: 'delete-child' | 'delete-ike' | 'dpd' }>): void {
  switch (p.kind) {
    case 'delete-child':
      for (const c of p.children) sa.removeChild(c, c.announced ? p.reason : p.reason, true);
      break;
    case 'delete-ike':
      return sa.die(now, p.reason, undefined, sa.replacedBy === undefined && p.reason !== 'rekeyed');
    case 'dpd':
      break;
  }
  kick(sa, now);
}
