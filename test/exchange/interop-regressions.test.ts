/**
 * Regressions found by the strongSwan interop scenarios (test/interop/strongswan-fail.test.ts,
 * strongswan-lifecycle.test.ts), pinned at the two-endpoint exchange layer.
 */
import { describe, expect, it } from 'vitest';
import { pskPair } from './harness.js';

describe('interop regressions', () => {
  it('NO_PROPOSAL_CHOSEN in IKE_SA_INIT: the ike-down detail names the notify (not "notify 14")', () => {
    // strongswan-fail "IKE proposals disjoint": `tsipsec initiate` must say why it failed.
    const p = pskPair({ proposals: ['aes256gcm16-prfsha256-modp2048'] }, { proposals: ['aes128-sha256-ecp256'] });
    p.a.initiate(p.now, 'gw');
    p.runUntil(() => p.count('a', 'ike-down') > 0, 10_000);
    const down = p.of('a', 'ike-down')[0]!;
    expect(down.reason).toBe('no-proposal');
    expect(down.detail).toMatch(/\bNO_PROPOSAL_CHOSEN\b/);
    expect(down.detail).not.toMatch(/notify 14/);
  });
});
