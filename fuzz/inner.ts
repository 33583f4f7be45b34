/**
 * The `ike-responder-inner` and `ike-initiator-inner` targets: fuzzing protocol logic *behind*
 * the SK integrity check, i.e. what an authenticated-but-hostile (or buggy) peer can send.
 *
 * Mutated SK messages never pass the ICV, so the `ike-endpoint-*` targets stop at "dropIcv". Here
 * each record's payload chain is sealed with the peer's real SK keys: a fresh responder is given
 * the recorded IKE_SA_INIT request (or a fresh initiator the recorded response), the IKE SA keys
 * it derived are read from its SA (engine internals, cast below: this file must follow
 * `IkeEndpoint`'s private `sas` map), and a twin `MessageProtection` for the peer's direction seals
 * the fuzzed plaintext.
 *
 * Input: records as in session.ts. A datagram record's body is
 *   selector (1 byte) ‖ first payload type (1 byte) ‖ inner payload chain
 * selector bits 0-1: exchange (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, IKE_AUTH), bit 2: the R
 * (response) flag, bits 3-7: Message ID. The I flag is set towards a responder. A chain that does
 * not decode is sent as an empty SK.
 */
import { nodeCrypto } from '../src/crypto/node.js';
import { seededRandom } from '../src/crypto/seeded-random.js';
import type { IkeEndpoint } from '../src/ike/endpoint.js';
import type { IkeSa } from '../src/ike/ike-sa.js';
import { decodeMessage, decodePayloadChain, encodePayloadChain } from '../src/ike/message.js';
import { makeSkProtection, type MessageProtection } from '../src/ike/protection.js';
import type { Payload } from '../src/ike/payloads/types.js';
import { concat } from './mutate.js';
import { ADDR_I, ADDR_R, decodeRecords, encodeRecords, newEndpoint, RecordKind, runCommand, type SessionRecord } from './session.js';
import type { Session } from './session.js';

const EXCHANGES = [35, 36, 37, 35] as const;
const FLAG_INITIATOR = 0x08;
const FLAG_RESPONSE = 0x20;

/** The responder's IKE SAs (private in IkeEndpoint). */
export function sasOf(ep: IkeEndpoint): IkeSa[] {
  const m = (ep as unknown as { sas: Map<string, IkeSa> }).sas;
  return m instanceof Map ? [...new Set(m.values())] : [];
}

export interface InnerSetup {
  readonly side: 'i' | 'r';
  readonly ep: IkeEndpoint;
  readonly spiI: Uint8Array;
  readonly spiR: Uint8Array;
  /** Seals as the peer of `ep` (the initiator's SK_ei/SK_ai for a responder, SK_er/SK_ar for an initiator). */
  readonly seal: MessageProtection;
}

/**
 * A fresh endpoint of `side` that has completed IKE_SA_INIT of the recorded session, plus the
 * peer's sealing keys: a responder that answered the recorded request ('r'), or an initiator that
 * got the recorded response and sent its IKE_AUTH request ('i').
 */
export function innerSetup(session: Session, side: 'i' | 'r' = 'r'): InnerSetup | undefined {
  const ep = newEndpoint(side);
  const records = side === 'r' ? session.toR : session.toI;
  const init = records.find((r) => r.kind === RecordKind.datagram);
  if (!init) return undefined;
  if (side === 'i') ep.initiate(1, 'gw');
  while (ep.pollTransmit());
  ep.handleDatagram(2, { data: init.body, local: side === 'r' ? ADDR_R : ADDR_I, remote: side === 'r' ? ADDR_I : ADDR_R });
  while (ep.pollTransmit());
  while (ep.pollEvent());
  const sa = sasOf(ep)[0];
  const c = sa?.crypto;
  if (!sa || !c) return undefined;
  return { side, ep, spiI: sa.spiI, spiR: sa.spiR, seal: makeSkProtection(nodeCrypto, seededRandom(99), c.algs, c.keys, side === 'r') };
}

/**
 * Seeds: the plaintext chains of the initiator's protected messages under the first IKE SA
 * (IKE_AUTH, CREATE_CHILD_SA rekey, INFORMATIONAL, the IKE rekey request), opened with the
 * responder's keys while replaying the recorded session.
 */
