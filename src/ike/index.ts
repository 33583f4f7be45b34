/**
 * Public API of the IKEv2 engine (sans-I/O; DESIGN.md rule 2). The runtime feeds datagrams,
 * timeouts and commands in, and drains `pollTransmit()` / `pollEvent()` after every call.
 */
export { IkeEndpoint, type IkeEndpointOptions } from './endpoint.js';
export {
  resolveConfig,
  resolveConnection,
  resolveChild,
  DEFAULT_LIMITS,
  DEFAULT_RETRANSMIT,
  type IkeConfig,
  type IkeConfigInput,
  type IkeConnection,
  type IkeConnectionInput,
  type IkeChildConfig,
  type IkeChildConfigInput,
  type IkeLimits,
  type IkeLocalAuth,
  type IkeRemoteAuth,
  type RetransmitConfig,
  type AuthMethodName,
  type ChildMode,
  type StartAction,
  type DpdAction,
} from './config.js';
export type {
  Addr,
  Datagram,
  IkeEvent,
  IkeEventType,
  ChildSaInfo,
  ChildAlgorithms,
  ChildKeys,
  ChildLifetimes,
  IkeDownReason,
  ChildDownReason,
  IkeSaStatus,
  ChildSaStatus,
  IkeCounters,
} from './events.js';
export { parseTs, resolveTs, formatTs, intersectTs, narrowTs, tsContains, parseIp, formatIp } from './traffic-selectors.js';
