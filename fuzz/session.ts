/**
 * A replayable IKE session for the `ike-endpoint-*` fuzz targets.
 *
 * An input is a sequence of records, each `kind (1 byte) ‖ length (2 bytes, big-endian) ‖ body`:
 *
 *   kind % 3 = 0  datagram: `body` is an IKE message from the peer (198.18.0.1:500 ↔ 198.18.0.2:500)
 *   kind % 3 = 1  time: advance the clock by `length` × 50 ms and call handleTimeout when due
 *   kind % 3 = 2  command: body[0] % 5 = rekey child, rekey IKE, terminate child, terminate IKE,
 *                 initiate (on the first SA / child the endpoint reports; a no-op when none)
 *
 * A record cut short by the end of the input is a datagram of the bytes left. Each record also
 * advances the clock by 1 ms.
 *
 * `recordSession` runs two endpoints (seededRandom, PSK) in lock step and writes, for each side, the
 * records that side received (the peer's datagrams and its own commands, in order). Replaying a side's
 * records into a fresh endpoint with the same seed reproduces the session byte for byte: the endpoint
 * is deterministic given its RandomSource, its inputs and `now`.
 */
import { nodeCrypto } from '../src/crypto/node.js';
import { seededRandom } from '../src/crypto/seeded-random.js';
import type { IkeConfigInput, IkeConnectionInput } from '../src/ike/config.js';
import { IkeEndpoint } from '../src/ike/endpoint.js';
import type { Addr, Datagram, IkeEvent } from '../src/ike/events.js';

export const ADDR_I: Addr = { address: '198.18.0.1', port: 500 };
export const ADDR_R: Addr = { address: '198.18.0.2', port: 500 };
export const SEED_I = 1;
export const SEED_R = 2;
const PSK = new TextEncoder().encode('fuzzing psk: long enough to be a real one');

export const RecordKind = { datagram: 0, time: 1, command: 2 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export const Command = { rekeyChild: 0, rekeyIke: 1, terminateChild: 2, terminateIke: 3, initiate: 4 } as const;
export type Command = (typeof Command)[keyof typeof Command];

export interface SessionRecord {
  readonly kind: RecordKind;
  /** Datagram bytes, or [command] for a command, or empty for time. */
  readonly body: Uint8Array;
  /** For time records: the number of 50 ms steps. */
  readonly steps?: number;
}

function conn(side: 'i' | 'r'): IkeConnectionInput {
  return {
    name: 'gw',
    localAddrs: [side === 'i' ? ADDR_I.address : ADDR_R.address],
    remoteAddrs: [side === 'i' ? ADDR_R.address : ADDR_I.address],
    proposals: ['aes128-sha256-x25519'],
    local: { auth: 'psk', id: side === 'i' ? 'i.fuzz.test' : 'r.fuzz.test', psk: PSK },
    remote: { auth: 'psk', id: side === 'i' ? 'r.fuzz.test' : 'i.fuzz.test', psk: PSK },
    children: [
      {
        name: 'net',
        localTs: [side === 'i' ? '198.19.1.0/24' : '198.19.2.0/24'],
        remoteTs: [side === 'i' ? '198.19.2.0/24' : '198.19.1.0/24'],
        espProposals: ['aes128gcm16', 'aes256-sha256'],
      },
    ],
  };
}

/** Small limits so a fuzz input of a few dozen datagrams reaches the cookie and half-open code. */
export const FUZZ_LIMITS = { halfOpenMax: 12, cookieThreshold: 4, ikeSasPerPeerMax: 8, halfOpenTimeoutMs: 5_000 } as const;

export function sessionConfig(side: 'i' | 'r'): IkeConfigInput {
  return { connections: [conn(side)], limits: FUZZ_LIMITS };
}

export function newEndpoint(side: 'i' | 'r'): IkeEndpoint {
  return new IkeEndpoint({ provider: nodeCrypto, rng: seededRandom(side === 'i' ? SEED_I : SEED_R), config: sessionConfig(side) });
}

export function encodeRecords(records: readonly SessionRecord[]): Uint8Array {
  let n = 0;
  for (const r of records) n += 3 + r.body.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const r of records) {
    const len = r.kind === RecordKind.time ? (r.steps ?? 1) : r.body.length;
    out[o] = r.kind;
    out[o + 1] = len >>> 8;
    out[o + 2] = len & 0xff;
    o += 3;
    if (r.kind !== RecordKind.time) {
      out.set(r.body, o);
      o += r.body.length;
    }
  }
  return out;
}

