/**
 * Fuzz targets: each takes arbitrary bytes, drives one hostile-input surface of tsipsec, and checks
 * invariants (DESIGN.md rule 3 and rule 8: decoders are total, untrusted bytes end in a counted drop).
 * `run` returns normally when every invariant holds and throws `FuzzFailure` otherwise; any other
 * exception escaping `run` is itself a finding (the code under test threw on bytes).
 *
 * Seeds are real protocol data (a recorded IKE session between two IkeEndpoints, sealed ESP packets
 * and the draft-mcgrew ESP vector, the PKI and config fixtures, captures built from those), so the
 * mutations in mutate.ts start deep inside each parser.
 */
import { ConfigError } from '../src/config/errors.js';
import { parseSwanctl, type IncludeHost } from '../src/config/swanctl-parser.js';
import type { ConfigFileSystem } from '../src/config/types.js';
import { validateSwanctl } from '../src/config/validate.js';
import { certExtension, certSubjectAltNames, certValidity, tbsParts } from '../src/crypto/asn1.js';
import { nobleCrypto } from '../src/crypto/noble.js';
import { nodeCrypto } from '../src/crypto/node.js';
import type { Certificate } from '../src/crypto/types.js';
import { parseCertificateDer, parsePrivateKeyDer, pemDecode } from '../src/crypto/x509.js';
import { decodeCaptureFile } from '../src/capture/decode.js';
import { parseEspTable, formatEspLine, type ParsedKeylog } from '../src/capture/keylog.js';
import { LinkType, readCapture } from '../src/capture/pcap-reader.js';
import { buildEthernet, buildIp, buildUdpPacket, writePcap } from '../src/capture/pcap-writer.js';
import { Drop, DROP_COUNT } from '../src/esp/drop.js';
import { classifyNattDatagram, NattKind, prependNonEspMarker, stripNonEspMarker } from '../src/esp/natt.js';
import { espOpen, OpenResult } from '../src/esp/open.js';
import type { Sad } from '../src/esp/sad.js';
import { ExchangeType, HeaderFlag } from '../src/ike/constants.js';
import type { IkeCounters, IkeEvent } from '../src/ike/events.js';
import type { IkeEndpoint } from '../src/ike/endpoint.js';
import { decodeMessage, decodePayloadChain, encodeMessage, type IkeMessage } from '../src/ike/message.js';
import type { Payload } from '../src/ike/payloads/types.js';
import { datapathTarget } from './datapath-target.js';
import { FuzzFailure, type FuzzTarget } from './failure.js';
import { innerSeeds, runInner } from './inner.js';
import { runSkInner, skInnerSeeds } from './sk-inner.js';
import { IpPeek, peekIp } from '../src/wire/ip.js';
import { espFixture, freshSad, ikeSession, listRepoFiles, readRepoFile, toHex } from './fixtures.js';
import { concat } from './mutate.js';
import { ADDR_I, ADDR_R, encodeRecords, decodeRecords, FUZZ_LIMITS, RecordKind, replay, type SessionRecord } from './session.js';

export { FuzzFailure, type FuzzTarget } from './failure.js';

function check(target: string, cond: boolean, message: string): asserts cond {
  if (!cond) throw new FuzzFailure(target, message);
}

// ---- ike-decode ---------------------------------------------------------------------------------

function ikeDatagrams(): Uint8Array[] {
  const s = ikeSession();
  return [...s.sentByI, ...s.sentByR];
}

function reencode(m: IkeMessage): Uint8Array {
  const h = m.header;
  return encodeMessage({ spiI: h.spiI, spiR: h.spiR, majorVersion: h.majorVersion, minorVersion: h.minorVersion, exchangeType: h.exchangeType, flags: h.flags, messageId: h.messageId }, m.payloads);
}

