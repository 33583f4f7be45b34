import { describe, expect, it } from 'vitest';
import { DIR, FILE, configErrorOf, pskConf, validateText } from './helpers.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('validate: strongSwan defaults (swanctl.conf(5), vici_config.c)', () => {
  const { config } = validateText(pskConf());
  const conn = config.connections[0];
  const child = conn.children[0];

  it('connection defaults', () => {
    expect(conn).toMatchObject({
      name: 'net',
      version: 2,
      localAddrs: ['%any'],
      remoteAddrs: ['198.18.10.2'],
      localPort: 500,
      remotePort: 500,
      proposals: ['default'],
      encap: false,
      mobike: true,
      fragmentation: 'yes',
      dpdDelaySec: 0,
      dpdTimeoutSec: 0,
      rekeyTimeSec: 14400,
      reauthTimeSec: 0,
      overTimeSec: 1440, // 10 % of rekey_time
      randTimeSec: 1440, // = over_time (capped at half the rekey time)
      keyingtries: 1,
      unique: 'no',
      sendCertreq: true,
      sendCert: 'ifasked',
    });
  });

  it('child defaults', () => {
    expect(child).toMatchObject({
      name: 'net',
      localTs: ['dynamic'],
      remoteTs: ['dynamic'],
      espProposals: ['default'],
      mode: 'tunnel',
      startAction: 'none',
      dpdAction: 'clear',
      closeAction: 'none',
      rekeyTimeSec: 3600,
      lifeTimeSec: 3960, // rekey + 10 %
      randTimeSec: 360, // life - rekey
      rekeyBytes: 0,
      lifeBytes: 0,
      randBytes: 0,
      rekeyPackets: 0,
      lifePackets: 0,
      randPackets: 0,
      replayWindow: 32,
      hwOffload: 'no',
    });
    expect(child.updown).toBeUndefined();
  });

  it('a short child rekey_time still expires after it rekeys (life 110 %, not floored to the same second)', () => {
    const ch = validateText(pskConf('', 'rekey_time = 4s')).config.connections[0].children[0];
    expect(ch.rekeyTimeSec).toBe(4);
    expect(ch.lifeTimeSec).toBeCloseTo(4.4, 9);
    expect(ch.randTimeSec).toBeCloseTo(0.4, 9);
  });

  it('derived lifetimes follow explicit settings', () => {
    const c = validateText(pskConf('reauth_time = 2h', 'rekey_time = 10m\nrekey_bytes = 1M\nlife_packets = 5000\nrekey_packets = 1000')).config.connections[0];
    expect([c.rekeyTimeSec, c.reauthTimeSec, c.overTimeSec, c.randTimeSec]).toEqual([0, 7200, 720, 720]);
    const ch = c.children[0];
    expect([ch.rekeyTimeSec, ch.lifeTimeSec, ch.randTimeSec]).toEqual([600, 660, 60]);
    expect([ch.rekeyBytes, ch.lifeBytes, ch.randBytes]).toEqual([1048576, 1153433, 104857]);
    expect([ch.rekeyPackets, ch.lifePackets, ch.randPackets]).toEqual([1000, 5000, 4000]);
    const both = validateText(pskConf('rekey_time = 1h\nreauth_time = 3h')).config.connections[0];
    expect([both.overTimeSec, both.randTimeSec]).toEqual([1080, 1080 > 1800 ? 1800 : 1080]);
    const short = validateText(pskConf('rekey_time = 100')).config.connections[0];
    expect([short.overTimeSec, short.randTimeSec]).toEqual([10, 10]);
  });

  it('a remote round without auth accepts any method; a missing local round defaults to pubkey', () => {
    const { config: c } = validateText(
      'connections {\n  x {\n    remote_addrs = 10.0.0.1\n    local {\n      auth = psk\n    }\n  }\n}\nsecrets {\n  ike {\n    secret = x\n  }\n}\n',
    );
    expect(c.connections[0].remote).toMatchObject([{ name: 'remote', auth: 'any', id: '%any' }]);
    expect(c.connections[0].children).toEqual([]);
  });
});

