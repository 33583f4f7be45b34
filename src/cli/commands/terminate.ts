import { parse } from '../args.js';
import { UsageError, EXIT_CODES_HELP } from '../errors.js';
import { ask } from './control-client.js';

const HELP = `Usage: tsipsec terminate (--ike NAME | --child NAME) [--socket PATH]
Deletes the named IKE SA (with its children) or child SA with an INFORMATIONAL exchange.
${EXIT_CODES_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('terminate', argv, { socket: { type: 'string' }, ike: { type: 'string' }, child: { type: 'string' } }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0 || (values.ike === undefined) === (values.child === undefined)) throw new UsageError(`terminate: give exactly one of --ike NAME or --child NAME\n${HELP}`);
  const req = values.ike !== undefined ? { cmd: 'terminate' as const, ike: values.ike } : { cmd: 'terminate' as const, child: values.child! };
  const result = await ask(values.socket, req);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}
