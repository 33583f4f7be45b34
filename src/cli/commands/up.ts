import { parse } from '../args.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { ConfigError } from '../../config/errors.js';
import { createLogs, parseLogLevels } from '../../runtime/log.js';
import type { LevelWithSilent } from 'pino';

const HELP = `Usage: tsipsec up [--config FILE] [--socket PATH] [--keylog DIR] [--metrics HOST:PORT] [--tun NAME]
                  [--provider node|noble] [--log-level LEVEL] [--log-levels ike=debug,esp=warn,...]
Runs the connections of a strongSwan swanctl.conf in the foreground until SIGINT/SIGTERM (or 'tsipsec down'):
initiates children with start_action = start and answers as a responder otherwise. SIGHUP (or 'tsipsec reload')
re-reads the config like 'swanctl --load-all'; a bad config is logged (file:line: key) and the running one kept.
  --config FILE     swanctl.conf (default /etc/swanctl/swanctl.conf); certs/keys from x509/, x509ca/, private/ beside it
  --socket PATH     control socket for status/initiate/terminate/down (default /run/tsipsec/tsipsec.sock)
  --keylog DIR      write Wireshark esp_sa and ikev2_decryption_table files (secret keys on disk!)
  --metrics H:P     serve Prometheus metrics at http://H:P/metrics
  --tun NAME        TUN device name or pattern (default tsipsec%d)
Logs are JSON lines on stderr (pino).
Exit codes: 0 stopped cleanly, 1 failure (e.g. cannot bind or open the TUN device), 2 usage or config error.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('up', argv, {
    config: { type: 'string' }, socket: { type: 'string' }, keylog: { type: 'string' }, metrics: { type: 'string' },
    tun: { type: 'string' }, provider: { type: 'string' }, 'log-level': { type: 'string' }, 'log-levels': { type: 'string' },
  }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new UsageError(`up: unexpected argument "${positionals[0]}"\n${HELP}`);
  let metrics: { host: string; port: number } | undefined;
  if (values.metrics !== undefined) {
    const m = /^(.*):(\d{1,5})$/.exec(values.metrics);
    if (!m || Number(m[2]) > 65535) throw new UsageError(`up: --metrics must be HOST:PORT, got "${values.metrics}"`);
    metrics = { host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
  }
  if (values.provider !== undefined && values.provider !== 'node' && values.provider !== 'noble') throw new UsageError(`up: --provider must be node or noble, got "${values.provider}"`);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const level = values['log-level'] ?? 'info';
  if (!levels.includes(level)) throw new UsageError(`up: --log-level must be one of ${levels.join(', ')}, got "${level}"`);
  let perSub;
  try { perSub = values['log-levels'] ? parseLogLevels(values['log-levels']) : undefined; } catch (e) { throw new UsageError(`up: ${(e as Error).message}`); }
  const logs = createLogs({ level: level as LevelWithSilent, levels: perSub });
  const { startDaemon } = await import('../../runtime/daemon.js');
  let daemon;
  try {
    daemon = await startDaemon({
      configPath: values.config ?? '/etc/swanctl/swanctl.conf', socketPath: values.socket, keylogDir: values.keylog,
      metrics, tunName: values.tun, provider: values.provider as 'node' | 'noble' | undefined, logs,
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, ExitCode.USAGE);
    throw new CliError((e as Error).message, /\.conf|connections|secrets/.test((e as Error).message) ? ExitCode.USAGE : ExitCode.FAILURE);
  }
  process.stderr.write(`tsipsec up: ${daemon.tunName}, control socket ${daemon.socketPath}\n`);
  const onSignal = (sig: string) => { logs.sub('main').info({ signal: sig }, 'stopping'); void daemon.stop(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // SIGHUP: re-read the config like 'swanctl --load-all'; a bad file is logged and the running config kept.
  const onHup = () => { logs.sub('main').info({ signal: 'SIGHUP' }, 'reloading configuration'); daemon.reload().catch(() => undefined); };
  process.on('SIGHUP', onHup);
  await daemon.stopped;
  process.removeListener('SIGHUP', onHup);
  return 0;
}
