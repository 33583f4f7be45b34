/**
 * `loadSwanctlConfig(path)`: read a swanctl.conf (and its includes), validate it, and read every
 * certificate and key it needs, so the runtime needs no file system afterwards. Credentials are
 * found where swanctl looks: `certs` in x509/, `cacerts` in x509ca/, `pubkeys` in pubkey/, keys in
 * private/, rsa/, ecdsa/, pkcs8/, all in the swanctl directory (by default the directory of the
 * config file), or absolute paths. Throws one ConfigError listing every problem.
 */
import { dirname } from 'node:path';
import { nodeConfigFileSystem, nodeIncludeHost } from './node-fs.js';
import { parseSwanctlFile } from './swanctl-parser.js';
import type { IncludeHost } from './swanctl-parser.js';
import type { ConfigFileSystem, TsipsecConfig } from './types.js';
import { formatConfigIssue } from './errors.js';
import { validateSwanctl } from './validate.js';

export interface LoadOptions {
  /** Directory holding x509/, x509ca/, private/ …; default: the config file's directory. */
  readonly swanctlDir?: string;
  /** Load every file of x509/, x509ca/, private/, rsa/, ecdsa/, pkcs8/ like `swanctl --load-all` (default true). */
  readonly loadCredentialDirs?: boolean;
  /** File access, for tests; defaults to node:fs. */
  readonly includeHost?: IncludeHost;
  readonly fs?: ConfigFileSystem;
}

export interface LoadResult {
  readonly config: TsipsecConfig;
  /** `file:line: key: message` for settings accepted but ignored, and similar. */
  readonly warnings: string[];
}

export function loadSwanctlConfig(path: string, options: LoadOptions = {}): LoadResult {
  const file = path;
  const parsed = parseSwanctlFile(file, options.includeHost ?? nodeIncludeHost);
  const validated = validateSwanctl(parsed.root, {
    swanctlDir: options.swanctlDir ?? dirname(file),
    fs: options.fs ?? nodeConfigFileSystem,
    loadCredentialDirs: options.loadCredentialDirs,
  });
  return { config: validated.config, warnings: [...parsed.warnings.map(formatConfigIssue), ...validated.warnings] };
}
