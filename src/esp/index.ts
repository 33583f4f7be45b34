/**
 * Public API of the ESP data plane (RFC 4303): sans-I/O, bytes and SA state in, bytes and numeric
 * drop codes out. See DESIGN.md §4 and rule 5.
 */
export { Drop, DROP_COUNT, DROP_NAMES, dropName, newDropCounters } from './drop.js';
export {
  createEspSa,
  EspSa,
  EspSaEvent,
  EspStat,
  espAlgorithmInfo,
  ESP_SA_HARD_EVENTS,
  ESP_SEQ_SOFT_REMAINING,
  type EspAlgorithm,
  type EspAlgorithmInfo,
  type EspDirection,
  type EspEncr,
  type EspLifetime,
  type EspMode,
  type EspSaParams,
} from './sa.js';
export { espSeal, espTailroom } from './seal.js';
export { espOpen, openWithSa, OpenResult } from './open.js';
export { inferSeqHi, ReplayWindow, REPLAY_WINDOW_DEFAULT, REPLAY_WINDOW_MAX, REPLAY_WINDOW_MIN } from './replay.js';
export { Sad } from './sad.js';
export { Spd, SpdAction, SpdEntry, type SpdEntryParams } from './spd.js';
export {
  anySelectorMatches,
  selectorFromPrefix,
  selectorMatches,
  TsType,
  validateSelector,
  type EspTrafficSelector,
} from './selector.js';
export {
  classifyNattDatagram,
  IKE_HEADER_LENGTH,
  NAT_KEEPALIVE,
  NattKind,
  NON_ESP_MARKER_LENGTH,
  prependNonEspMarker,
  stripNonEspMarker,
  writeNonEspMarker,
} from './natt.js';
export {
  espInnerMtu,
  espMaxOverhead,
  espOverhead,
  espPacketLength,
  fixedOverheadInnerMtu,
  OVN_IPSEC_OVERHEAD,
  UDP_ENCAP_LENGTH,
  type EspOverheadParams,
} from './mtu.js';
export {
  openEspPacket,
  sealEspPacket,
  type EspPacketSaParams,
  type OpenEspPacketParams,
  type OpenEspPacketResult,
  type SealEspPacketParams,
} from './packet.js';
