/** The per-exchange payload table (rules.ts): accept and reject cases in RFC 7296 notation. */
import { describe, expect, it } from 'vitest';
import { checkRules } from '../../../../src/ike/rules.js';
import type { Payload } from '../../../../src/ike/payloads/types.js';

const b = (n: number) => new Uint8Array(n);
const SA: Payload = { type: 33, critical: false, proposals: [{ number: 1, protocolId: 1, spi: b(0), transforms: [] }] };
const KE: Payload = { type: 34, critical: false, group: 31, data: b(32) };
const NO: Payload = { type: 40, critical: false, nonce: b(32) };
const N = (t: number): Payload => ({ type: 41, critical: false, protocolId: 0, spi: b(0), notifyType: t, data: b(0) });
const V: Payload = { type: 43, critical: false, data: b(4) };
const CERTREQ: Payload = { type: 38, critical: false, encoding: 4, data: b(20) };
const IDi: Payload = { type: 35, critical: false, idType: 2, data: b(4) };
const IDr: Payload = { type: 36, critical: false, idType: 2, data: b(4) };
const AUTH: Payload = { type: 39, critical: false, method: 2, data: b(32) };
const CERT: Payload = { type: 37, critical: false, encoding: 4, data: b(100) };
const TSi: Payload = { type: 44, critical: false, selectors: [] };
const TSr: Payload = { type: 45, critical: false, selectors: [] };
const CP: Payload = { type: 47, critical: false, cfgType: 1, attributes: [] };
const D: Payload = { type: 42, critical: false, protocolId: 3, spis: [b(4)] };
const SK: Payload = { type: 46, critical: false, innerType: 35, body: b(40) };
const SKF: Payload = { type: 53, critical: false, innerType: 35, fragmentNumber: 1, totalFragments: 2, body: b(40) };
const UNKNOWN: Payload = { type: 200, critical: false, raw: b(3), unknown: true };
const EAP: Payload = { type: 48, critical: false, raw: b(4), unknown: true };

const INIT = 34, AUTH_X = 35, CHILD = 36, INFO = 37, INTER = 43;

type Case = [string, number, boolean, Payload[], Payload[] | undefined];

const accept: Case[] = [
  ['HDR, SAi1, KEi, Ni -->', INIT, false, [SA, KE, NO], undefined],
  ['HDR, N(COOKIE), SAi1, KEi, Ni, N(NAT_D)+, V -->', INIT, false, [N(16390), SA, KE, NO, N(16388), N(16389), V], undefined],
  ['<-- HDR, SAr1, KEr, Nr, [CERTREQ], N(FRAG_SUP)', INIT, true, [SA, KE, NO, CERTREQ, N(16430)], undefined],
  ['<-- HDR, N(COOKIE)', INIT, true, [N(16390)], undefined],
  ['<-- HDR, N(INVALID_KE_PAYLOAD)', INIT, true, [N(17)], undefined],
  ['an unknown non-critical payload is ignored', INIT, false, [SA, KE, NO, UNKNOWN], undefined],
  ['HDR, SK {…} before decryption', AUTH_X, false, [SK], undefined],
  ['HDR, SKF {…} before reassembly', AUTH_X, false, [SKF], undefined],
  ['HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr} -->', AUTH_X, false, [SK], [IDi, CERT, CERTREQ, IDr, AUTH, N(16384), SA, TSi, TSr]],
  ['HDR, SK {IDi, AUTH, CP(CFG_REQUEST), SAi2, TSi, TSr} -->', AUTH_X, false, [SK], [IDi, AUTH, CP, SA, TSi, TSr]],
  ['<-- HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}', AUTH_X, true, [SK], [IDr, CERT, AUTH, SA, TSi, TSr]],
  ['<-- HDR, SK {N(AUTHENTICATION_FAILED)}', AUTH_X, true, [SK], [N(24)]],
  ['<-- HDR, SK {IDr, AUTH, N(TS_UNACCEPTABLE)} (childless failure)', AUTH_X, true, [SK], [IDr, AUTH, N(38)]],
  ['HDR, SK {IDi, EAP-less first round with EAP kept raw} -->', AUTH_X, false, [SK], [IDi, EAP]],
  ['HDR, SK {SA, Ni, [KEi], TSi, TSr} --> (new child)', CHILD, false, [SK], [SA, NO, KE, TSi, TSr]],
  ['HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} --> (rekey child)', CHILD, false, [SK], [N(16393), SA, NO, TSi, TSr]],
  ['HDR, SK {SA, Ni, KEi} --> (rekey IKE)', CHILD, false, [SK], [SA, NO, KE]],
  ['<-- HDR, SK {SA, Nr, [KEr], TSi, TSr}', CHILD, true, [SK], [SA, NO, KE, TSi, TSr]],
  ['<-- HDR, SK {N(NO_PROPOSAL_CHOSEN)}', CHILD, true, [SK], [N(14)]],
  ['HDR, SK {} --> (liveness)', INFO, false, [SK], []],
  ['HDR, SK {D} -->', INFO, false, [SK], [D, D]],
  ['<-- HDR, SK {D}', INFO, true, [SK], [D]],
  ['HDR, SK {N(INVALID_SYNTAX)} -->', INFO, false, [SK], [N(7)]],
  ['HDR, SK {} --> IKE_INTERMEDIATE', INTER, false, [SK], []],
  ['<-- HDR, SK {KEr} IKE_INTERMEDIATE', INTER, true, [SK], [KE]],
];

