/**
 * Whether the interop suite can run here. Outside CI a missing prerequisite skips with a loud message;
 * in CI (CI=true) it is a failure, because .ci/run installs everything the suite needs.
 */
import { existsSync } from 'node:fs';

export function interopPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces)');
  if (!existsSync('/usr/lib/ipsec/charon')) missing.push('strongswan-charon');
  if (!existsSync('/usr/sbin/swanctl')) missing.push('strongswan-swanctl');
  if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so')) missing.push('libcharon-extra-plugins (kernel-libipsec)');
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  return missing;
}

/** True when the suite should run; throws in CI when something is missing. */
export function interopEnabled(suite: string): boolean {
  const missing = interopPrerequisites();
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`${suite}: interop prerequisites missing in CI: ${missing.join(', ')}`);
  console.warn(`\n!!! ${suite} NOT RUN: missing ${missing.join(', ')} (run .ci/run or scripts/install-system-deps.sh as root) !!!\n`);
  return false;
}
