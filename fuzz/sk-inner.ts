/**
 * The `ike-sk-inner` fuzz target: the SK and SKF decryption path (RFC 7296 §3.14, RFC 7383 §2.5)
 * and the inner payload chain behind it, with known keys.
 *
 * Mutated SK messages never pass the ICV, so `ike-decode` only reaches the SK payload's framing.
 * Here the fuzzed bytes are the *plaintext*: they are sealed with fixed keys (AES-GCM-16 or
 * AES-CBC + HMAC-SHA2-256-128) into `HDR, SK {…}` or into 1..7 `HDR, SKF {…}` fragments, and the
 * datagrams go through `decodeMessage` and `openProtected` / `FragmentReassembler`. Invariants:
 *
 *   - the sealed datagrams decode (our framing is valid);
 *   - opening gives exactly what `decodePayloadChain` gives on the plaintext directly (same
 *     success, same error code, same payloads re-encoded to the same bytes): decryption, padding
 *     and reassembly neither lose nor invent bytes;
 *   - every fragment but the last is 'incomplete', the last one completes (or fails as above);
 *   - one flipped bit anywhere in the sealed body (IV, ciphertext, ICV) gives 'icv' (SK) and is
 *     never accepted.
 *
 * Input: control (1 byte) ‖ first inner payload type (1 byte) ‖ plaintext chain. Control bit 0:
 * cipher (0 GCM, 1 CBC+HMAC); bits 1-3: fragments (0 = one SK payload, k = k SKF fragments);
 * bit 4: deliver the fragments last first; bits 5-7 with byte 1: which body bit the tamper check flips.
 */
import { nodeCrypto } from '../src/crypto/node.js';
import { seededRandom } from '../src/crypto/seeded-random.js';
import { HeaderFlag } from '../src/ike/constants.js';
import { FragmentReassembler } from '../src/ike/fragments.js';
import { decodeMessage, decodePayloadChain, encodePayloadChain } from '../src/ike/message.js';
import type { DecodeResult } from '../src/ike/decode-result.js';
import type { Payload } from '../src/ike/payloads/types.js';
import { openProtected, SkCipher } from '../src/ike/sk.js';
import { concat } from './mutate.js';
import { recordedInner } from './inner.js';
import { ikeSession, toHex } from './fixtures.js';

const SK = 46;
const SKF = 53;
const INFORMATIONAL = 37;
/** Keeps one SK payload (length field 16 bits) within 0xffff with any cipher overhead. */
const MAX_PLAINTEXT = 65_000;

let ciphers: [SkCipher, SkCipher] | undefined;

function skCiphers(): [SkCipher, SkCipher] {
  if (!ciphers) {
    const rng = seededRandom(4242);
    const gcm = new SkCipher(nodeCrypto, { kind: 'aead', aead: 'aes-gcm-16', key: rng.fill(new Uint8Array(16)), salt: rng.fill(new Uint8Array(4)) });
    const cbc = new SkCipher(nodeCrypto, { kind: 'cbc', key: rng.fill(new Uint8Array(16)), integ: 'hmac-sha256-128', integKey: rng.fill(new Uint8Array(32)) });
    ciphers = [gcm, cbc];
  }
  return ciphers;
}

const SPI_I = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const SPI_R = Uint8Array.of(9, 10, 11, 12, 13, 14, 15, 16);
const IV_SEED = new Uint8Array(16).fill(0x5c);

/** header ‖ SK/SKF generic header (‖ fragment fields) ‖ seal(plaintext): one datagram. */
function sealDatagram(cipher: SkCipher, innerType: number, plaintext: Uint8Array, frag: { n: number; total: number } | undefined): Uint8Array {
  const fixed = frag ? 4 : 0;
  const payloadLength = 4 + fixed + cipher.overhead(plaintext.length) + plaintext.length;
  const head = new Uint8Array(28 + 4 + fixed);
  head.set(SPI_I, 0);
  head.set(SPI_R, 8);
  head[16] = frag ? SKF : SK;
  head[17] = 0x20; // IKEv2.0
  head[18] = INFORMATIONAL;
  head[19] = HeaderFlag.INITIATOR;
  head[23] = 1; // Message ID 1
  const total = 28 + payloadLength;
  new DataView(head.buffer).setUint32(24, total);
  head[28] = innerType;
  new DataView(head.buffer).setUint16(30, payloadLength);
  if (frag) {
    new DataView(head.buffer).setUint16(32, frag.n);
    new DataView(head.buffer).setUint16(34, frag.total);
  }
  return concat(head, cipher.seal(head, plaintext, IV_SEED.subarray(0, cipher.ivLength)));
}

