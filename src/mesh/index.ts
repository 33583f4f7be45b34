/** Cluster mesh encryption (`tsipsec mesh`): description parser, per-node plan, MTU headroom, certificate rotation. */
export { PolicyGroup, type MeshAuth, type MeshDescription, type MeshFileSystem, type MeshNode, type PolicyEntry } from './types.js';
export { parseMesh, policyOf, MESH_DEFAULTS, MIN_PSK_BYTES } from './parse.js';
export { planMesh, pairPolicy, meshIkeConfig, SWANCTL_DIR, type MeshPlan, type MeshPeerPlan } from './build.js';
export { meshInnerMtu, espAlgorithmOfProposal, type MeshMtuLine } from './mtu.js';
export { adoptCredentialChanges, type CredentialRotation } from './rotate.js';
export { loadMesh, nodeMeshFileSystem, type LoadedMesh } from './load.js';
export { duplicateIkeSas, resolveDuplicateIkeSas, duplicateChildSas, resolveDuplicateChildSas } from './dedupe.js';
export { formatMeshPlan } from './report.js';
