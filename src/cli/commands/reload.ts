import { parse } from '../args.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import type { ReloadResult } from '../../runtime/reload.js';
import { ask } from './control-client.js';

const HELP = `Usage: tsipsec reload [--socket PATH] [--json]
Makes the running daemon re-read its configuration file (the same as sending it SIGHUP), like
'swanctl --load-all': new connections are loaded (and started if start_action = start), removed ones have
their SAs deleted and routes removed, changed ones are replaced (removed + added), unchanged ones keep their
SAs. Children added to or removed from an unchanged connection are created or deleted on its IKE SA.
On a bad configuration nothing changes and the error (file:line: key) is printed.
Exit codes: 0 reloaded, 1 failure, 2 configuration error (the running configuration is kept), 3 not running.`;

export function formatReload(r: ReloadResult): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : '-');
  const out = [
    `added: ${list(r.added)}`, `removed: ${list(r.removed)}`, `changed: ${list(r.changed)}`, `unchanged: ${list(r.unchanged)}`,
  ];
  if (r.childrenAdded.length || r.childrenRemoved.length || r.childrenChanged.length) {
    out.push(`children added: ${list(r.childrenAdded)}; removed: ${list(r.childrenRemoved)}; changed: ${list(r.childrenChanged)}`);
  }
  out.push(`deleting ${r.ikeSasDeleted} IKE SA(s) and ${r.childSasDeleted} child SA(s); initiating ${list(r.initiated)}`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('reload', argv, { socket: { type: 'string' }, json: { type: 'boolean' } }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new UsageError(`reload: unexpected argument "${positionals[0]}"\n${HELP}`);
  let r: ReloadResult;
  try {
    r = (await ask(values.socket, { cmd: 'reload' })) as ReloadResult;
  } catch (e) {
    if (e instanceof CliError && /^configuration error/.test(e.message)) throw new CliError(e.message, ExitCode.USAGE);
    throw e;
  }
  process.stdout.write((values.json ? JSON.stringify(r) : formatReload(r)) + '\n');
  return 0;
}
