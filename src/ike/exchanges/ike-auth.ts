/**
 * IKE_AUTH (RFC 7296 §1.2, §2.15 authentication, §3.6/§3.7 CERT/CERTREQ, RFC 7427 method 14) with
 * the first Child SA (§1.2, §2.9).
 *
 *   HDR, SK {IDi, [CERT+,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
 *                         <--  HDR, SK {IDr, [CERT+,] AUTH, SAr2, TSi, TSr, [N(USE_TRANSPORT_MODE)]}
 *   failures:             <--  HDR, SK {N(AUTHENTICATION_FAILED)}            (responder deletes)
 *                         <--  HDR, SK {IDr, AUTH, N(TS_UNACCEPTABLE | NO_PROPOSAL_CHOSEN)}
 *                                (IKE SA up, no child: RFC 7296 §1.2 "the IKE SA is still created")
 *   initiator rejects the responder's AUTH:
 *   HDR, SK {N(AUTHENTICATION_FAILED)}  -->  (INFORMATIONAL, not retransmitted; §2.21.2)
 *
 * AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <SignedOctets>) (method 2) or a signature over
 * <SignedOctets> (method 14): RealMessage | peer's nonce | prf(SK_px, RestOfIDPayload).
 */
import type { Certificate, SignatureScheme, SigningKey } from '../../crypto/types.js';
import { certMatchesId, certReqData, parseCertReqData, validateChain } from '../auth/certs.js';
import { chooseCredential, localCredentials, type LocalCredential } from '../auth/local-credentials.js';
import { pskAuth, verifyPskAuth } from '../auth/psk.js';
import { DEFAULT_SIGNATURE_HASH_ALGORITHMS, HashAlgorithmId, defaultSchemeFor, signAuth, verifyAuth } from '../auth/signature.js';
import { idPayloadBody, signedOctets } from '../auth/signed-octets.js';
import type { IkeConnection } from '../config.js';
import { formatIdentity, identityMatches, parseIdentity, type Identity } from '../identity.js';
import { AuthMethod, IdType, PayloadType, type IdPayload, type Payload } from '../payloads/types.js';
import { buildChildOffer, checkChildAnswer, makeChild, offerPayloads, selectChild, answerPayloads } from './child-negotiation.js';
import { kick, scheduleIke } from './tasks.js';
import { answerCpRequest, cpRequest, readCpReply } from './config-payload.js';
import { ExchangeType, IkeSa, NotifyType, findNotify, findPayload, findPayloads, firstError, notify, type Pending } from '../ike-sa.js';

/**
 * Our IDi/IDr: the configured id; without one, the certificate's subject DN (ID_DER_ASN1_DN, as
 * strongSwan does) for pubkey, else the local IP address.
 */
function localIdentity(conn: IkeConnection, cred: LocalCredential | undefined, localAddress: string): Identity {
  if (conn.local.id !== '') return parseIdentity(conn.local.id);
  if (cred) return { idType: IdType.DER_ASN1_DN, data: cred.leaf.subjectDer };
  return parseIdentity(localAddress);
}

/** Our certificate, chain and key for this exchange (§3.7: honouring the peer's CERTREQ). */
function credentialFor(sa: IkeSa, conn: IkeConnection): LocalCredential | undefined {
  if (conn.local.auth !== 'pubkey') return undefined;
  return chooseCredential(localCredentials(sa.ctx.provider, conn), sa.peerCertReq);
}

/** CA key hashes of every CERTREQ with X.509 encoding (§3.7); undefined without one. */
export function certReqHashes(payloads: readonly Payload[]): Uint8Array[] | undefined {
  const reqs = findPayloads(payloads, PayloadType.CERTREQ).filter((c) => c.encoding === 4);
  if (reqs.length === 0) return undefined;
  const out: Uint8Array[] = [];
  for (const r of reqs) out.push(...(parseCertReqData(r.data) ?? []));
  return out;
}

/**
 * The signature scheme for our AUTH (RFC 7427): RSA PKCS#1 v1.5 (or PSS when configured), ECDSA
 * with the curve's hash, Ed25519; with SHA-256 unless the peer's SIGNATURE_HASH_ALGORITHMS lacks
 * it, then the first of SHA-384/512 it announced.
 */