function chainHex(r: DecodeResult<Payload[]>): string {
  if (!r.ok) return `error ${r.error.code}`;
  try {
    const e = encodePayloadChain(r.value);
    return `ok ${e.firstType} ${toHex(e.bytes)}`;
  } catch (err) {
    return `re-encode threw ${String(err)}`;
  }
}

/** Runs one input; returns a violated invariant's description, or undefined. */
export function runSkInner(input: Uint8Array): string | undefined {
  if (input.length < 2) return undefined;
  const control = input[0]!;
  const innerType = input[1]!;
  const plaintext = input.subarray(2, 2 + MAX_PLAINTEXT);
  const cipher = skCiphers()[control & 1]!;
  const k = (control >>> 1) & 7;
  const expected = chainHex(decodePayloadChain(innerType, plaintext));

  if (k === 0) {
    const raw = sealDatagram(cipher, innerType, plaintext, undefined);
    const msg = decodeMessage(raw);
    if (!msg.ok) return `sealed SK message does not decode: ${msg.error.code}`;
    const got = chainHex(openProtected(raw, msg.value, cipher));
    if (got !== expected) return `SK open gave ${got.slice(0, 80)}, direct decode ${expected.slice(0, 80)}`;
    // Tamper: flip one bit of the body (IV ‖ ciphertext ‖ ICV).
    const bodyStart = 32;
    const bit = ((control >>> 5) << 8) | innerType;
    const at = bodyStart + (bit % (raw.length - bodyStart));
    const bad = raw.slice();
    bad[at] ^= 1 << (bit & 7);
    const badMsg = decodeMessage(bad);
    if (!badMsg.ok) return `tampered body changed the framing: ${badMsg.error.code}`;
    const r = openProtected(bad, badMsg.value, cipher);
    if (r.ok || r.error.code !== 'icv') return `a flipped bit at ${at} gave ${r.ok ? 'ok' : r.error.code}, expected icv`;
    return undefined;
  }

  const total = Math.max(1, Math.min(k, plaintext.length));
  const size = Math.ceil(plaintext.length / total);
  const datagrams: Uint8Array[] = [];
  for (let n = 1; n <= total; n++) {
    const part = plaintext.subarray((n - 1) * size, Math.min(plaintext.length, n * size));
    datagrams.push(sealDatagram(cipher, n === 1 ? innerType : 0, part, { n, total }));
  }
  if ((control & 0x10) !== 0) datagrams.reverse();
  const reassembler = new FragmentReassembler({ maxFragments: 8, maxBytes: 70_000 });
  for (let i = 0; i < datagrams.length; i++) {
    const raw = datagrams[i]!;
    const msg = decodeMessage(raw);
    if (!msg.ok) return `sealed SKF fragment does not decode: ${msg.error.code}`;
    const r = reassembler.add(raw, msg.value, cipher);
    const last = i === datagrams.length - 1;
    if (!last) {
      if (r.status !== 'incomplete') return `fragment ${i + 1} of ${total} gave ${r.status}`;
      continue;
    }
    if (r.status === 'incomplete') return `the last of ${total} fragments left the message incomplete`;
    const got = chainHex(r.status === 'complete' ? { ok: true, value: r.payloads } : { ok: false, error: r.error });
    if (got !== expected) return `SKF reassembly gave ${got.slice(0, 80)}, direct decode ${expected.slice(0, 80)}`;
  }
  if (reassembler.pending !== 0) return `${reassembler.pending} messages still under reassembly`;
  return undefined;
}

/** Seeds: the plaintext chains of the recorded session's protected messages, in every framing. */
export function skInnerSeeds(): Uint8Array[] {
  const chains = [...recordedInner(ikeSession(), 'r'), ...recordedInner(ikeSession(), 'i')].map((r) => encodePayloadChain(r.payloads));
  const out: Uint8Array[] = [];
  for (const c of chains) {
    for (const control of [0x00, 0x01, 0x02, 0x06, 0x19, 0x0f]) out.push(concat(Uint8Array.of(control, c.firstType), c.bytes));
  }
  return out;
}
