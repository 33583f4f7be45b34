import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NetnsLab, RouteManager } from '../../../src/runtime/netns.js';
import { CommandError, type RunCommand } from '../../../src/runtime/system.js';

/** A fake `ip` that records argv and fails when `failOn` matches the joined command line. */
function fakeRun(failOn?: RegExp): { run: RunCommand; calls: string[] } {
  const calls: string[] = [];
  const run: RunCommand = async (cmd, args) => {
    const line = [cmd, ...args].join(' ');
    calls.push(line);
    if (failOn?.test(line)) throw new CommandError(cmd, args, 2, '', 'RTNETLINK answers: No such process', 'exit 2');
    if (args.includes('-j')) return { stdout: '[{"dst":"198.18.5.5","gateway":"198.18.0.1","dev":"eth9","prefsrc":"198.18.0.2"}]', stderr: '' };
    return { stdout: '', stderr: '' };
  };
  return { run, calls };
}

describe('RouteManager', () => {
  it('issues ip route/rule commands, records them in the state file, and removes them newest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsipsec-rm-'));
    const { run, calls } = fakeRun();
    const rm = new RouteManager({ name: 'conn1', stateDir: dir, run });
    expect(rm.stateFile).toBe(join(dir, 'conn1.json'));
    await rm.addRoute('tsipsec0', '198.18.50.0/24', { src: '198.18.40.1', mtu: 1400 });
    await rm.addRoute('eth0', '198.18.5.5/32', { via: '198.18.0.1', table: 220 });
    await rm.addRoute('tsipsec0', '2001:db8:5::/64', { netns: 'tsx-a' });
    await rm.addRule({ priority: 220, to: '198.18.5.5/32', table: 220 });
    expect(calls).toEqual([
      'ip route add 198.18.50.0/24 dev tsipsec0 src 198.18.40.1 mtu 1400',
      'ip route add 198.18.5.5/32 via 198.18.0.1 dev eth0 table 220',
      'ip -n tsx-a -6 route add 2001:db8:5::/64 dev tsipsec0',
      'ip rule add priority 220 to 198.18.5.5/32 lookup 220',
    ]);
    const state = JSON.parse(readFileSync(rm.stateFile, 'utf8')) as { items: unknown[] };
    expect(state.items).toHaveLength(4);

    calls.length = 0;
    await rm.removeRoute('eth0', '198.18.5.5/32', { table: 220 });
    expect(calls).toEqual(['ip route del 198.18.5.5/32 via 198.18.0.1 dev eth0 table 220']);
    expect(rm.installed()).toHaveLength(3);

    calls.length = 0;
    expect(await rm.removeAll()).toEqual([]);
    expect(calls).toEqual([
      'ip rule del priority 220 to 198.18.5.5/32 lookup 220',
      'ip -n tsx-a -6 route del 2001:db8:5::/64 dev tsipsec0',
      'ip route del 198.18.50.0/24 dev tsipsec0 src 198.18.40.1 mtu 1400',
    ]);
    expect(existsSync(rm.stateFile)).toBe(false);
  });

  it('does not record a route the OS refused, and removeAll reports what it could not remove without throwing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsipsec-rm-'));
    const { run } = fakeRun(/198\.18\.9\.0|del 198\.18\.8\.0/);
    const rm = new RouteManager({ name: 'c', stateDir: dir, run });
    await expect(rm.addRoute('tun0', '198.18.9.0/24')).rejects.toThrow(/No such process/);
    expect(rm.installed()).toEqual([]);
    await rm.addRoute('tun0', '198.18.8.0/24');
    const failed = await rm.removeAll();
    expect(failed.map((f) => (f.kind === 'route' ? f.prefix : ''))).toEqual(['198.18.8.0/24']);
  });

  it('cleans up a crashed run from its state file, and tolerates a missing or corrupt file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsipsec-rm-'));
    const first = fakeRun();
    const crashed = new RouteManager({ name: 'c', stateDir: dir, run: first.run });
    await crashed.addRoute('tun0', '198.18.7.0/24');
    await crashed.addRule({ priority: 100, from: '198.18.7.1', table: 'main' });
    // the process dies here; a new one starts:
    const second = fakeRun();
    expect(await RouteManager.cleanupStale(crashed.stateFile, second.run)).toBe(2);
    expect(second.calls).toEqual(['ip rule del priority 100 from 198.18.7.1 lookup main', 'ip route del 198.18.7.0/24 dev tun0']);
    expect(existsSync(crashed.stateFile)).toBe(false);
    expect(await RouteManager.cleanupStale(crashed.stateFile, second.run)).toBe(0);
    writeFileSync(join(dir, 'bad.json'), '{not json');
    expect(await RouteManager.cleanupStale(join(dir, 'bad.json'), second.run)).toBe(0);
  });

  it('parses ip -j route get for the peer route', async () => {
    const { run, calls } = fakeRun();
    const rm = new RouteManager({ name: 'c', persist: false, run });
    expect(await rm.lookupRoute('198.18.5.5')).toEqual({ dev: 'eth9', via: '198.18.0.1', src: '198.18.0.2' });
    expect(calls).toEqual(['ip -j route get 198.18.5.5']);
  });

  it('rejects a state name that could escape the state directory', () => {
    expect(() => new RouteManager({ name: '../etc/x' })).toThrow(/name/);
  });
});

describe('NetnsLab (command construction)', () => {
  it('prefixes namespace names and builds veth commands with addresses', async () => {
    const { run, calls } = fakeRun();
    const lab = new NetnsLab('tsz-', { run });
    expect(await lab.createNamespace('a')).toBe('tsz-a');
    await lab.vethPair('a', 'va', '198.18.60.1/24', null, 'vb', null);
    await lab.execIn('a', 'ping', ['-c1', '198.18.60.2']);
    expect(calls.slice(1)).toEqual([
      'ip netns add tsz-a',
      'ip -n tsz-a link set dev lo up',
      'ip link add va netns tsz-a type veth peer name vb',
      'ip -n tsz-a addr add 198.18.60.1/24 dev va',
      'ip -n tsz-a link set dev va gso_max_segs 1 up',
      'ip link set dev vb gso_max_segs 1 up',
      'ip netns exec tsz-a ping -c1 198.18.60.2',
    ]);
    calls.length = 0;
    await lab.cleanup();
    expect(calls).toEqual(['ip netns del tsz-a']);
    expect(() => new NetnsLab('bad prefix')).toThrow(/prefix/);
    await expect(lab.vethPair('a', 'this-name-is-too-long', null, 'b', 'x', null)).rejects.toThrow(/interface name/);
  });
});
