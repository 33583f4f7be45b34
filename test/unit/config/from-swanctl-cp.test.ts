/** swanctl.conf `vips`, `pools` and several private keys mapped onto the IKE engine's config (runtime/from-swanctl.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/ike/config.js';
import { ikeConfigFromSwanctl } from '../../../src/runtime/from-swanctl.js';
import { DIR, pskConf, validateText } from './helpers.js';

describe('from-swanctl: configuration payloads and private keys', () => {
  it('vips and pools reach the engine config, which resolves them', () => {
    const { config } = validateText(`${pskConf('vips = 0.0.0.0\n    pools = rw', 'local_ts = dynamic')}\npools {\n  rw {\n    addrs = 198.18.200.0/24\n    dns = 198.18.0.53\n  }\n}\n`);
    const { ike } = ikeConfigFromSwanctl(config);
    expect(ike.connections[0]).toMatchObject({ vips: ['0.0.0.0'], pools: ['rw'] });
    expect(ike.pools).toEqual([{ name: 'rw', addrs: '198.18.200.0/24', dns: ['198.18.0.53'] }]);
    const r = resolveConfig(ike);
    expect(r.pools).toEqual([{ name: 'rw', addrs: '198.18.200.0/24', dns: ['198.18.0.53'] }]);
    expect(r.connections[0]).toMatchObject({ vips: ['0.0.0.0'], pools: ['rw'] });
  });

  it('without vips/pools the engine gets empty lists', () => {
    const { ike } = ikeConfigFromSwanctl(validateText(pskConf()).config);
    expect(ike.connections[0]).toMatchObject({ vips: [], pools: [] });
    expect(ike.pools).toEqual([]);
  });

  it('several private keys: all go to the engine (it picks the one matching the certificate), no warning', () => {
    const pki = new URL('../../fixtures/pki/', import.meta.url);
    const leaf = new Uint8Array(readFileSync(new URL('leaf-rsa.pem', pki)));
    const keys = ['leaf-ec.key', 'leaf-rsa.key'].map((f) => new Uint8Array(readFileSync(new URL(f, pki))));
    const text = `connections {\n  net {\n    remote_addrs = 198.18.10.2\n    local {\n      auth = pubkey\n      certs = leaf.pem\n    }\n    remote {\n      auth = pubkey\n    }\n    children {\n      net {\n      }\n    }\n  }\n}\n`;
    const { config } = validateText(text, { [`${DIR}/x509/leaf.pem`]: leaf, [`${DIR}/private/a.key`]: keys[0]!, [`${DIR}/private/b.key`]: keys[1]!, [`${DIR}/x509ca/ca.pem`]: new Uint8Array(readFileSync(new URL('ca-rsa.pem', pki))) });
    const m = ikeConfigFromSwanctl(config);
    expect(m.warnings.filter((w) => w.includes('private key'))).toEqual([]);
    const local = m.ike.connections[0]!.local;
    expect([local.privateKey, ...(local.privateKeys ?? [])].map((k) => Buffer.from(k!).toString())).toEqual(keys.map((k) => Buffer.from(k).toString()));
  });
});
