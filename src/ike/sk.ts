/**
 * SK payload protection (RFC 7296 §3.14) with AEAD per RFC 5282 (AES-GCM) and RFC 7634 §3
 * (ChaCha20-Poly1305), and SKF fragments per RFC 7383 §2.5.
 *
 *  SK payload on the wire (framing in payloads/sk.ts):
 *  +--------------------+----------+-------------------------------+---------+-----+-----+
 *  | IKE header (28)    | gen. hdr | IV                            | inner payloads   |pad|PL| ICV |
 *  +--------------------+----------+-------------------------------+---------+-----+-----+
 *  |<---------- aadPrefix -------->|<----------------------- body ------------------------->|
 *                                        |<------ encrypted ------->|
 *
 * AEAD (RFC 5282 §3, §5.1): IV 8 bytes, nonce = salt(4) ‖ IV(8); AAD = IKE header ‖ the SK
 *   generic payload header (‖ SKF Fragment Number ‖ Total Fragments, RFC 7383 §2.5), i.e.
 *   everything from the first octet of the header up to the IV; ICV = the 16-byte tag. No
 *   padding is needed (pad length 0 is sent); any pad length that fits is accepted.
 * CBC (RFC 7296 §3.14, RFC 3602): IV = one block of unpredictable bytes; plaintext padded to
 *   the block size with Pad Length last (pad bytes sent as zero, any value accepted); ICV =
 *   truncated HMAC over IKE header ‖ … ‖ IV ‖ ciphertext, checked before decrypting.
 *
 * Failures to authenticate or to unpad return null / DecodeError 'icv' with no notify: such
 * bytes are unauthenticated and must be dropped silently (RFC 7296 §2.21).
 */
import type { AeadCipher, AeadName, CbcCipher, CryptoProvider, IntegName, Mac } from '../crypto/types.js';
import { Writer } from '../wire/writer.js';
import { fail, type DecodeResult } from './decode-result.js';
import { IKE_HEADER_LENGTH, writeHeaderFields, type HeaderFields } from './header.js';
import { decodePayloadChain, encodePayloadChain, type IkeMessage } from './message.js';
import { SKF_FIXED_LENGTH } from './payloads/skf.js';
import { PayloadType, type Payload } from './payloads/types.js';

/** Keys for one direction (SK_ei/SK_ai or SK_er/SK_ar, RFC 7296 §2.14). */
export type SkKeys =
  | { readonly kind: 'aead'; readonly aead: AeadName; readonly key: Uint8Array; readonly salt: Uint8Array }
  | { readonly kind: 'cbc'; readonly key: Uint8Array; readonly integ: IntegName; readonly integKey: Uint8Array };

const AEAD_IV_LENGTH = 8;
const AEAD_SALT_LENGTH = 4;
/**
 * salt ‖ IV for the call in progress, shared by every SkCipher: providers keep no reference past a call
 * (types.ts), the engine is synchronous, and one array per cipher would cost heap per IKE SA.
 */
const NONCE_SCRATCH = new Uint8Array(AEAD_SALT_LENGTH + AEAD_IV_LENGTH);
const NONCE_VIEW = new DataView(NONCE_SCRATCH.buffer);

/** One direction's SK encryption, keyed once. Never throws on wire input; throws on bad keys/IVs. */
export class SkCipher {
  readonly ivLength: number;
  readonly icvLength: number;
  /** Plaintext (incl. Pad Length byte) is padded to a multiple of this. */
  readonly blockSize: number;
  private readonly aead: AeadCipher | undefined;
  /** The AEAD salt as one int32 (big-endian), not a 4-byte array of its own (~200 bytes of heap per cipher). */
  private readonly salt: number = 0;
  private readonly cbc: CbcCipher | undefined;
  private readonly mac: Mac | undefined;

  constructor(provider: CryptoProvider, keys: SkKeys) {
    if (keys.kind === 'aead') {
      if (keys.salt.length !== AEAD_SALT_LENGTH) throw new RangeError(`SkKeys.salt must be ${AEAD_SALT_LENGTH} bytes, got ${keys.salt.length}`);
      this.aead = provider.aead(keys.aead, keys.key);
      const t = keys.salt; // big-endian int32, as NONCE_VIEW.setInt32 writes it back (no DataView per cipher)
      this.salt = (t[0]! << 24) | (t[1]! << 16) | (t[2]! << 8) | t[3]!;
      this.ivLength = AEAD_IV_LENGTH;
      this.icvLength = this.aead.tagLength;
      this.blockSize = 1;
    } else {
      this.cbc = provider.cbc(keys.key);
      this.mac = provider.mac(keys.integ, keys.integKey);
      this.ivLength = this.cbc.blockSize;
      this.icvLength = this.mac.icvLength;
      this.blockSize = this.cbc.blockSize;
    }
  }