const ikeDecode: FuzzTarget = {
  name: 'ike-decode',
  description: 'decodeMessage / decodePayloadChain; when decoding succeeds, encode(decode(x)) is a fixpoint',
  seeds: () => {
    const d = ikeDatagrams();
    // Inner-chain seeds: first byte = first payload type, then the chain (the cleartext parts of
    // the recorded messages serve as chains too).
    const chains = d.map((m) => concat(Uint8Array.of(m[16]!), m.subarray(28)));
    return [...d, ...chains];
  },
  run(input) {
    const t = 'ike-decode';
    const r = decodeMessage(input);
    check(t, typeof r === 'object' && r !== null && typeof r.ok === 'boolean', 'decodeMessage returned no result');
    if (r.ok) {
      check(t, r.value.header.length === input.length, 'decoded header length differs from the datagram length');
      let e1: Uint8Array;
      try {
        e1 = reencode(r.value);
      } catch (e) {
        throw new FuzzFailure(t, `encodeMessage threw on a decoded message: ${String(e)}`);
      }
      const r2 = decodeMessage(e1);
      check(t, r2.ok, `re-encoded message does not decode: ${r2.ok ? '' : r2.error.message}`);
      const e2 = reencode(r2.value);
      check(t, toHex(e1) === toHex(e2), 'encode(decode(encode(decode(x)))) differs from encode(decode(x))');
      check(t, r2.value.payloads.map((p) => p.type).join() === r.value.payloads.map((p) => p.type).join(), 'payload types changed in the round trip');
    } else {
      check(t, typeof r.error.code === 'string' && typeof r.error.message === 'string', 'error without code/message');
    }
    if (input.length > 0) {
      const c = decodePayloadChain(input[0]!, input.subarray(1));
      check(t, typeof c.ok === 'boolean', 'decodePayloadChain returned no result');
    }
  },
};

// ---- ike-sk-inner --------------------------------------------------------------------------------

const ikeSkInner: FuzzTarget = {
  name: 'ike-sk-inner',
  description: 'SK / SKF decryption (GCM, CBC+HMAC) and reassembly with known keys; the opened chain equals the direct decode of the plaintext',
  seeds: skInnerSeeds,
  run(input) {
    const msg = runSkInner(input);
    check('ike-sk-inner', msg === undefined, msg ?? '');
  },
};

// ---- ike-endpoint-* ------------------------------------------------------------------------------

/** Counters that only ever grow (everything except the halfOpen gauge). */
function growing(c: IkeCounters): [string, number][] {
  return Object.entries(c).filter(([k]) => k !== 'halfOpen');
}

function exchangeOf(d: Uint8Array): number {
  return d.length >= 28 ? d[18]! : -1;
}

function isResponse(d: Uint8Array): boolean {
  return d.length >= 28 && (d[19]! & HeaderFlag.RESPONSE) !== 0;
}

/**
 * Feeds the records to a fresh endpoint and checks: no internal error (the endpoint catches and
 * counts exceptions: any is a bug), counters never decrease, the half-open gauge stays within
 * [0, halfOpenMax], and an 'ike-up' only happens when the input holds, verbatim, the peer's
 * messages that authenticate it (`required`): no IKE SA is established from garbage.
 */
function runEndpoint(t: string, side: 'i' | 'r', input: Uint8Array, required: readonly string[]): void {
  const events = watchEndpoint(t, (onStep) => replay(side, input, onStep));
  if (events.some((e) => e.type === 'ike-up')) {
    const present = new Set(decodeRecords(input).filter((r) => r.kind === RecordKind.datagram).map((r) => toHex(r.body)));
    for (const need of required) check(t, present.has(need), 'ike-up without the authenticating messages of the recorded session in the input');
  }
}

