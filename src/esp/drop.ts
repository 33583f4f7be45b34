/**
 * ESP drop codes (DESIGN.md rule 5 and rule 8): untrusted bytes never throw, they end in one of these
 * numeric codes, counted per SA in a fixed-size `Uint32Array` indexed by the code (no maps, strings or
 * closures per packet). `espOpen` returns a `Drop` (`Drop.ok` = delivered); `espSeal` returns a
 * non-negative length or the negated `Drop` code.
 *
 * The order of the inbound codes follows the RFC 4303 §3.4 processing order (DESIGN.md §4).
 */
export const Drop = {
  /** Delivered. */
  ok: 0,
  /** Shorter than the ESP header, IV, trailer and ICV of its SA (RFC 4303 §2). */
  short: 1,
  /** No inbound SA with this SPI (RFC 4303 §3.4.2: "discard … auditable event"). */
  unknownSpi: 2,
  /** Duplicate or left of the anti-replay window (RFC 4303 §3.4.3). */
  replay: 3,
  /** ICV did not verify (RFC 4303 §3.4.4.1). */
  icv: 4,
  /** Pad Length larger than the payload, or padding bytes not 1, 2, 3, … (RFC 4303 §2.4). */
  padding: 5,
  /** Dummy packet, Next Header 59 (RFC 4303 §2.6): dropped silently, counted apart. */
  dummy: 6,
  /** Tunnel mode: inner packet is not a well-formed IPv4/IPv6 packet matching Next Header. */
  innerHeader: 7,
  /** Inner packet outside the SA's traffic selectors (RFC 4301 §5.2 step 4). */
  policy: 8,
  /** Outbound sequence number would cycle (RFC 4303 §3.3.3): rekey. */
  seqExhausted: 9,
  /** Hard byte or packet lifetime reached (RFC 4301 §4.4.2.1). */
  lifetimeExpired: 10,
  /** Ciphertext not a whole number of cipher blocks (CBC, RFC 3602 §3). */
  malformed: 11,
  /** Seal: not enough headroom/tailroom in the caller's buffer, or bad bounds. */
  buffer: 12,
  /** SA used in the wrong direction (seal on inbound, open on outbound). */
  direction: 13,
} as const;
export type Drop = (typeof Drop)[keyof typeof Drop];

/** Number of drop codes: the length of every per-SA drop counter array. */
export const DROP_COUNT = 14;

/** Names indexed by code, for logs and metrics (never used on the hot path). */
export const DROP_NAMES: readonly string[] = (() => {
  const names: string[] = new Array<string>(DROP_COUNT).fill('');
  for (const [name, code] of Object.entries(Drop)) names[code] = name;
  return names;
})();

/** The name of a drop code, or `unknown(<n>)` for a number outside the table. */
export function dropName(code: number): string {
  return DROP_NAMES[code] ?? `unknown(${code})`;
}

/** A fresh per-SA/per-SAD drop counter array. */
export function newDropCounters(): Uint32Array {
  return new Uint32Array(DROP_COUNT);
}
