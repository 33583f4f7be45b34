/**
 * Certificate rotation on reload without dropping SAs. A node's certificate re-issued by the cluster
 * CA changes only the credentials of its connections (local.certs, local.privateKey(s), remote.cacerts).
 * The reload diff (src/runtime/reload.ts) would call such a connection "changed" and delete its SAs;
 * strongSwan's `swanctl --load-creds` instead keeps the SAs and uses the new certificate for new ones.
 *
 * `adoptCredentialChanges` does the latter before the diff runs: for each running connection whose
 * settings equal the new ones except for credentials, it puts the new credentials on the running
 * connection object (the one its IKE SAs refer to) and refreshes the engine's parsed-credential cache
 * entry for it (src/ike/auth/local-credentials.ts caches per connection object), so the diff then sees
 * the connection unchanged: established IKE and child SAs stay, and the next IKE_AUTH (a new peer, a
 * restart, a reauthentication) sends the new certificate. The new credentials are checked first (the
 * certificate parses, the key matches): if they do not, nothing is adopted and the reload goes on as a
 * normal change.
 */
import type { CryptoProvider } from '../crypto/types.js';
import type { IkeConfig, IkeConnection, IkeLocalAuth, IkeRemoteAuth } from '../ike/config.js';
import { localCredentials, type LocalCredential } from '../ike/auth/local-credentials.js';
import { sameConfigValue } from '../runtime/reload.js';

function withoutCredentials(c: IkeConnection): unknown {
  const { local, remote, children: _children, ...rest } = c;
  const { certs: _c, privateKey: _k, privateKeys: _ks, psk: _p, ...l } = local;
  const { cacerts: _ca, psk: _rp, ...r } = remote;
  return { ...rest, local: l, remote: r };
}

function credentialsOf(c: IkeConnection): unknown {
  return { certs: c.local.certs, privateKey: c.local.privateKey, privateKeys: c.local.privateKeys, cacerts: c.remote.cacerts, psk: c.local.psk, remotePsk: c.remote.psk };
}

export interface CredentialRotation {
  /** Connections whose credentials were replaced in place (SAs kept). */
  readonly rotated: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Adopts credential-only changes of `next` into the `running` connections (see the file comment).
 * `provider` parses the new certificates and keys (the endpoint's provider or one of the same kind).
 */
export function adoptCredentialChanges(provider: CryptoProvider, running: IkeConfig, next: IkeConfig): CredentialRotation {
  const rotated: string[] = [];
  const warnings: string[] = [];
  const nextByName = new Map(next.connections.map((c) => [c.name, c]));
  const candidates: { old: IkeConnection; neu: IkeConnection }[] = [];
  for (const old of running.connections) {
    const neu = nextByName.get(old.name);
    if (!neu || sameConfigValue(credentialsOf(old), credentialsOf(neu))) continue;
    if (!sameConfigValue(withoutCredentials(old), withoutCredentials(neu))) continue;
    candidates.push({ old, neu });
  }
  if (candidates.length === 0) return { rotated, warnings };
  // The engine shares one parsed-credential list among connections with the same files; a shared list
  // is refreshed once, and only when every connection using it rotates to the same new credentials.
  const lists = new Map<LocalCredential[], { fresh: LocalCredential[] | undefined; users: IkeConnection[] }>();
  const rotating = new Set(candidates.map((c) => c.old));
  for (const { old, neu } of candidates) {
    let fresh: LocalCredential[] | undefined;
    if (neu.local.auth === 'pubkey') {
      try {
        // A throwaway connection object: the cache keys on identity, so this parses the new files.
        fresh = localCredentials(provider, { ...neu });
      } catch (err) {
        warnings.push(`connections.${old.name}: new credentials not usable, connection replaced instead: ${(err as Error).message}`);
        rotating.delete(old);
        continue;
      }
    }
    if (old.local.auth === 'pubkey') {
      const cached = localCredentials(provider, old);
      const entry = lists.get(cached) ?? { fresh, users: [] };
      if (entry.fresh !== fresh && !(entry.fresh && fresh && sameCreds(entry.fresh, fresh))) {
        warnings.push(`connections.${old.name}: shares credentials with a connection rotating differently, connection replaced instead`);
        rotating.delete(old);
        continue;
      }
      entry.users.push(old);
      lists.set(cached, entry);
    }
  }
  // A shared list used by a connection that does not rotate stays as it is.
  for (const c of running.connections) {
    if (rotating.has(c) || c.local.auth !== 'pubkey') continue;
    let cached: LocalCredential[];
    try { cached = localCredentials(provider, c); } catch { continue; }
    const entry = lists.get(cached);
    if (entry) {
      for (const u of entry.users) { rotating.delete(u); warnings.push(`connections.${u.name}: shares credentials with ${c.name}, which keeps its own: connection replaced instead`); }
      lists.delete(cached);
    }
  }
  for (const [cached, { fresh }] of lists) {
    if (fresh && [...rotating].some((c) => localCredentialsSafe(provider, c) === cached)) cached.splice(0, cached.length, ...fresh);
  }
  for (const { old, neu } of candidates) {
    if (!rotating.has(old)) continue;
    const mutable = old as { local: IkeLocalAuth; remote: IkeRemoteAuth };
    mutable.local = neu.local;
    mutable.remote = neu.remote;
    rotated.push(old.name);
  }
  return { rotated, warnings };
}

function localCredentialsSafe(provider: CryptoProvider, c: IkeConnection): LocalCredential[] | undefined {
  try { return localCredentials(provider, c); } catch { return undefined; }
}

function sameCreds(a: readonly LocalCredential[], b: readonly LocalCredential[]): boolean {
  return a.length === b.length && a.every((x, i) => x.leaf.der.length === b[i]!.leaf.der.length && x.leaf.der.every((v, j) => v === b[i]!.leaf.der[j]));
}