/** Drives an endpoint through `drive`, checking the per-step invariants; returns its events. */
function watchEndpoint(t: string, drive: (onStep: (ep: IkeEndpoint) => void) => IkeEndpoint | undefined): IkeEvent[] {
  let prev = new Map<string, number>();
  const events: IkeEvent[] = [];
  let step = 0;
  const ep = drive((e) => {
    step++;
    for (let d = e.pollTransmit(); d; d = e.pollTransmit()) check(t, d.data.length > 0 && d.data.length <= 65535, `step ${step}: transmitted ${d.data.length} bytes`);
    for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) events.push(ev);
    check(t, e.internalErrors === 0, `step ${step}: internal error: ${e.lastInternalError ?? ''}`);
    const now = new Map(growing(e.counters));
    for (const [k, v] of now) check(t, v >= (prev.get(k) ?? 0), `step ${step}: counter ${k} went down from ${prev.get(k)} to ${v}`);
    prev = now;
    check(t, e.counters.halfOpen >= 0 && e.counters.halfOpen <= FUZZ_LIMITS.halfOpenMax, `step ${step}: halfOpen ${e.counters.halfOpen} outside 0..${FUZZ_LIMITS.halfOpenMax}`);
  });
  check(t, ep !== undefined, 'no endpoint (fixture setup failed)');
  check(t, ep.status().length <= FUZZ_LIMITS.halfOpenMax + 8, `${ep.status().length} IKE SAs after one input`);
  return events;
}

/** The peer's IKE_SA_INIT and IKE_AUTH messages of the recorded session (requests or responses). */
function authenticating(sent: readonly Uint8Array[], responses: boolean): string[] {
  const init = sent.find((d) => exchangeOf(d) === ExchangeType.IKE_SA_INIT && isResponse(d) === responses);
  const auth = sent.find((d) => exchangeOf(d) === ExchangeType.IKE_AUTH && isResponse(d) === responses);
  if (!init || !auth) throw new Error('fuzz: recorded session lacks IKE_SA_INIT/IKE_AUTH');
  return [toHex(init), toHex(auth)];
}

function endpointSeeds(records: readonly SessionRecord[]): Uint8Array[] {
  const seeds: Uint8Array[] = [encodeRecords(records)];
  for (let n = 1; n < records.length; n++) seeds.push(encodeRecords(records.slice(0, n)));
  // A flood of IKE_SA_INIT requests with different SPIs (cookies, half-open limit), then the session.
  const init = records.find((r) => r.kind === RecordKind.datagram && exchangeOf(r.body) === ExchangeType.IKE_SA_INIT);
  if (init) {
    const flood: SessionRecord[] = [];
    for (let i = 0; i < 16; i++) {
      const b = init.body.slice();
      b[0] = i + 1;
      flood.push({ kind: RecordKind.datagram, body: b });
    }
    seeds.push(encodeRecords([...flood, ...records]));
    seeds.push(encodeRecords([...flood, { kind: RecordKind.time, body: new Uint8Array(0), steps: 200 }, ...records]));
  }
  // Retransmitted requests, and a timeout in the middle of the session.
  seeds.push(encodeRecords(records.flatMap((r) => [r, r])));
  seeds.push(encodeRecords([...records.slice(0, 2), { kind: RecordKind.time, body: new Uint8Array(0), steps: 100 }, ...records.slice(2)]));
  return seeds;
}

const ikeEndpointResponder: FuzzTarget = {
  name: 'ike-endpoint-responder',
  description: 'IkeEndpoint as responder fed a recorded initiator session, mutated (datagrams, timers, commands)',
  seeds: () => endpointSeeds(ikeSession().toR),
  run(input) {
    runEndpoint('ike-endpoint-responder', 'r', input, authenticating(ikeSession().sentByI, false));
  },
};

const ikeEndpointInitiator: FuzzTarget = {
  name: 'ike-endpoint-initiator',
  description: 'IkeEndpoint as initiator fed a recorded responder session, mutated',
  seeds: () => endpointSeeds(ikeSession().toI),
  run(input) {
    runEndpoint('ike-endpoint-initiator', 'i', input, authenticating(ikeSession().sentByR, true));
  },
};

function payloadHex(chain: readonly Payload[], type: number): string[] {
  return chain.filter((p) => p.type === type).map((p) => toHex('data' in p ? p.data : new Uint8Array(0)));
}

/** AUTH and ID (IDi 35 or IDr 36) payload bodies (hex) in the records' chains. */
function authOf(records: readonly SessionRecord[], idType: number): { auth: string[]; id: string[] } {
  const auth: string[] = [];
  const id: string[] = [];
  for (const r of records) {
    if (r.kind !== RecordKind.datagram || r.body.length < 2) continue;
    const c = decodePayloadChain(r.body[1]!, r.body.subarray(2));
    if (!c.ok) continue;
    auth.push(...payloadHex(c.value, 39));
    id.push(...payloadHex(c.value, idType));
  }
  return { auth, id };
}