export function chooseScheme(key: SigningKey, padding: 'pkcs1' | 'pss' | undefined, peerHashIds: readonly number[] | undefined, allowRsaSha1 = false): SignatureScheme {
  const base = defaultSchemeFor(key);
  if (base.kind !== 'rsa-pkcs1') return base;
  // RFC 7296 §3.8 method 1 (PKCS#1 v1.5 SHA-1) only for a peer that announced no RFC 7427 support,
  // and only when the connection allows it (swanctl-style opt-in; RFC 8247 §3.2 deprecates it).
  if (allowRsaSha1 && peerHashIds === undefined) return { kind: 'rsa-pkcs1', hash: 'sha1' };
  const hashes = [['sha256', HashAlgorithmId.SHA2_256], ['sha384', HashAlgorithmId.SHA2_384], ['sha512', HashAlgorithmId.SHA2_512]] as const;
  const pick = hashes.find(([, id]) => peerHashIds === undefined || peerHashIds.includes(id)) ?? hashes[0];
  const hash = pick[0];
  return padding === 'pss' ? { kind: 'rsa-pss', hash, saltLength: hash === 'sha256' ? 32 : hash === 'sha384' ? 48 : 64 } : { kind: 'rsa-pkcs1', hash };
}

function parseCerts(sa: IkeSa, list: readonly Uint8Array[] | undefined): Certificate[] {
  const out: Certificate[] = [];
  for (const c of list ?? []) {
    const parsed = sa.ctx.provider.parseCertificate(c);
    if (parsed) out.push(parsed);
  }
  return out;
}

/** [CERT+] for our chain, leaf first (encoding 4, X.509 Certificate - Signature, §3.6). */
function certPayloads(cred: LocalCredential | undefined): Payload[] {
  if (!cred) return [];
  return [cred.leaf, ...cred.intermediates].map((c) => ({ type: PayloadType.CERT, critical: false, encoding: 4, data: c.der }) satisfies Payload);
}

function certReqPayloads(sa: IkeSa, conn: IkeConnection): Payload[] {
  if (conn.remote.auth !== 'pubkey') return [];
  const cas = parseCerts(sa, conn.remote.cacerts);
  return cas.length === 0 ? [] : [{ type: PayloadType.CERTREQ, critical: false, encoding: 4, data: certReqData(sa.ctx.provider, cas) }];
}

/** Our AUTH payload over `octets`. */
function makeAuth(sa: IkeSa, conn: IkeConnection, cred: LocalCredential | undefined, octets: Uint8Array): Payload {
  const prf = sa.crypto!.algs.prf!;
  if (conn.local.auth === 'psk' || !cred) {
    const psk = conn.local.psk ?? conn.remote.psk!;
    return { type: PayloadType.AUTH, critical: false, method: AuthMethod.SHARED_KEY_MIC, data: pskAuth(sa.ctx.provider, prf, psk, octets) };
  }
  const key = cred.key;
  const a = signAuth(sa.ctx.provider, key, chooseScheme(key, conn.local.rsaPadding, sa.peerHashIds, conn.remote.allowRsaSha1 === true), octets);
  return { type: PayloadType.AUTH, critical: false, method: a.method, data: a.data };
}