/** Splits an input into records (total: any bytes give some records). */
export function decodeRecords(input: Uint8Array): SessionRecord[] {
  const out: SessionRecord[] = [];
  let o = 0;
  while (o < input.length) {
    const kind = (input[o]! % 3) as RecordKind;
    if (o + 3 > input.length) {
      out.push({ kind: RecordKind.datagram, body: input.subarray(o) });
      break;
    }
    const len = (input[o + 1]! << 8) | input[o + 2]!;
    o += 3;
    if (kind === RecordKind.time) {
      out.push({ kind, body: new Uint8Array(0), steps: len });
      continue;
    }
    const body = input.subarray(o, Math.min(input.length, o + len));
    o += body.length;
    out.push({ kind, body });
  }
  return out;
}

/** Applies one command to `ep` (on the first SA / child it reports). */
export function runCommand(ep: IkeEndpoint, now: number, cmd: number): void {
  const st = ep.status();
  const sa = st[0];
  const child = sa?.children[0];
  switch (cmd % 5) {
    case Command.rekeyChild: if (child) ep.rekeyChild(now, child.spiIn); break;
    case Command.rekeyIke: if (sa) ep.rekeyIke(now, sa.ikeId); break;
    case Command.terminateChild: if (child) ep.terminateChild(now, child.spiIn); break;
    case Command.terminateIke: if (sa) ep.terminateIke(now, sa.ikeId); break;
    default: ep.initiate(now, 'gw'); break;
  }
}

export interface Session {
  /** Records the initiator received (responder datagrams + initiator commands). */
  readonly toI: SessionRecord[];
  /** Records the responder received. */
  readonly toR: SessionRecord[];
  /** Datagrams each side sent, in order. */
  readonly sentByI: Uint8Array[];
  readonly sentByR: Uint8Array[];
  readonly eventsI: IkeEvent[];
  readonly eventsR: IkeEvent[];
}

/**
 * Establishes an IKE SA and child, rekeys the child from both sides, rekeys the IKE SA, deletes the
 * child from the responder and the IKE SA from the initiator, recording everything.
 */
export function recordSession(): Session {
  const ei = newEndpoint('i');
  const er = newEndpoint('r');
  const s: Session = { toI: [], toR: [], sentByI: [], sentByR: [], eventsI: [], eventsR: [] };
  // Each endpoint keeps its own clock: 1 ms per record it receives (as the replay does).
  const clock = { i: 0, r: 0 };
  const queue: { to: 'i' | 'r'; d: Datagram }[] = [];
  const drain = (): void => {
    for (let d = ei.pollTransmit(); d; d = ei.pollTransmit()) {
      s.sentByI.push(d.data);
      queue.push({ to: 'r', d });
    }
    for (let d = er.pollTransmit(); d; d = er.pollTransmit()) {
      s.sentByR.push(d.data);
      queue.push({ to: 'i', d });
    }
    for (let e = ei.pollEvent(); e; e = ei.pollEvent()) s.eventsI.push(e);
    for (let e = er.pollEvent(); e; e = er.pollEvent()) s.eventsR.push(e);
  };
  const settle = (): void => {
    drain();
    for (let guard = 0; queue.length > 0 && guard < 1000; guard++) {
      const { to, d } = queue.shift()!;
      const ep = to === 'i' ? ei : er;
      const now = ++clock[to];
      (to === 'i' ? s.toI : s.toR).push({ kind: RecordKind.datagram, body: d.data });
      ep.handleDatagram(now, { data: d.data, local: to === 'i' ? ADDR_I : ADDR_R, remote: to === 'i' ? ADDR_R : ADDR_I });
      drain();
    }
  };
  const command = (side: 'i' | 'r', cmd: Command): void => {
    const now = ++clock[side];
    (side === 'i' ? s.toI : s.toR).push({ kind: RecordKind.command, body: Uint8Array.of(cmd) });
    runCommand(side === 'i' ? ei : er, now, cmd);
    settle();
  };
  command('i', Command.initiate);
  command('i', Command.rekeyChild);
  command('r', Command.rekeyChild);
  command('i', Command.rekeyIke);
  command('r', Command.terminateChild);
  command('i', Command.terminateIke);
  return s;
}

/** The records a fresh endpoint of `side` is fed, as bytes. */
export function replay(side: 'i' | 'r', input: Uint8Array, onStep?: (ep: IkeEndpoint) => void): IkeEndpoint {
  const ep = newEndpoint(side);
  let now = 0;
  const local = side === 'i' ? ADDR_I : ADDR_R;
  const remote = side === 'i' ? ADDR_R : ADDR_I;
  for (const r of decodeRecords(input)) {
    now++;
    if (r.kind === RecordKind.datagram) ep.handleDatagram(now, { data: r.body, local, remote });
    else if (r.kind === RecordKind.command) runCommand(ep, now, r.body[0] ?? 0);
    else {
      now += (r.steps ?? 0) * 50;
      const t = ep.nextTimeout();
      if (t !== undefined && t <= now) ep.handleTimeout(now);
    }
    onStep?.(ep);
  }
  return ep;
}