function innerTarget(side: 'i' | 'r'): FuzzTarget {
  const name = side === 'r' ? 'ike-responder-inner' : 'ike-initiator-inner';
  const idType = side === 'r' ? 35 : 36;
  let recorded: { auth: string; id: string } | undefined;
  return {
    name,
    description: `IkeEndpoint ${side === 'r' ? 'responder' : 'initiator'} fed fuzzed payload chains sealed with the peer's real SK keys (authenticated-peer logic)`,
    seeds: () => innerSeeds(ikeSession(), side),
    run(input) {
      if (!recorded) {
        const a = authOf(decodeRecords(innerSeeds(ikeSession(), side)[0]!), idType);
        recorded = { auth: a.auth[0]!, id: a.id[0]! };
      }
      const events = watchEndpoint(name, (onStep) => runInner(ikeSession(), input, onStep, side));
      if (events.some((e) => e.type === 'ike-up')) {
        // PSK authentication cannot be bypassed: an IKE SA comes up only with the recorded ID and AUTH.
        const a = authOf(decodeRecords(input), idType);
        check(name, a.auth.includes(recorded.auth) && a.id.includes(recorded.id), 'ike-up without the authentic ID and AUTH');
      }
    },
  };
}

const ikeResponderInner = innerTarget('r');
const ikeInitiatorInner = innerTarget('i');

// ---- esp-open ------------------------------------------------------------------------------------

function dropTotal(sad: Sad): number {
  let n = 0;
  for (const x of sad.drops) n += x;
  for (const sa of sad.values()) for (const x of sa.drops) n += x;
  return n;
}

let espSad: Sad | undefined;
const espOut = new OpenResult();

const espOpenTarget: FuzzTarget = {
  name: 'esp-open',
  description: 'espOpen on a SAD with GCM/CBC+ESN/ChaCha/draft-mcgrew SAs; records = packets in sequence',
  seeds: () => {
    const { packets } = espFixture();
    const rec = (ps: readonly Uint8Array[]): Uint8Array => encodeRecords(ps.map((body) => ({ kind: RecordKind.datagram, body })));
    const seeds = packets.map((p) => rec([p.bytes]));
    const bySpec = new Map<string, Uint8Array[]>();
    for (const p of packets) bySpec.set(p.spec, [...(bySpec.get(p.spec) ?? []), p.bytes]);
    for (const ps of bySpec.values()) {
      seeds.push(rec(ps), rec([...ps].reverse()), rec(ps.flatMap((p) => [p, p])));
    }
    seeds.push(rec(packets.map((p) => p.bytes)));
    return seeds;
  },
  run(input) {
    const t = 'esp-open';
    const { specs, packets, okHex } = espFixture();
    // The replay windows must start empty for every input. Building the SAD (4 SAs, their cipher
    // and HMAC key objects) was ~40% of the time per input, so it is built once and reset here:
    // ReplayWindow.reset(0, 0) is the fresh state; counters only matter relative to each other.
    const sad = (espSad ??= freshSad(specs));
    for (const sa of sad.values()) {
      sa.replay!.reset(0, 0);
      sa.seqHi = 0;
      sa.seqLo = 0;
    }
    const out = espOut;
    const accepted = new Set<string>();
    const records = decodeRecords(input).filter((r) => r.kind !== RecordKind.time);
    for (let i = 0; i < records.length; i++) {
      const original = records[i]!.body;
      const h = toHex(original);
      const pkt = original.slice();
      const before = dropTotal(sad);
      const code = espOpen(sad, pkt, out);
      check(t, Number.isInteger(code) && code >= 0 && code < DROP_COUNT, `record ${i}: drop code ${code} out of range`);
      check(t, dropTotal(sad) === before + (code === Drop.ok ? 0 : 1), `record ${i}: drop ${code} not counted exactly once`);
      if (code === Drop.ok) {
        check(t, okHex.has(h), `record ${i}: a modified packet was accepted`);
        check(t, !accepted.has(h), `record ${i}: a replayed packet was accepted`);
        check(t, out.payloadStart <= out.payloadEnd && out.payloadEnd <= pkt.length, `record ${i}: payload bounds ${out.payloadStart}..${out.payloadEnd} of ${pkt.length}`);
        accepted.add(h);
        const again = espOpen(sad, original.slice(), out);
        check(t, again === Drop.replay, `record ${i}: immediate replay gave drop ${again}, expected replay`);
      }
      if (i === 0 && records.length === 1) {
        const seed = packets.find((p) => toHex(p.bytes) === h);
        if (seed) check(t, code === seed.expected, `unmodified ${seed.spec} packet gave drop ${code}, expected ${seed.expected}`);
      }
    }
  },
};


