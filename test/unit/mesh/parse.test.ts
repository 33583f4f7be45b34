/**
 * The mesh description parser and validator: a good file gives the description the text says; every
 * rejected input gives a ConfigError whose message names the file, the line and the dotted key.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '../../../src/config/errors.js';
import { parseMesh, policyOf } from '../../../src/mesh/parse.js';

const FILE = '/etc/tsipsec/mesh.conf';
const PSK = 'a cluster key of more than sixteen bytes';

function text(parts: { mesh?: string; nodes?: string; policies?: string } = {}): string {
  return `mesh {
  auth = psk
  psk = "${PSK}"
${parts.mesh ?? ''}
}
nodes {
  a {
    addrs = 198.18.0.1
    subnets = 198.19.1.0/24
  }
  b {
    addrs = 198.18.0.2
  }
  c {
    addrs = 198.18.0.3
  }
${parts.nodes ?? ''}
}
${parts.policies !== undefined ? `policies {\n${parts.policies}\n}` : ''}
`;
}

/** The ConfigError's issues as `line: key: message` strings. */
function errorsOf(src: string): string[] {
  try {
    parseMesh(src, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const err = e as ConfigError;
    for (const i of err.issues) expect(err.message).toContain(`${FILE}:${i.line}`);
    return err.issues.map((i) => `${i.line}: ${i.key}: ${i.message}`);
  }
  throw new Error('expected a ConfigError');
}

/** Line number (1-based) of the first line of `src` containing `needle`. */
function lineOf(src: string, needle: string): number {
  const i = src.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line with ${needle}`);
  return i + 1;
}

describe('parseMesh: a good description', () => {
  it('gives the nodes, defaults and policy groups the file says', () => {
    const src = text({ mesh: '  outer_mtu = 9000\n  dpd_delay = 10s\n  esp_proposals = aes128gcm16, chacha20poly1305', policies: '  clear = 198.18.0.9/32\n  clear-or-private = c' });
    const m = parseMesh(src, FILE);
    expect(m.auth).toEqual({ kind: 'psk', psk: new TextEncoder().encode(PSK) });
    expect(m.nodes.map((n) => [n.name, n.addrs, n.subnets, n.id])).toEqual([
      ['a', ['198.18.0.1'], ['198.19.1.0/24'], 'a'],
      ['b', ['198.18.0.2'], [], 'b'],
      ['c', ['198.18.0.3'], [], 'c'],
    ]);
    expect(m.nodes[1]!.source).toEqual({ file: FILE, line: lineOf(src, '  b {') });
    expect(m.outerMtu).toBe(9000);
    expect(m.dpdDelaySec).toBe(10);
    expect(m.rekeyTimeSec).toBe(14400);
    expect(m.childRekeyTimeSec).toBe(3600);
    expect(m.proposals).toEqual(['aes256gcm16-prfsha256-x25519']);
    expect(m.espProposals).toEqual(['aes128gcm16', 'chacha20poly1305']);
    expect(m.defaultPolicy).toBe('private');
    expect(m.nodes.map((n) => policyOf(m, n))).toEqual(['private', 'private', 'clear-or-private']);
    expect(m.policies.map((p) => [p.group, p.text, p.node])).toEqual([['clear', '198.18.0.9/32', undefined], ['clear-or-private', 'c', 'c']]);
  });

  it('hex and base64 PSKs decode as in swanctl', () => {
    const hex = '00112233445566778899aabbccddeeff';
    const m = parseMesh(text().replace(`"${PSK}"`, `0x${hex}`), FILE);
    expect(m.auth).toEqual({ kind: 'psk', psk: new Uint8Array(Buffer.from(hex, 'hex')) });
    const b64 = Buffer.from('sixteen+ bytes of key!').toString('base64');
    const n = parseMesh(text().replace(`"${PSK}"`, `0s${b64}`), FILE);
    expect(n.auth).toEqual({ kind: 'psk', psk: new Uint8Array(Buffer.from('sixteen+ bytes of key!')) });
  });

  it('auth = pubkey resolves ca, certs and keys relative to the file', () => {
    const src = text().replace(`auth = psk\n  psk = "${PSK}"`, 'auth = pubkey\n  ca = pki/ca.pem\n  keys = /secure/keys');
    const m = parseMesh(src, FILE);
    expect(m.auth).toEqual({ kind: 'pubkey', caFile: '/etc/tsipsec/pki/ca.pem', certsDir: '/etc/tsipsec/certs', keysDir: '/secure/keys' });
  });

  it('policy groups: a node name beats a prefix, the longest prefix wins, default_policy otherwise', () => {
    const src = text({ mesh: '  default_policy = clear-or-private', policies: '  private = 198.18.0.0/24, c\n  clear = 198.18.0.2/31' });
    const m = parseMesh(src, FILE);
    // a: only the /24 matches → private; b (198.18.0.2): the /31 is longer → clear; c: named → private.
    expect(m.nodes.map((n) => policyOf(m, n))).toEqual(['private', 'clear', 'private']);
    const d = parseMesh(text({ mesh: '  default_policy = clear-or-private' }), FILE);
    expect(d.nodes.map((n) => policyOf(d, n))).toEqual(['clear-or-private', 'clear-or-private', 'clear-or-private']);
  });

  it('IPv6 nodes and subnets', () => {
    const src = text().replace('198.18.0.1', '2001:db8::1').replace('198.18.0.2', '2001:db8::2').replace('198.18.0.3', '2001:db8::3').replace('198.19.1.0/24', '2001:db8:1::/64');
    const m = parseMesh(src, FILE);
    expect(m.nodes[0]!.addrs).toEqual(['2001:db8::1']);
    expect(m.nodes[0]!.subnets).toEqual(['2001:db8:1::/64']);
  });
});

describe('parseMesh: every error names file, line and key', () => {
  const cases: Array<{ name: string; src: string; line: string; key: string; message: RegExp }> = [];
  const add = (name: string, src: string, line: string, key: string, message: RegExp) => cases.push({ name, src, line, key, message });

  add('unknown top-level key', `${text()}stray = 1\n`, 'stray = 1', 'stray', /unknown key at the top level/);
  add('unknown section', `${text()}extras {\n}\n`, 'extras {', 'extras', /unknown section/);
  add('unknown key in mesh', text({ mesh: '  colour = blue' }), 'colour', 'mesh.colour', /unknown key/);
  add('section inside mesh', text({ mesh: '  sub {\n  }' }), 'sub {', 'mesh.sub', /unexpected section inside mesh/);
  add('bad auth', text().replace('auth = psk', 'auth = xauth'), 'auth = xauth', 'mesh.auth', /must be psk or pubkey/);
  add('missing auth', text().replace('  auth = psk\n', ''), 'mesh {', 'mesh.auth', /missing/);
  add('psk missing', text().replace(`  psk = "${PSK}"\n`, ''), 'auth = psk', 'mesh.psk', /missing/);
  add('psk too short', text().replace(PSK, 'short'), 'psk =', 'mesh.psk', /too short: 5 bytes, at least 16/);
  add('psk bad hex', text().replace(`"${PSK}"`, '0xZZ'), 'psk =', 'mesh.psk', /bad hex secret/);
  add('ca with psk', text({ mesh: '  ca = ca.pem' }), 'ca = ca.pem', 'mesh.ca', /only for auth = pubkey/);
  add('psk with pubkey', text().replace('auth = psk', 'auth = pubkey\n  ca = ca.pem'), 'psk =', 'mesh.psk', /only for auth = psk/);
  add('pubkey without ca', text().replace(`auth = psk\n  psk = "${PSK}"`, 'auth = pubkey'), 'auth = pubkey', 'mesh.ca', /missing/);
  add('bad IKE proposal', text({ mesh: '  proposals = aes256-nosuchprf-x25519' }), 'proposals =', 'mesh.proposals', /nosuchprf/);
  add('bad ESP proposal', text({ mesh: '  esp_proposals = rot13' }), 'esp_proposals', 'mesh.esp_proposals', /rot13/);
  add('bad duration', text({ mesh: '  dpd_delay = soon' }), 'dpd_delay', 'mesh.dpd_delay', /bad duration/);
  add('bad rekey_time', text({ mesh: '  rekey_time = 1 fortnight' }), 'rekey_time', 'mesh.rekey_time', /bad duration/);
  add('bad child_rekey_time', text({ mesh: '  child_rekey_time = x' }), 'child_rekey_time', 'mesh.child_rekey_time', /bad duration/);
  add('outer_mtu not a number', text({ mesh: '  outer_mtu = big' }), 'outer_mtu', 'mesh.outer_mtu', /bad number/);
  add('outer_mtu too small', text({ mesh: '  outer_mtu = 500' }), 'outer_mtu', 'mesh.outer_mtu', /below 576/);
  add('outer_mtu too large', text({ mesh: '  outer_mtu = 70000' }), 'outer_mtu', 'mesh.outer_mtu', /out of range/);
  add('bad default_policy', text({ mesh: '  default_policy = maybe' }), 'default_policy', 'mesh.default_policy', /must be one of private, clear-or-private, clear/);
  add('missing mesh section', text().replace(/^mesh \{[\s\S]*?\n\}\n/, ''), 'nodes {', 'mesh', /missing section/);
  add('missing nodes section', `mesh {\n  auth = psk\n  psk = "${PSK}"\n}\n`, 'mesh {', 'nodes', /missing section/);
  add('value directly in nodes', text({ nodes: '  d = 198.18.0.4' }), 'd = 198.18.0.4', 'nodes.d', /expected a section per node/);
  add('too few nodes', `mesh {\n  auth = psk\n  psk = "${PSK}"\n}\nnodes {\n  a {\n    addrs = 198.18.0.1\n  }\n}\n`, 'nodes {', 'nodes', /at least 2 nodes, found 1/);
  add('bad node name', text({ nodes: '  Bad_Name {\n    addrs = 198.18.0.4\n  }' }), 'Bad_Name {', 'nodes.Bad_Name', /node name "Bad_Name"/);
  add('no common address family', text().replace('198.18.0.3', '2001:db8::3'), '  c {', 'nodes.c.addrs', /node c shares no address family with node a/);
  add('node without addrs', text({ nodes: '  d {\n    subnets = 198.19.4.0/24\n  }' }), '  d {', 'nodes.d.addrs', /node d needs its IP address/);
  add('node addr not an IP', text({ nodes: '  d {\n    addrs = d.example\n  }' }), 'addrs = d.example', 'nodes.d.addrs', /"d.example" is not an IPv4 or IPv6 address/);
  add('duplicate address', text({ nodes: '  d {\n    addrs = 198.18.0.2  # again\n  }' }), '# again', 'nodes.d.addrs', /address 198.18.0.2 is also node b's/);
  add('subnet not CIDR', text({ nodes: '  d {\n    addrs = 198.18.0.4\n    subnets = 198.19.4.1\n  }' }), 'subnets = 198.19.4.1', 'nodes.d.subnets', /not a CIDR prefix/);
  add('overlapping subnets', text({ nodes: '  d {\n    addrs = 198.18.0.4\n    subnets = 198.19.0.0/16\n  }' }), '  d {', 'nodes.d.subnets', /198.19.0.0\/16 overlaps 198.19.1.0\/24 of node a/);
  add('unknown node key', text({ nodes: '  d {\n    addrs = 198.18.0.4\n    port = 4500\n  }' }), 'port = 4500', 'nodes.d.port', /unknown key/);
  add('section inside a node', text({ nodes: '  d {\n    addrs = 198.18.0.4\n    x {\n    }\n  }' }), '    x {', 'nodes.d.x', /unexpected section inside a node/);
  add('duplicate identity', text({ nodes: '  d {\n    addrs = 198.18.0.4\n    id = B\n  }' }), 'id = B', 'nodes.d.id', /identity "B" is also node b's/);
  add('unknown policy group', text({ policies: '  secret = b' }), 'secret = b', 'policies.secret', /unknown policy group/);
  add('private-or-clear refused', text({ policies: '  private-or-clear = b' }), 'private-or-clear = b', 'policies.private-or-clear', /not supported by tsipsec: private-or-clear/);
  add('block refused', text({ policies: '  block = b' }), 'block = b', 'policies.block', /not supported by tsipsec: block/);
  add('policy entry neither node nor prefix', text({ policies: '  clear = monitor' }), 'clear = monitor', 'policies.clear', /"monitor" is neither a node name nor an IP address/);
  add('entry in two groups', text({ policies: '  clear = b\n  private = b' }), 'private = b', 'policies.private', /"b" is already in policy group clear/);
  add('section inside policies', text({ policies: '  private {\n  }' }), 'private {', 'policies.private', /unexpected section inside policies/);
  add('clear prefix inside a private subnet', text({ policies: '  clear = 198.19.1.7' }), 'clear = 198.19.1.7', 'policies.clear', /overlaps subnet 198.19.1.0\/24 of node a, which is private/);
  add('syntax error', text().replace('nodes {', 'nodes {{'), 'nodes {{', '', /./);

  for (const c of cases) {
    it(c.name, () => {
      const errors = errorsOf(c.src);
      const want = lineOf(c.src, c.line);
      const hit = errors.find((e) => e.startsWith(`${want}: ${c.key}${c.key === '' ? '' : ':'}`) && c.message.test(e));
      expect(hit, `wanted line ${want} key ${c.key} ${c.message}; got:\n${errors.join('\n')}`).toBeDefined();
    });
  }

  it('several problems are all reported at once', () => {
    const errors = errorsOf(text({ mesh: '  outer_mtu = 1\n  colour = red', policies: '  block = a' }));
    expect(errors.length).toBe(3);
  });

  it('never throws anything but ConfigError, whatever the text (property)', () => {
    const alphabet = fc.constantFrom('mesh', 'nodes', 'policies', '{', '}', '=', '\n', ' ', 'a', 'b', 'auth', 'psk', 'addrs', '198.18.0.1', '/24', ',', '"', '#', 'clear', 'private');
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 60 }), (parts) => {
      try {
        parseMesh(parts.join(''), FILE);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
      }
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (t) => {
      try {
        parseMesh(t, FILE);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
      }
    }), { numRuns: 300 });
  });
});
