/**
 * strongswan.conf(5) charon.retransmit_* → the engine's retransmit schedule (src/runtime/strongswan-conf.ts),
 * the knob the DPD interop scenario needs to declare a dead peer in seconds.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStrongswanConf, parseStrongswanConf } from '../../../src/runtime/strongswan-conf.js';
import { resolveConfig } from '../../../src/ike/config.js';

describe('strongswan.conf retransmit settings', () => {
  it('maps timeout/limit seconds to ms, keeps base and tries, ignores every other charon key', () => {
    const s = parseStrongswanConf(`charon {
  load_modular = no
  retransmit_timeout = 0.5
  retransmit_base = 1.5
  retransmit_tries = 3
  retransmit_limit = 10
  filelog { main { path = /x } }
}
libstrongswan { x = y }
`);
    expect(s.retransmit).toEqual({ timeoutMs: 500, base: 1.5, tries: 3, maxIntervalMs: 10_000 });
    // The engine accepts the result and fills the rest with its defaults.
    expect(resolveConfig({ connections: [], limits: { retransmit: s.retransmit } }).limits.retransmit).toEqual({ timeoutMs: 500, base: 1.5, tries: 3, maxIntervalMs: 10_000 });
  });

  it('an empty file or one without a charon section changes nothing; retransmit_limit = 0 means no cap', () => {
    expect(parseStrongswanConf('').retransmit).toEqual({});
    expect(parseStrongswanConf('swanctl { socket = unix:///x }').retransmit).toEqual({});
    expect(parseStrongswanConf('charon { retransmit_limit = 0 }').retransmit).toEqual({});
  });

  it.each([
    ['retransmit_timeout = 0', 'charon.retransmit_timeout'],
    ['retransmit_timeout = fast', 'charon.retransmit_timeout'],
    ['retransmit_base = 0.5', 'charon.retransmit_base'],
    ['retransmit_tries = 2.5', 'charon.retransmit_tries'],
    ['retransmit_limit = -1', 'charon.retransmit_limit'],
  ])('rejects %s naming file:line and the key', (line, key) => {
    expect(() => parseStrongswanConf(`charon {\n  ${line}\n}\n`, '/etc/strongswan.conf')).toThrow(new RegExp(`/etc/strongswan\\.conf:2: ${key.replace('.', '\\.')}`));
  });

  it('follows include like charon does (the last definition wins)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsipsec-ssconf-'));
    try {
      mkdirSync(join(dir, 'strongswan.d'));
      writeFileSync(join(dir, 'strongswan.d', 'charon.conf'), 'charon {\n  retransmit_tries = 2\n  retransmit_timeout = 1\n}\n');
      writeFileSync(join(dir, 'strongswan.conf'), `charon {\n  retransmit_tries = 7\n}\ninclude ${join(dir, 'strongswan.d')}/*.conf\n`);
      expect(loadStrongswanConf(join(dir, 'strongswan.conf')).retransmit).toEqual({ tries: 2, timeoutMs: 1000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