// ---- natt-classify -------------------------------------------------------------------------------

const nattClassify: FuzzTarget = {
  name: 'natt-classify',
  description: 'classifyNattDatagram / stripNonEspMarker on UDP/4500 payloads (RFC 3948)',
  seeds: () => {
    const { packets } = espFixture();
    return [Uint8Array.of(0xff), Uint8Array.of(0), new Uint8Array(4), ...ikeDatagrams().slice(0, 4).map(prependNonEspMarker), ...packets.slice(0, 4).map((p) => p.bytes)];
  },
  run(input) {
    const t = 'natt-classify';
    const k = classifyNattDatagram(input);
    check(t, k === NattKind.invalid || k === NattKind.ike || k === NattKind.esp || k === NattKind.keepalive, `kind ${k}`);
    const zeroMarker = input.length >= 4 && input[0] === 0 && input[1] === 0 && input[2] === 0 && input[3] === 0;
    if (k === NattKind.keepalive) check(t, input.length === 1 && input[0] === 0xff, 'keepalive that is not a single 0xff');
    if (k === NattKind.ike) check(t, zeroMarker && input.length >= 32, 'IKE without marker + header');
    if (k === NattKind.esp) check(t, !zeroMarker && input.length >= 8, 'ESP with a zero SPI or shorter than SPI ‖ seq');
    const stripped = stripNonEspMarker(input);
    check(t, (stripped !== null) === (k === NattKind.ike), 'stripNonEspMarker disagrees with classify');
    if (stripped) check(t, stripped.length === input.length - 4, 'stripped length');
  },
};

// ---- ip-peek -------------------------------------------------------------------------------------

const peekOut = new IpPeek();

function checkPeek(t: string, buf: Uint8Array, start: number, end: number): void {
  if (!peekIp(buf, start, end, peekOut)) return;
  const p = peekOut;
  const avail = end - start;
  check(t, p.version === 4 || p.version === 6, `version ${p.version}`);
  check(t, p.totalLength <= avail, `totalLength ${p.totalLength} > ${avail}`);
  check(t, p.headerLength >= (p.version === 4 ? 20 : 40) && p.headerLength <= p.totalLength, `headerLength ${p.headerLength} / total ${p.totalLength}`);
  check(t, p.addressLength === (p.version === 4 ? 4 : 16), 'addressLength');
  check(t, p.srcOffset >= start && p.srcOffset + p.addressLength <= end, 'srcOffset out of bounds');
  check(t, p.dstOffset >= start && p.dstOffset + p.addressLength <= end, 'dstOffset out of bounds');
  check(t, p.srcPort >= -1 && p.srcPort <= 0xffff && p.dstPort >= -1 && p.dstPort <= 0xffff, 'ports');
  check(t, p.protocol >= 0 && p.protocol <= 255, 'protocol');
}

