import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeIncludeHost } from '../../../src/config/node-fs.js';
import { findSection, parseSwanctl, parseSwanctlFile } from '../../../src/config/swanctl-parser.js';
import type { IncludeHost, SettingsSection } from '../../../src/config/swanctl-parser.js';
import { configErrorOf } from './helpers.js';

const F = '/x/swanctl.conf';

function value(root: SettingsSection, path: string): string | undefined {
  const dot = path.lastIndexOf('.');
  const section = findSection(root, dot < 0 ? '' : path.slice(0, dot));
  return section?.values.find((v) => v.key === path.slice(dot + 1))?.value;
}

describe('swanctl parser: syntax', () => {
  it('reads nested sections, values to the end of line, comments, and locations', () => {
    const { root } = parseSwanctl(
      ['# comment', 'a = b', 'sec {', '  key = some value, with commas   # trailing comment', '  sub {', '    x = 1', '  }', '}'].join('\n'),
      F,
    );
    expect(value(root, 'a')).toBe('b');
    expect(value(root, 'sec.key')).toBe('some value, with commas');
    expect(value(root, 'sec.sub.x')).toBe('1');
    const sec = findSection(root, 'sec.sub');
    expect(sec).toMatchObject({ name: 'sub', path: 'sec.sub', file: F, line: 5 });
    expect(findSection(root, 'sec')?.values[0]).toMatchObject({ key: 'key', file: F, line: 4 });
  });

  it('joins the words of a value with one space, as strongSwan does, and keeps quoted text verbatim', () => {
    const { root } = parseSwanctl('a = one    two\tthree\nb = "  spaced  # not a comment } "\n', F);
    expect(value(root, 'a')).toBe('one two three');
    expect(value(root, 'b')).toBe('  spaced  # not a comment } ');
  });

  it('decodes escapes in quoted strings and joins lines after an escaped newline', () => {
    const { root } = parseSwanctl('a = "x\\ty\\nz\\"q\\\\"\nb = "one\\\ntwo"\nc = 3\n', F);
    expect(value(root, 'a')).toBe('x\ty\nz"q\\');
    expect(value(root, 'b')).toBe('onetwo');
    expect(findSection(root, '')?.values.find((v) => v.key === 'c')?.line).toBe(4);
  });

  it('ends a value at "}" so one-line sections work', () => {
    const { root } = parseSwanctl('conn { local { auth = psk } remote { id = b } }', F);
    expect(value(root, 'conn.local.auth')).toBe('psk');
    expect(value(root, 'conn.remote.id')).toBe('b');
  });

  it('accepts the "{" of a section on the next line and an empty assignment', () => {
    const { root } = parseSwanctl('sec\n{\n  k =\n}\n', F);
    expect(value(root, 'sec.k')).toBe('');
  });

  it('merges repeated sections; a repeated key keeps the last value and its line', () => {
    const { root } = parseSwanctl('s {\n a = 1\n b = 2\n}\ns {\n a = 3\n}\n', F);
    const s = findSection(root, 's');
    expect(root.sections).toHaveLength(1);
    expect(s?.values.map((v) => [v.key, v.value, v.line])).toEqual([
      ['a', '3', 6],
      ['b', '2', 3],
    ]);
  });

  it('resolves section references: own settings first, then inherited ones', () => {
    const text = [
      'defaults {',
      '  version = 2',
      '  mobike = no',
      '  children { c { mode = transport',
      '  } }',
      '}',
      'connections {',
      '  a : defaults {',
      '    mobike = yes',
      '    children { c { esp_proposals = aes128gcm16',
      '    } }',
      '  }',
      '}',
    ].join('\n');
    const { root } = parseSwanctl(text, F);
    expect(value(root, 'connections.a.version')).toBe('2');
    expect(value(root, 'connections.a.mobike')).toBe('yes');
    expect(value(root, 'connections.a.children.c.mode')).toBe('transport');
    expect(value(root, 'connections.a.children.c.esp_proposals')).toBe('aes128gcm16');
    expect(findSection(root, 'connections.a.children.c')?.path).toBe('connections.a.children.c');
    // an inherited value still points at the line where it was written
    expect(findSection(root, 'connections.a')?.values.find((v) => v.key === 'version')?.line).toBe(2);
  });
});

