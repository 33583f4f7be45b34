/** RFC 7296 §2.1–§2.3 window, retransmission and response cache (ExchangeQueue). */
import { describe, expect, it } from 'vitest';
import { ExchangeQueue } from '../../src/ike/exchange-queue.js';

const rt = { timeoutMs: 4000, base: 1.8, tries: 5, maxIntervalMs: 600_000 };

describe('ExchangeQueue', () => {
  it('retransmits with 4 s × 1.8^n and gives up after 5 retransmits', () => {
    const q = new ExchangeQueue<string>(rt);
    const req = [new Uint8Array([1])];
    expect(q.sendRequest(0, 37, req, 'dpd')).toBe(0);
    expect(q.busy).toBe(true);
    expect(() => q.sendRequest(0, 37, req, 'x')).toThrow(/outstanding/);
    const times: number[] = [];
    let now = 0;
    for (;;) {
      now = q.nextTimeout()!;
      const t = q.handleTimeout(now)!;
      if (t.kind === 'give-up') break;
      expect(t.datagrams).toBe(req);
      times.push(Math.round(now));
    }
    // 4, 4+7.2, +12.96, +23.328, +41.99 (s) ; give-up after the 6th interval (75.58 s)
    expect(times).toEqual([4000, 11200, 24160, 47488, 89478]);
    expect(Math.round(now)).toBe(89478 + 75583);
    expect(q.busy).toBe(false);
  });

  it('matches responses only to the outstanding request', () => {
    const q = new ExchangeQueue<string>(rt);
    q.sendRequest(0, 36, [], 'a');
    expect(q.takeResponse(5)).toBeUndefined();
    expect(q.takeResponse(0)?.context).toBe('a');
    expect(q.takeResponse(0)).toBeUndefined();
    expect(q.nextRequestId).toBe(1);
  });

  it('classifies peer requests: new, retransmit (cached response), out of window', () => {
    const q = new ExchangeQueue<string>(rt);
    expect(q.classifyRequest(0)).toBe('new');
    expect(q.classifyRequest(1)).toBe('out-of-window');
    const resp = [new Uint8Array([9])];
    q.recordResponse(0, resp);
    expect(q.classifyRequest(0)).toBe('retransmit');
    expect(q.cachedResponse()).toBe(resp);
    expect(q.classifyRequest(1)).toBe('new');
    expect(q.classifyRequest(7)).toBe('out-of-window');
  });

  it('reuses Message ID 0 for a COOKIE / INVALID_KE_PAYLOAD retry', () => {
    const q = new ExchangeQueue<string>(rt);
    q.sendRequest(0, 34, [], 'init');
    q.takeResponse(0);
    q.reuseLastRequestId();
    expect(q.sendRequest(1, 34, [], 'init2')).toBe(0);
  });
});