describe('validate: mapping', () => {
  it('maps every supported connection and child key', () => {
    const { config, warnings } = validateText(
      pskConf(
        [
          'version = 0',
          'local_addrs = 198.18.10.1, 2001:db8::1',
          'local_port = 4500',
          'remote_port = 4501',
          'proposals = aes128-sha256-x25519, aes256gcm16-prfsha384-ecp384',
          'encap = yes',
          'mobike = no',
          'fragmentation = accept',
          'dpd_delay = 30s',
          'dpd_timeout = 2m',
          'keyingtries = 0',
          'unique = replace',
          'send_certreq = no',
          'send_cert = always',
          'over_time = 5m',
          'rand_time = 1m',
        ].join('\n'),
        [
          'local_ts = 198.19.1.0/24, 10.0.0.1[tcp/80]',
          'remote_ts = 198.19.2.0/24',
          'esp_proposals = aes256gcm16-esn, aes128-sha256',
          'mode = transport',
          'start_action = trap|start',
          'dpd_action = restart',
          'close_action = trap',
          'life_time = 2h',
          'rand_time = 0',
          'replay_window = 1024',
          'hw_offload = auto',
          'updown = /usr/lib/ipsec/_updown iptables',
        ].join('\n'),
      ),
    );
    const c = config.connections[0];
    expect(c).toMatchObject({
      localAddrs: ['198.18.10.1', '2001:db8::1'],
      localPort: 4500,
      remotePort: 4501,
      proposals: ['aes128-sha256-x25519', 'aes256gcm16-prfsha384-ecp384'],
      encap: true,
      mobike: false,
      fragmentation: 'accept',
      dpdDelaySec: 30,
      dpdTimeoutSec: 120,
      keyingtries: 0,
      unique: 'replace',
      sendCertreq: false,
      sendCert: 'always',
      overTimeSec: 300,
      randTimeSec: 60,
    });
    expect(c.children[0]).toMatchObject({
      localTs: ['198.19.1.0/24', '10.0.0.1[tcp/80]'],
      remoteTs: ['198.19.2.0/24'],
      espProposals: ['aes256gcm16-esn', 'aes128-sha256'],
      mode: 'transport',
      startAction: 'trap|start',
      dpdAction: 'restart',
      closeAction: 'trap',
      rekeyTimeSec: 3600,
      lifeTimeSec: 7200,
      randTimeSec: 0,
      replayWindow: 1024,
      hwOffload: 'auto',
      updown: '/usr/lib/ipsec/_updown iptables',
    });
    expect(c.children[0].localTsSelectors[1]).toMatchObject({ kind: 'range', protocol: 6, fromPort: 80, toPort: 80 });
    expect(warnings).toEqual([`${FILE}:39: connections.net.children.net.updown: accepted but not run: tsipsec does not execute updown scripts`]);
  });

  it('accepts strongSwan action aliases', () => {
    const ch = validateText(pskConf('', 'start_action = route\ndpd_action = none\nclose_action = restart')).config.connections[0].children[0];
    expect([ch.startAction, ch.dpdAction, ch.closeAction]).toEqual(['trap', 'clear', 'start']);
  });

  it('sorts authentication rounds by round, then by position', () => {
    const text = pskConf('local-2 {\n  auth = psk\n  round = 2\n}\nlocal-1 {\n  auth = pubkey-sha256\n  round = 1\n  certs = a.pem\n}\n');
    const { config } = validateText(text, { [`${DIR}/x509/a.pem`]: 'CERT', [`${DIR}/private/a.key`]: 'KEY' });
    expect(config.connections[0].local.map((a) => [a.name, a.round, a.auth])).toEqual([
      ['local', 0, 'psk'],
      ['local-1', 1, 'pubkey'],
      ['local-2', 2, 'psk'],
    ]);
    expect(config.connections[0].local[1].authConstraints).toEqual(['sha256']);
  });

  it('secrets: plain, quoted, 0x hex and 0s base64, with several ids', () => {
    const { config } = validateText(
      pskConf('', '', ''),
    );
    expect(config.secrets.ike[0]).toMatchObject({ name: 'ike-1', ids: ['b.ipx.test'], secret: enc('s3cret') });
    const text = `${pskConf()}\nsecrets {\n  ike-2 {\n    id-a = a\n    id-b = b\n    secret = "with spaces # and hash"\n  }\n  ike-3 {\n    secret = 0x0001feff\n  }\n  ike-4 {\n    secret = 0sAAH+/w==\n  }\n  ike-5 {\n    secret = "0x41"\n  }\n}\n`;
    const s = validateText(text).config.secrets.ike;
    expect(s.map((x) => [x.name, x.ids, Buffer.from(x.secret).toString('hex')])).toEqual([
      ['ike-1', ['b.ipx.test'], Buffer.from('s3cret').toString('hex')],
      ['ike-2', ['a', 'b'], Buffer.from('with spaces # and hash').toString('hex')],
      ['ike-3', [], '0001feff'],
      ['ike-4', [], '0001feff'],
      ['ike-5', [], '41'], // quoting is syntax only: strongSwan still reads 0x as hex
    ]);
  });
});

