/**
 * Crypto providers (DESIGN.md rule 6): pick one per SA with `cryptoProvider(name)`.
 * Cores receive a `CryptoProvider` and never import a provider module themselves.
 */
import { nobleCrypto } from './noble.js';
import { nodeCrypto } from './node.js';
import type { CryptoProvider } from './types.js';

export function cryptoProvider(name: 'node' | 'noble'): CryptoProvider {
  if (name === 'node') return nodeCrypto;
  if (name === 'noble') return nobleCrypto;
  throw new Error(`crypto provider must be 'node' or 'noble', got ${String(name)}`);
}

export type * from './types.js';
export * from './algorithms.js';
export { nodeCrypto, nodeRandom } from './node.js';
export { nobleCrypto } from './noble.js';
export { seededRandom } from './seeded-random.js';
