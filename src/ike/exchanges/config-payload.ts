/**
 * Configuration payload exchange for a road-warrior client and its server (RFC 7296 §2.19, §3.15):
 *
 *   initiator (swanctl `vips`):
 *   HDR, SK {IDi, [CERT,] AUTH, CP(CFG_REQUEST), SAi2, TSi, TSr}  -->
 *            CP(CFG_REQUEST) = { INTERNAL_IP4_ADDRESS(), INTERNAL_IP4_DNS(), INTERNAL_IP6_ADDRESS(), INTERNAL_IP6_DNS() }
 *   responder (swanctl `pools`):
 *                  <--  HDR, SK {IDr, [CERT,] AUTH, CP(CFG_REPLY), SAr2, TSi, TSr}
 *            CP(CFG_REPLY) = { INTERNAL_IP4_ADDRESS(198.18.200.1), [INTERNAL_IP4_DNS(…)] }
 *   no address free:
 *                  <--  HDR, SK {IDr, [CERT,] AUTH, N(INTERNAL_ADDRESS_FAILURE)}   (§3.10.1: no Child SA)
 *
 * An empty INTERNAL_IP4_ADDRESS asks for any address; a 4-byte one (IPv6: 16 bytes ‖ prefix length)
 * for that address (§3.15.1). The initiator's TSi for a 'dynamic' local selector is 0.0.0.0/0 (::/0)
 * while it does not know its address, and the responder narrows it to the assigned one (§2.9: the
 * responder's 'dynamic' remote selector is the peer's virtual IP, as strongSwan does).
 */
import { CfgAttributeType } from '../payloads/cp.js';
import { CfgType, PayloadType, type CfgAttribute, type Payload } from '../payloads/types.js';
import { formatIp, parseIp } from '../traffic-selectors.js';
import { findPayload, type IkeSa } from '../ike-sa.js';

const EMPTY = new Uint8Array(0);

/** The families (and concrete addresses, if any) `vips` asks for. */
function vipRequests(vips: readonly string[]): { family: 4 | 6; address: Uint8Array | undefined }[] {
  const out: { family: 4 | 6; address: Uint8Array | undefined }[] = [];
  for (const v of vips) {
    const a = parseIp(v);
    if (!a) continue;
    out.push({ family: a.length === 4 ? 4 : 6, address: a.some((x) => x !== 0) ? a : undefined });
  }
  return out;
}

/** CP(CFG_REQUEST) for the connection's `vips`, or undefined when it requests none. */
export function cpRequest(vips: readonly string[]): Payload | undefined {
  const reqs = vipRequests(vips);
  if (reqs.length === 0) return undefined;
  const attributes: CfgAttribute[] = [];
  for (const r of reqs) {
    if (r.family === 4) {
      attributes.push({ attrType: CfgAttributeType.INTERNAL_IP4_ADDRESS, value: r.address ?? EMPTY });
    } else {
      const v = r.address ? Uint8Array.from([...r.address, 128]) : EMPTY;
      attributes.push({ attrType: CfgAttributeType.INTERNAL_IP6_ADDRESS, value: v });
    }
  }
  if (reqs.some((r) => r.family === 4)) attributes.push({ attrType: CfgAttributeType.INTERNAL_IP4_DNS, value: EMPTY });
  if (reqs.some((r) => r.family === 6)) attributes.push({ attrType: CfgAttributeType.INTERNAL_IP6_DNS, value: EMPTY });
  return { type: PayloadType.CP, critical: false, cfgType: CfgType.CFG_REQUEST, attributes };
}

export interface CpReply {
  /** Assigned internal addresses (4 or 16 bytes). */
  readonly addresses: Uint8Array[];
  readonly dns: Uint8Array[];
}

/** Reads CP(CFG_REPLY) from a response; undefined when there is none. Malformed attributes are skipped. */
export function readCpReply(inner: readonly Payload[]): CpReply | undefined {
  const cp = findPayload(inner, PayloadType.CP);
  if (!cp || cp.cfgType !== CfgType.CFG_REPLY) return undefined;
  const addresses: Uint8Array[] = [];
  const dns: Uint8Array[] = [];
  for (const a of cp.attributes) {
    if (a.attrType === CfgAttributeType.INTERNAL_IP4_ADDRESS && a.value.length === 4) addresses.push(a.value.slice());
    else if (a.attrType === CfgAttributeType.INTERNAL_IP6_ADDRESS && a.value.length === 17) addresses.push(a.value.slice(0, 16));
    else if (a.attrType === CfgAttributeType.INTERNAL_IP4_DNS && a.value.length === 4) dns.push(a.value.slice());
    else if (a.attrType === CfgAttributeType.INTERNAL_IP6_DNS && a.value.length === 16) dns.push(a.value.slice());
  }
  return { addresses, dns };
}

