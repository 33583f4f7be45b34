/**
 * IKE message fragmentation reassembly (RFC 7383 §2.6).
 *
 * Each SKF fragment is integrity-checked and decrypted on its own (§2.6.1: "the receiver MUST
 * validate each fragment's integrity … before storing it"), so a forged fragment never occupies
 * memory. Fragments are grouped by (response flag, Message ID); the decrypted pieces are joined
 * in Fragment Number order and the result decoded as one inner payload chain whose first type
 * came in fragment 1.
 *
 * Per §2.6.1:
 *  - Fragment Number 0, or greater than Total Fragments: discard ('bad-fragment').
 *  - Total Fragments larger than the one already seen for this message: the sender changed its
 *    fragment size (PMTU); drop what we have and restart with the new total.
 *  - Total Fragments smaller than already seen: discard the fragment ('bad-fragment').
 *  - A fragment number already held: a duplicate, silently ignored ('incomplete').
 * Limits (counted in `stats.limitHits`): total fragments per message, decrypted bytes per message,
 * and messages under reassembly at once (the oldest is evicted to make room).
 * No timers here (DESIGN.md rule 1): the owner calls `discard`/`clear` when an exchange ends.
 */
import type { DecodeError } from './decode-result.js';
import { fail } from './decode-result.js';
import { HeaderFlag } from './constants.js';
import { IKE_HEADER_LENGTH } from './header.js';
import { decodePayloadChain, type IkeMessage } from './message.js';
import { PayloadType, type Payload, type SkfPayload } from './payloads/types.js';
import type { SkCipher } from './sk.js';

export interface FragmentLimits {
  /** Largest Total Fragments accepted. */
  readonly maxFragments: number;
  /** Largest reassembled (decrypted) message. */
  readonly maxBytes: number;
  /** Messages under reassembly at once. */
  readonly maxMessages: number;
}

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = { maxFragments: 32, maxBytes: 65536, maxMessages: 4 };

export type FragmentResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'complete'; readonly payloads: Payload[]; readonly firstType: number }
  | { readonly status: 'error'; readonly error: DecodeError };

export interface FragmentStats {
  /** Fragments that passed the integrity check and were stored. */
  accepted: number;
  duplicates: number;
  icvFailures: number;
  badFragments: number;
  limitHits: number;
  restarts: number;
  evictions: number;
  completed: number;
}

interface Pending {
  total: number;
  firstType: number;
  bytes: number;
  pieces: Map<number, Uint8Array>;
}

const INCOMPLETE: FragmentResult = { status: 'incomplete' };

export class FragmentReassembler {
  readonly limits: FragmentLimits;
  readonly stats: FragmentStats = { accepted: 0, duplicates: 0, icvFailures: 0, badFragments: 0, limitHits: 0, restarts: 0, evictions: 0, completed: 0 };
  private readonly pendingByKey = new Map<string, Pending>();

  private bump(k: keyof FragmentStats): void {
    this.stats[k]++;
    this.onStat?.(k);
  }

  /** Called for every stats increment too, so an endpoint can keep totals over all its IKE SAs. */
  private readonly onStat: ((k: keyof FragmentStats) => void) | undefined;

  constructor(limits?: Partial<FragmentLimits>, onStat?: (k: keyof FragmentStats) => void) {
    this.onStat = onStat;
    this.limits = { ...DEFAULT_FRAGMENT_LIMITS, ...limits };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`FragmentReassembler limits.${k} must be a positive integer, got ${v}`);
    }
  }

  /** Messages currently under reassembly. */
  get pending(): number {
    return this.pendingByKey.size;
  }

  /** Forgets a partially reassembled message (e.g. its exchange was abandoned). */
  discard(messageId: number, isResponse: boolean): void {
    this.pendingByKey.delete(key(messageId, isResponse));
  }

  clear(): void {
    this.pendingByKey.clear();
  }

  /** Adds one datagram `raw` (decoded as `msg`, whose last payload is SKF). Never throws. */
  add(raw: Uint8Array, msg: IkeMessage, cipher: SkCipher): FragmentResult {
    const last = msg.payloads[msg.payloads.length - 1];
    if (!last || last.type !== PayloadType.SKF || !('fragmentNumber' in last)) return error(fail('missing-sk', 'message has no SKF payload'));
    const skf: SkfPayload = last;
    if (msg.header.length !== raw.length || skf.body.length > raw.length - IKE_HEADER_LENGTH - 8) {
      return error(fail('bad-length', 'decoded message does not match the raw datagram'));
    }
    const { fragmentNumber: n, totalFragments: total } = skf;
    if (n < 1 || total < 1 || n > total) {
      this.bump('badFragments');
      return error(fail('bad-fragment', `fragment ${n} of ${total}`));
    }
    if (total > this.limits.maxFragments) {
      this.bump('limitHits');
      return error(fail('fragment-limit', `${total} fragments exceed the limit of ${this.limits.maxFragments}`));
    }
    const bodyStart = raw.length - skf.body.length;
    const plain = cipher.open(raw.subarray(0, bodyStart), raw.subarray(bodyStart));
    if (plain === null) {
      this.bump('icvFailures');
      return error(fail('icv', `SKF fragment ${n}/${total} integrity check failed`));
    }

    const k = key(msg.header.messageId, (msg.header.flags & HeaderFlag.RESPONSE) !== 0);
    let p = this.pendingByKey.get(k);
    if (p && total !== p.total) {
      if (total < p.total) {
        this.bump('badFragments');
        return error(fail('bad-fragment', `Total Fragments ${total} smaller than the ${p.total} already seen`));
      }
      this.bump('restarts');
      this.pendingByKey.delete(k);
      p = undefined;
    }
    if (!p) {
      while (this.pendingByKey.size >= this.limits.maxMessages) {
        const oldest = this.pendingByKey.keys().next().value as string;
        this.pendingByKey.delete(oldest);
        this.bump('evictions');
        this.bump('limitHits');
      }
      p = { total, firstType: 0, bytes: 0, pieces: new Map() };
      this.pendingByKey.set(k, p);
    }
    if (p.pieces.has(n)) {
      this.bump('duplicates');
      return INCOMPLETE;
    }
    if (p.bytes + plain.length > this.limits.maxBytes) {
      this.pendingByKey.delete(k);
      this.bump('limitHits');
      return error(fail('fragment-limit', `reassembled message would exceed ${this.limits.maxBytes} bytes`));
    }
    p.pieces.set(n, plain);
    p.bytes += plain.length;
    if (n === 1) p.firstType = skf.innerType;
    this.bump('accepted');
    if (p.pieces.size < p.total) return INCOMPLETE;

    this.pendingByKey.delete(k);
    const whole = new Uint8Array(p.bytes);
    let at = 0;
    for (let i = 1; i <= p.total; i++) {
      const piece = p.pieces.get(i)!;
      whole.set(piece, at);
      at += piece.length;
    }
    this.bump('completed');
    const d = decodePayloadChain(p.firstType, whole);
    if (!d.ok) return { status: 'error', error: d.error };
    return { status: 'complete', payloads: d.value, firstType: p.firstType };
  }
}

function key(messageId: number, isResponse: boolean): string {
  return `${isResponse ? 'R' : 'Q'}${messageId}`;
}

function error(r: { readonly ok: false; readonly error: DecodeError }): FragmentResult {
  return { status: 'error', error: r.error };
}
