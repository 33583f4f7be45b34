/** Shared helpers for the hostile IKE tests (not a test file). */
import { expect } from 'vitest';
import { decodeMessage, encodeMessage, type IkeMessage } from '../../../src/ike/message.js';
import type { Datagram } from '../../../src/ike/events.js';
import type { IkeEndpoint } from '../../../src/ike/endpoint.js';
import type { Payload } from '../../../src/ike/payloads/types.js';
import { ADDR_A, ADDR_B, type Pair } from '../../exchange/harness.js';

export const EXCHANGE = { IKE_SA_INIT: 34, IKE_AUTH: 35, CREATE_CHILD_SA: 36, INFORMATIONAL: 37 } as const;
export const FLAG = { INITIATOR: 0x08, RESPONSE: 0x20 } as const;
export const NOTIFY = { AUTHENTICATION_FAILED: 24, NO_PROPOSAL_CHOSEN: 14, INVALID_KE_PAYLOAD: 17, COOKIE: 16390 } as const;

export function decoded(d: Uint8Array): IkeMessage {
  const m = decodeMessage(d);
  if (!m.ok) throw new Error(`test: cannot decode ${m.error.message}`);
  return m.value;
}

export function hexToBytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h, 'hex'));
}

export function notifyPayload(notifyType: number, data: Uint8Array = new Uint8Array(0)): Payload {
  return { type: 41, critical: false, protocolId: 0, spi: new Uint8Array(0), notifyType, data };
}

/** Builds an IKE message (RFC 7296 §3.1 header + payloads) with our own codec. */
export function message(spiI: Uint8Array, spiR: Uint8Array, exchangeType: number, flags: number, messageId: number, payloads: readonly Payload[]): Uint8Array {
  return encodeMessage({ spiI, spiR, majorVersion: 2, minorVersion: 0, exchangeType, flags, messageId }, payloads);
}

/** Hands `data` to `ep` as if it came from `remote` (to the local address of `side`). */
export function inject(ep: IkeEndpoint, now: number, side: 'a' | 'b', data: Uint8Array, remote: { address: string; port: number }): void {
  ep.handleDatagram(now, { data, local: { address: side === 'a' ? ADDR_A : ADDR_B, port: 500 }, remote });
}

/** Everything `ep` wants to send right now (and its events), drained. */
export function drain(ep: IkeEndpoint): { tx: Datagram[]; events: string[] } {
  const tx: Datagram[] = [];
  const events: string[] = [];
  for (let d = ep.pollTransmit(); d; d = ep.pollTransmit()) tx.push(d);
  for (let e = ep.pollEvent(); e; e = ep.pollEvent()) events.push(e.type);
  return { tx, events };
}

/** Runs a pair until both sides have a child up. */
export function establish(p: Pair): void {
  p.a.initiate(p.now, 'gw');
  expect(p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0)).toBe(true);
}

/** A snapshot of what matters about an endpoint's SAs. */
export function snapshot(ep: IkeEndpoint): string {
  return JSON.stringify(ep.status().map((s) => ({ id: s.ikeId, state: s.state, spiI: s.spiI, spiR: s.spiR, children: s.children.map((c) => [c.spiIn, c.spiOut, c.state]) })));
}
