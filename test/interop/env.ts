/**
 * Whether the interop suite can run here. Outside CI a missing prerequisite skips with a loud message;
 * in CI (CI=true) it is a failure, because .ci/run installs everything the suite needs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where scripts/install-system-deps.sh unpacks user-mode-linux and libreswan. */
export const UML_CACHE = process.env.TSIPSEC_INTEROP_CACHE ?? '/var/cache/tsipsec-interop';

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

/**
 * The scenarios that need kernel ESP (user-mode-linux, INTEROP.md §2b): what is missing for them, on
 * top of interopPrerequisites(). `libreswan` adds pluto (unpacked) and the NSS tools.
 */
export function kernelEspPrerequisites(opts: { libreswan?: boolean } = {}): string[] {
  const missing = interopPrerequisites().filter((m) => !m.includes('kernel-libipsec'));
  if (!existsSync('/usr/lib/ipsec/plugins/libstrongswan-kernel-netlink.so')) missing.push('strongswan-charon (kernel-netlink plugin)');
  if (!existsSync('/usr/bin/socat')) missing.push('socat');
  if (!existsSync('/usr/bin/tcpdump') && !existsSync('/usr/sbin/tcpdump')) missing.push('tcpdump');
  if (!existsSync(join(UML_CACHE, 'umlroot', 'usr', 'bin', 'linux.uml'))) missing.push(`user-mode-linux unpacked in ${UML_CACHE}/umlroot`);
  if (!existsSync(join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js'))) missing.push('dist/ (npm run build)');
  if (opts.libreswan) {
    if (!existsSync(join(UML_CACHE, 'lsroot', 'usr', 'libexec', 'ipsec', 'pluto'))) missing.push(`libreswan unpacked in ${UML_CACHE}/lsroot`);
    if (!existsSync('/usr/libexec/ipsec')) missing.push('/usr/libexec/ipsec (mount point for pluto)');
    if (!existsSync('/usr/bin/certutil') || !existsSync('/usr/bin/pk12util')) missing.push('libnss3-tools');
  }
  return missing;
}

/** Like interopEnabled, for the kernel-ESP scenarios. */
export function kernelEspEnabled(suite: string, opts: { libreswan?: boolean } = {}): boolean {
  const missing = kernelEspPrerequisites(opts);
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`${suite}: interop prerequisites missing in CI: ${missing.join(', ')}`);
  console.warn(`\n!!! ${suite} NOT RUN: missing ${missing.join(', ')} (run .ci/run or scripts/install-system-deps.sh as root) !!!\n`);
  return false;
}
