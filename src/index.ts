/**
 * tsipsec public API. Only re-exports live here.
 *
 * - The runtime: `Tunnel` (IKE + ESP + UDP + TUN), `startDaemon` (what `tsipsec up` runs), adapters.
 * - The sans-I/O cores for people who bring their own I/O: `IkeEndpoint`, the ESP functions.
 * - Crypto providers and configuration loading.
 */
export type * from './crypto/types.js';
export { cryptoProvider, nodeCrypto, nodeRandom, nobleCrypto, seededRandom } from './crypto/index.js';
export * from './esp/index.js';
export * from './ike/index.js';
export { Tunnel, type TunnelOptions, type TunnelStatus, type TunnelEvent, type RouteInstaller, type KeySink } from './runtime/tunnel.js';
export { DataPath } from './runtime/datapath.js';
export { startDaemon, type Daemon, type DaemonOptions } from './runtime/daemon.js';
export { ikeConfigFromSwanctl } from './runtime/from-swanctl.js';
export { systemClock, type Clock } from './runtime/clock.js';
export { NodeUdpTransport } from './net/udp.js';
export { MemoryNetwork, MemoryUdpEndpoint } from './net/memory.js';
export type { UdpTransport, Datagram as UdpDatagram } from './net/types.js';
export { openLinuxTun, LinuxTun, type LinuxTunOptions } from './tun/linux.js';
export { MemoryTun } from './tun/memory.js';
export type { TunDevice } from './tun/types.js';
export { loadSwanctlConfig, ConfigError } from './config/index.js';
export type { TsipsecConfig } from './config/types.js';
export { decodeCapture, decodeCaptureFile } from './capture/decode.js';
export { KeylogWriter, readKeylog } from './capture/keylog.js';
export {
  parseMesh, planMesh, meshIkeConfig, loadMesh, meshInnerMtu, PolicyGroup,
  type MeshDescription, type MeshNode, type MeshAuth, type MeshPlan, type MeshPeerPlan, type LoadedMesh, type PolicyEntry,
} from './mesh/index.js';
