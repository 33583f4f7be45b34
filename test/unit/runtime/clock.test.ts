import { describe, expect, it } from 'vitest';
import { createTimer, SimulatedClock, SimulatedTimer, SystemTimer, systemClock } from '../../../src/runtime/clock.js';

describe('SimulatedClock', () => {
  it('advances now and wall time together and never goes backwards', () => {
    const c = new SimulatedClock(50, 1_000_000);
    c.advance(25);
    expect(c.now()).toBe(75);
    expect(c.wallMs()).toBe(1_000_025);
    expect(() => c.advanceTo(10)).toThrow(/before now/);
    expect(() => c.advance(-1)).toThrow(/ms/);
  });

  it('fires timers in deadline order with now equal to each deadline, and lets callbacks re-arm', () => {
    const c = new SimulatedClock();
    const log: string[] = [];
    const a = c.createTimer((now) => {
      log.push(`a@${now}`);
      if (now < 30) a.schedule(now + 10);
    });
    const b = c.createTimer((now) => log.push(`b@${now}`));
    a.schedule(10);
    b.schedule(15);
    c.advance(100);
    expect(log).toEqual(['a@10', 'b@15', 'a@20', 'a@30']);
    expect(c.now()).toBe(100);
    expect(c.nextDeadline()).toBeUndefined();
  });

  it('schedule keeps the earliest deadline, set replaces it, cancel disarms', () => {
    const c = new SimulatedClock();
    const fired: number[] = [];
    const t = c.createTimer((now) => fired.push(now));
    t.schedule(50);
    t.schedule(80);
    expect(t.deadline).toBe(50);
    t.set(90);
    expect(t.deadline).toBe(90);
    c.advance(89);
    expect(fired).toEqual([]);
    c.advance(1);
    expect(fired).toEqual([90]);
    t.schedule(100);
    t.cancel();
    c.advance(50);
    expect(fired).toEqual([90]);
    expect(() => t.set(Number.NaN)).toThrow(/atMs/);
  });

  it('createTimer picks the simulated timer for a simulated clock', () => {
    expect(createTimer(new SimulatedClock(), () => {})).toBeInstanceOf(SimulatedTimer);
    const real = createTimer(systemClock, () => {});
    expect(real).toBeInstanceOf(SystemTimer);
    real.cancel();
  });
});

describe('SystemTimer', () => {
  it('fires once at (not before) the deadline on the monotonic clock', async () => {
    const start = systemClock.now();
    const firedAt = await new Promise<number>((resolve) => {
      const t = new SystemTimer(resolve, systemClock, { ref: true });
      t.schedule(start + 40);
      t.schedule(start + 30); // earlier wins
    });
    expect(firedAt - start).toBeGreaterThanOrEqual(30);
    expect(firedAt - start).toBeLessThan(1000);
  });

  it('does not fire after cancel', async () => {
    let fired = false;
    const t = new SystemTimer(() => (fired = true), systemClock, { ref: true });
    t.schedule(systemClock.now() + 5);
    t.cancel();
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(false);
  });
});