const reject: Case[] = [
  ['IKE_SA_INIT request without KE', INIT, false, [SA, NO], undefined],
  ['IKE_SA_INIT request of notifies only', INIT, false, [N(16390)], undefined],
  ['IKE_SA_INIT request with two SA payloads', INIT, false, [SA, SA, KE, NO], undefined],
  ['IKE_SA_INIT request carrying SK', INIT, false, [SA, KE, NO, SK], undefined],
  ['IKE_SA_INIT request with AUTH in the clear', INIT, false, [SA, KE, NO, AUTH], undefined],
  ['IKE_SA_INIT response with SA but no Nonce', INIT, true, [SA, KE], undefined],
  ['IKE_SA_INIT response that is empty', INIT, true, [], undefined],
  ['IKE_SA_INIT given an inner chain', INIT, false, [SA, KE, NO], []],
  ['IKE_AUTH in the clear', AUTH_X, false, [IDi, AUTH, SA, TSi, TSr], undefined],
  ['IKE_AUTH with a payload before SK', AUTH_X, false, [V, SK], undefined],
  ['IKE_AUTH with SK and SKF', AUTH_X, false, [SK, SKF], undefined],
  ['IKE_AUTH with no payload at all', AUTH_X, false, [], undefined],
  ['IKE_AUTH request with two AUTH payloads', AUTH_X, false, [SK], [IDi, AUTH, AUTH]],
  ['IKE_AUTH request with KE inside', AUTH_X, false, [SK], [IDi, AUTH, KE]],
  ['IKE_AUTH response with IDi', AUTH_X, true, [SK], [IDi, AUTH]],
  ['IKE_AUTH request with too many CERTs', AUTH_X, false, [SK], [IDi, ...Array<Payload>(9).fill(CERT), AUTH]],
  ['CREATE_CHILD_SA request without Nonce', CHILD, false, [SK], [SA, TSi, TSr]],
  ['CREATE_CHILD_SA request of notifies only', CHILD, false, [SK], [N(16393)]],
  ['CREATE_CHILD_SA response with Delete', CHILD, true, [SK], [SA, NO, D]],
  ['INFORMATIONAL with SA', INFO, false, [SK], [SA]],
  ['INFORMATIONAL with two CP', INFO, true, [SK], [CP, CP]],
  ['IKE_INTERMEDIATE with SA', INTER, false, [SK], [SA]],
  ['an unknown exchange type', 99, false, [SK], undefined],
];

describe('checkRules', () => {
  it.each(accept)('accepts %s', (_n, x, resp, outer, inner) => {
    expect(checkRules(x, resp, outer, inner)).toEqual({ ok: true, value: undefined });
  });
  it.each(reject)('rejects %s with INVALID_SYNTAX', (_n, x, resp, outer, inner) => {
    const r = checkRules(x, resp, outer, inner);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('rules');
      expect(r.error.notify).toBe(7);
      expect(r.error.message.length).toBeGreaterThan(10);
    }
  });
  it('names the problem', () => {
    const r = checkRules(34, false, [SA, NO], undefined);
    expect(!r.ok && r.error.message).toMatch(/IKE_SA_INIT request: KE missing/);
  });
});
