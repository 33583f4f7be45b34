import { parse } from '../args.js';
import { UsageError, EXIT_CODES_HELP } from '../errors.js';
import { espInnerMtu, espMaxOverhead, fixedOverheadInnerMtu, OVN_IPSEC_OVERHEAD, type EspOverheadParams } from '../../esp/mtu.js';
import type { EspAlgorithm } from '../../esp/sa.js';

const HELP = `Usage: tsipsec mtu --cipher CIPHER --mode (tunnel|transport) [--encap] [--ipv6] --outer N [--json]
Prints the worst-case ESP overhead and the largest inner MTU for an outer (link) MTU N.
CIPHER: aes128gcm16 aes192gcm16 aes256gcm16 chacha20poly1305 aes128-sha256 aes256-sha256 aes256-sha384 aes256-sha512 (strongSwan names)
${EXIT_CODES_HELP}`;

const CIPHERS: Record<string, EspAlgorithm> = {
  aes128gcm16: { encr: 'aes-gcm-16', keyBits: 128 },
  aes192gcm16: { encr: 'aes-gcm-16', keyBits: 192 },
  aes256gcm16: { encr: 'aes-gcm-16', keyBits: 256 },
  chacha20poly1305: { encr: 'chacha20-poly1305' },
  'aes128-sha256': { encr: 'aes-cbc', keyBits: 128, integ: 'hmac-sha256-128' },
  'aes256-sha256': { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha256-128' },
  'aes256-sha384': { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha384-192' },
  'aes256-sha512': { encr: 'aes-cbc', keyBits: 256, integ: 'hmac-sha512-256' },
};

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('mtu', argv, {
    cipher: { type: 'string' }, mode: { type: 'string' }, encap: { type: 'boolean' }, ipv6: { type: 'boolean' }, outer: { type: 'string' }, json: { type: 'boolean' },
  }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new UsageError(`mtu: unexpected argument "${positionals[0]}"\n${HELP}`);
  const algorithm = CIPHERS[(values.cipher ?? '').toLowerCase()];
  if (!algorithm) throw new UsageError(`mtu: --cipher must be one of ${Object.keys(CIPHERS).join(', ')} (got "${values.cipher ?? ''}")`);
  if (values.mode !== 'tunnel' && values.mode !== 'transport') throw new UsageError(`mtu: --mode must be tunnel or transport (got "${values.mode ?? ''}")`);
  const outer = Number(values.outer);
  if (!Number.isInteger(outer) || outer < 576 || outer > 65535) throw new UsageError(`mtu: --outer must be an integer MTU from 576 to 65535 (got "${values.outer ?? ''}")`);
  const p: EspOverheadParams = { algorithm, mode: values.mode, udpEncap: values.encap === true, outerIp: values.ipv6 ? 6 : 4 };
  const overhead = espMaxOverhead(p);
  const innerMtu = espInnerMtu(p, outer);
  const docker = fixedOverheadInnerMtu(outer);
  if (values.json) {
    process.stdout.write(JSON.stringify({ cipher: values.cipher, mode: p.mode, encap: p.udpEncap, outerIp: p.outerIp, outerMtu: outer, overhead, innerMtu, fixed46InnerMtu: docker }) + '\n');
  } else {
    process.stdout.write(`cipher ${values.cipher}, ${p.mode} mode, ${p.udpEncap ? 'ESP-in-UDP (RFC 3948)' : 'raw ESP'}, outer IPv${p.outerIp}, outer MTU ${outer}\n`);
    process.stdout.write(`overhead (worst case): ${overhead} bytes\ninner MTU: ${innerMtu}\n`);
    process.stdout.write(`Docker/OVN fixed-${OVN_IPSEC_OVERHEAD} formula: ${docker}\n`);
  }
  return 0;
}
