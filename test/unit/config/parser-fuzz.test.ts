import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseSwanctl } from '../../../src/config/swanctl-parser.js';
import type { IncludeHost } from '../../../src/config/swanctl-parser.js';
import { validateSwanctl } from '../../../src/config/validate.js';
import { memoryFs } from './helpers.js';

/** Text built from the characters the grammar cares about, so the parser's branches are reached. */
const syntaxy = fc
  .array(
    fc.oneof(
      fc.constantFrom('{', '}', '=', '"', '\\', '#', ':', ',', '.', '\n', ' ', '\t', '\r', 'include ', 'connections', 'children', 'local', 'secrets', 'ike', 'secret', 'a', '*'),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 80 },
  )
  .map((parts) => parts.join(''));

/** Includes that point back at themselves or elsewhere, to exercise loops and depth. */
const host: IncludeHost = {
  expand: (p) => (p.endsWith('missing') ? (() => { throw new Error('no such file'); })() : [p]),
  readText: (p) => `x { include ${p.length > 200 ? 'missing' : `${p.slice(-20)}/y`} }\n`,
};

function parsesOrConfigError(text: string): void {
  try {
    const { root } = parseSwanctl(text, '/f/swanctl.conf', { host });
    try {
      validateSwanctl(root, { swanctlDir: '/f', fs: memoryFs({}) });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.issues.length).toBeGreaterThan(0);
    for (const i of e.issues) expect(i.line).toBeGreaterThanOrEqual(0);
  }
}

describe('swanctl parser: totality (fast-check)', () => {
  it('too deep nesting is a ConfigError naming the line', () => {
    const text = Array.from({ length: 70 }, (_, i) => `s${i} {`).join('\n');
    try {
      parseSwanctl(text, '/f/deep.conf');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toMatch(/^\/f\/deep\.conf:65: s0\.s1\.[\w.]+\.s64: sections nested deeper than 64$/);
    }
  });

  it('arbitrary text → a tree or a ConfigError, never another exception', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), parsesOrConfigError), { numRuns: 2000 });
  });

  it('grammar-shaped text → a tree or a ConfigError, never another exception', () => {
    fc.assert(fc.property(syntaxy, parsesOrConfigError), { numRuns: 3000 });
  });

  it('does not hang on deep nesting or long inputs', () => {
    const start = performance.now();
    parsesOrConfigError('a {'.repeat(2000));
    parsesOrConfigError(`${'a{'.repeat(200000)}${'}'.repeat(200000)}`);
    parsesOrConfigError('{'.repeat(200000));
    parsesOrConfigError(`${'x : y {\n}\ny : x {\n}\n'.repeat(100)}`);
    parsesOrConfigError(`k = "${'\\'.repeat(100000)}`);
    parsesOrConfigError('}'.repeat(50000));
    expect(performance.now() - start).toBeLessThan(5000);
  });
});
