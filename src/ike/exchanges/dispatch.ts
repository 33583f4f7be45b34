/**
 * Routing a protected message (everything after IKE_SA_INIT) of one IKE SA: window and
 * retransmit handling through the exchange queue, SK/SKF opening, payload rules, then the
 * exchange's request or response handler (DESIGN.md rules 3 and 4: parse, verify, act; exchanges
 * never see retransmits).
 *
 * Bad input is a counted drop; an authenticated but malformed request is answered with the
 * decoder's notify (INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD; RFC 7296 §2.21.2).
 */
import { HeaderFlag } from '../constants.js';
import type { Datagram } from '../events.js';
import type { IkeMessage } from '../message.js';
import { PayloadType, type Payload } from '../payloads/types.js';
import { ExchangeType, IkeSa, bytesEqual, notify } from '../ike-sa.js';
import { handleAuthRequest, handleAuthResponse } from './ike-auth.js';
import { handleCreateChildRequest, handleCreateChildResponse } from './create-child-sa.js';
import { handleRekeyIkeResponse } from './rekey-ike.js';
import { handleInformationalRequest, handleInformationalResponse } from './informational.js';
import { checkRules } from '../rules.js';

function noteInbound(sa: IkeSa, now: number, d: Datagram): void {
  sa.lastInboundMs = now;
  // RFC 7296 §2.23: follow the peer's address/port of the latest authenticated message (NAT
  // mapping changes, the initiator floating to 4500).
  sa.local = d.local;
  sa.remote = d.remote;
}

function errorNotify(n: number, payloadType: number | undefined): Payload {
  return n === 1 && payloadType !== undefined ? notify(n, new Uint8Array([payloadType])) : notify(n);
}

export function dispatchProtected(sa: IkeSa, now: number, msg: IkeMessage, raw: Uint8Array, d: Datagram): void {
  const { ctx } = sa;
  const h = msg.header;
  const crypto = sa.crypto;
  if (!crypto) return void ctx.counters.dropUnknownSpi++;
  const isResponse = (h.flags & HeaderFlag.RESPONSE) !== 0;
  const last = msg.payloads[msg.payloads.length - 1];
  if (!last || (last.type !== PayloadType.SK && last.type !== PayloadType.SKF)) return void ctx.counters.dropRules++;
  // Rule 3, outer part: exactly one SK/SKF for an exchange we know (rules.ts).
  if (!checkRules(h.exchangeType, isResponse, msg.payloads, undefined).ok) return void ctx.counters.dropRules++;

  if (isResponse) {
    const out = sa.queue.outstanding;
    if (!out || out.messageId !== h.messageId || out.exchangeType !== h.exchangeType) return void ctx.counters.dropUnexpectedResponse++;
    const r = crypto.protection.open(raw, msg);
    if (r === 'incomplete') return;
    if (!r.ok) {
      if (r.error.code === 'icv') ctx.counters.dropIcv++;
      else if (r.error.code === 'bad-fragment' || r.error.code === 'fragment-limit') ctx.counters.dropFragment++;
      else ctx.counters.dropDecode++;
      return;
    }
    sa.queue.takeResponse(h.messageId);
    noteInbound(sa, now, d);
    const rules = checkRules(h.exchangeType, true, msg.payloads, r.value);
    if (!rules.ok) {
      // An authenticated answer we cannot act on: the exchange failed and the SA state is unknown
      // to the peer's satisfaction (RFC 7296 §2.21.2), so close the IKE SA.
      ctx.counters.dropRules++;
      sa.sendOneShot(ExchangeType.INFORMATIONAL, [{ type: PayloadType.DELETE, critical: false, protocolId: 1, spis: [] }]);
      return sa.die(now, 'error', rules.error.message);
    }
    const p = out.context;
    switch (p.kind) {
      case 'ike-auth':
        return handleAuthResponse(sa, now, r.value, p);
      case 'create-child':
        return handleCreateChildResponse(sa, now, r.value, p);
      case 'rekey-ike':
        return handleRekeyIkeResponse(sa, now, r.value, p);
      case 'delete-child':
      case 'delete-ike':
      case 'dpd':
        return handleInformationalResponse(sa, now, r.value, p);
      case 'ike-init':
        return;
    }
  }

  const cls = sa.queue.classifyRequest(h.messageId);
  if (cls === 'retransmit') {
    // §2.1 / RFC 7383 §2.6.1: resend the cached response to a retransmitted request (to its
    // first fragment only), without processing it again.
    const first = last.type === PayloadType.SK || ('fragmentNumber' in last && last.fragmentNumber === 1);
    if (first && (last.type === PayloadType.SKF || (sa.lastRequestRaw !== undefined && bytesEqual(raw, sa.lastRequestRaw)))) {
      ctx.counters.retransmitsAnswered++;
      sa.transmitAll(sa.queue.cachedResponse());
    } else {
      ctx.counters.dropRetransmitOld++;
    }
    return;
  }
  if (cls === 'out-of-window') return void ctx.counters.dropOutOfWindow++;
  const r = crypto.protection.open(raw, msg);
  if (r === 'incomplete') return;
  if (!r.ok) {
    if (r.error.code === 'icv') return void ctx.counters.dropIcv++;
    if (r.error.code === 'bad-fragment' || r.error.code === 'fragment-limit') return void ctx.counters.dropFragment++;
    ctx.counters.dropDecode++;
    if (r.error.notify !== undefined) {
      // Authenticated (the ICV verified) but malformed inside: answer (DESIGN rule 8).
      ctx.counters.invalidSyntaxSent++;
      sa.lastRequestRaw = raw.slice();
      sa.sendResponse(h.messageId, h.exchangeType, [errorNotify(r.error.notify, r.error.payloadType)]);
    }
    return;
  }
  sa.lastRequestRaw = raw.slice();
  noteInbound(sa, now, d);
  // Rule 3, inner part: which payloads, how many (rules.ts); a violation is answered INVALID_SYNTAX.
  const rules = checkRules(h.exchangeType, false, msg.payloads, r.value);
  if (!rules.ok) {
    ctx.counters.dropRules++;
    ctx.counters.invalidSyntaxSent++;
    sa.sendResponse(h.messageId, h.exchangeType, [notify(rules.error.notify ?? 7)]);
    // A half-open SA whose IKE_AUTH was malformed cannot be used (§2.21.2): leave nothing behind.
    if (sa.phase.name === 'half-open') sa.die(now, 'error', rules.error.message, false);
    return;
  }
  switch (h.exchangeType) {
    case ExchangeType.IKE_AUTH:
      if (sa.phase.name !== 'half-open') return void ctx.counters.dropRules++;
      return handleAuthRequest(sa, now, h.messageId, r.value);
    case ExchangeType.CREATE_CHILD_SA:
      if (sa.phase.name === 'half-open') return void ctx.counters.dropRules++;
      return handleCreateChildRequest(sa, now, h.messageId, r.value);
    case ExchangeType.INFORMATIONAL:
      if (sa.phase.name === 'half-open') return void ctx.counters.dropRules++;
      return handleInformationalRequest(sa, now, h.messageId, r.value);
    default:
      ctx.counters.dropRules++;
  }
}
