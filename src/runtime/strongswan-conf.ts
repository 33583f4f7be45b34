/**
 * The strongswan.conf(5) settings tsipsec honours: charon's IKE retransmission schedule
 *
 *   charon.retransmit_timeout  initial timeout, seconds, fractions allowed (default 4.0)
 *   charon.retransmit_base     exponential base (default 1.8)
 *   charon.retransmit_tries    retransmits before giving up (default 5)
 *   charon.retransmit_limit    upper bound of one interval, seconds (0 = none)
 *
 * so a liveness check (dpd_delay) or a dead peer can be detected in seconds instead of the default
 * ~165 s, exactly as with charon. `tsipsec up` reads the file named by STRONGSWAN_CONF (strongSwan's own
 * variable) or --strongswan-conf; every other key in the file is ignored (it belongs to charon).
 */
import { ConfigError } from '../config/errors.js';
import { findSection, parseSwanctl, parseSwanctlFile, type SettingsSection } from '../config/swanctl-parser.js';
import { nodeIncludeHost } from '../config/node-fs.js';
import type { RetransmitConfig } from '../ike/config.js';

export interface StrongswanSettings {
  retransmit: Partial<RetransmitConfig>;
}

function value(s: SettingsSection | undefined, key: string): { text: string; line: number; file: string } | undefined {
  const v = s?.values.filter((x) => x.key === key).at(-1);
  return v ? { text: v.value, line: v.line, file: v.file } : undefined;
}

function num(s: SettingsSection | undefined, key: string, test: (n: number) => boolean, what: string): number | undefined {
  const v = value(s, key);
  if (!v) return undefined;
  const n = /^\s*\d+(\.\d+)?\s*$/.test(v.text) ? Number(v.text) : NaN;
  if (!Number.isFinite(n) || !test(n)) throw new ConfigError([{ file: v.file, line: v.line, key: `charon.${key}`, message: `${what}, got "${v.text}"` }]);
  return n;
}

function fromRoot(root: SettingsSection): StrongswanSettings {
  const charon = findSection(root, 'charon');
  const retransmit: { -readonly [K in keyof RetransmitConfig]?: RetransmitConfig[K] } = {};
  const timeout = num(charon, 'retransmit_timeout', (n) => n > 0, 'must be a positive number of seconds');
  const base = num(charon, 'retransmit_base', (n) => n >= 1, 'must be a number >= 1');
  const tries = num(charon, 'retransmit_tries', (n) => Number.isInteger(n), 'must be a non-negative integer');
  const limit = num(charon, 'retransmit_limit', (n) => n >= 0, 'must be a non-negative number of seconds');
  if (timeout !== undefined) retransmit.timeoutMs = Math.round(timeout * 1000);
  if (base !== undefined) retransmit.base = base;
  if (tries !== undefined) retransmit.tries = tries;
  if (limit !== undefined && limit > 0) retransmit.maxIntervalMs = Math.round(limit * 1000);
  return { retransmit };
}

/** The settings in strongswan.conf text (no includes). Throws ConfigError naming file:line and key. */
export function parseStrongswanConf(text: string, file = 'strongswan.conf'): StrongswanSettings {
  return fromRoot(parseSwanctl(text, file).root);
}

/** Reads and parses a strongswan.conf (with its includes). Throws ConfigError. */
export function loadStrongswanConf(path: string): StrongswanSettings {
  return fromRoot(parseSwanctlFile(path, nodeIncludeHost).root);
}
