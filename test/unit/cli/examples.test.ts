/**
 * The library examples run as users run them: `node examples/<file>` importing the built package by its
 * name ('tsipsec', resolved through package.json "exports" to dist/). And the README shows each example
 * verbatim: a block introduced by `<!-- example: examples/<file> -->` must equal the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const built = existsSync(join(root, 'dist', 'src', 'index.js'));
if (!built) {
  if (process.env.CI) throw new Error('examples test: dist/ missing in CI (npm run build)');
  console.warn('\n!!! examples NOT RUN: dist/ missing (npm run build) !!!\n');
}

/** README blocks marked `<!-- example: PATH -->`, as { path, code }. */
function readmeExamples(readme: string): Array<{ path: string; code: string }> {
  const out: Array<{ path: string; code: string }> = [];
  const re = /<!-- example: (\S+) -->\s*\n```[a-z]*\n([\s\S]*?)```/g;
  for (const m of readme.matchAll(re)) out.push({ path: m[1]!, code: m[2]! });
  return out;
}

describe.runIf(built)('examples/tunnel-in-memory.mjs', () => {
  it('brings up a child SA between two in-memory Tunnels and carries one packet as ESP', () => {
    const r = spawnSync(process.execPath, [join(root, 'examples', 'tunnel-in-memory.mjs')], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    for (const who of ['198.18.0.1', '198.18.0.2']) {
      expect(lines).toContain(`${who}: ike-up`);
      expect(lines.some((l) => new RegExp(`^${who.replace(/\./g, '\\.')}: child-up net spiIn=[0-9a-f]+$`).test(l))).toBe(true);
    }
    expect(lines).toContain('198.18.0.2: TUN got 33 bytes from 198.19.1.1');
    expect(lines).toContain("ESP datagrams on the wire: 1; B's TUN received 1 packet(s)");
    expect(lines.at(-1)).toBe('B decrypted: hello');
    // Each side's inbound SPI is printed once and they differ (two directions of one child SA).
    const spis = lines.map((l) => /spiIn=([0-9a-f]+)/.exec(l)?.[1]).filter(Boolean);
    expect(new Set(spis).size).toBe(2);
  });
});

describe('README examples', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  it('finds marked blocks in a sample', () => {
    const sample = 'x\n<!-- example: examples/a.mjs -->\n```js\nconsole.log(1);\n```\n';
    expect(readmeExamples(sample)).toEqual([{ path: 'examples/a.mjs', code: 'console.log(1);\n' }]);
  });

  it('shows examples/tunnel-in-memory.mjs verbatim, and every marked block equals its file', () => {
    const blocks = readmeExamples(readme);
    expect(blocks.map((b) => b.path)).toContain('examples/tunnel-in-memory.mjs');
    for (const b of blocks) expect(b.code, b.path).toBe(readFileSync(join(root, b.path), 'utf8'));
  });
});
