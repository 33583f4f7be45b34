/**
 * swanctl start_action / dpd_action / close_action = trap → the engine config the runtime's trap
 * policies read (runtime/traps.ts); a trap needs a concrete local address to initiate from.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSwanctlConfig } from '../../../src/config/load.js';
import { ikeConfigFromSwanctl } from '../../../src/runtime/from-swanctl.js';

const dir = mkdtempSync(join(tmpdir(), 'tstrap-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mapped(childLines: string, localAddrs = 'local_addrs = 198.18.0.1') {
  const file = join(dir, `swanctl-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, `connections {
  gw {
    ${localAddrs}
    remote_addrs = 198.18.0.2
    local { auth = psk
            id = a.test }
    remote { auth = psk
             id = b.test }
    children { net { local_ts = 198.19.1.0/24
                     remote_ts = 198.19.2.0/24
                     ${childLines} } }
  }
}
secrets { ike-1 { secret = "a pre-shared key for the trap test" } }
`);
  const { config } = loadSwanctlConfig(file, { loadCredentialDirs: false });
  return ikeConfigFromSwanctl(config);
}

describe('ikeConfigFromSwanctl: trap', () => {
  it.each([
    ['start_action = trap', 'trap'],
    ['start_action = trap|start', 'trap|start'],
    ['start_action = route', 'trap'],
    ['start_action = start', 'start'],
  ])('%s → startAction %s, without a warning', (line, want) => {
    const m = mapped(line);
    expect(m.ike.connections[0]!.children![0]!.startAction).toBe(want);
    expect(m.warnings.filter((w) => /trap/.test(w))).toEqual([]);
  });

  it('dpd_action = trap and close_action = trap|start reach the child config', () => {
    expect(mapped('dpd_action = trap').ike.connections[0]!.children![0]!.dpdAction).toBe('trap');
    expect(mapped('close_action = trap').ike.connections[0]!.children![0]!.closeAction).toBe('trap');
    expect(mapped('close_action = start').ike.connections[0]!.children![0]!.closeAction).toBe('start');
    expect(mapped('').ike.connections[0]!.children![0]!.closeAction).toBe('none');
  });

  it('a trap without a concrete local address is a configuration error naming the keys', () => {
    expect(() => mapped('start_action = trap', '')).toThrow(/children\.net: a trap .* connections\.gw\.local_addrs/);
    expect(() => mapped('dpd_action = trap', 'local_addrs = %any')).toThrow(/local_addrs/);
    expect(() => mapped('start_action = start', '')).not.toThrow();
  });
});