export function innerSeeds(session: Session, side: 'i' | 'r' = 'r'): Uint8Array[] {
  const records = recordedInnerRecords(session, side).map((r): SessionRecord => {
    if (r.command !== undefined) return { kind: RecordKind.command, body: Uint8Array.of(r.command) };
    const chain = encodePayloadChain(r.payloads);
    return { kind: RecordKind.datagram, body: concat(Uint8Array.of(r.selector, chain.firstType), chain.bytes) };
  });
  const seeds = [encodeRecords(records)];
  for (let n = 1; n < records.length; n++) seeds.push(encodeRecords(records.slice(0, n)));
  return seeds;
}

/** One protected message of the recorded session, opened: its record selector and inner payloads. */
export interface RecordedInner {
  readonly selector: number;
  readonly exchangeType: number;
  readonly messageId: number;
  readonly payloads: Payload[];
}

/** The peer's protected messages to `side` under the first IKE SA, decrypted, in order. */
export function recordedInner(session: Session, side: 'i' | 'r' = 'r'): RecordedInner[] {
  return recordedInnerRecords(session, side).filter((r) => r.command === undefined);
}

/** As `recordedInner`, with the commands `side` was given in between (they change its state). */
function recordedInnerRecords(session: Session, side: 'i' | 'r'): (RecordedInner & { readonly command?: number })[] {
  const setup = innerSetup(session, side);
  if (!setup) return [];
  const opener = (() => {
    const sa = sasOf(setup.ep)[0]!;
    return sa.crypto!.protection;
  })();
  const out: (RecordedInner & { readonly command?: number })[] = [];
  let initiated = false;
  for (const r of side === 'r' ? session.toR : session.toI) {
    if (r.kind === RecordKind.command) {
      // The initiator's first command (initiate) is part of innerSetup.
      if (side === 'i' && !initiated) initiated = true;
      else out.push({ selector: 0, exchangeType: 0, messageId: 0, payloads: [], command: r.body[0] ?? 0 });
      continue;
    }
    if (r.kind !== RecordKind.datagram) continue;
    const m = decodeMessage(r.body);
    if (!m.ok || m.value.header.exchangeType === 34) continue;
    const h = m.value.header;
    if (h.spiR.some((x, i) => x !== setup.spiR[i]) || h.spiI.some((x, i) => x !== setup.spiI[i])) continue; // a later IKE SA (after the rekey)
    const opened = opener.open(r.body, m.value);
    if (opened === 'incomplete' || !opened.ok) continue;
    const ex = EXCHANGES.indexOf(h.exchangeType as 35 | 36 | 37);
    const selector = (ex < 0 ? 0 : ex) | ((h.flags & FLAG_RESPONSE) !== 0 ? 4 : 0) | ((h.messageId & 31) << 3);
    out.push({ selector, exchangeType: h.exchangeType, messageId: h.messageId, payloads: opened.value });
  }
  return out;
}

/** Feeds the records (sealed) to a fresh responder; `onStep` runs after each. */
export function runInner(session: Session, input: Uint8Array, onStep: (ep: IkeEndpoint) => void, side: 'i' | 'r' = 'r'): IkeEndpoint | undefined {
  const setup = innerSetup(session, side);
  if (!setup) return undefined;
  const { ep } = setup;
  let now = 2;
  for (const r of decodeRecords(input)) {
    now++;
    if (r.kind === RecordKind.command) runCommand(ep, now, r.body[0] ?? 0);
    else if (r.kind === RecordKind.time) {
      now += (r.steps ?? 0) * 50;
      const t = ep.nextTimeout();
      if (t !== undefined && t <= now) ep.handleTimeout(now);
    } else {
      const sel = r.body[0] ?? 0;
      const chain = r.body.length >= 2 ? decodePayloadChain(r.body[1]!, r.body.subarray(2)) : undefined;
      const inner = chain?.ok ? chain.value : [];
      const header = {
        spiI: setup.spiI,
        spiR: setup.spiR,
        majorVersion: 2,
        minorVersion: 0,
        exchangeType: EXCHANGES[sel & 3]!,
        flags: (side === 'r' ? FLAG_INITIATOR : 0) | (sel & 4 ? FLAG_RESPONSE : 0),
        messageId: sel >>> 3,
      };
      let datagrams: Uint8Array[];
      try {
        datagrams = setup.seal.seal(header, inner, undefined);
      } catch {
        continue; // the fuzzer's payloads may not be encodable (e.g. over 64 KiB): not the engine's input
      }
      for (const data of datagrams) ep.handleDatagram(now, { data, local: side === 'r' ? ADDR_R : ADDR_I, remote: side === 'r' ? ADDR_I : ADDR_R });
    }
    onStep(ep);
  }
  return ep;
}
