/**
 * One IKE SA per pair of mesh nodes. With start_action = trap on both sides, two nodes that send to
 * each other at the same moment both initiate (RFC 7296 §2.8 covers colliding rekeys, not colliding
 * initial exchanges), and the engine ends up with two IKE SAs, each with its own child SAs, for the same
 * connection. libreswan resolves such "crossing streams" with a tie-break; the mesh does the same with a
 * rule both sides compute alike: of the duplicates, the node with the lower IP address deletes the IKE
 * SAs it initiated (with their children, INFORMATIONAL Delete), so the SA initiated by the higher address
 * survives on both sides. The higher node deletes nothing, so the two can never delete both.
 */
import type { IkeSaStatus } from '../ike/events.js';
import type { IkeEndpoint } from '../ike/endpoint.js';
import { parseIp } from '../wire/addr.js';
import { compare } from './parse.js';

function lower(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  if (!x || !y || x.length !== y.length) return a < b;
  return compare(x, y) < 0;
}

/** The ikeIds this side should delete (see the file comment). Pure. */
export function duplicateIkeSas(status: readonly IkeSaStatus[]): number[] {
  const byConn = new Map<string, IkeSaStatus[]>();
  for (const s of status) {
    if (s.state !== 'established') continue;
    const list = byConn.get(s.name) ?? [];
    list.push(s);
    byConn.set(s.name, list);
  }
  const out: number[] = [];
  for (const list of byConn.values()) {
    if (list.length < 2) continue;
    const mine = list.filter((s) => s.initiator && lower(s.localAddr.address, s.remoteAddr.address));
    // Keep one when every duplicate is ours (e.g. a retried initiation): the newest survives.
    const keep = mine.length === list.length ? mine.reduce((a, b) => ((a.establishedAtMs ?? 0) >= (b.establishedAtMs ?? 0) ? a : b)) : undefined;
    for (const s of mine) if (s !== keep) out.push(s.ikeId);
  }
  return out;
}

/**
 * Children set up twice inside one IKE SA. A trap's acquire that is raised after the peer's IKE SA is
 * established but before its child is installed here becomes a CREATE_CHILD_SA on that IKE SA, next to
 * the child the peer already created. Two installed children of the same name established within
 * `windowMs` of each other are such a pair (a rekey's successor is established a rekey time later, and
 * the SA it replaces is no longer `installed` once rekeyed). Both ends see the same two SPI pairs, so
 * they agree on which to keep: the pair with the larger max(spiIn, spiOut). As for IKE SAs, only the
 * lower address deletes. Returns the inbound SPIs to delete. Pure.
 */
export function duplicateChildSas(status: readonly IkeSaStatus[], windowMs = 10_000): number[] {
  const out: number[] = [];
  for (const s of status) {
    if (s.state !== 'established' || !lower(s.localAddr.address, s.remoteAddr.address)) continue;
    const byName = new Map<string, IkeSaStatus['children'][number][]>();
    for (const c of s.children) {
      if (c.state !== 'installed') continue;
      byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
    }
    for (const list of byName.values()) {
      if (list.length < 2) continue;
      const key = (c: { spiIn: number; spiOut: number }) => Math.max(c.spiIn, c.spiOut) * 2 ** 32 + Math.min(c.spiIn, c.spiOut);
      const sorted = [...list].sort((a, b) => key(b) - key(a));
      const keep = sorted[0]!;
      for (const c of sorted.slice(1)) if (Math.abs(c.establishedAtMs - keep.establishedAtMs) <= windowMs) out.push(c.spiIn);
    }
  }
  return out;
}

/** Deletes this side's duplicate IKE SAs on `endpoint`; returns their ikeIds. */
export function resolveDuplicateIkeSas(endpoint: IkeEndpoint, now: number): number[] {
  const ids = duplicateIkeSas(endpoint.status());
  for (const id of ids) endpoint.terminateIke(now, id);
  return ids;
}

/** Deletes this side's duplicate children on `endpoint`; returns their inbound SPIs. */
export function resolveDuplicateChildSas(endpoint: IkeEndpoint, now: number): number[] {
  const spis = duplicateChildSas(endpoint.status());
  for (const spi of spis) endpoint.terminateChild(now, spi);
  return spis;
}
