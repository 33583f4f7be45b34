/**
 * `tsipsec mesh` in process (no root, no daemon): help, render, and the usage/config errors that must
 * exit 2 naming file, line, key and node before anything starts.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../cli/capture-output.js';
import { COMMAND_NAMES, main } from '../../../src/cli/main.js';
import { parseSwanctl } from '../../../src/config/swanctl-parser.js';

const io = captureOutput();

const work = mkdtempSync(join(tmpdir(), 'tsm-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const good = join(work, 'good.conf');
writeFileSync(good, 'mesh {\n  auth = psk\n  psk = "cli test key, sixteen+ bytes"\n}\nnodes {\n  a {\n    addrs = 198.18.0.1\n  }\n  b {\n    addrs = 198.18.0.2\n  }\n}\npolicies {\n  clear = 198.18.0.9\n}\n');
const bad = join(work, 'bad.conf');
writeFileSync(bad, 'mesh {\n  auth = psk\n  psk = "cli test key, sixteen+ bytes"\n}\nnodes {\n  a {\n    addrs = 198.18.0.1\n  }\n  b {\n    addrs = 198.18.0.1\n  }\n}\n');

describe('tsipsec mesh', () => {
  it('is listed in tsipsec --help and has its own help', async () => {
    expect(COMMAND_NAMES).toContain('mesh');
    expect(await main(['mesh', '--help'])).toBe(0);
    expect(io.out).toMatch(/^Usage: tsipsec mesh up --mesh FILE --node NAME/);
    expect(io.out).toMatch(/Exit codes: 0 ok, 1 failure, 2 usage/);
    io.out = '';
    expect(await main(['mesh', 'up', '--help'])).toBe(0);
    expect(io.out).toMatch(/^Usage: tsipsec mesh/);
    expect(await main(['mesh'])).toBe(2);
  });

  it('render prints a swanctl.conf (with the plan as comments) that the swanctl parser reads', async () => {
    expect(await main(['mesh', 'render', '--mesh', good, '--node', 'b'])).toBe(0);
    expect(io.out).toMatch(/^# node b \(198\.18\.0\.2\)/);
    expect(io.out).toContain('# peer a 198.18.0.1 private: mesh-a: a-host transport (trap: never sent in clear)');
    expect(io.out).toContain('# clear (never encrypted): 198.18.0.9');
    expect(io.out).toMatch(/# MTU mesh-a\/a-host: transport IPv4 ESP-in-UDP, outer 1500 - headroom 42 = inner 1458/);
    const root = parseSwanctl(io.out, 'rendered').root;
    expect(root.sections.map((s) => s.name)).toEqual(['connections', 'secrets']);
  });

  it('usage errors exit 2', async () => {
    expect(await main(['mesh', 'sideways'])).toBe(2);
    expect(io.err).toMatch(/unknown subcommand "sideways"/);
    expect(await main(['mesh', 'render', '--node', 'a'])).toBe(2);
    expect(io.err).toMatch(/--mesh FILE is required/);
    expect(await main(['mesh', 'up', '--mesh', good])).toBe(2);
    expect(io.err).toMatch(/--node NAME is required/);
    expect(await main(['mesh', 'up', '--mesh', good, '--node', 'a', '--bogus'])).toBe(2);
    expect(io.err).toMatch(/bogus/);
  });

  it('a bad mesh file: exit 2, the error names file, line and key; nothing starts', async () => {
    const socket = join(work, 'never.sock');
    expect(await main(['mesh', 'up', '--mesh', bad, '--node', 'a', '--socket', socket])).toBe(2);
    expect(io.err).toContain(`${bad}:10: nodes.b.addrs: address 198.18.0.1 is also node a's`);
    expect(io.err).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(existsSync(socket)).toBe(false);
    io.err = '';
    expect(await main(['mesh', 'up', '--mesh', good, '--node', 'zz', '--socket', socket])).toBe(2);
    expect(io.err).toMatch(/good\.conf:0: nodes: no node named "zz"/);
    expect(existsSync(socket)).toBe(false);
  });
});
