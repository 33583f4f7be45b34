import { ConfigError } from '../../../src/config/errors.js';
import { parseSwanctl } from '../../../src/config/swanctl-parser.js';
import type { ConfigFileSystem } from '../../../src/config/types.js';
import { validateSwanctl } from '../../../src/config/validate.js';
import type { ValidateResult } from '../../../src/config/validate.js';

/** An in-memory file system: absolute path → contents. */
export function memoryFs(files: Record<string, string | Uint8Array>): ConfigFileSystem {
  return {
    readFile(path: string): Uint8Array {
      const f = files[path];
      if (f === undefined) throw new Error('no such file');
      return typeof f === 'string' ? new TextEncoder().encode(f) : f;
    },
    listFiles(dir: string): string[] {
      return Object.keys(files)
        .filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'))
        .sort();
    },
  };
}

export const DIR = '/etc/swanctl';
export const FILE = '/etc/swanctl/swanctl.conf';

/** Parse + validate text as if it were /etc/swanctl/swanctl.conf. */
export function validateText(text: string, files: Record<string, string | Uint8Array> = {}): ValidateResult {
  const { root } = parseSwanctl(text, FILE);
  return validateSwanctl(root, { swanctlDir: DIR, fs: memoryFs(files) });
}

/** The ConfigError thrown by `fn`; fails the test if it throws nothing or something else. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw new Error(`expected a ConfigError, got ${String(e)}`);
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** A PSK connection around `inner` (extra connection settings) and `child` (extra child settings). */
export function pskConf(inner = '', child = '', extra = ''): string {
  return `connections {
  net {
    remote_addrs = 198.18.10.2
    local { auth = psk
      id = a.ipx.test
    }
    remote { auth = psk
      id = b.ipx.test
    }
${inner}
    children {
      net {
${child}
      }
    }
  }
}
secrets {
  ike-1 {
    id = b.ipx.test
    secret = s3cret
  }
}
${extra}`;
}
