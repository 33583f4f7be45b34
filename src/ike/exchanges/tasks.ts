/**
 * Starting queued work and the per-SA timers (RFC 7296 §2.4 liveness, §2.8 rekeying before
 * expiry with jitter, strongSwan rekey_time − random(rand_time)). One request at a time
 * (window size 1); `kick` starts the next task whenever the queue is idle.
 */
import { PayloadType, ProtocolId } from '../payloads/types.js';
import { spiToBytes, type ChildSa } from '../child-sa.js';
import { ExchangeType, IkeSa, type IkeTask } from '../ike-sa.js';
import { startCreateChild } from './create-child-sa.js';
import { startRekeyIke } from './rekey-ike.js';

function jitter(sa: IkeSa, maxMs: number): number {
  if (maxMs <= 0) return 0;
  const b = sa.ctx.rng.fill(new Uint8Array(4));
  return Math.floor((((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) / 0x1_0000_0000 * maxMs);
}

/** IKE SA rekey/expiry times from now (rekey_time − jitter, over_time-based hard expiry). */
export function scheduleIke(sa: IkeSa, now: number): void {
  const c = sa.conn;
  sa.rekeyAtMs = c.rekeyTimeMs > 0 ? now + Math.max(0, c.rekeyTimeMs - jitter(sa, c.randTimeMs)) : undefined;
  sa.expireAtMs = c.ikeLifetimeMs > 0 ? now + c.ikeLifetimeMs : undefined;
}

/** HDR, SK {D(ESP, SPIs)} --> */
export function startDeleteChildren(sa: IkeSa, now: number, children: ChildSa[], reason: 'local' | 'rekeyed' | 'expired' | 'rekey-collision'): void {
  for (const c of children) c.state = 'deleting';
  sa.sendRequest(now, ExchangeType.INFORMATIONAL, [{ type: PayloadType.DELETE, critical: false, protocolId: ProtocolId.ESP, spis: children.map((c) => spiToBytes(c.spiIn)) }], {
    kind: 'delete-child',
    children,
    reason,
  });
}

function startTask(sa: IkeSa, now: number, t: IkeTask): boolean {
  switch (t.kind) {
    case 'create-child':
      startCreateChild(sa, now, t.child, undefined, 0, undefined);
      return true;
    case 'rekey-child': {
      const child = sa.findChildByIn(t.spiIn);
      if (!child || child.state !== 'installed') return false;
      startCreateChild(sa, now, child.config, child, 0, undefined);
      return true;
    }
    case 'delete-child': {
      const child = sa.findChildByIn(t.spiIn);
      if (!child || child.state === 'deleting') return false;
      startDeleteChildren(sa, now, [child], t.reason === 'ike-down' || t.reason === 'peer' ? 'local' : t.reason);
      return true;
    }
    case 'rekey-ike':
      if (sa.replacedBy) return false;
      startRekeyIke(sa, now, 0, undefined);
      return true;
    case 'delete-ike': {
      // HDR, SK {D(IKE)} -->
      const p = sa.phase;
      if (p.name !== 'established') return false;
      sa.phase = { name: 'deleting', crypto: p.crypto };
      sa.sendRequest(now, ExchangeType.INFORMATIONAL, [{ type: PayloadType.DELETE, critical: false, protocolId: ProtocolId.IKE, spis: [] }], { kind: 'delete-ike', reason: t.reason });
      return true;
    }
    case 'dpd':
      // HDR, SK {} -->  (liveness check, §1.4)
      sa.sendRequest(now, ExchangeType.INFORMATIONAL, [], { kind: 'dpd' });
      return true;
  }
}

/** Starts the next queued task if the SA is established and no request is outstanding. */
export function kick(sa: IkeSa, now: number): void {
  while (sa.phase.name === 'established' && !sa.queue.busy && sa.tasks.length > 0) {
    const t = sa.tasks.shift()!;
    if (t.kind !== 'delete-ike' && t.kind !== 'delete-child' && sa.replacedBy) continue;
    if (startTask(sa, now, t)) return;
  }
}

/** Earliest time this SA needs `handleSaTimeout`. */
export function saNextTimeout(sa: IkeSa): number | undefined {
  const p = sa.phase;
  if (p.name === 'dead') return undefined;
  let t = sa.queue.nextTimeout();
  const min = (x: number | undefined): void => {
    if (x !== undefined && (t === undefined || x < t)) t = x;
  };
  if (p.name === 'half-open') min(p.deadlineMs);
  min(sa.lingerUntilMs);
  if (p.name === 'established' && !sa.replacedBy) {
    min(sa.rekeyAtMs);
    min(sa.expireAtMs);
    if (sa.conn.dpdDelayMs > 0 && !sa.queue.busy && sa.tasks.length === 0) min(sa.lastInboundMs + sa.conn.dpdDelayMs);
    for (const c of sa.children) {
      if (c.state === 'installed') min(c.rekeyAtMs);
      min(c.expireAtMs);
    }
  }
  return t;
}

export function handleSaTimeout(sa: IkeSa, now: number): void {
  const p = sa.phase;
  if (p.name === 'dead') return;
  const q = sa.queue.handleTimeout(now);
  if (q?.kind === 'retransmit') {
    sa.ctx.counters.retransmitsSent++;
    sa.transmitAll(q.datagrams);
  } else if (q?.kind === 'give-up') {
    const pendingWasDpd = q.context.kind === 'dpd';
    sa.die(now, pendingWasDpd ? 'dpd' : 'timeout', `no answer to ${ExchangeType.INFORMATIONAL === q.exchangeType ? 'INFORMATIONAL' : `exchange ${q.exchangeType}`} request`);
    return;
  }
  if (p.name === 'half-open' && now >= p.deadlineMs) return sa.die(now, 'half-open-timeout', undefined, false);
  if (sa.lingerUntilMs !== undefined && now >= sa.lingerUntilMs) return sa.die(now, 'rekeyed', undefined, false);
  if (sa.phase.name !== 'established' || sa.replacedBy) return;
  if (sa.expireAtMs !== undefined && now >= sa.expireAtMs) {
    sa.sendOneShot(ExchangeType.INFORMATIONAL, [{ type: PayloadType.DELETE, critical: false, protocolId: ProtocolId.IKE, spis: [] }]);
    return sa.die(now, 'expired');
  }
  if (sa.rekeyAtMs !== undefined && now >= sa.rekeyAtMs) {
    sa.rekeyAtMs = undefined;
    sa.queueTask({ kind: 'rekey-ike' });
  }
  if (sa.conn.dpdDelayMs > 0 && !sa.queue.busy && sa.tasks.length === 0 && now >= sa.lastInboundMs + sa.conn.dpdDelayMs) sa.queueTask({ kind: 'dpd' });
  for (const c of [...sa.children]) {
    if (c.expireAtMs !== undefined && now >= c.expireAtMs && c.state !== 'deleting') {
      c.expireAtMs = undefined;
      // The hard lifetime is not negotiable: when our one request slot is taken (typically by the
      // rekey that did not get through), the SA goes now and the runtime stops using it; the peer's
      // copy ends at its own lifetime. Otherwise D(ESP) tells the peer first.
      if (sa.queue.busy) sa.removeChild(c, 'expired');
      else sa.tasks.unshift({ kind: 'delete-child', spiIn: c.spiIn, reason: 'expired' });
    } else if (c.state === 'installed' && c.rekeyAtMs !== undefined && now >= c.rekeyAtMs) {
      c.rekeyAtMs = undefined;
      sa.queueTask({ kind: 'rekey-child', spiIn: c.spiIn });
    }
  }
  kick(sa, now);
}
