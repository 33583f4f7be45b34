/**
 * Traffic selector syntax of swanctl.conf `local_ts`/`remote_ts` (swanctl.conf(5); strongSwan
 * vici_config.c parse_ts):
 *
 *   selector  := ( 'dynamic' | cidr | addr '-' addr ) [ '[' protoport ']' ]
 *   protoport := [ proto ] [ '/' port ]        proto: number, name or 'any'
 *   port      := number | number '-' number | service name | 'any' | 'opaque'
 *
 * Ports default to 0-65535; 'opaque' is RFC 4301 OPAQUE (start 65535 > end 0, RFC 7296 §3.13.1).
 * Names come from small built-in tables (there is no getprotobyname/getservbyname in Node).
 */
import { parseCidr, parseRange } from './address.js';
import type { TrafficSelectorConfig } from './types.js';
import type { Parsed } from './values.js';

/** IANA "Assigned Internet Protocol Numbers" for the names /etc/protocols commonly has. */
const PROTOCOLS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  ipencap: 4,
  tcp: 6,
  udp: 17,
  ipv6: 41,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  ospf: 89,
  sctp: 132,
  udplite: 136,
};

/** IANA "Service Name and Transport Protocol Port Number Registry", the common names. */
const SERVICES: Record<string, number> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  tftp: 69,
  http: 80,
  www: 80,
  kerberos: 88,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  bgp: 179,
  ldap: 389,
  https: 443,
  'microsoft-ds': 445,
  isakmp: 500,
  syslog: 514,
  submission: 587,
  imaps: 993,
  openvpn: 1194,
  radius: 1812,
  'ms-wbt-server': 3389,
  'ipsec-nat-t': 4500,
  sip: 5060,
};

function parsePort(text: string): Parsed<[number, number]> {
  if (text === '' || text === 'any') return { ok: true, value: [0, 0xffff] };
  if (text === 'opaque') return { ok: true, value: [0xffff, 0] };
  if (text in SERVICES) return { ok: true, value: [SERVICES[text], SERVICES[text]] };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (m === null) return { ok: false, error: `unknown port "${text}"` };
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from > 0xffff || to > 0xffff) return { ok: false, error: `port "${text}" is out of range (0..65535)` };
  if (from > to) return { ok: false, error: `port range "${text}" is reversed` };
  return { ok: true, value: [from, to] };
}

function parseProtocol(text: string): Parsed<number> {
  if (text === '' || text === 'any') return { ok: true, value: 0 };
  const named = PROTOCOLS[text.toLowerCase()];
  if (named !== undefined) return { ok: true, value: named };
  if (/^\d{1,3}$/.test(text) && Number(text) <= 255) return { ok: true, value: Number(text) };
  return { ok: false, error: `unknown protocol "${text}"` };
}

/** Parse one selector; the error says what is wrong with it. */
export function parseTrafficSelector(text: string): Parsed<TrafficSelectorConfig> {
  const bad = (why: string): Parsed<TrafficSelectorConfig> => ({ ok: false, error: `bad traffic selector "${text}": ${why}` });
  let addr = text;
  let protocol = 0;
  let fromPort = 0;
  let toPort = 0xffff;
  const open = text.indexOf('[');
  if (open >= 0) {
    if (!text.endsWith(']')) return bad('expected "]" at the end');
    addr = text.slice(0, open).trim();
    const inner = text.slice(open + 1, -1).trim();
    const slash = inner.indexOf('/');
    const proto = parseProtocol(slash < 0 ? inner : inner.slice(0, slash));
    if (!proto.ok) return bad(proto.error);
    protocol = proto.value;
    if (slash >= 0) {
      const port = parsePort(inner.slice(slash + 1));
      if (!port.ok) return bad(port.error);
      [fromPort, toPort] = port.value;
    }
  }
  if (addr === 'dynamic') return { ok: true, value: { kind: 'dynamic', text, protocol, fromPort, toPort } };
  const block = addr.includes('-') ? parseRange(addr) : parseCidr(addr);
  if (block === undefined) {
    return bad('expected "dynamic", a subnet like 10.0.0.0/24, an address or a range a-b');
  }
  const family = block.start.length === 4 ? 4 : 6;
  return { ok: true, value: { kind: 'range', text, family, start: block.start, end: block.end, protocol, fromPort, toPort } };
}
