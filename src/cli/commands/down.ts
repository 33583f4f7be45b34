import { parse } from '../args.js';
import { UsageError, EXIT_CODES_HELP } from '../errors.js';
import { ask } from './control-client.js';

const HELP = `Usage: tsipsec down [--socket PATH]
Deletes every SA, removes routes and the TUN device, and stops the running daemon.
${EXIT_CODES_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('down', argv, { socket: { type: 'string' } }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new UsageError(`down: unexpected argument "${positionals[0]}"\n${HELP}`);
  await ask(values.socket, { cmd: 'down' });
  process.stdout.write('tsipsec: stopping\n');
  return 0;
}