describe('swanctl parser: errors name file, line and key', () => {
  const cases: Array<[string, string, number, string, RegExp]> = [
    ['unterminated section', 'connections {\n  net {\n    a = b\n', 2, 'connections.net', /unterminated section "net"/],
    ['unexpected }', 'a = b\n}\n', 2, '', /unexpected "}"/],
    ['missing =', 'sec {\n  key value\n}\n', 2, 'sec.key', /missing "=" after "key"/],
    ['missing key', 'sec {\n  = value\n}\n', 2, 'sec', /missing key before "="/],
    ['unterminated string', 'sec {\n  k = "abc\n}\n', 2, 'sec.k', /unterminated quoted string/],
    ['quoted name', '"a" = b\n', 1, '', /quotes are allowed in values only/],
    ['dotted name', 'sec {\n a.b = c\n}\n', 2, 'sec.a.b', /may not contain "\."/],
    ['unknown reference', 'x : nope {\n}\n', 1, 'x', /unknown section "nope"/],
    ['circular reference', 'x : y {\n}\ny : x {\n}\n', 3, 'y', /circular reference/],
    ['include without file access', 'include other.conf\n', 1, 'include', /no file access/],
  ];
  for (const [name, text, line, key, message] of cases) {
    it(name, () => {
      const err = configErrorOf(() => parseSwanctl(text, F));
      const issue = err.issues.find((i) => message.test(i.message));
      expect(issue, err.message).toMatchObject({ file: F, line, key });
      expect(err.message).toContain(`${F}:${line}: ${key === '' ? '' : `${key}: `}`);
    });
  }

  it('the first issue is repeated on the error itself', () => {
    const err = configErrorOf(() => parseSwanctl('a = b\nsec {\n  x y\n}\n', F));
    expect([err.file, err.line, err.key]).toEqual([F, 3, 'sec.x']);
    expect(err.message).toBe(`${F}:3: sec.x: missing "=" after "x" (expected "x = value" or "x {")`);
  });

  it('collects every error, not just the first', () => {
    const err = configErrorOf(() => parseSwanctl('a {\n  b c\n}\n}\nd {\n  = x\n}\n', F));
    expect(err.issues.map((i) => i.line)).toEqual([2, 4, 6]);
  });
});

describe('swanctl parser: include', () => {
  const files: Record<string, string> = {
    '/etc/s/swanctl.conf': 'connections {\n  include conf.d/*.conf\n}\nsecrets {\n  include /abs/secrets.conf\n}\n',
    '/etc/s/conf.d/a.conf': 'a {\n  version = 2\n}\n',
    '/etc/s/conf.d/b.conf': 'b {\n  version = 2\n}\na {\n  mobike = no\n}\n',
    '/abs/secrets.conf': 'ike-1 {\n  secret = x\n}\n',
  };
  const host: IncludeHost = {
    expand(pattern) {
      if (pattern.includes('*')) {
        const re = new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
        return Object.keys(files).filter((f) => re.test(f)).sort();
      }
      if (!(pattern in files)) throw new Error('no such file');
      return [pattern];
    },
    readText(path) {
      const t = files[path];
      if (t === undefined) throw new Error('no such file');
      return t;
    },
  };

  it('includes relative to the including file, into the enclosing section, with wildcards, merging sections', () => {
    const { root, files: read } = parseSwanctlFile('/etc/s/swanctl.conf', host);
    expect(value(root, 'connections.a.version')).toBe('2');
    expect(value(root, 'connections.a.mobike')).toBe('no');
    expect(value(root, 'connections.b.version')).toBe('2');
    expect(value(root, 'secrets.ike-1.secret')).toBe('x');
    expect(findSection(root, 'connections.b')).toMatchObject({ file: '/etc/s/conf.d/b.conf', line: 1 });
    expect(read).toEqual(['/etc/s/swanctl.conf', '/etc/s/conf.d/a.conf', '/etc/s/conf.d/b.conf', '/abs/secrets.conf']);
  });

  it('a missing include file is an error naming the including line', () => {
    const err = configErrorOf(() => parseSwanctl('x {\n  include missing.conf\n}\n', '/etc/s/swanctl.conf', { host }));
    expect(err.message).toBe('/etc/s/swanctl.conf:2: x.include: cannot include "missing.conf": no such file');
  });

  it('a wildcard that matches nothing is fine', () => {
    expect(parseSwanctl('include nothing/*.conf\n', '/etc/s/swanctl.conf', { host }).root.sections).toEqual([]);
  });

  it('an include loop is an error, not a hang', () => {
    const loop: IncludeHost = { expand: (p) => [p], readText: () => 'include self.conf\n' };
    const err = configErrorOf(() => parseSwanctl('include self.conf\n', '/l/main.conf', { host: loop }));
    expect(err.message).toMatch(/include loop/);
  });

  it('errors inside an included file name that file', () => {
    const err = configErrorOf(() => parseSwanctl('sec {\n  include conf.d/bad.conf\n}\n', '/etc/s/swanctl.conf', {
      host: { expand: (p) => [p], readText: () => 'ok = 1\nbroken\n' },
    }));
    expect(err.file).toBe('/etc/s/conf.d/bad.conf');
    expect(err.line).toBe(2);
    expect(err.key).toBe('sec.broken');
  });

  describe('on the real file system (node host, glob)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsipsec-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'swanctl.conf'), 'connections {\n  include conf.d/*.conf\n}\n');
    writeFileSync(join(dir, 'conf.d', '2-b.conf'), 'b {\n}\n');
    writeFileSync(join(dir, 'conf.d', '1-a.conf'), 'a {\n}\n');
    writeFileSync(join(dir, 'conf.d', 'skip.txt'), 'c {\n}\n');

    it('expands wildcards in sorted order and skips non-matching files', () => {
      const { root } = parseSwanctlFile(join(dir, 'swanctl.conf'), nodeIncludeHost);
      expect(findSection(root, 'connections')?.sections.map((s) => s.name)).toEqual(['a', 'b']);
    });

    it('a missing main file is a ConfigError', () => {
      const err = configErrorOf(() => parseSwanctlFile(join(dir, 'nope.conf'), nodeIncludeHost));
      expect(err.message).toMatch(/cannot read configuration/);
    });
  });
});
