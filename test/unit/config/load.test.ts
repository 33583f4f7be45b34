import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadSwanctlConfig } from '../../../src/config/index.js';
import { configErrorOf } from './helpers.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/config');
const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(p));

describe('loadSwanctlConfig: INTEROP.md examples', () => {
  it('PSK, transport mode (the A side of INTEROP.md §4)', () => {
    const { config, warnings } = loadSwanctlConfig(join(fixtures, 'psk/swanctl.conf'));
    expect(warnings).toEqual([]);
    expect(config.connections).toHaveLength(1);
    const conn = config.connections[0];
    expect(conn).toMatchObject({
      name: 'ipx',
      version: 2,
      localAddrs: ['198.18.10.1'],
      remoteAddrs: ['198.18.10.2'],
      proposals: ['aes256gcm16-prfsha256-modp2048'],
      encap: false,
      mobike: false,
      fragmentation: 'yes',
      rekeyTimeSec: 14400,
    });
    expect(conn.local).toMatchObject([{ name: 'local', auth: 'psk', id: 'a.ipx.test', certs: [] }]);
    expect(conn.remote).toMatchObject([{ name: 'remote', auth: 'psk', id: 'b.ipx.test' }]);
    expect(conn.children).toMatchObject([
      { name: 'ipx', mode: 'transport', localTs: ['dynamic'], remoteTs: ['dynamic'], espProposals: ['aes256gcm16'], startAction: 'none', closeAction: 'none', rekeyTimeSec: 3600, replayWindow: 32 },
    ]);
    expect(config.secrets.ike).toHaveLength(1);
    expect(config.secrets.ike[0].ids).toEqual(['a.ipx.test', 'b.ipx.test']);
    expect(Buffer.from(config.secrets.ike[0].secret).toString('utf8')).toBe('tsipsec-interop-psk-0123456789abcdef');
    expect(config.trustAnchors).toEqual([]);
    expect(config.secrets.privateKeys).toEqual([]);
  });

  it('certificates, tunnel mode: certs from x509/, cacerts from x509ca/, keys from private/, all read into memory', () => {
    const dir = join(fixtures, 'cert');
    const { config, warnings } = loadSwanctlConfig(join(dir, 'swanctl.conf'));
    expect(warnings).toEqual([]);
    const conn = config.connections[0];
    expect(conn).toMatchObject({ encap: true, localAddrs: ['198.18.10.1'], remoteAddrs: ['198.18.10.2'] });
    const [local] = conn.local;
    const [remote] = conn.remote;
    expect(local).toMatchObject({ auth: 'pubkey', id: 'a.ipx.test', certs: [join(dir, 'x509/a.pem')] });
    expect(local.certData).toEqual([bytes(join(dir, 'x509/a.pem'))]);
    expect(new TextDecoder().decode(local.certData[0])).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(remote).toMatchObject({ auth: 'pubkey', id: 'b.ipx.test', cacerts: [join(dir, 'x509ca/ca.pem')] });
    expect(remote.cacertData).toEqual([bytes(join(dir, 'x509ca/ca.pem'))]);
    expect(config.trustAnchors.map((f) => f.path)).toEqual([join(dir, 'x509ca/ca.pem')]);
    expect(config.certificates.map((f) => f.path)).toEqual([join(dir, 'x509/a.der'), join(dir, 'x509/a.pem')]);
    expect(config.certificates[0].data).toEqual(bytes(join(dir, 'x509/a.der')));
    expect(config.secrets.privateKeys).toEqual([{ kind: 'private', path: join(dir, 'private/a.key'), data: bytes(join(dir, 'private/a.key')) }]);
    const [child] = conn.children;
    expect(child).toMatchObject({ mode: 'tunnel', localTs: ['198.19.1.0/24'], remoteTs: ['198.19.2.0/24'], startAction: 'start' });
    const ts = child.remoteTsSelectors[0];
    expect(ts.kind === 'range' && [...ts.start, ...ts.end]).toEqual([198, 19, 2, 0, 198, 19, 2, 255]);
  });
});

describe('loadSwanctlConfig: the other side of the tunnel', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tsipsec-load-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("a strongSwan peer's config with addresses and identities swapped loads as the mirror image", () => {
    const swap = (text: string, a: string, b: string): string => text.split(a).join('\u0000').split(b).join(a).split('\u0000').join(b);
    let text = readFileSync(join(fixtures, 'psk/swanctl.conf'), 'utf8');
    text = swap(swap(text, '198.18.10.1', '198.18.10.2'), 'a.ipx.test', 'b.ipx.test');
    const file = join(tmp, 'swanctl.conf');
    writeFileSync(file, text);
    const { config } = loadSwanctlConfig(file);
    const conn = config.connections[0];
    expect([conn.localAddrs, conn.remoteAddrs]).toEqual([['198.18.10.2'], ['198.18.10.1']]);
    expect([conn.local[0].id, conn.remote[0].id]).toEqual(['b.ipx.test', 'a.ipx.test']);
  });

  it('errors keep the path the user gave and list every problem', () => {
    const file = join(tmp, 'bad.conf');
    writeFileSync(file, 'connections {\n  c {\n    local_addrs = 1.2.3\n    children {\n      c {\n        mode = tunel\n      }\n    }\n  }\n}\n');
    const err = configErrorOf(() => loadSwanctlConfig(file));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message.split('\n')).toEqual([
      `${file}:3: connections.c.local_addrs: bad address "1.2.3" (expected an IP address, subnet, range, DNS name or %any)`,
      `${file}:6: connections.c.children.c.mode: unknown mode "tunel" (expected tunnel, transport, pass, drop)`,
    ]);
  });

  it('a missing config file is a ConfigError', () => {
    expect(() => loadSwanctlConfig(join(tmp, 'none.conf'))).toThrow(ConfigError);
  });
});