/** Verifies the peer's AUTH (and certificate chain + identity binding). Never throws. */
function verifyPeer(sa: IkeSa, now: number, conn: IkeConnection, id: IdPayload, inner: readonly Payload[], octets: Uint8Array): string | undefined {
  const auth = findPayload(inner, PayloadType.AUTH);
  if (!auth) return 'no AUTH payload';
  const prf = sa.crypto!.algs.prf!;
  const { provider } = sa.ctx;
  try {
    if (conn.remote.auth === 'psk') {
      if (auth.method !== AuthMethod.SHARED_KEY_MIC) return `AUTH method ${auth.method}, expected PSK`;
      const psk = conn.remote.psk ?? conn.local.psk!;
      return verifyPskAuth(provider, prf, psk, octets, auth.data) ? undefined : 'PSK AUTH does not verify';
    }
    const certs = findPayloads(inner, PayloadType.CERT).filter((c) => c.encoding === 4);
    if (certs.length === 0) return 'no certificate';
    const parsed = certs.map((c) => provider.parseCertificate(c.data));
    const leaf = parsed[0];
    if (!leaf) return 'unparsable certificate';
    const inter = parsed.slice(1).filter((c): c is Certificate => c !== null);
    const chain = validateChain(provider, leaf, inter, parseCerts(sa, conn.remote.cacerts), sa.ctx.wallClockMs(now));
    if (!chain.ok) return chain.reason;
    if (!certMatchesId(leaf, id.idType, id.data)) return `identity ${formatIdentity(id.idType, id.data)} not in certificate`;
    // RFC 7427 §4: method 14 only with a hash we announced in SIGNATURE_HASH_ALGORITHMS.
    return verifyAuth(provider, leaf, auth.method, auth.data, octets, { rsaSha1Method1: conn.remote.allowRsaSha1 === true, hashIds: DEFAULT_SIGNATURE_HASH_ALGORITHMS }) ? undefined : 'signature does not verify';
  } catch {
    return 'AUTH verification failed';
  }
}

// ---- initiator -------------------------------------------------------------------------------

/** HDR, SK {IDi, [CERT+,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr} --> */
export function startIkeAuth(sa: IkeSa, now: number): void {
  const p = sa.phase;
  if (p.name !== 'auth-sent') return;
  const { conn } = sa;
  const cred = credentialFor(sa, conn);
  const id = localIdentity(conn, cred, sa.local.address);
  const idBody = idPayloadBody(id.idType, id.data);
  const octets = signedOctets(sa.ctx.provider, p.crypto.algs.prf!, p.initRequest, p.nonceR, p.crypto.keys.skPi, idBody);
  const child = sa.initialChildren.shift() ?? conn.children[0];
  const payloads: Payload[] = [{ type: PayloadType.IDi, critical: false, idType: id.idType, data: id.data }];
  payloads.push(...certPayloads(cred), ...certReqPayloads(sa, conn));
  if (conn.remote.id !== '' && conn.remote.id !== '%any') {
    const r = parseIdentity(conn.remote.id);
    payloads.push({ type: PayloadType.IDr, critical: false, idType: r.idType, data: r.data });
  }
  payloads.push(makeAuth(sa, conn, cred, octets));
  const cp = cpRequest(conn.vips);
  if (cp) payloads.push(cp);
  let pending: Pending;
  if (child) {
    const offer = buildChildOffer(sa, child, true);
    const o = offerPayloads(offer);
    payloads.push(...o.notifies, o.sa, ...o.ts);
    pending = { kind: 'ike-auth', child, spiIn: offer.spiIn, proposals: offer.proposals, tsI: offer.tsI, tsR: offer.tsR, transport: offer.transport, localIdBody: idBody, sentSigHash: true };
  } else {
    pending = { kind: 'ike-auth', child: undefined, spiIn: 0, proposals: [], tsI: [], tsR: [], transport: false, localIdBody: idBody, sentSigHash: true };
  }
  sa.localId = formatIdentity(id.idType, id.data);
  sa.sendRequest(now, ExchangeType.IKE_AUTH, payloads, pending);
}

export function establish(sa: IkeSa, now: number): void {
  const c = sa.crypto!;
  if (sa.phase.name === 'half-open') sa.ctx.counters.halfOpen--;
  sa.phase = { name: 'established', crypto: c, establishedAtMs: now };
  sa.lastInboundMs = now;
  scheduleIke(sa, now);
}

