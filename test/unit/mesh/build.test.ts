/**
 * A node's plan and IKE configuration from a mesh description: one connection per encrypted peer, a
 * transport child host to host and a tunnel child between subnets, traps on both sides, DPD and rekey,
 * policy groups, PSK or the node's certificate; what `render` prints is what `up` runs.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { resolveConfig } from '../../../src/ike/config.js';
import { loadMesh, nodeMeshFileSystem } from '../../../src/mesh/load.js';
import { parseMesh } from '../../../src/mesh/parse.js';
import { meshIkeConfig, planMesh, pairPolicy } from '../../../src/mesh/build.js';
import { issueNodeCert, makeMeshCa } from './pki.js';

const PSK = 'a build test cluster key, long enough';
const MESH = `mesh {
  auth = psk
  psk = "${PSK}"
  dpd_delay = 15s
  rekey_time = 2h
  child_rekey_time = 20m
}
nodes {
  a {
    addrs = 198.18.0.1
    subnets = 198.19.1.0/24
  }
  b {
    addrs = 198.18.0.2
    subnets = 198.19.2.0/24, 198.19.22.0/24
  }
  c {
    addrs = 198.18.0.3
  }
  mon {
    addrs = 198.18.0.9
  }
  d {
    addrs = 198.18.0.4
  }
}
policies {
  clear = mon, 198.18.5.0/24
  clear-or-private = d
}
`;

let dir = '';
const file = () => join(dir, 'mesh.conf');
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsm-build-'));
  writeFileSync(file(), MESH);
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('planMesh / meshIkeConfig (PSK)', () => {
  it('one connection per encrypted peer, with trap children, DPD and rekey from the file', () => {
    const { ike, plan } = loadMesh(file(), 'a');
    expect(plan.peers.map((p) => [p.node.name, p.policy, p.connection])).toEqual([
      ['b', 'private', 'mesh-b'], ['c', 'private', 'mesh-c'], ['mon', 'clear', undefined], ['d', 'clear-or-private', 'mesh-d'],
    ]);
    expect(plan.clearPrefixes).toEqual(['198.18.5.0/24']);
    expect(ike.connections.map((c) => c.name)).toEqual(['mesh-b', 'mesh-c', 'mesh-d']);
    const b = ike.connections[0]!;
    expect(b).toMatchObject({
      localAddrs: ['198.18.0.1'], remoteAddrs: ['198.18.0.2'], encap: true, dpdDelayMs: 15_000, rekeyTimeMs: 7_200_000,
      proposals: ['aes256gcm16-prfsha256-x25519'],
      local: { auth: 'psk', id: 'a', psk: new TextEncoder().encode(PSK) },
      remote: { auth: 'psk', id: 'b', psk: new TextEncoder().encode(PSK) },
    });
    expect((b.children ?? []).map((ch) => ({ name: ch.name, mode: ch.mode, localTs: ch.localTs, remoteTs: ch.remoteTs, startAction: ch.startAction, dpdAction: ch.dpdAction, closeAction: ch.closeAction, rekeyTimeMs: ch.rekeyTimeMs, espProposals: ch.espProposals }))).toEqual([
      { name: 'b-host', mode: 'transport', localTs: ['198.18.0.1/32'], remoteTs: ['198.18.0.2/32'], startAction: 'trap', dpdAction: 'trap', closeAction: 'trap', rekeyTimeMs: 1_200_000, espProposals: ['aes256gcm16'] },
      { name: 'b-net', mode: 'tunnel', localTs: ['198.19.1.0/24'], remoteTs: ['198.19.2.0/24', '198.19.22.0/24'], startAction: 'trap', dpdAction: 'trap', closeAction: 'trap', rekeyTimeMs: 1_200_000, espProposals: ['aes256gcm16'] },
    ]);
    // c lists no subnet: host to host only.
    expect((ike.connections[1]!.children ?? []).map((ch) => [ch.name, ch.mode])).toEqual([['c-host', 'transport']]);
    // clear-or-private: answered, never initiated, no trap.
    expect((ike.connections[2]!.children ?? []).map((ch) => [ch.name, ch.startAction, ch.closeAction])).toEqual([['d-host', 'none', 'none']]);
    // The engine accepts it as is.
    expect(resolveConfig(ike).connections).toHaveLength(3);
  });

  it('both ends of each pair mirror each other', () => {
    const mesh = parseMesh(MESH, file());
    const names = ['a', 'b', 'c', 'd'];
    for (const x of names) {
      for (const y of names) {
        if (x === y) continue;
        const cx = meshIkeConfig(planMesh(mesh, x), nodeMeshFileSystem).ike.connections.find((c) => c.name === `mesh-${y}`);
        const cy = meshIkeConfig(planMesh(mesh, y), nodeMeshFileSystem).ike.connections.find((c) => c.name === `mesh-${x}`);
        expect(cx && cy, `${x} <-> ${y}`).toBeTruthy();
        expect(cx!.localAddrs).toEqual(cy!.remoteAddrs);
        expect(cx!.local.id).toBe(cy!.remote.id);
        expect((cx!.children ?? []).map((c) => [c.mode, c.localTs, c.remoteTs])).toEqual((cy!.children ?? []).map((c) => [c.mode, c.remoteTs, c.localTs]));
      }
    }
  });

  it('a clear node has no connection on either side; the others never list it', () => {
    const mesh = parseMesh(MESH, file());
    for (const n of ['a', 'b', 'c', 'd']) {
      const plan = planMesh(mesh, n);
      expect(plan.swanctl).not.toContain('198.18.0.9');
      expect(plan.peers.find((p) => p.node.name === 'mon')!.policy).toBe('clear');
    }
    const mon = mesh.nodes.find((x) => x.name === 'mon')!;
    for (const peer of mesh.nodes) if (peer !== mon) expect(pairPolicy(mesh, mon, peer)).toBe('clear');
    expect(() => loadMesh(file(), 'mon')).toThrow(/file|mesh.conf:\d+: nodes.mon: node mon has no peer to encrypt to/);
  });

  it('render is a swanctl.conf that carries the settings (and the PSK as hex)', () => {
    const { plan } = loadMesh(file(), 'c');
    const s = plan.swanctl;
    expect(s).toMatch(/^connections \{$/m);
    expect(s).toContain('mesh-a {  # private');
    expect(s).toMatch(/a-host \{\n\s+local_ts = 198\.18\.0\.3\/32\n\s+remote_ts = 198\.18\.0\.1\/32\n\s+mode = transport/);
    expect(s).toContain('start_action = trap');
    expect(s).toContain('encap = yes');
    expect(s).toContain(`secret = 0x${Buffer.from(PSK).toString('hex')}`);
  });

  it('an unknown --node names the file, the key and the node', () => {
    let err: unknown;
    try { loadMesh(file(), 'zz'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(new RegExp(`${file().replace(/[.]/g, '\\.')}:0: nodes: no node named "zz" \\(nodes: a, b, c, mon, d\\)`));
  });

  it('an unreadable mesh file is a ConfigError naming it', () => {
    expect(() => loadMesh(join(dir, 'nope.conf'), 'a')).toThrow(/nope\.conf:0: cannot read mesh description/);
  });
});

describe('address families', () => {
  const dual = `mesh {\n  auth = psk\n  psk = "${PSK}"\n}\nnodes {\n  a {\n    addrs = 198.18.0.1, 2001:db8::1\n  }\n  b {\n    addrs = 2001:db8::2, 198.18.0.2\n  }\n  c {\n    addrs = 2001:db8::3\n    subnets = 2001:db8:3::/64\n  }\n  d {\n    addrs = 2001:db8::4\n    subnets = 2001:db8:4::/64\n  }\n}\n`;
  const conn = (me: string, peer: string) => {
    const mesh = parseMesh(dual, '/m.conf');
    return planMesh(mesh, me).peers.find((p) => p.node.name === peer)!;
  };
  const ike = (me: string) => meshIkeConfig(planMesh(parseMesh(dual, '/m.conf'), me), nodeMeshFileSystem).ike.connections;

  it('dual-stack pairs agree on one family (the first common one of the node whose name sorts first)', () => {
    // a lists IPv4 first, b IPv6 first: both use IPv4 (a sorts first).
    expect(ike('a').find((c) => c.name === 'mesh-b')).toMatchObject({ localAddrs: ['198.18.0.1'], remoteAddrs: ['198.18.0.2'] });
    expect(ike('b').find((c) => c.name === 'mesh-a')).toMatchObject({ localAddrs: ['198.18.0.2'], remoteAddrs: ['198.18.0.1'] });
    // a and c share only IPv6.
    expect(ike('a').find((c) => c.name === 'mesh-c')).toMatchObject({ localAddrs: ['2001:db8::1'], remoteAddrs: ['2001:db8::3'] });
    expect(ike('c').find((c) => c.name === 'mesh-a')).toMatchObject({ localAddrs: ['2001:db8::3'], remoteAddrs: ['2001:db8::1'] });
    expect(conn('a', 'c').children[0]).toMatchObject({ localTs: ['2001:db8::1/128'], remoteTs: ['2001:db8::3/128'] });
  });

  it('IPv6 tunnel children: 40-byte outer header in the headroom', () => {
    const plan = planMesh(parseMesh(dual, '/m.conf'), 'c');
    const net = plan.mtu.find((l) => l.child === 'd-net')!;
    expect(net).toMatchObject({ mode: 'tunnel', family: 6, innerMtu: 1418, headroom: 82 });
    expect(plan.tunMtu).toBe(1418);
  });

  it('nodes without a common family: an error naming both', () => {
    const bad = dual.replace('addrs = 198.18.0.1, 2001:db8::1', 'addrs = 198.18.0.1');
    expect(() => parseMesh(bad, '/m.conf')).toThrow(/\/m\.conf:12: nodes\.c\.addrs: node c shares no address family with node a/);
  });
});

describe('examples/mesh', () => {
  it('the example files are valid mesh descriptions', () => {
    const dirEx = join(import.meta.dirname, '..', '..', '..', 'examples', 'mesh');
    const psk = loadMesh(join(dirEx, 'mesh.conf'), 'node1');
    expect(psk.plan.peers.map((p) => [p.node.name, p.children.map((c) => c.mode)])).toEqual([['node2', ['transport', 'tunnel']], ['node3', ['transport']]]);
    const certs = parseMesh(readFileSync(join(dirEx, 'mesh-certs.conf'), 'utf8'), join(dirEx, 'mesh-certs.conf'));
    expect(certs.auth.kind).toBe('pubkey');
    expect(planMesh(certs, 'node1').peers.map((p) => [p.node.name, p.policy])).toEqual([['node2', 'private'], ['node3', 'private'], ['monitor', 'clear']]);
  });
});

describe('meshIkeConfig (certificates)', () => {
  let pki = '';
  beforeAll(() => {
    pki = mkdtempSync(join(tmpdir(), 'tsm-build-pki-'));
    makeMeshCa(pki);
    issueNodeCert(pki, 'a');
    writeFileSync(join(pki, 'mesh.conf'), 'mesh {\n  auth = pubkey\n  ca = ca.pem\n}\nnodes {\n  a {\n    addrs = 198.18.0.1\n  }\n  b {\n    addrs = 198.18.0.2\n  }\n}\n');
  }, 60_000);
  afterAll(() => { if (pki) rmSync(pki, { recursive: true, force: true }); });

  it("uses this node's certificate and key and the cluster CA; needs no other node's files", () => {
    const { ike, plan } = loadMesh(join(pki, 'mesh.conf'), 'a');
    const c = ike.connections[0]!;
    expect(c.local.auth).toBe('pubkey');
    expect(c.local.id).toBe('a');
    expect(c.remote).toMatchObject({ auth: 'pubkey', id: 'b' });
    expect(c.local.certs).toEqual([new Uint8Array(readFileSync(join(pki, 'certs', 'a.pem')))]);
    expect(c.local.privateKey).toEqual(new Uint8Array(readFileSync(join(pki, 'private', 'a.pem'))));
    expect(c.remote.cacerts).toEqual([new Uint8Array(readFileSync(join(pki, 'ca.pem')))]);
    expect([...plan.files.entries()]).toEqual([
      ['/etc/swanctl/x509ca/mesh-ca.pem', join(pki, 'ca.pem')],
      ['/etc/swanctl/x509/a.pem', join(pki, 'certs', 'a.pem')],
      ['/etc/swanctl/private/a.pem', join(pki, 'private', 'a.pem')],
    ]);
    expect(plan.swanctl).toContain('certs = a.pem');
    expect(plan.swanctl).toContain('cacerts = mesh-ca.pem');
    expect(resolveConfig(ike).connections).toHaveLength(1);
  });

  it('a node whose certificate is missing: error naming the mesh file, the node and the path', () => {
    const f = join(pki, 'mesh.conf');
    expect(() => loadMesh(f, 'b')).toThrow(new RegExp(`mesh\\.conf:9: nodes\\.b: node b: ${join(pki, 'certs', 'b.pem').replace(/[.]/g, '\\.')} not found`));
  });

  it("a key that is not the certificate's: error naming the node and both files, before anything starts", () => {
    const other = mkdtempSync(join(tmpdir(), 'tsm-build-other-'));
    try {
      makeMeshCa(other);
      issueNodeCert(other, 'a');
      writeFileSync(join(pki, 'private', 'a.pem'), readFileSync(join(other, 'private', 'a.pem')));
      expect(() => loadMesh(join(pki, 'mesh.conf'), 'a')).toThrow(/mesh\.conf:6: nodes\.a: node a: .*certs\/a\.pem \/ .*private\/a\.pem: .*privateKey: none of the 1 private key\(s\) matches/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a missing key is an error too', () => {
    issueNodeCert(pki, 'b');
    unlinkSync(join(pki, 'private', 'b.pem'));
    expect(() => loadMesh(join(pki, 'mesh.conf'), 'b')).toThrow(/nodes\.b: node b: .*private\/b\.pem not found/);
  });
});