export type CpAnswer =
  /** No CFG_REQUEST, or no pools on this connection: no CP in the response (as strongSwan). */
  | { readonly kind: 'none' }
  | { readonly kind: 'reply'; readonly payload: Payload; readonly addresses: Uint8Array[] }
  /** Every requested address family failed: N(INTERNAL_ADDRESS_FAILURE), no child. */
  | { readonly kind: 'failure'; readonly reason: string };

/** Responder: leases addresses from the connection's pools for a CFG_REQUEST (owner = the IKE SA). */
export function answerCpRequest(sa: IkeSa, inner: readonly Payload[]): CpAnswer {
  const cp = findPayload(inner, PayloadType.CP);
  if (!cp || cp.cfgType !== CfgType.CFG_REQUEST || sa.conn.pools.length === 0) return { kind: 'none' };
  const wanted: { family: 4 | 6; address: Uint8Array | undefined }[] = [];
  for (const a of cp.attributes) {
    if (a.attrType === CfgAttributeType.INTERNAL_IP4_ADDRESS && (a.value.length === 0 || a.value.length === 4)) {
      if (!wanted.some((w) => w.family === 4)) wanted.push({ family: 4, address: a.value.length === 4 ? a.value : undefined });
    } else if (a.attrType === CfgAttributeType.INTERNAL_IP6_ADDRESS && (a.value.length === 0 || a.value.length === 17)) {
      if (!wanted.some((w) => w.family === 6)) wanted.push({ family: 6, address: a.value.length === 17 ? a.value.subarray(0, 16) : undefined });
    }
  }
  if (wanted.length === 0) return { kind: 'none' };
  const { pools } = sa.ctx;
  const attributes: CfgAttribute[] = [];
  const addresses: Uint8Array[] = [];
  const dnsSent = new Set<string>();
  for (const w of wanted) {
    const lease = pools.acquire(sa.conn.pools, w.family, sa.ikeId, w.address);
    if (!lease) continue;
    addresses.push(lease.address);
    attributes.push(
      w.family === 4
        ? { attrType: CfgAttributeType.INTERNAL_IP4_ADDRESS, value: lease.address }
        : { attrType: CfgAttributeType.INTERNAL_IP6_ADDRESS, value: Uint8Array.from([...lease.address, 128]) },
    );
    for (const d of pools.pool(lease.pool)?.dns ?? []) {
      const b = parseIp(d);
      if (!b || dnsSent.has(d)) continue;
      dnsSent.add(d);
      attributes.push({ attrType: b.length === 4 ? CfgAttributeType.INTERNAL_IP4_DNS : CfgAttributeType.INTERNAL_IP6_DNS, value: b });
    }
  }
  if (addresses.length === 0) return { kind: 'failure', reason: `no free address in pools ${sa.conn.pools.join(', ')}` };
  return { kind: 'reply', payload: { type: PayloadType.CP, critical: false, cfgType: CfgType.CFG_REPLY, attributes }, addresses };
}

/**
 * What a 'dynamic' selector stands for on one side of `sa` (§2.9 with §2.19): our virtual IPs once
 * assigned, 0.0.0.0 / :: ("any", to be narrowed) while requested but not yet assigned, else the
 * IKE address.
 */
export function dynamicAddresses(sa: IkeSa, side: 'local' | 'remote'): string[] {
  if (side === 'remote') return sa.remoteVips.length > 0 ? sa.remoteVips.map(formatIp) : [sa.remote.address];
  if (sa.localVips.length > 0) return sa.localVips.map(formatIp);
  if (sa.conn.vips.length > 0) {
    const fams = new Set(vipRequests(sa.conn.vips).map((r) => r.family));
    return [...fams].map((f) => (f === 4 ? '0.0.0.0/0' : '::/0'));
  }
  return [sa.local.address];
}