  private paddedLength(innerLength: number): number {
    const n = innerLength + 1; // + Pad Length
    return Math.ceil(n / this.blockSize) * this.blockSize;
  }

  /** SK body length minus inner length: IV + padding + Pad Length + ICV. */
  overhead(innerLength: number): number {
    return this.ivLength + this.paddedLength(innerLength) - innerLength + this.icvLength;
  }

  /** The largest inner length whose SK body fits in `bodyBudget` bytes (≤ 0 when none does). */
  maxInnerLength(bodyBudget: number): number {
    const room = bodyBudget - this.ivLength - this.icvLength;
    return Math.floor(room / this.blockSize) * this.blockSize - 1;
  }

  /**
   * Encrypts `plaintext` (the inner payload chain) into IV ‖ ciphertext ‖ ICV. `aadPrefix` is the
   * IKE header ‖ SK generic header (‖ SKF's 4 bytes) exactly as they go on the wire, with the
   * final lengths already in place.
   */
  seal(aadPrefix: Uint8Array, plaintext: Uint8Array, iv: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.ivLength + this.paddedLength(plaintext.length) + this.icvLength);
    this.sealInto(aadPrefix, plaintext, iv, out);
    return out;
  }

  /** `seal` into `out` (exactly the SK body's length, `overhead(plaintext.length) + plaintext.length`). */
  sealInto(aadPrefix: Uint8Array, plaintext: Uint8Array, iv: Uint8Array, out: Uint8Array): void {
    if (iv.length !== this.ivLength) throw new RangeError(`SkCipher.seal: iv must be ${this.ivLength} bytes, got ${iv.length}`);
    const padded = this.paddedLength(plaintext.length);
    if (out.length !== this.ivLength + padded + this.icvLength) throw new RangeError(`SkCipher.sealInto: out must be ${this.ivLength + padded + this.icvLength} bytes, got ${out.length}`);
    out.set(iv, 0);
    const enc = out.subarray(this.ivLength, this.ivLength + padded);
    enc.set(plaintext, 0); // pad bytes stay zero
    enc[padded - 1] = padded - 1 - plaintext.length;
    const icv = out.subarray(this.ivLength + padded);
    if (this.aead) {
      this.aead.seal(this.nonce(iv), aadPrefix, enc, enc, icv);
    } else {
      this.cbc!.encrypt(iv, enc, enc);
      this.mac!.compute([aadPrefix, out.subarray(0, this.ivLength + padded)], icv);
    }
  }

  /** Verifies and decrypts an SK body; the inner payload bytes, or null. Never throws. */
  open(aadPrefix: Uint8Array, body: Uint8Array): Uint8Array | null {
    const encLength = body.length - this.ivLength - this.icvLength;
    if (encLength < 1 || encLength % this.blockSize !== 0) return null;
    const iv = body.subarray(0, this.ivLength);
    const enc = body.subarray(this.ivLength, this.ivLength + encLength);
    const icv = body.subarray(this.ivLength + encLength);
    const plain = new Uint8Array(encLength);
    if (this.aead) {
      if (!this.aead.open(this.nonce(iv), aadPrefix, enc, icv, plain)) return null;
    } else {
      if (!this.mac!.verify([aadPrefix, body.subarray(0, this.ivLength + encLength)], icv)) return null;
      if (!this.cbc!.decrypt(iv, enc, plain)) return null;
    }
    const padLength = plain[encLength - 1]!;
    if (padLength + 1 > encLength) return null;
    return plain.subarray(0, encLength - 1 - padLength);
  }

  private nonce(iv: Uint8Array): Uint8Array {
    const n = NONCE_SCRATCH;
    NONCE_VIEW.setInt32(0, this.salt);
    n.set(iv, AEAD_SALT_LENGTH);
    return n;
  }
}