const ipPeek: FuzzTarget = {
  name: 'ip-peek',
  description: 'peekIp on IPv4/IPv6 packets at several offsets: every offset it reports is in bounds',
  seeds: () => {
    const v6 = buildUdpPacket({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 500, dstPort: 500, payload: new Uint8Array(20) });
    // IPv6 with a Hop-by-Hop and a Fragment header before UDP.
    const ext = new Uint8Array(40 + 8 + 8 + 8);
    ext.set(v6.subarray(0, 40));
    ext[4] = 0;
    ext[5] = 24;
    ext[6] = 0; // HBH
    ext[40] = 44; // → Fragment
    ext[48] = 17; // → UDP
    return [
      buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 500, dstPort: 4500, payload: new Uint8Array(12) }),
      buildIp({ src: '198.18.0.1', dst: '198.18.0.2', protocol: 1, payload: Uint8Array.of(8, 0, 0, 0) }),
      v6,
      ext,
    ];
  },
  run(input) {
    const t = 'ip-peek';
    checkPeek(t, input, 0, input.length);
    if (input.length >= 4) {
      const s = input[0]! & 3;
      const e = input.length - (input[1]! & 3);
      if (e >= s) checkPeek(t, input, s, e);
    }
    // Out-of-range bounds must be refused, not read.
    check(t, !peekIp(input, 0, input.length + 1, peekOut), 'accepted end beyond the buffer');
    check(t, !peekIp(input, -1, input.length, peekOut), 'accepted a negative start');
  },
};

// ---- swanctl-parse -------------------------------------------------------------------------------

const CONF_DIR = '/f';

let confFs: { fs: ConfigFileSystem; host: IncludeHost } | undefined;

function configFs(): { fs: ConfigFileSystem; host: IncludeHost } {
  if (confFs) return confFs;
  const files = new Map<string, Uint8Array>();
  for (const rel of listRepoFiles('test/fixtures/config/cert')) files.set(`${CONF_DIR}/${rel.slice('test/fixtures/config/cert/'.length)}`, readRepoFile(rel));
  files.set(`${CONF_DIR}/conf.d/extra.conf`, new TextEncoder().encode('connections { x { remote_addrs = 198.18.0.9 } }\n'));
  const fs: ConfigFileSystem = {
    readFile(path) {
      const f = files.get(path);
      if (!f) throw new Error('no such file');
      return f;
    },
    listFiles(dir) {
      return [...files.keys()].filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/')).sort();
    },
  };
  const host: IncludeHost = {
    expand(pattern) {
      if (pattern.includes('*')) {
        const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
        return [...files.keys()].filter((p) => re.test(p)).sort();
      }
      if (!files.has(pattern)) throw new Error('no such file');
      return [pattern];
    },
    readText(path) {
      const f = files.get(path);
      if (!f) throw new Error('no such file');
      return new TextDecoder().decode(f);
    },
  };
  confFs = { fs, host };
  return confFs;
}

