import { readFileSync } from 'node:fs';
import { parse } from '../args.js';
import { CliError, UsageError, EXIT_CODES_HELP } from '../errors.js';
import { decodeCaptureFile } from '../../capture/decode.js';
import { readKeylog } from '../../capture/keylog.js';
import { nodeCrypto } from '../../crypto/node.js';

const HELP = `Usage: tsipsec decode CAPTURE [--keys DIR] [--json]
Decodes a pcap/pcapng capture (Ethernet, raw IP, Linux cooked) of IKE (UDP 500/4500) and ESP (UDP 4500 or
IP protocol 50), decrypting SK/SKF payloads and ESP packets with the keys in DIR (the esp_sa and
ikev2_decryption_table files written by 'tsipsec up --keylog DIR', or Wireshark's own).
--json prints one JSON object per packet.
${EXIT_CODES_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('decode', argv, { keys: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length !== 1) throw new UsageError(`decode: expected exactly one CAPTURE file\n${HELP}`);
  let bytes: Uint8Array;
  try { bytes = readFileSync(positionals[0]!); } catch (e) { throw new CliError(`decode: cannot read ${positionals[0]}: ${(e as Error).message}`); }
  const keys = values.keys !== undefined ? readKeylog(values.keys) : undefined;
  if (keys) for (const err of keys.errors) process.stderr.write(`decode: keys: ${err}\n`);
  const r = decodeCaptureFile(bytes, keys, { provider: nodeCrypto });
  if (r.format === undefined) throw new CliError(`decode: ${positionals[0]} is not a pcap or pcapng file${r.error ? ` (${r.error})` : ''}`);
  for (const p of r.packets) {
    if (values.json) { process.stdout.write(JSON.stringify(p, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)) + '\n'); continue; }
    const rec = p as unknown as Record<string, unknown>;
    const head = `#${String(rec.index)} ${String(rec.src ?? '?')}:${String(rec.srcPort ?? '')} > ${String(rec.dst ?? '?')}:${String(rec.dstPort ?? '')} ${String(rec.kind)}`;
    let detail = '';
    if (rec.kind === 'ike') detail = ` ${String(rec.exchange)} #${String(rec.messageId)} ${rec.response ? 'response' : 'request'} [${(rec.payloads as string[] | undefined)?.join(' ') ?? ''}]`;
    else if (rec.kind === 'esp') detail = ` spi ${String(rec.spi)} seq ${String(rec.seq)}${rec.ok === true ? ' ok' : rec.ok === false ? ' NOT VERIFIED' : ''}`;
    if (rec.error) detail += ` (${String(rec.error)})`;
    process.stdout.write(head + detail + '\n');
  }
  if (r.error) process.stderr.write(`decode: stopped early: ${r.error}\n`);
  return r.error ? 1 : 0;
}