/** Builds one datagram: header ‖ SK or SKF generic header (‖ frag fields) ‖ sealed body. */
function sealDatagram(
  header: HeaderFields,
  outerType: 46 | 53,
  innerType: number,
  frag: { n: number; total: number } | undefined,
  plaintext: Uint8Array,
  cipher: SkCipher,
  iv: (n: number) => Uint8Array,
): Uint8Array {
  const fixed = frag ? SKF_FIXED_LENGTH : 0;
  const bodyLength = plaintext.length + cipher.overhead(plaintext.length);
  const payloadLength = 4 + fixed + bodyLength;
  if (payloadLength > 0xffff) throw new RangeError(`encodeProtected: inner payloads of ${plaintext.length} bytes exceed one SK payload; set fragmentSize`);
  const w = new Writer(IKE_HEADER_LENGTH + 4 + fixed);
  writeHeaderFields(w, header, outerType, IKE_HEADER_LENGTH + payloadLength);
  w.u8(innerType).u8(0).u16(payloadLength);
  if (frag) w.u16(frag.n).u16(frag.total);
  const aadPrefix = w.finish();
  // The body is sealed in place behind the header: one datagram buffer, no separate body to copy.
  const out = new Uint8Array(aadPrefix.length + bodyLength);
  out.set(aadPrefix, 0);
  cipher.sealInto(aadPrefix, plaintext, iv(cipher.ivLength), out.subarray(aadPrefix.length));
  return out;
}

/**
 * Encodes and protects a message: `HDR, SK {inner}` as one datagram, or — when `fragmentSize`
 * (the largest IKE datagram, header included) is set and the message would exceed it — as
 * RFC 7383 `HDR, SKF {…}` fragments, each sealed separately; fragment 1 carries the inner
 * first-payload type, the others 0. `iv(n)` must return n fresh bytes per call (random for
 * CBC; for AEAD uniqueness per key is enough, e.g. a counter).
 */
export function encodeProtected(
  header: HeaderFields,
  inner: readonly Payload[],
  cipher: SkCipher,
  iv: (n: number) => Uint8Array,
  opts?: { fragmentSize?: number },
): Uint8Array[] {
  const { firstType, bytes } = encodePayloadChain(inner);
  const whole = IKE_HEADER_LENGTH + 4 + cipher.overhead(bytes.length) + bytes.length;
  const fragmentSize = opts?.fragmentSize;
  if (fragmentSize === undefined || whole <= fragmentSize) {
    return [sealDatagram(header, PayloadType.SK, firstType, undefined, bytes, cipher, iv)];
  }
  const chunk = cipher.maxInnerLength(fragmentSize - IKE_HEADER_LENGTH - 4 - SKF_FIXED_LENGTH);
  if (chunk < 1) throw new RangeError(`encodeProtected: fragmentSize ${fragmentSize} leaves no room for fragment data`);
  const total = Math.max(1, Math.ceil(bytes.length / chunk));
  if (total > 0xffff) throw new RangeError(`encodeProtected: ${total} fragments exceed 65535; raise fragmentSize`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < total; i++) {
    const part = bytes.subarray(i * chunk, Math.min(bytes.length, (i + 1) * chunk));
    out.push(sealDatagram(header, PayloadType.SKF, i === 0 ? firstType : 0, { n: i + 1, total }, part, cipher, iv));
  }
  return out;
}

/**
 * Decrypts the SK payload of `msg` (decoded from `raw`) and decodes the inner chain.
 * 'icv' (no notify) when integrity fails — drop silently; syntax errors inside carry
 * INVALID_SYNTAX (the message is authenticated, so it may be answered). SKF messages go through
 * `FragmentReassembler` instead ('missing-sk' here).
 */
export function openProtected(raw: Uint8Array, msg: IkeMessage, cipher: SkCipher): DecodeResult<Payload[]> {
  const last = msg.payloads[msg.payloads.length - 1];
  if (!last || last.type !== PayloadType.SK || !('innerType' in last)) return fail('missing-sk', 'message has no SK payload');
  if (msg.header.length !== raw.length || last.body.length > raw.length - IKE_HEADER_LENGTH - 4) {
    return fail('bad-length', 'decoded message does not match the raw datagram');
  }
  const bodyStart = raw.length - last.body.length;
  const plain = cipher.open(raw.subarray(0, bodyStart), raw.subarray(bodyStart));
  if (plain === null) return fail('icv', 'SK integrity check failed');
  return decodePayloadChain(last.innerType, plain);
}