describe('validate: errors name file, line and key', () => {
  /** Each case: connection settings, child settings, expected line, key, message. */
  const cases: Array<[string, string, string, number, string, string]> = [
    ['bad mode', '', 'mode = tunel', 13, 'connections.net.children.net.mode', 'unknown mode "tunel" (expected tunnel, transport, pass, drop)'],
    ['unsupported mode', '', 'mode = beet', 13, 'connections.net.children.net.mode', 'mode "beet" is not supported by tsipsec (expected tunnel, transport, pass, drop)'],
    ['unknown connection key', 'rekey_tim = 1h', '', 10, 'connections.net.rekey_tim', 'unknown key "rekey_tim"'],
    ['unknown child key', '', 'esp_proposal = aes256gcm16', 13, 'connections.net.children.net.esp_proposal', 'unknown key "esp_proposal"'],
    ['unsupported key', 'ppk_id = pq', '', 10, 'connections.net.ppk_id', 'not supported by tsipsec: postquantum'],
    ['bad virtual IP', 'vips = 0.0.0.0, any', '', 10, 'connections.net.vips', 'bad virtual IP "any"'],
    ['unsupported child key', '', 'ah_proposals = sha256', 13, 'connections.net.children.net.ah_proposals', 'not supported by tsipsec: AH'],
    ['unsupported value of a key', '', 'ipcomp = yes', 13, 'connections.net.children.net.ipcomp', 'not supported by tsipsec: IPComp'],
    ['bad address', 'local_addrs = 198.18.10.300', '', 10, 'connections.net.local_addrs', 'bad address "198.18.10.300"'],
    ['bad duration', 'rekey_time = 1 week', '', 10, 'connections.net.rekey_time', 'bad duration "1 week"'],
    ['bad child duration', '', 'life_time = 10y', 13, 'connections.net.children.net.life_time', 'bad duration "10y"'],
    ['bad bytes', '', 'rekey_bytes = 5T', 13, 'connections.net.children.net.rekey_bytes', 'bad byte count "5T"'],
    ['packets take no suffix', '', 'rekey_packets = 5k', 13, 'connections.net.children.net.rekey_packets', 'bad number "5k"'],
    ['bad boolean', 'mobike = perhaps', '', 10, 'connections.net.mobike', 'bad boolean "perhaps"'],
    ['bad fragmentation', 'fragmentation = maybe', '', 10, 'connections.net.fragmentation', 'unknown fragmentation setting "maybe" (expected yes, accept, force, no)'],
    ['bad port', 'remote_port = 70000', '', 10, 'connections.net.remote_port', 'out of range'],
    ['IKEv1', 'version = 1', '', 10, 'connections.net.version', 'IKEv1 is not supported'],
    ['bad TS', '', 'local_ts = 198.19.1.0/33', 13, 'connections.net.children.net.local_ts', 'bad traffic selector "198.19.1.0/33"'],
    ['unknown proposal keyword', 'proposals = aes256gcm16-prfsha256-modp1024', '', 10, 'connections.net.proposals', 'unknown keyword "modp1024"'],
    ['unknown ESP keyword', '', 'esp_proposals = aes256gcm16, blowfish-sha1', 13, 'connections.net.children.net.esp_proposals', 'unknown keyword "blowfish"'],
    ['bad start_action', '', 'start_action = go', 13, 'connections.net.children.net.start_action', 'unknown start_action "go" (expected none, trap, start, trap|start)'],
    ['hw_offload yes', '', 'hw_offload = yes', 13, 'connections.net.children.net.hw_offload', 'hardware offload'],
    ['bad replay window', '', 'replay_window = -1', 13, 'connections.net.children.net.replay_window', 'bad number "-1"'],
    ['unknown section', 'foo {\n}', '', 10, 'connections.net.foo', 'unknown section "foo"'],
    ['EAP', 'local-2 {\n  auth = eap-mschapv2\n}', '', 11, 'connections.net.local-2.auth', 'EAP and XAuth are not implemented'],
    ['strict revocation', 'remote-2 {\n  revocation = strict\n}', '', 11, 'connections.net.remote-2.revocation', 'not supported by tsipsec: CRL/OCSP'],
  ];
  for (const [name, inner, child, line, key, message] of cases) {
    it(name, () => {
      const err = configErrorOf(() => validateText(pskConf(inner, child)));
      const issue = err.issues.find((i) => i.key === key);
      expect(issue, err.message).toBeDefined();
      expect(issue?.file).toBe(FILE);
      expect(issue?.line).toBe(line);
      expect(issue?.message).toContain(message);
      expect(err.message).toContain(`${FILE}:${line}: ${key}: `);
    });
  }

  it('formats like the compiler-style example', () => {
    const err = configErrorOf(() => validateText(pskConf('', 'mode = tunel')));
    expect(err.message).toBe(`${FILE}:13: connections.net.children.net.mode: unknown mode "tunel" (expected tunnel, transport, pass, drop)`);
  });

  it('collects all errors, not just the first', () => {
    const err = configErrorOf(() => validateText(pskConf('mobike = perhaps\nrekey_time = x', 'mode = tunel\nlocal_ts = nope')));
    expect(err.issues.map((i) => i.key)).toEqual([
      'connections.net.mobike',
      'connections.net.rekey_time',
      'connections.net.children.net.mode',
      'connections.net.children.net.local_ts',
    ]);
  });

  it('ignores harmless keys with a warning', () => {
    const { warnings } = validateText(pskConf('dscp = 101000', 'copy_df = no\nmark_in = 42'));
    expect(warnings).toEqual([
      `${FILE}:10: connections.net.dscp: ignored: DSCP marking of IKE packets is not implemented`,
      `${FILE}:13: connections.net.children.net.copy_df: ignored: header copying is a Linux kernel (XFRM) setting; tsipsec does ESP itself`,
      `${FILE}:14: connections.net.children.net.mark_in: ignored: marks are a Linux kernel (XFRM) setting; tsipsec does ESP itself`,
    ]);
  });

  it('accepts an unsupported feature switched off', () => {
    expect(() => validateText(pskConf('aggressive = no\nchildless = allow', 'ipcomp = no\ninactivity = 0s\ntfc_padding = 0'))).not.toThrow();
  });

  it('a PSK connection without any IKE secret is an error at the connection', () => {
    const text = pskConf().replace(/secrets \{[\s\S]*$/, '');
    const err = configErrorOf(() => validateText(text));
    expect(err.issues).toEqual([{ file: FILE, line: 2, key: 'connections.net', message: 'uses auth = psk but secrets has no ike<suffix> { secret = … } section' }]);
  });

  it('a PSK whose ids match neither side is a warning', () => {
    const text = pskConf().replace('id = b.ipx.test\n    secret', 'id = other.test\n    secret');
    expect(validateText(text).warnings[0]).toMatch(/connections\.net: uses auth = psk but no IKE secret names its identities/);
  });

  it('bad secrets name the secret key without printing the secret', () => {
    const err = configErrorOf(() => validateText(pskConf().replace('secret = s3cret', 'secret = 0xnothex')));
    expect(err.issues[0]).toMatchObject({ line: 21, key: 'secrets.ike-1.secret' });
    expect(err.message).not.toContain('nothex');
    const missing = configErrorOf(() => validateText(pskConf().replace('secret = s3cret', '')));
    expect(missing.issues[0]).toMatchObject({ line: 19, key: 'secrets.ike-1.secret', message: 'IKE secret "ike-1" has no secret' });
  });

  it('missing certificate and CA files name the key and the resolved path', () => {
    const text = pskConf('local-c {\n  auth = pubkey\n  certs = a.pem\n}\nremote-c {\n  auth = pubkey\n  cacerts = /abs/ca.pem\n}');
    const err = configErrorOf(() => validateText(text, { [`${DIR}/private/a.key`]: 'KEY' }));
    expect(err.issues.map((i) => [i.line, i.key, i.message])).toEqual([
      [12, 'connections.net.local-c.certs', `cannot read certificate "a.pem" (${DIR}/x509/a.pem): no such file`],
      [16, 'connections.net.remote-c.cacerts', 'cannot read CA certificate "/abs/ca.pem" (/abs/ca.pem): no such file'],
    ]);
  });

  it('pubkey auth with nothing to authenticate with or verify against is an error', () => {
    const text = pskConf('local-c {\n  auth = pubkey\n}\nremote-c {\n  auth = rsa\n}');
    const err = configErrorOf(() => validateText(text, { [`${DIR}/private/a.key`]: 'KEY' }));
    expect(err.issues.map((i) => [i.line, i.key, i.message])).toEqual([
      [10, 'connections.net.local-c.certs', `auth = pubkey needs a certificate: set certs (relative to ${DIR}/x509) or put one in x509/`],
      [13, 'connections.net.remote-c.cacerts', 'auth = rsa needs something to verify the peer against: set cacerts, certs or pubkeys, or put the CA in x509ca/'],
    ]);
  });

  it('pubkey auth without any private key is an error', () => {
    const text = pskConf('local-c {\n  auth = pubkey\n  certs = a.pem\n}');
    const err = configErrorOf(() => validateText(text, { [`${DIR}/x509/a.pem`]: 'CERT' }));
    expect(err.issues[0]).toMatchObject({ line: 10, key: 'connections.net.local-c.auth' });
    expect(err.issues[0].message).toMatch(/needs a private key/);
  });

  it('an initiating connection needs a concrete remote address', () => {
    const err = configErrorOf(() => validateText(pskConf('remote_addrs = %any', 'start_action = start')));
    expect(err.issues[0]).toMatchObject({ line: 10, key: 'connections.net.remote_addrs' });
  });

  it('vips, connection pools and the top-level pools section (RFC 7296 §2.19 CP); authorities are an error', () => {
    const r = validateText(`${pskConf('vips = 0.0.0.0, ::\n    pools = p, p6')}\npools {\n  p {\n    addrs = 198.18.200.0/24\n    dns = 198.18.0.53, 2001:db8::53\n  }\n  p6 {\n    addrs = 2001:db8:200::1-2001:db8:200::ff\n  }\n}\n`);
    expect(r.warnings).toEqual([]);
    expect(r.config.connections[0]).toMatchObject({ vips: ['0.0.0.0', '::'], pools: ['p', 'p6'] });
    expect(r.config.pools).toMatchObject([
      { name: 'p', addrs: '198.18.200.0/24', dns: ['198.18.0.53', '2001:db8::53'] },
      { name: 'p6', addrs: '2001:db8:200::1-2001:db8:200::ff', dns: [] },
    ]);
    expect(validateText(pskConf()).config.connections[0]).toMatchObject({ vips: [], pools: [] });
    const missing = configErrorOf(() => validateText(pskConf('pools = nope')));
    expect(missing.issues).toMatchObject([{ key: 'connections.net.pools', message: expect.stringMatching(/names pool "nope"/) }]);
    const bad = configErrorOf(() => validateText(`${pskConf()}\npools {\n  p {\n    addrs = 198.18.200.0/33\n    netmask = 255.255.255.0\n  }\n  q {\n    dns = 198.18.0.53\n  }\n}\n`));
    expect(bad.issues.map((i) => i.key).sort()).toEqual(['pools.p.addrs', 'pools.p.netmask', 'pools.q.addrs']);
    const err = configErrorOf(() => validateText(`${pskConf()}\nauthorities {\n}\n`));
    expect(err.issues).toMatchObject([{ line: 25, key: 'authorities' }]);
  });

  it('unknown top-level sections and secrets are errors', () => {
    const err = configErrorOf(() => validateText(`${pskConf()}\nfoo {\n}\nsecrets {\n  bogus {\n    x = 1\n  }\n  pkcs12-1 {\n    file = a.p12\n  }\n}\n`));
    expect(err.issues.map((i) => [i.line, i.key])).toEqual([
      [25, 'foo'],
      [28, 'secrets.bogus'],
      [31, 'secrets.pkcs12-1'],
    ]);
  });
});

describe('validate: credentials', () => {
  const files = {
    [`${DIR}/x509/a.pem`]: 'A-CERT',
    [`${DIR}/x509ca/ca.pem`]: 'CA-CERT',
    [`${DIR}/x509ca/other.pem`]: 'OTHER-CA',
    [`${DIR}/private/a.key`]: 'A-KEY',
    [`${DIR}/ecdsa/b.key`]: 'B-KEY',
    '/abs/peer.pem': 'PEER',
  };
  const text = `connections {
  c {
    remote_addrs = 10.0.0.2
    local {
      auth = pubkey
      certs = a.pem
    }
    remote {
      auth = ecdsa-256-sha256
      cacerts = ca.pem
      cert-peer {
        file = /abs/peer.pem
      }
    }
  }
}
secrets {
  ecdsa-b {
    file = b.key
    secret = 0x70617373
  }
}
`;
  it('resolves certs in x509/, cacerts in x509ca/, absolute files, and loads the directories like --load-all', () => {
    const { config } = validateText(text, files);
    const [local] = config.connections[0].local;
    const [remote] = config.connections[0].remote;
    expect(local.certs).toEqual([`${DIR}/x509/a.pem`]);
    expect(local.certData).toEqual([enc('A-CERT')]);
    expect(remote).toMatchObject({ auth: 'ecdsa', authConstraints: ['256', 'sha256'], cacerts: [`${DIR}/x509ca/ca.pem`], certs: ['/abs/peer.pem'] });
    expect(remote.cacertData).toEqual([enc('CA-CERT')]);
    expect(remote.certData).toEqual([enc('PEER')]);
    expect(config.trustAnchors.map((f) => f.path)).toEqual([`${DIR}/x509ca/ca.pem`, `${DIR}/x509ca/other.pem`]);
    expect(config.certificates.map((f) => f.path)).toEqual([`${DIR}/x509/a.pem`]);
    expect(config.secrets.privateKeys).toEqual([
      { kind: 'private', path: `${DIR}/private/a.key`, data: enc('A-KEY') },
      { kind: 'ecdsa', path: `${DIR}/ecdsa/b.key`, data: enc('B-KEY'), passphrase: enc('pass') },
    ]);
  });

  it('a passphrase for a key file that does not exist is an error', () => {
    const err = configErrorOf(() => validateText(text.replace('file = b.key', 'file = nope.key'), files));
    expect(err.issues[0]).toMatchObject({ line: 19, key: 'secrets.ecdsa-b.file' });
    expect(err.issues[0].message).toContain(`${DIR}/ecdsa/nope.key`);
  });
});
