/**
 * swanctl `encap` → the engine's `encap`: tsipsec forces ESP-in-UDP unless the file says `encap = no`
 * (strongSwan's own default is no); an explicit `encap = no` asks for raw ESP when no NAT is seen.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSwanctlConfig } from '../../../src/config/load.js';
import { ikeConfigFromSwanctl } from '../../../src/runtime/from-swanctl.js';

const dir = mkdtempSync(join(tmpdir(), 'tsraw-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mapped(encapLine: string) {
  const file = join(dir, `swanctl-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, `connections {
  gw {
    local_addrs = 198.18.0.1
    remote_addrs = 198.18.0.2
    ${encapLine}
    local { auth = psk
            id = a.test }
    remote { auth = psk
             id = b.test }
    children { net { local_ts = 198.19.1.0/24
                     remote_ts = 198.19.2.0/24 } }
  }
}
secrets { ike-1 { secret = "a pre-shared key for the encap test" } }
`);
  const { config } = loadSwanctlConfig(file, { loadCredentialDirs: false });
  return ikeConfigFromSwanctl(config);
}

describe('ikeConfigFromSwanctl: encap', () => {
  it('no encap setting: forced ESP-in-UDP (tsipsec default, unlike strongSwan), no warning', () => {
    const m = mapped('');
    expect(m.ike.connections[0]!.encap).toBe(true);
    expect(m.warnings.filter((w) => /encap/.test(w))).toEqual([]);
  });

  it('encap = yes: forced ESP-in-UDP', () => {
    expect(mapped('encap = yes').ike.connections[0]!.encap).toBe(true);
  });

  it('encap = no: not forced (raw ESP unless a NAT is detected), and no "treated as yes" warning', () => {
    const m = mapped('encap = no');
    expect(m.ike.connections[0]!.encap).toBe(false);
    expect(m.warnings.filter((w) => /encap/.test(w))).toEqual([]);
  });
});