/** <-- HDR, SK {IDr, [CERT+,] AUTH, SAr2, TSi, TSr} */
export function handleAuthResponse(sa: IkeSa, now: number, inner: readonly Payload[], pending: Extract<Pending, { kind: 'ike-auth' }>): void {
  const p = sa.phase;
  if (p.name !== 'auth-sent') return;
  if (findNotify(inner, NotifyType.AUTHENTICATION_FAILED)) return sa.die(now, 'auth-failed', 'peer sent AUTHENTICATION_FAILED');
  const idr = findPayload(inner, PayloadType.IDr);
  if (!idr || !findPayload(inner, PayloadType.AUTH)) {
    const err = firstError(inner);
    return sa.die(now, 'error', err === undefined ? 'IKE_AUTH response without IDr/AUTH' : `peer sent error notify ${err}`);
  }
  const { conn } = sa;
  const received = { idType: idr.idType, data: idr.data };
  let failure: string | undefined;
  if (conn.remote.id !== '' && !identityMatches(parseIdentity(conn.remote.id), received)) failure = `peer identity ${formatIdentity(idr.idType, idr.data)} does not match ${conn.remote.id}`;
  if (!failure) {
    const octets = signedOctets(sa.ctx.provider, p.crypto.algs.prf!, p.initResponse, p.nonceI, p.crypto.keys.skPr, idPayloadBody(idr.idType, idr.data));
    failure = verifyPeer(sa, now, conn, idr, inner, octets);
  }
  if (failure) {
    // §2.21.2: tell the responder, then forget the SA without waiting.
    sa.sendOneShot(ExchangeType.INFORMATIONAL, [notify(NotifyType.AUTHENTICATION_FAILED)]);
    return sa.die(now, 'auth-failed', failure);
  }
  sa.remoteId = formatIdentity(idr.idType, idr.data);
  establish(sa, now);
  if (conn.vips.length > 0) {
    // §2.19: we asked for virtual IPs; without one this road-warrior SA has no use (strongSwan
    // deletes it too). INTERNAL_ADDRESS_FAILURE means the responder created no child (§3.10.1).
    const reply = readCpReply(inner);
    if (!reply || reply.addresses.length === 0) {
      const why = findNotify(inner, NotifyType.INTERNAL_ADDRESS_FAILURE) ? 'INTERNAL_ADDRESS_FAILURE' : 'peer assigned no virtual IP';
      sa.emitIkeUp();
      if (pending.child) sa.ctx.emit({ type: 'child-failed', ikeName: sa.name, ikeId: sa.ikeId, childName: pending.child.name, reason: why });
      sa.initialChildren = [];
      sa.tasks = [{ kind: 'delete-ike', reason: 'error' }];
      return kick(sa, now);
    }
    sa.localVips = reply.addresses;
  }
  sa.emitIkeUp();
  if (pending.child) {
    const err = firstError(inner);
    const ans = err === undefined ? checkChildAnswer(pending, inner) : undefined;
    if (!ans || !ans.ok) {
      sa.ctx.emit({ type: 'child-failed', ikeName: sa.name, ikeId: sa.ikeId, childName: pending.child.name, reason: err !== undefined ? notifyText(err) : ans!.ok ? '' : ans!.reason });
    } else {
      const child = makeChild(sa, now, pending.child, true, pending.spiIn, ans.spiOut, ans.transport ? 'transport' : 'tunnel', ans.tsI, ans.tsR, ans.algs, undefined, undefined, p.nonceI, p.nonceR);
      sa.children.push(child);
      sa.emitChildUp(child);
    }
  }
  for (const c of sa.initialChildren) sa.queueTask({ kind: 'create-child', child: c });
  sa.initialChildren = [];
  kick(sa, now);
}

export function notifyText(n: number): string {
  for (const [k, v] of Object.entries(NotifyType)) if (v === n) return k;
  return `NOTIFY(${n})`;
}

// ---- responder --------------------------------------------------------------------------------

