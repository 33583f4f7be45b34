/**
 * Security Association Database for inbound ESP (RFC 4301 §4.4.2): SAs by SPI. For unicast SAs
 * the SPI alone identifies the SA (RFC 4301 §4.1: "the SPI … is sufficient"), so the lookup is a
 * Map<number, EspSa>. Drops before an SA is known (short packet, unknown SPI) are counted here.
 */
import { newDropCounters } from './drop.js';
import type { EspSa } from './sa.js';

export class Sad {
  private readonly bySpi = new Map<number, EspSa>();
  /** Drops counted before an SA was found (`Drop.short`, `Drop.unknownSpi`), indexed by `Drop` code. */
  readonly drops: Uint32Array = newDropCounters();

  /** Installs an inbound SA. Throws (programmer error) for an outbound SA or a SPI already in use. */
  add(sa: EspSa): void {
    if (sa.outbound) throw new RangeError('sa: the SAD holds inbound SAs only');
    if (this.bySpi.has(sa.spi)) throw new RangeError(`sa.spi: 0x${sa.spi.toString(16)} already installed`);
    this.bySpi.set(sa.spi, sa);
  }

  /** Removes the SA with `spi` and wipes it (`EspSa.wipe`: the SA is deleted); returns whether one was installed. */
  remove(spi: number): boolean {
    const sa = this.bySpi.get(spi >>> 0);
    if (sa === undefined) return false;
    this.bySpi.delete(sa.spi);
    sa.wipe();
    return true;
  }

  /** Replaces the SA with the same SPI (or adds it); a different SA object it replaces is wiped. */
  replace(sa: EspSa): void {
    const old = this.bySpi.get(sa.spi);
    this.bySpi.delete(sa.spi);
    this.add(sa);
    if (old !== undefined && old !== sa) old.wipe();
  }

  get(spi: number): EspSa | undefined {
    return this.bySpi.get(spi);
  }

  get size(): number {
    return this.bySpi.size;
  }

  values(): IterableIterator<EspSa> {
    return this.bySpi.values();
  }
}
