/**
 * `loadMesh(path, node)`: read a mesh description, validate it, and build this node's plan and IKE
 * configuration, reading the node's certificate, key and the CA. Everything `tsipsec mesh up` needs,
 * and what it calls again on every reload (SIGHUP), so a re-issued certificate is picked up.
 * Throws ConfigError (file:line: key: message, naming the node where one is concerned).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { resolveConfig, type IkeConfigInput } from '../ike/config.js';
import { localCredentials } from '../ike/auth/local-credentials.js';
import { cryptoProvider } from '../crypto/index.js';
import { meshIkeConfig, planMesh, type MeshPlan } from './build.js';
import { parseMesh } from './parse.js';
import type { MeshFileSystem } from './types.js';

export const nodeMeshFileSystem: MeshFileSystem = {
  readFile: (path) => new Uint8Array(readFileSync(path)),
  exists: (path) => existsSync(path) && statSync(path).isFile(),
};

export interface LoadedMesh {
  readonly plan: MeshPlan;
  readonly ike: IkeConfigInput;
  readonly warnings: string[];
}

/** Largest mesh file read (the swanctl parser's own bound is 16 MiB; a mesh is a few KiB). */
const MAX_MESH_BYTES = 1024 * 1024;

export function loadMesh(path: string, node: string, fs: MeshFileSystem = nodeMeshFileSystem): LoadedMesh {
  const file = resolve(path);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFile(file);
  } catch (e) {
    throw new ConfigError([{ file, line: 0, key: '', message: `cannot read mesh description: ${(e as Error).message}` }]);
  }
  if (bytes.length > MAX_MESH_BYTES) throw new ConfigError([{ file, line: 0, key: '', message: `mesh description is ${bytes.length} bytes, more than ${MAX_MESH_BYTES}` }]);
  const mesh = parseMesh(new TextDecoder().decode(bytes), file);
  const plan = planMesh(mesh, node);
  const { ike, warnings } = meshIkeConfig(plan, fs);
  // The node's certificate must parse and its key match it, now: at start nothing runs on a bad pair,
  // and on reload (a rotation) the running configuration is kept instead of replaced by one that
  // cannot authenticate.
  if (plan.mesh.auth.kind === 'pubkey') {
    const first = resolveConfig(ike).connections.find((c) => c.local.auth === 'pubkey');
    if (first) {
      try {
        localCredentials(cryptoProvider('node'), first);
      } catch (e) {
        throw new ConfigError([{
          file: plan.mesh.file, line: plan.node.source.line, key: `nodes.${plan.node.name}`,
          message: `node ${plan.node.name}: ${[...plan.files.values()].slice(1).join(' / ')}: ${(e as Error).message.replace(/^ike config: /, '')}`,
        }]);
      }
    }
  }
  return { plan, ike, warnings };
}