/** HDR, SK {IDi, … AUTH, SAi2, TSi, TSr} --> : returns the response payloads (and state changes). */
export function handleAuthRequest(sa: IkeSa, now: number, messageId: number, inner: readonly Payload[]): void {
  const p = sa.phase;
  if (p.name !== 'half-open') return;
  const idi = findPayload(inner, PayloadType.IDi);
  if (!idi || !findPayload(inner, PayloadType.AUTH)) {
    sa.sendResponse(messageId, ExchangeType.IKE_AUTH, [notify(NotifyType.INVALID_SYNTAX)]);
    return sa.die(now, 'error', 'IKE_AUTH without IDi/AUTH', false);
  }
  const received = { idType: idi.idType, data: idi.data };
  const idr = findPayload(inner, PayloadType.IDr);
  const byId = p.candidates.filter((c) => c.remote.id === '' || identityMatches(parseIdentity(c.remote.id), received));
  const preferred = idr ? byId.find((c) => c.local.id !== '' && identityMatches(parseIdentity(c.local.id), { idType: idr.idType, data: idr.data })) : undefined;
  const conn = preferred ?? byId[0];
  let failure: string | undefined;
  if (!conn) failure = `no connection for peer identity ${formatIdentity(idi.idType, idi.data)}`;
  else {
    // AUTH signs the initiator's IKE_SA_INIT request; after a cookie race that may be a variant
    // with the COOKIE in front (acceptInitVariant in ike-sa-init.ts).
    for (const request of [p.initRequest, ...p.initRequestVariants]) {
      const octets = signedOctets(sa.ctx.provider, p.crypto.algs.prf!, request, p.nonceR, p.crypto.keys.skPi, idPayloadBody(idi.idType, idi.data));
      failure = verifyPeer(sa, now, conn, idi, inner, octets);
      if (!failure) break;
    }
  }
  if (failure || !conn) {
    // <-- HDR, SK {N(AUTHENTICATION_FAILED)} and no state left (§2.21.2).
    sa.sendResponse(messageId, ExchangeType.IKE_AUTH, [notify(NotifyType.AUTHENTICATION_FAILED)]);
    sa.remoteId = formatIdentity(idi.idType, idi.data);
    return sa.die(now, 'auth-failed', failure);
  }
  sa.conn = conn;
  sa.ctx.registerSa(sa); // re-files the SA under the connection IKE_AUTH chose
  sa.remoteId = formatIdentity(idi.idType, idi.data);
  sa.peerCertReq = certReqHashes(inner);
  const cred = credentialFor(sa, conn);
  const id = localIdentity(conn, cred, sa.local.address);
  sa.localId = formatIdentity(id.idType, id.data);
  const octets = signedOctets(sa.ctx.provider, p.crypto.algs.prf!, p.initResponse[0], p.nonceI, p.crypto.keys.skPr, idPayloadBody(id.idType, id.data));
  const out: Payload[] = [{ type: PayloadType.IDr, critical: false, idType: id.idType, data: id.data }, ...certPayloads(cred), makeAuth(sa, conn, cred, octets)];
  establish(sa, now);
  let child: ReturnType<typeof makeChild> | undefined;
  let childFailure: { name: string; notify: number } | undefined;
  // §2.19: lease virtual IPs before the child, whose 'dynamic' remote selector is the lease.
  const cp = answerCpRequest(sa, inner);
  if (cp.kind === 'reply') {
    sa.remoteVips = cp.addresses;
    out.push(cp.payload);
  }
  if (cp.kind === 'failure') {
    out.push(notify(NotifyType.INTERNAL_ADDRESS_FAILURE));
    childFailure = { name: sa.conn.children[0]?.name ?? '', notify: NotifyType.INTERNAL_ADDRESS_FAILURE };
  } else if (findPayload(inner, PayloadType.SA)) {
    const sel = selectChild(sa, inner, true);
    if (sel.ok) {
      const spiIn = sa.ctx.allocEspSpi();
      child = makeChild(sa, now, sel.cfg, false, spiIn, sel.spiOut, sel.transport ? 'transport' : 'tunnel', sel.tsR, sel.tsI, sel.algs, undefined, undefined, p.nonceI, p.nonceR);
      const a = answerPayloads(sel, spiIn);
      out.push(...a.notifies, a.sa, ...a.ts);
    } else {
      out.push(notify(sel.notify));
      childFailure = { name: sa.conn.children[0]?.name ?? '', notify: sel.notify };
    }
  }
  sa.sendResponse(messageId, ExchangeType.IKE_AUTH, out);
  sa.emitIkeUp();
  if (child) {
    sa.children.push(child);
    sa.emitChildUp(child);
  } else if (childFailure) {
    sa.ctx.emit({ type: 'child-failed', ikeName: sa.name, ikeId: sa.ikeId, childName: childFailure.name, reason: notifyText(childFailure.notify) });
  }
}
