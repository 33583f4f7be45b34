/**
 * SK protection of one IKE SA's messages (RFC 7296 §3.14; AEAD per RFC 5282 §5 / RFC 7634 §3) with
 * IKE fragmentation (RFC 7383): an adapter from the engine's `MessageProtection` interface to the
 * codec's `SkCipher` / `encodeProtected` / `openProtected` (sk.ts) and `FragmentReassembler`
 * (fragments.ts).
 *
 *   HDR, SK {inner}                                     (message fits `fragmentSize`, or no RFC 7383)
 *   HDR, SKF(1/n) {part 1}, …, HDR, SKF(n/n) {part n}   (RFC 7383 §2.5: each fragment sealed on its own)
 *
 * Receiving (RFC 7383 §2.6): every SKF fragment is integrity-checked before it is stored; the
 * message is handed on once all fragments are in, decoded as one inner payload chain. Limits on
 * fragment count, reassembled bytes and messages under reassembly come from `FragmentReassembler`.
 */
import type { CryptoProvider, RandomSource } from '../crypto/types.js';
import { fail, type DecodeResult } from './decode-result.js';
import { FragmentReassembler, type FragmentLimits, type FragmentStats } from './fragments.js';
import type { HeaderFields } from './header.js';
import { skKeysFor, type IkeKeys } from './keys.js';
import type { IkeMessage } from './message.js';
import { PayloadType, type Payload } from './payloads/types.js';
import type { NegotiatedAlgorithms } from './proposals.js';
import { SkCipher, encodeProtected, openProtected } from './sk.js';

export interface MessageProtection {
  /**
   * HDR, SK {inner}, or RFC 7383 SKF fragments when `fragmentSize` (the largest IKE message,
   * header included) is set and the message would exceed it.
   */
  seal(header: HeaderFields, inner: readonly Payload[], fragmentSize: number | undefined): Uint8Array[];
  /**
   * Verifies and decrypts. 'incomplete': an SKF fragment was authenticated and stored, more are
   * needed. Error codes: 'icv' (integrity check failed: drop silently), 'bad-fragment' /
   * 'fragment-limit' (a fragment we will not use), others are decode errors of the inner chain.
   */
  open(raw: Uint8Array, msg: IkeMessage): DecodeResult<Payload[]> | 'incomplete';
  /** Reassembly counters (RFC 7383 §2.6). */
  readonly fragmentStats: FragmentStats;
}

/** fragmentStats before any SKF fragment arrived. */
const NO_FRAGMENTS: FragmentStats = Object.freeze({ accepted: 0, duplicates: 0, icvFailures: 0, badFragments: 0, limitHits: 0, restarts: 0, evictions: 0, completed: 0 });

export function makeSkProtection(
  provider: CryptoProvider,
  rng: RandomSource,
  algs: NegotiatedAlgorithms,
  keys: IkeKeys,
  initiator: boolean,
  fragmentLimits?: Partial<FragmentLimits>,
  onFragmentStat?: (k: keyof FragmentStats) => void,
): MessageProtection {
  return new SkProtection(
    new SkCipher(provider, skKeysFor(algs, keys, initiator ? 'i' : 'r')),
    new SkCipher(provider, skKeysFor(algs, keys, initiator ? 'r' : 'i')),
    rng,
    fragmentLimits,
    onFragmentStat,
  );
}

/**
 * One object with fields rather than four closures over a context (seal, open, the fragmentStats
 * getter, the IV source): ~300 bytes of heap less per IKE SA, which keeps its protection for life.
 */
class SkProtection implements MessageProtection {
  // The reassembler (a Map, limits and 8 counters) is made at the first SKF fragment: most IKE SAs
  // never see one, and each costs heap per SA and CPU per establishment (bench/ike.ts).
  private reassembler: FragmentReassembler | undefined = undefined;

  constructor(
    private readonly out: SkCipher,
    private readonly inn: SkCipher,
    private readonly rng: RandomSource,
    private readonly fragmentLimits: Partial<FragmentLimits> | undefined,
    private readonly onFragmentStat: ((k: keyof FragmentStats) => void) | undefined,
  ) {}

  get fragmentStats(): FragmentStats {
    return this.reassembler?.stats ?? NO_FRAGMENTS;
  }

  seal(header: HeaderFields, inner: readonly Payload[], fragmentSize: number | undefined): Uint8Array[] {
    const rng = this.rng;
    return encodeProtected(header, inner, this.out, (n) => rng.fill(new Uint8Array(n)), fragmentSize === undefined ? undefined : { fragmentSize });
  }

  open(raw: Uint8Array, msg: IkeMessage): DecodeResult<Payload[]> | 'incomplete' {
    const last = msg.payloads[msg.payloads.length - 1];
    if (last && last.type === PayloadType.SKF) {
      this.reassembler ??= new FragmentReassembler(this.fragmentLimits, this.onFragmentStat);
      const r = this.reassembler.add(raw, msg, this.inn);
      if (r.status === 'incomplete') return 'incomplete';
      if (r.status === 'error') return { ok: false, error: r.error };
      return { ok: true, value: r.payloads };
    }
    if (!last || last.type !== PayloadType.SK) return fail('missing-sk', 'message has no SK or SKF payload');
    return openProtected(raw, msg, this.inn);
  }
}
