/**
 * Message IDs, the request window, retransmission and the response cache of one IKE SA
 * (RFC 7296 §2.1–§2.3; DESIGN.md rule 4: exchanges never see retransmits).
 *
 * - Window size 1 in both directions (§2.3: the default; we never send SET_WINDOW_SIZE).
 * - Our requests: one outstanding at a time, retransmitted unchanged with exponential backoff
 *   (strongSwan: timeout × base^n, `tries` retransmits; defaults 4 s, 1.8, 5) until a response
 *   with the same Message ID arrives, or the schedule runs out ("give up": the SA is dead, §2.4).
 * - Peer's requests: the next expected Message ID is processed; the previous one is a retransmit
 *   and gets the cached response again (§2.2: "the responder MUST retransmit the response"), with no
 *   second state change; anything else is outside the window and dropped (§2.3).
 * - Responses that match no outstanding request are dropped.
 *
 * Generic over `T`, the context the initiating exchange wants back with its response.
 */
import type { RetransmitConfig } from './config.js';

export interface OutstandingRequest<T> {
  readonly messageId: number;
  readonly exchangeType: number;
  datagrams: readonly Uint8Array[];
  /** Retransmissions sent so far. */
  retransmits: number;
  nextAtMs: number;
  readonly sentAtMs: number;
  readonly context: T;
}

export type RequestClass = 'new' | 'retransmit' | 'out-of-window';

export type QueueTimeout<T> = { readonly kind: 'retransmit'; readonly datagrams: readonly Uint8Array[] } | { readonly kind: 'give-up'; readonly exchangeType: number; readonly context: T };

export class ExchangeQueue<T> {
  /** Message ID of our next request. */
  private nextId = 0;
  /** Message ID we expect on the peer's next request. */
  private expectedPeerId = 0;
  private out: OutstandingRequest<T> | undefined;
  private cached: { readonly messageId: number; readonly datagrams: readonly Uint8Array[] } | undefined;

  constructor(private readonly retransmit: RetransmitConfig) {}

  /** The Message ID the next `sendRequest` will use (needed to build the header first). */
  get nextRequestId(): number {
    return this.nextId;
  }

  get expectedRequestId(): number {
    return this.expectedPeerId;
  }

  /** True while a request of ours waits for its response (window size 1). */
  get busy(): boolean {
    return this.out !== undefined;
  }

  get outstanding(): OutstandingRequest<T> | undefined {
    return this.out;
  }

  private interval(n: number): number {
    return Math.min(this.retransmit.timeoutMs * Math.pow(this.retransmit.base, n), this.retransmit.maxIntervalMs);
  }

  /** Records a request just encoded with `nextRequestId`; returns its Message ID. Throws if busy. */
  sendRequest(now: number, exchangeType: number, datagrams: readonly Uint8Array[], context: T): number {
    if (this.out) throw new Error(`ExchangeQueue: request ${this.out.messageId} still outstanding`);
    const messageId = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    this.out = { messageId, exchangeType, datagrams, retransmits: 0, nextAtMs: now + this.interval(0), sentAtMs: now, context };
    return messageId;
  }

  /**
   * RFC 7296 §2.6 / §1.2: after a COOKIE or INVALID_KE_PAYLOAD answer the IKE_SA_INIT request is
   * sent again with Message ID 0. Call after `takeResponse` accepted the answer.
   */
  reuseLastRequestId(): void {
    this.nextId = (this.nextId - 1) >>> 0;
  }

  /**
   * A response arrived with `messageId`: returns the outstanding request's context and clears it,
   * or undefined when it answers nothing we are waiting for (a late duplicate: drop it).
   */
  takeResponse(messageId: number): OutstandingRequest<T> | undefined {
    const o = this.out;
    if (!o || o.messageId !== messageId) return undefined;
    this.out = undefined;
    return o;
  }

  /** Peeks without clearing (to check the exchange type before accepting). */
  matchesResponse(messageId: number): boolean {
    return this.out !== undefined && this.out.messageId === messageId;
  }

  /** Where a peer request with `messageId` falls relative to the window. */
  classifyRequest(messageId: number): RequestClass {
    if (messageId === this.expectedPeerId) return 'new';
    if (this.cached && messageId === this.cached.messageId) return 'retransmit';
    return 'out-of-window';
  }

  /** The cached response to resend for a retransmitted request. */
  cachedResponse(): readonly Uint8Array[] {
    return this.cached?.datagrams ?? [];
  }

  /**
   * Accepts the peer's request `messageId` (must be 'new') and stores our response for
   * retransmits. Every processed request gets exactly one response (§2.1).
   */
  recordResponse(messageId: number, datagrams: readonly Uint8Array[]): void {
    this.cached = { messageId, datagrams };
    this.expectedPeerId = (messageId + 1) >>> 0;
  }

  /** Drives retransmission; returns what to do when a timer is due. */
  handleTimeout(now: number): QueueTimeout<T> | undefined {
    const o = this.out;
    if (!o || now < o.nextAtMs) return undefined;
    if (o.retransmits >= this.retransmit.tries) {
      this.out = undefined;
      return { kind: 'give-up', exchangeType: o.exchangeType, context: o.context };
    }
    o.retransmits++;
    o.nextAtMs = now + this.interval(o.retransmits);
    return { kind: 'retransmit', datagrams: o.datagrams };
  }

  /** Replaces the bytes of the outstanding request (e.g. switched to fragments on retransmit). */
  replaceDatagrams(datagrams: readonly Uint8Array[]): void {
    if (this.out) this.out.datagrams = datagrams;
  }

  /** Drops the outstanding request without a response (the SA is being torn down). */
  abandon(): OutstandingRequest<T> | undefined {
    const o = this.out;
    this.out = undefined;
    return o;
  }

  nextTimeout(): number | undefined {
    return this.out?.nextAtMs;
  }
}
