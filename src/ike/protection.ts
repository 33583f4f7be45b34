/**
 * SK protection of one IKE SA's messages (RFC 7296 §3.14; AEAD per RFC 5282 §5 / RFC 7634 §3).
 *
 *   HDR | SK generic header | IV | E(inner payloads ‖ padding ‖ Pad Length) | ICV
 *   CBC:  ICV = MAC(SK_a, HDR … ciphertext)      AEAD: AAD = HDR … SK generic header,
 *                                                      nonce = salt (from SK_e) ‖ IV
 *
 * STOPGAP: the shared codec's `sk.ts` / `fragments.ts` (SkCipher, encodeProtected, openProtected,
 * FragmentReassembler) had not landed when the engine needed to run, so this adapter does the SK
 * framing itself with the provider primitives. It sends no SKF fragments and drops received SKF
 * (counted). Replace the body of `makeSkProtection` with the codec's functions when they exist;
 * the engine only depends on the `MessageProtection` interface.
 */
import { encrIvLength, encrPadAlign } from '../crypto/algorithms.js';
import type { AeadCipher, CbcCipher, CryptoProvider, Mac, RandomSource } from '../crypto/types.js';
import { fail, ok, type DecodeResult } from './decode-result.js';
import type { HeaderFields } from './header.js';
import { skKeysFor, type IkeKeys, type SkKeys } from './keys.js';
import { decodePayloadChain, encodeMessage, encodePayloadChain, type IkeMessage } from './message.js';
import { PayloadType, type Payload } from './payloads/types.js';
import type { NegotiatedAlgorithms } from './proposals.js';

export interface MessageProtection {
  /** HDR, SK {inner} (SKF fragments when `fragmentSize` is set and the codec supports it). */
  seal(header: HeaderFields, inner: readonly Payload[], fragmentSize: number | undefined): Uint8Array[];
  /**
   * Verifies and decrypts. 'incomplete': an SKF fragment was stored and more are needed.
   * An error with code 'icv' means the integrity check failed (drop silently).
   */
  open(raw: Uint8Array, msg: IkeMessage): DecodeResult<Payload[]> | 'incomplete';
}

interface Direction {
  readonly aead?: { readonly cipher: AeadCipher; readonly salt: Uint8Array };
  readonly cbc?: { readonly cipher: CbcCipher; readonly mac: Mac };
}

function direction(provider: CryptoProvider, k: SkKeys): Direction {
  if (k.kind === 'aead') return { aead: { cipher: provider.aead(k.aead, k.key), salt: k.salt } };
  return { cbc: { cipher: provider.cbc(k.key), mac: provider.mac(k.integ, k.integKey) } };
}

export function makeSkProtection(provider: CryptoProvider, rng: RandomSource, algs: NegotiatedAlgorithms, keys: IkeKeys, initiator: boolean): MessageProtection {
  const out = direction(provider, skKeysFor(algs, keys, initiator ? 'i' : 'r'));
  const inn = direction(provider, skKeysFor(algs, keys, initiator ? 'r' : 'i'));
  const ivLen = encrIvLength(algs.encr.id);
  const align = Math.max(1, encrPadAlign(algs.encr.id));
  const icvLen = (d: Direction): number => (d.aead ? d.aead.cipher.tagLength : d.cbc!.mac.icvLength);

  return {
    seal(header, inner) {
      const { firstType, bytes: chain } = encodePayloadChain(inner);
      const padLen = (align - ((chain.length + 1) % align)) % align;
      const plain = new Uint8Array(chain.length + padLen + 1);
      plain.set(chain, 0);
      plain[plain.length - 1] = padLen;
      const iv = rng.fill(new Uint8Array(ivLen));
      const icv = icvLen(out);
      const body = new Uint8Array(ivLen + plain.length + icv);
      const msg = encodeMessage(header, [{ type: PayloadType.SK, critical: false, innerType: firstType, body }]);
      const ivOff = msg.length - body.length;
      const ctOff = ivOff + ivLen;
      const icvOff = ctOff + plain.length;
      msg.set(iv, ivOff);
      if (out.aead) {
        const nonce = new Uint8Array(out.aead.salt.length + ivLen);
        nonce.set(out.aead.salt, 0);
        nonce.set(iv, out.aead.salt.length);
        out.aead.cipher.seal(nonce, msg.slice(0, ivOff), plain, msg.subarray(ctOff, icvOff), msg.subarray(icvOff));
      } else {
        const c = out.cbc!;
        c.cipher.encrypt(iv, plain, msg.subarray(ctOff, icvOff));
        c.mac.compute([msg.subarray(0, icvOff)], msg.subarray(icvOff));
      }
      return [msg];
    },
    open(raw, msg) {
      const last = msg.payloads[msg.payloads.length - 1];
      if (!last || last.type !== PayloadType.SK || !('innerType' in last) || 'fragmentNumber' in last) {
        return fail('bad-fragment', 'SKF reassembly is not available in the stopgap SK adapter');
      }
      const body = last.body;
      const icv = icvLen(inn);
      const minCt = inn.aead ? 1 : 16;
      if (body.length < ivLen + icv + minCt) return fail('icv', 'SK payload too short');
      const ivOff = raw.length - body.length;
      const ctOff = ivOff + ivLen;
      const icvOff = raw.length - icv;
      const iv = raw.subarray(ivOff, ctOff);
      const ct = raw.subarray(ctOff, icvOff);
      const plain = new Uint8Array(ct.length);
      if (inn.aead) {
        const nonce = new Uint8Array(inn.aead.salt.length + ivLen);
        nonce.set(inn.aead.salt, 0);
        nonce.set(iv, inn.aead.salt.length);
        if (!inn.aead.cipher.open(nonce, raw.subarray(0, ivOff), ct, raw.subarray(icvOff), plain)) return fail('icv', 'SK ICV mismatch');
      } else {
        const c = inn.cbc!;
        if (!c.mac.verify([raw.subarray(0, icvOff)], raw.subarray(icvOff))) return fail('icv', 'SK ICV mismatch');
        if (!c.cipher.decrypt(iv, ct, plain)) return fail('icv', 'SK ciphertext not a block multiple');
      }
      const padLen = plain[plain.length - 1];
      if (padLen + 1 > plain.length) return fail('icv', 'SK padding longer than the plaintext');
      const inner = decodePayloadChain(last.innerType, plain.subarray(0, plain.length - 1 - padLen));
      return inner.ok ? ok(inner.value) : inner;
    },
  };
}
