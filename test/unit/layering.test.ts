/**
 * DESIGN.md §2 / rule 1: the protocol cores do no I/O. Nothing under src/esp, src/ike or src/wire may
 * import a node: module, read the clock or draw randomness; src/crypto may import node: only in node.ts.
 * Imports must point downward: esp never imports ike; cores never import runtime/net/tun/cli/config.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

const forbiddenInCore: Array<[RegExp, string]> = [
  [/from\s+['"]node:/, 'imports a node: module'],
  [/import\(\s*['"]node:/, 'imports a node: module'],
  [/require\(/, 'uses require'],
  [/from\s+['"](fs|net|dgram|crypto|os|child_process|worker_threads|timers)['"]/, 'imports a Node builtin'],
  [/\bDate\.now\s*\(/, 'reads the clock (Date.now)'],
  [/\bnew Date\s*\(/, 'reads the clock (new Date)'],
  [/\bperformance\.now\s*\(/, 'reads the clock (performance.now)'],
  [/\bprocess\.hrtime/, 'reads the clock (process.hrtime)'],
  [/\bMath\.random\s*\(/, 'draws randomness (Math.random)'],
  [/\bgetRandomValues\s*\(/, 'draws randomness (getRandomValues)'],
  [/\brandomBytes\s*\(/, 'draws randomness (randomBytes)'],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(|\bsetImmediate\s*\(/, 'arms a timer'],
];

const upwardFromCore = /from\s+['"][./]*(\.\.\/)+(runtime|net|tun|cli|config)\//;

function violations(files: string[], rules: Array<[RegExp, string]>): string[] {
  const out: string[] = [];
  for (const f of files) {
    const src = stripComments(readFileSync(f, 'utf8'));
    for (const [re, why] of rules) if (re.test(src)) out.push(`${relative(root, f)}: ${why}`);
  }
  return out;
}

describe('layering (DESIGN.md rule 1)', () => {
  const core = ['esp', 'ike', 'wire'].flatMap((d) => walk(join(root, 'src', d)));

  it('finds the core sources', () => {
    expect(core.length).toBeGreaterThan(0);
  });

  it('src/esp, src/ike and src/wire do no I/O, read no clock and draw no randomness', () => {
    expect(violations(core, forbiddenInCore)).toEqual([]);
  });

  it('src/crypto imports node: only from node.ts', () => {
    const crypto = walk(join(root, 'src', 'crypto')).filter((f) => !/[/\\]node(-[a-z-]+)?\.ts$/.test(f));
    expect(violations(crypto, forbiddenInCore.slice(0, 4))).toEqual([]);
  });

  it('cores import only downward', () => {
    const bad = core.filter((f) => upwardFromCore.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(bad).toEqual([]);
  });

  it('src/esp never imports src/ike', () => {
    const esp = walk(join(root, 'src', 'esp'));
    const bad = esp.filter((f) => /from\s+['"][./]*\.\.\/ike\//.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(bad).toEqual([]);
  });

  it('the rules catch a violation', () => {
    const sample = "import { x } from 'node:dgram';\nconst t = Date.now();";
    const hits = forbiddenInCore.filter(([re]) => re.test(stripComments(sample)));
    expect(hits.length).toBe(2);
  });
});
