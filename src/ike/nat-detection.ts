/**
 * NAT detection hashes (RFC 7296 §2.23).
 *
 *   NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP notification data =
 *     SHA-1 ( SPIi | SPIr | IP | Port )
 *
 * IP is the 4- or 16-byte address, Port the 2-byte UDP port in network order. In IKE_SA_INIT's
 * request SPIr is zero (eight zero octets).
 */
import type { CryptoProvider } from '../crypto/types.js';

export function natdHash(provider: CryptoProvider, spiI: Uint8Array, spiR: Uint8Array, address: Uint8Array, port: number): Uint8Array {
  if (spiI.length !== 8 || spiR.length !== 8) throw new Error(`natdHash: SPIs must be 8 bytes (spiI ${spiI.length}, spiR ${spiR.length})`);
  if (address.length !== 4 && address.length !== 16) throw new Error(`natdHash: address must be 4 or 16 bytes, got ${address.length}`);
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new Error(`natdHash: port ${port} out of range`);
  const data = new Uint8Array(16 + address.length + 2);
  data.set(spiI, 0);
  data.set(spiR, 8);
  data.set(address, 16);
  data[16 + address.length] = port >>> 8;
  data[17 + address.length] = port & 0xff;
  return provider.hash('sha1', data);
}

/** True if `hash` equals the NAT-D hash of the given endpoint (i.e. that side is NOT behind a NAT). */
export function natdMatches(
  provider: CryptoProvider,
  hash: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
  address: Uint8Array,
  port: number,
): boolean {
  const expect = natdHash(provider, spiI, spiR, address, port);
  if (hash.length !== expect.length) return false;
  for (let i = 0; i < expect.length; i++) if (hash[i] !== expect[i]) return false;
  return true;
}
