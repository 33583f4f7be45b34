import { parse } from '../args.js';
import { UsageError, EXIT_CODES_HELP } from '../errors.js';
import { ask } from './control-client.js';

const HELP = `Usage: tsipsec initiate CHILD [--socket PATH] [--timeout SEC]
Brings up the named child SA (and its IKE SA) in the running daemon and waits until it is up.
${EXIT_CODES_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('initiate', argv, { socket: { type: 'string' }, timeout: { type: 'string' } }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length !== 1) throw new UsageError(`initiate: expected exactly one CHILD name\n${HELP}`);
  const timeoutSec = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) throw new UsageError(`initiate: --timeout must be a positive number of seconds, got "${values.timeout}"`);
  const result = await ask(values.socket, { cmd: 'initiate', child: positionals[0]! }, timeoutSec * 1000);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}