const swanctlParse: FuzzTarget = {
  name: 'swanctl-parse',
  description: 'parseSwanctl + validateSwanctl on text: a config or a ConfigError, never another exception',
  seeds: () => {
    const seeds = listRepoFiles('test/fixtures/config').filter((f) => f.endsWith('.conf')).map(readRepoFile);
    seeds.push(new TextEncoder().encode('include conf.d/*.conf\nconnections { a : x { } }\nsecrets { ike-1 { secret = 0x0102 } }\n'));
    return seeds;
  },
  run(input) {
    const t = 'swanctl-parse';
    const text = new TextDecoder().decode(input);
    const { fs, host } = configFs();
    try {
      const parsed = parseSwanctl(text, `${CONF_DIR}/swanctl.conf`, { host });
      check(t, typeof parsed.root === 'object' && Array.isArray(parsed.root.sections), 'parse result without a root');
      const v = validateSwanctl(parsed.root, { swanctlDir: CONF_DIR, fs });
      check(t, typeof v.config === 'object' && v.config !== null, 'validate result without a config');
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      if (!(e instanceof ConfigError)) throw new FuzzFailure(t, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      check(t, e.issues.length > 0, 'ConfigError without issues');
    }
  },
};

// ---- x509 ----------------------------------------------------------------------------------------

function checkCert(t: string, who: string, c: Certificate | null): void {
  if (c === null) return;
  check(t, c.der instanceof Uint8Array && c.der.length > 0, `${who}: der`);
  check(t, typeof c.subject === 'string' && typeof c.issuer === 'string', `${who}: subject/issuer`);
  check(t, Number.isFinite(c.notBeforeMs) && Number.isFinite(c.notAfterMs), `${who}: validity ${c.notBeforeMs}..${c.notAfterMs}`);
  check(t, /^[0-9a-f]{64}$/.test(c.fingerprintSha256), `${who}: fingerprint`);
  check(t, Array.isArray(c.subjectAltNames) && c.subjectAltNames.every((s) => typeof s === 'string'), `${who}: SANs`);
}

const NODE_SHARE = 8;

/** Whether the x509 target also runs the node provider on `input` (about one in NODE_SHARE, by content). */
export function usesNodeParser(input: Uint8Array): boolean {
  let h = input.length;
  for (let i = 0; i < input.length; i += 97) h = Math.imul(h ^ input[i]!, 0x01000193) >>> 0;
  return h % NODE_SHARE === 0;
}

const x509: FuzzTarget = {
  name: 'x509',
  description: 'certificate parsing on both providers (node X509Certificate, pure-TS DER walker) and asn1 helpers',
  seeds: () => {
    const out: Uint8Array[] = [];
    for (const f of listRepoFiles('test/fixtures/pki')) {
      if (f.endsWith('.der')) out.push(readRepoFile(f));
      if (f.endsWith('.pem')) {
        const pem = pemDecode(new TextDecoder().decode(readRepoFile(f)));
        if (pem) out.push(pem.der);
      }
    }
    // One PEM text seed per key type (the PEM path).
    out.push(readRepoFile('test/fixtures/pki/leaf-ec.pem'));
    return out;
  },
  run(input) {
    const t = 'x509';
    // OpenSSL's X509Certificate constructor is ~60% of an execution and OpenSSL's own DER parser is
    // fuzzed upstream (OSS-Fuzz); the node provider's wrapper around it runs on one input in
    // NODE_SHARE, chosen from the input's bytes so a saved input replays the same way. Everything
    // in tsipsec's own DER code (noble provider, asn1.ts, x509.ts) runs on every input.
    const providers = usesNodeParser(input) ? ([['node', nodeCrypto], ['noble', nobleCrypto]] as const) : ([['noble', nobleCrypto]] as const);
    for (const [who, p] of providers) {
      let c: Certificate | null;
      try {
        c = p.parseCertificate(input);
      } catch (e) {
        throw new FuzzFailure(t, `${who}.parseCertificate threw ${String(e)}`);
      }
      checkCert(t, who, c);
    }
    try {
      parseCertificateDer(input);
      parsePrivateKeyDer(input);
      tbsParts(input);
      certValidity(input);
      certSubjectAltNames(input);
      certExtension(input, [0x55, 0x1d, 0x13]); // basicConstraints 2.5.29.19 (DER content octets)
    } catch (e) {
      throw new FuzzFailure(t, `DER helper threw ${String(e)}`);
    }
  },
};

// ---- pcap ----------------------------------------------------------------------------------------

/** Minimal little-endian pcapng (SHB, IDB for RAW, one EPB per frame). */
function pcapng(frames: readonly Uint8Array[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const padded = (body.length + 3) & ~3;
    const len = 12 + padded;
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, len, true);
    b.set(body, 8);
    v.setUint32(len - 4, len, true);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const sv = new DataView(shb.buffer);
  sv.setUint32(0, 0x1a2b3c4d, true);
  sv.setUint16(4, 1, true);
  sv.setInt32(8, -1, true);
  sv.setInt32(12, -1, true);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(8);
  new DataView(idb.buffer).setUint16(0, LinkType.RAW, true);
  new DataView(idb.buffer).setUint32(4, 65535, true);
  block(1, idb);
  frames.forEach((f, i) => {
    const epb = new Uint8Array(20 + f.length);
    const ev = new DataView(epb.buffer);
    ev.setUint32(8, 1_000_000 + i, true);
    ev.setUint32(12, f.length, true);
    ev.setUint32(16, f.length, true);
    epb.set(f, 20);
    block(6, epb);
  });
  return concat(...blocks);
}

let keylogCache: ParsedKeylog | undefined;

function espKeylog(): ParsedKeylog {
  if (keylogCache) return keylogCache;
  const lines = espFixture().specs.map((s) =>
    formatEspLine({
      src: '*',
      dst: '*',
      spi: s.spi,
      encr: s.algorithm.encr === 'chacha20-poly1305' ? { id: 28 } : { id: s.algorithm.encr === 'aes-cbc' ? 12 : 20, keyLength: s.algorithm.keyBits ?? 128 },
      encrKey: s.encKey,
      integ: s.algorithm.integ ? 12 : 0,
      integKey: s.integKey ?? new Uint8Array(0),
    }),
  );
  const parsed = parseEspTable(lines.join('\n'));
  keylogCache = { ike: [], esp: parsed.entries, errors: parsed.errors };
  return keylogCache;
}

function captureFrames(): Uint8Array[] {
  const s = ikeSession();
  const frames: Uint8Array[] = [];
  for (const d of s.sentByI.slice(0, 4)) frames.push(buildUdpPacket({ src: ADDR_I.address, dst: ADDR_R.address, srcPort: 500, dstPort: 500, payload: d }));
  for (const d of s.sentByR.slice(0, 2)) frames.push(buildUdpPacket({ src: ADDR_R.address, dst: ADDR_I.address, srcPort: 4500, dstPort: 4500, payload: prependNonEspMarker(d) }));
  for (const p of espFixture().packets.slice(0, 6)) frames.push(buildUdpPacket({ src: ADDR_I.address, dst: ADDR_R.address, srcPort: 4500, dstPort: 4500, payload: p.bytes }));
  frames.push(buildIp({ src: ADDR_I.address, dst: ADDR_R.address, protocol: 50, payload: espFixture().packets[0]!.bytes }));
  frames.push(buildUdpPacket({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 4500, dstPort: 4500, payload: Uint8Array.of(0xff) }));
  return frames;
}

const pcap: FuzzTarget = {
  name: 'pcap',
  description: 'readCapture + decodeCaptureFile (pcap/pcapng, RAW/Ethernet, IKE, ESP with keys)',
  seeds: () => {
    const frames = captureFrames();
    const whole = [
      writePcap(frames.map((data, i) => ({ tsMs: 1_700_000_000_000 + i, data }))),
      writePcap(frames.map((f, i) => ({ tsMs: i, data: buildEthernet(f) })), { linkType: LinkType.EN10MB, nanosecond: true }),
      pcapng(frames),
    ];
    // One-frame captures too: a mutation then lands in the frame decoders (IKE, ESP with keys,
    // keepalive, IPv6) at the cost of one frame, not fourteen (3x the executions per second).
    const single = frames.flatMap((f, i) => [
      writePcap([{ tsMs: i, data: f }]),
      i % 2 === 0 ? writePcap([{ tsMs: i, data: buildEthernet(f) }], { linkType: LinkType.EN10MB, nanosecond: true }) : pcapng([f]),
    ]);
    return [...whole, ...single];
  },
  run(input) {
    const t = 'pcap';
    const cap = readCapture(input);
    check(t, cap.format === undefined || cap.format === 'pcap' || cap.format === 'pcapng', `format ${String(cap.format)}`);
    if (cap.format === undefined) check(t, cap.records.length === 0, 'records from an unknown format');
    for (const r of cap.records) {
      check(t, r.data.buffer === input.buffer && r.data.byteOffset >= input.byteOffset && r.data.byteOffset + r.data.length <= input.byteOffset + input.length, 'record data outside the input');
    }
    const dec = decodeCaptureFile(input, espKeylog(), { provider: nodeCrypto });
    check(t, dec.packets.length === cap.records.length, `decoded ${dec.packets.length} packets of ${cap.records.length} records`);
    dec.packets.forEach((p, i) => check(t, p.index === i + 1, `packet index ${p.index} at ${i}`));
  },
};

export const TARGETS: readonly FuzzTarget[] = [ikeDecode, ikeSkInner, ikeEndpointResponder, ikeEndpointInitiator, ikeResponderInner, ikeInitiatorInner, espOpenTarget, nattClassify, ipPeek, datapathTarget, swanctlParse, x509, pcap];

export function findTarget(name: string): FuzzTarget | undefined {
  return TARGETS.find((t) => t.name === name);
}
