/**
 * Which swanctl.conf keys tsipsec maps, which it ignores with a warning because ignoring them is
 * harmless here (mostly Linux XFRM/kernel knobs of a daemon tsipsec is not), and which it rejects
 * because ignoring them would change what gets negotiated or weaken security. A rejected key may
 * still be accepted with the value that means "feature off" (`acceptIf`).
 * Key lists: swanctl.conf(5), strongSwan 5.9.8.
 */

export type KeyRule =
  | { readonly kind: 'supported' }
  | { readonly kind: 'ignored'; readonly why: string }
  | { readonly kind: 'unsupported'; readonly why: string; readonly acceptIf?: (value: string) => boolean };

const S: KeyRule = { kind: 'supported' };
const ignored = (why: string): KeyRule => ({ kind: 'ignored', why });
const unsupported = (why: string, acceptIf?: (value: string) => boolean): KeyRule => ({ kind: 'unsupported', why, acceptIf });

const isNo = (v: string): boolean => ['no', 'false', 'disabled', '0'].includes(v.trim().toLowerCase());
const isYes = (v: string): boolean => ['yes', 'true', 'enabled', '1'].includes(v.trim().toLowerCase());
const isZero = (v: string): boolean => /^0+\s*[smhdSMHD]?$/.test(v.trim());
const isOneOf =
  (...words: string[]) =>
  (v: string): boolean =>
    words.includes(v.trim().toLowerCase());

const KERNEL = 'a Linux kernel (XFRM) setting; tsipsec does ESP itself';

/** connections.<conn>.* */
export const CONNECTION_KEYS: Readonly<Record<string, KeyRule>> = {
  version: S,
  local_addrs: S,
  remote_addrs: S,
  local_port: S,
  remote_port: S,
  proposals: S,
  encap: S,
  mobike: S,
  dpd_delay: S,
  dpd_timeout: S,
  fragmentation: S,
  send_certreq: S,
  send_cert: S,
  keyingtries: S,
  unique: S,
  reauth_time: S,
  rekey_time: S,
  over_time: S,
  rand_time: S,
  dscp: ignored('DSCP marking of IKE packets is not implemented'),
  vips: S,
  pools: S,
  aggressive: unsupported('IKEv1 Aggressive Mode is not supported', isNo),
  pull: unsupported('Mode Config push mode is not supported', isYes),
  ppk_id: unsupported('postquantum preshared keys (RFC 8784) are not supported'),
  ppk_required: unsupported('postquantum preshared keys (RFC 8784) are not supported', isNo),
  childless: unsupported('childless IKE_SA initiation (RFC 6023) is not supported', isOneOf('allow', 'never')),
  mediation: unsupported('the IKEv2 Mediation Extension is not supported', isNo),
  mediated_by: unsupported('the IKEv2 Mediation Extension is not supported'),
  mediation_peer: unsupported('the IKEv2 Mediation Extension is not supported'),
  if_id_in: unsupported(`XFRM interface IDs are ${KERNEL}`, isZero),
  if_id_out: unsupported(`XFRM interface IDs are ${KERNEL}`, isZero),
};

/** connections.<conn>.children.<child>.* */
export const CHILD_KEYS: Readonly<Record<string, KeyRule>> = {
  esp_proposals: S,
  local_ts: S,
  remote_ts: S,
  mode: S,
  start_action: S,
  dpd_action: S,
  close_action: S,
  rekey_time: S,
  life_time: S,
  rand_time: S,
  rekey_bytes: S,
  life_bytes: S,
  rand_bytes: S,
  rekey_packets: S,
  life_packets: S,
  rand_packets: S,
  replay_window: S,
  hw_offload: S,
  updown: S,
  hostaccess: ignored('it only feeds the updown script, which tsipsec does not run'),
  policies: ignored(`IPsec policies are ${KERNEL}`),
  policies_fwd_out: ignored(`IPsec policies are ${KERNEL}`),
  priority: ignored(`policy priorities are ${KERNEL}`),
  interface: ignored(`policy interfaces are ${KERNEL}`),
  reqid: ignored(`reqids are ${KERNEL}`),
  mark_in: ignored(`marks are ${KERNEL}`),
  mark_in_sa: ignored(`marks are ${KERNEL}`),
  mark_out: ignored(`marks are ${KERNEL}`),
  set_mark_in: ignored(`marks are ${KERNEL}`),
  set_mark_out: ignored(`marks are ${KERNEL}`),
  if_id_in: ignored(`XFRM interface IDs are ${KERNEL}`),
  if_id_out: ignored(`XFRM interface IDs are ${KERNEL}`),
  copy_df: ignored(`header copying is ${KERNEL}`),
  copy_ecn: ignored(`header copying is ${KERNEL}`),
  copy_dscp: ignored(`header copying is ${KERNEL}`),
  label_mode: ignored('security labels are not supported, so their mode has no effect'),
  ah_proposals: unsupported('AH is not supported (use esp_proposals)'),
  sha256_96: unsupported('96-bit truncated HMAC-SHA-256 is not supported', isNo),
  ipcomp: unsupported('IPComp is not supported', isNo),
  inactivity: unsupported('inactivity timeouts are not implemented', isZero),
  label: unsupported('security labels are not supported'),
  tfc_padding: unsupported('TFC padding is not implemented', isZero),
};

/** connections.<conn>.local<suffix>.* and remote<suffix>.* */
export const AUTH_KEYS: Readonly<Record<string, KeyRule>> = {
  round: S,
  auth: S,
  id: S,
  certs: S,
  cacerts: S,
  pubkeys: S,
  revocation: unsupported('CRL/OCSP revocation checking is not implemented (only "relaxed")', isOneOf('relaxed')),
  eap_id: unsupported('EAP is not supported'),
  aaa_id: unsupported('EAP is not supported'),
  xauth_id: unsupported('XAuth is IKEv1 only'),
  groups: unsupported('authorization groups are not supported'),
  cert_policy: unsupported('certificate policy constraints are not supported'),
  ca_id: unsupported('CA identity constraints are not supported (use cacerts)'),
};

/** connections.<conn>.<auth>.cert<suffix>.* and cacert<suffix>.* */
export const CERT_SECTION_KEYS: Readonly<Record<string, KeyRule>> = {
  file: S,
  handle: unsupported('PKCS#11 tokens are not supported (use file)'),
  slot: unsupported('PKCS#11 tokens are not supported (use file)'),
  module: unsupported('PKCS#11 tokens are not supported (use file)'),
};

/** pools.<name>.* (swanctl.conf(5) "pools"): the address range and the attributes tsipsec sends. */
export const POOL_KEYS: Readonly<Record<string, KeyRule>> = {
  addrs: S,
  dns: S,
  nbns: unsupported('NBNS servers are not sent (only addrs and dns)'),
  dhcp: unsupported('DHCP servers are not sent (only addrs and dns)'),
  netmask: unsupported('INTERNAL_IP4_NETMASK is not sent (only addrs and dns)'),
  server: unsupported('INTERNAL_IP4_SERVER is not sent (only addrs and dns)'),
  subnet: unsupported('INTERNAL_IP4_SUBNET is not sent (only addrs and dns)'),
  split_include: unsupported('split-include attributes are not sent (only addrs and dns)'),
  split_exclude: unsupported('split-exclude attributes are not sent (only addrs and dns)'),
};

/** secrets.private<suffix>, rsa<suffix>, ecdsa<suffix>, pkcs8<suffix> */
export const KEY_SECRET_KEYS: Readonly<Record<string, KeyRule>> = { file: S, secret: S };
