/**
 * Stateless COOKIE challenge (RFC 7296 §2.6).
 *
 *   Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)
 *
 * The responder asks for a cookie (HDR(A,0), N(COOKIE)) when too many half-open SAs exist and
 * keeps no state for the request. The version byte lets a rotated secret still verify cookies
 * issued with the previous one ("keep the old secret for a short time"). Secrets come from the
 * injected RandomSource; rotation is driven by `now`.
 */
import type { CryptoProvider, RandomSource } from '../crypto/types.js';

const SECRET_LENGTH = 32;

export class CookieJar {
  private version = 0;
  private secret: Uint8Array;
  private previous: { version: number; secret: Uint8Array } | undefined;
  private rotateAtMs: number;

  constructor(
    private readonly provider: CryptoProvider,
    private readonly rng: RandomSource,
    private readonly lifetimeMs: number,
    now: number,
  ) {
    this.secret = rng.fill(new Uint8Array(SECRET_LENGTH));
    this.rotateAtMs = now + lifetimeMs;
  }

  private maybeRotate(now: number): void {
    if (now < this.rotateAtMs) return;
    this.previous = { version: this.version, secret: this.secret };
    this.version = (this.version + 1) & 0xff;
    this.secret = this.rng.fill(new Uint8Array(SECRET_LENGTH));
    this.rotateAtMs = now + this.lifetimeMs;
  }

  private compute(version: number, secret: Uint8Array, nonceI: Uint8Array, ipI: Uint8Array, spiI: Uint8Array): Uint8Array {
    const input = new Uint8Array(nonceI.length + ipI.length + spiI.length + secret.length);
    input.set(nonceI, 0);
    input.set(ipI, nonceI.length);
    input.set(spiI, nonceI.length + ipI.length);
    input.set(secret, nonceI.length + ipI.length + spiI.length);
    const h = this.provider.hash('sha256', input);
    const out = new Uint8Array(1 + h.length);
    out[0] = version;
    out.set(h, 1);
    return out;
  }

  /** The cookie for an initiator (Ni, source IP bytes, SPIi). */
  make(now: number, nonceI: Uint8Array, ipI: Uint8Array, spiI: Uint8Array): Uint8Array {
    this.maybeRotate(now);
    return this.compute(this.version, this.secret, nonceI, ipI, spiI);
  }

  /** Checks a returned cookie against the current or the previous secret. Never throws. */
  verify(now: number, cookie: Uint8Array, nonceI: Uint8Array, ipI: Uint8Array, spiI: Uint8Array): boolean {
    this.maybeRotate(now);
    if (cookie.length !== 33) return false;
    const v = cookie[0];
    let expected: Uint8Array | undefined;
    if (v === this.version) expected = this.compute(v, this.secret, nonceI, ipI, spiI);
    else if (this.previous && v === this.previous.version) expected = this.compute(v, this.previous.secret, nonceI, ipI, spiI);
    if (!expected) return false;
    let diff = 0;
    for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ cookie[i];
    return diff === 0;
  }

  nextTimeout(): number {
    return this.rotateAtMs;
  }
}
