/**
 * The CLI contract, in process (no daemon, no root): every command answers --help/-h with its usage and
 * the exit codes; bad arguments exit 2, "daemon not running" exits 3, other failures 1; errors print one
 * message without a stack trace unless --debug.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from './capture-output.js';
import { COMMAND_NAMES, HELP, main } from '../../../src/cli/main.js';

const io = captureOutput();

const work = mkdtempSync(join(tmpdir(), 'tsipsec-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const noSocket = join(work, 'no-daemon.sock');
const STACK = /\n\s+at .+:\d+:\d+/;

describe('tsipsec --help', () => {
  it('lists every command and the exit codes; no command is a usage error', async () => {
    expect(await main(['--help'])).toBe(0);
    for (const c of ['up', 'status', 'initiate', 'terminate', 'reload', 'down', 'decode', 'mtu', 'demo']) expect(COMMAND_NAMES).toContain(c);
    for (const c of COMMAND_NAMES) expect(io.out).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(io.out).toMatch(/Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 daemon not running/);
    expect(HELP).toBe(io.out.trimEnd());
    expect(await main([])).toBe(2);
    expect(await main(['frobnicate'])).toBe(2);
    expect(io.err).toMatch(/unknown command 'frobnicate'/);
  });

  for (const cmd of ['up', 'status', 'initiate', 'terminate', 'reload', 'down', 'decode', 'mtu', 'demo']) {
    it(`${cmd} --help / -h: usage and exit codes, exit 0; an unknown option: exit 2 without a stack`, async () => {
      expect(await main([cmd, '--help'])).toBe(0);
      expect(io.out).toMatch(new RegExp(`^Usage: tsipsec ${cmd}\\b`));
      expect(io.out).toMatch(/Exit codes: .*0 .*1 .*2 /);
      const first = io.out;
      io.out = '';
      expect(await main([cmd, '-h'])).toBe(0);
      expect(io.out).toBe(first);
      expect(await main([cmd, '--no-such-option'])).toBe(2);
      expect(io.err).toMatch(new RegExp(`tsipsec ${cmd}: .*no-such-option`));
      expect(io.err).toMatch(new RegExp(`tsipsec ${cmd} --help`));
      expect(io.err).not.toMatch(STACK);
      io.err = '';
      expect(await main([cmd, '--no-such-option', '--debug'])).toBe(2);
      expect(io.err).toMatch(STACK);
    });
  }
});

describe('exit codes', () => {
  it('3 when no daemon listens on the control socket, for every control command', async () => {
    for (const args of [['status'], ['initiate', 'net'], ['terminate', '--child', 'net'], ['reload'], ['down']]) {
      io.err = '';
      expect(await main([...args, '--socket', noSocket]), args.join(' ')).toBe(3);
      expect(io.err).toMatch(/tsipsec is not running \(no control socket at .*no-daemon\.sock\)/);
      expect(io.err).not.toMatch(STACK);
    }
  });

  it('2 for bad arguments', async () => {
    expect(await main(['initiate', '--socket', noSocket])).toBe(2); // no CHILD
    expect(await main(['terminate', '--ike', 'a', '--child', 'b'])).toBe(2);
    expect(await main(['mtu', '--cipher', 'rot13', '--mode', 'tunnel', '--outer', '1500'])).toBe(2);
    expect(await main(['up', '--metrics', 'nonsense'])).toBe(2);
    expect(await main(['decode'])).toBe(2);
    expect(io.err).not.toMatch(STACK);
  });

  it('2 for a bad configuration file, naming file, line and key, without a stack', async () => {
    const conf = join(work, 'bad.conf');
    writeFileSync(conf, 'connections {\n  x {\n    no_such_key = 1\n  }\n}\n');
    expect(await main(['up', '--config', conf, '--socket', join(work, 'up.sock'), '--log-level', 'silent'])).toBe(2);
    expect(io.err).toMatch(new RegExp(`${conf.replace(/\./g, '\\.')}:3: .*no_such_key`));
    expect(io.err).not.toMatch(STACK);
  });

  it('1 for a failure: a missing or non-pcap capture', async () => {
    expect(await main(['decode', join(work, 'missing.pcap')])).toBe(1);
    expect(io.err).toMatch(/cannot read .*missing\.pcap/);
    const junk = join(work, 'junk.pcap');
    writeFileSync(junk, 'not a capture');
    io.err = '';
    expect(await main(['decode', junk])).toBe(1);
    expect(io.err).toMatch(/is not a pcap or pcapng file/);
    expect(io.err).not.toMatch(STACK);
  });

  it('0 for mtu and --version', async () => {
    expect(await main(['mtu', '--cipher', 'aes256gcm16', '--mode', 'tunnel', '--encap', '--outer', '1500', '--json'])).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({ outerMtu: 1500, mode: 'tunnel', encap: true });
    io.out = '';
    expect(await main(['--version'])).toBe(0);
    expect(io.out).toMatch(/^tsipsec \d+\.\d+\.\d+/);
  });
});
