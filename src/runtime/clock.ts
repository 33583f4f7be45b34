/**
 * Time for the runtime (DESIGN.md rule 1: only src/runtime reads the clock or arms timers).
 *
 * `Clock.now()` is monotonic milliseconds (the `now` every core takes); `wallMs()` is Unix-epoch
 * milliseconds, only for logs and certificate validity. The runtime owns ONE process timer, re-armed to
 * the earliest deadline the cores report through `nextTimeout()` (quinn-proto / wireguard-go style):
 * `Timer.schedule(atMs)`. `SimulatedClock` drives the same `Timer` shape deterministically in tests.
 */

export interface Clock {
  /** Monotonic milliseconds (arbitrary origin, never goes backwards). */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch. */
  wallMs(): number;
}

/** The real clock: performance.now() and Date.now(). */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallMs: () => Date.now(),
};

/** Called when a timer's deadline has passed, with the clock's current `now`. */
export type TimerCallback = (now: number) => void;

/**
 * One re-armable deadline. `schedule(atMs)` keeps the earlier of the pending deadline and `atMs`;
 * `set(atMs)` replaces it (undefined = disarm). The deadline is cleared before the callback runs, so the
 * callback re-arms with the next `nextTimeout()`.
 */
export interface Timer {
  schedule(atMs: number): void;
  set(atMs: number | undefined): void;
  cancel(): void;
  /** The armed deadline (monotonic ms), or undefined. */
  readonly deadline: number | undefined;
}

/** Largest delay setTimeout accepts (2^31-1 ms); longer deadlines re-arm in steps. */
const MAX_TIMEOUT_MS = 0x7fffffff;

/** A Timer backed by one setTimeout, against `clock` (default systemClock). */
export class SystemTimer implements Timer {
  private handle: ReturnType<typeof setTimeout> | undefined;
  private at: number | undefined;
  private readonly clock: Clock;
  private readonly onFire: TimerCallback;
  /** Keep the process alive while armed (default false: a pending timer never blocks exit). */
  private readonly ref: boolean;

  constructor(onFire: TimerCallback, clock: Clock = systemClock, opts: { ref?: boolean } = {}) {
    this.onFire = onFire;
    this.clock = clock;
    this.ref = opts.ref ?? false;
  }

  get deadline(): number | undefined {
    return this.at;
  }

  schedule(atMs: number): void {
    if (this.at === undefined || atMs < this.at) this.set(atMs);
  }

  set(atMs: number | undefined): void {
    if (atMs !== undefined && !Number.isFinite(atMs)) throw new Error(`Timer.set: atMs must be finite, got ${atMs}`);
    this.at = atMs;
    this.arm();
  }

  cancel(): void {
    this.set(undefined);
  }

  private arm(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    if (this.at === undefined) return;
    const delay = Math.min(MAX_TIMEOUT_MS, Math.max(0, Math.ceil(this.at - this.clock.now())));
    this.handle = setTimeout(this.fire, delay);
    if (!this.ref) this.handle.unref();
  }

  private readonly fire = (): void => {
    this.handle = undefined;
    const now = this.clock.now();
    if (this.at === undefined) return;
    if (now < this.at) {
      // setTimeout rounds to whole ms and may wake a hair early relative to performance.now().
      this.arm();
      return;
    }
    this.at = undefined;
    this.onFire(now);
  };
}

/**
 * A manually advanced clock for deterministic tests. Timers made with `createTimer` fire inside
 * `advance`/`advanceTo`, in deadline order, with `now()` equal to their deadline while they run.
 */
export class SimulatedClock implements Clock {
  private nowMs: number;
  private readonly wallOriginMs: number;
  private readonly startMs: number;
  private readonly timers = new Set<SimulatedTimer>();

  constructor(startMs = 0, wallOriginMs = 1_700_000_000_000) {
    this.nowMs = startMs;
    this.startMs = startMs;
    this.wallOriginMs = wallOriginMs;
  }

  now(): number {
    return this.nowMs;
  }

  wallMs(): number {
    return this.wallOriginMs + (this.nowMs - this.startMs);
  }

  /** Advances by `ms`, firing due timers in deadline order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`SimulatedClock.advance: ms must be >= 0, got ${ms}`);
    this.advanceTo(this.nowMs + ms);
  }

  /** Advances to absolute `atMs` (never backwards), firing due timers in deadline order. */
  advanceTo(atMs: number): void {
    if (atMs < this.nowMs) throw new Error(`SimulatedClock.advanceTo: ${atMs} is before now ${this.nowMs}`);
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new Error('SimulatedClock.advanceTo: timers keep re-arming at the same instant');
      const next = this.earliest();
      if (next === undefined || next.deadline === undefined || next.deadline > atMs) break;
      if (next.deadline > this.nowMs) this.nowMs = next.deadline;
      next.fireNow(this.nowMs);
    }
    this.nowMs = atMs;
  }

  /** The earliest armed timer deadline, if any. */
  nextDeadline(): number | undefined {
    return this.earliest()?.deadline;
  }

  createTimer(onFire: TimerCallback): SimulatedTimer {
    const t = new SimulatedTimer(onFire, this.timers);
    this.timers.add(t);
    return t;
  }

  private earliest(): SimulatedTimer | undefined {
    let best: SimulatedTimer | undefined;
    for (const t of this.timers) {
      if (t.deadline === undefined) continue;
      if (best === undefined || t.deadline < (best.deadline as number)) best = t;
    }
    return best;
  }
}

/** A Timer that fires only when its SimulatedClock is advanced past the deadline. */
export class SimulatedTimer implements Timer {
  private at: number | undefined;
  private readonly onFire: TimerCallback;
  private readonly registry: Set<SimulatedTimer>;

  constructor(onFire: TimerCallback, registry: Set<SimulatedTimer>) {
    this.onFire = onFire;
    this.registry = registry;
  }

  get deadline(): number | undefined {
    return this.at;
  }

  schedule(atMs: number): void {
    if (this.at === undefined || atMs < this.at) this.set(atMs);
  }

  set(atMs: number | undefined): void {
    if (atMs !== undefined && !Number.isFinite(atMs)) throw new Error(`Timer.set: atMs must be finite, got ${atMs}`);
    this.at = atMs;
  }

  cancel(): void {
    this.at = undefined;
  }

  /** Removes the timer from its clock for good. */
  dispose(): void {
    this.at = undefined;
    this.registry.delete(this);
  }

  /** @internal used by SimulatedClock. */
  fireNow(now: number): void {
    this.at = undefined;
    this.onFire(now);
  }
}

/** A Timer on `clock`: simulated when the clock is a SimulatedClock, setTimeout-backed otherwise. */
export function createTimer(clock: Clock, onFire: TimerCallback): Timer {
  return clock instanceof SimulatedClock ? clock.createTimer(onFire) : new SystemTimer(onFire, clock);
}
