/**
 * Node file-system access for the config loader: the IncludeHost of the parser (with the shell
 * wildcards `*`, `?` and `[...]` strongswan.conf(5) allows in `include`) and the ConfigFileSystem
 * the validator reads certificates and keys through. Node 20 has no fs.glob, hence the small matcher.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, parse as parsePath, sep } from 'node:path';
import type { IncludeHost } from './swanctl-parser.js';
import type { ConfigFileSystem } from './types.js';

function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s);
}

/** sh(1) pattern → RegExp for one path component. */
function componentRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function expandGlob(absolutePattern: string): string[] {
  if (!hasWildcard(absolutePattern)) {
    if (!isFile(absolutePattern)) {
      throw new Error(isDirectory(absolutePattern) ? 'is a directory' : 'no such file');
    }
    return [absolutePattern];
  }
  const { root } = parsePath(absolutePattern);
  const parts = absolutePattern.slice(root.length).split(sep).filter((p) => p !== '');
  let current = [root];
  parts.forEach((part, index) => {
    const last = index === parts.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      if (!hasWildcard(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      const re = componentRegExp(part);
      for (const name of names.sort()) {
        if (name.startsWith('.') && !part.startsWith('.')) continue; // sh(1): '*' skips dot files
        if (re.test(name)) next.push(join(dir, name));
      }
    }
    current = last ? next.filter(isFile) : next.filter(isDirectory);
  });
  return current.sort();
}

/** The parser's include access on the real file system. */
export const nodeIncludeHost: IncludeHost = {
  expand: expandGlob,
  readText(path: string): string {
    return readFileSync(path, 'utf8');
  },
};

/** The validator's certificate/key access on the real file system. */
export const nodeConfigFileSystem: ConfigFileSystem = {
  readFile(path: string): Uint8Array {
    if (isDirectory(path)) throw new Error('is a directory');
    const data = readFileSync(path);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  },
  listFiles(dir: string): string[] {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .sort()
      .map((n) => join(dir, n))
      .filter(isFile);
  },
};
