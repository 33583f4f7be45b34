import { parse } from '../args.js';
import { CliError, ExitCode, UsageError, EXIT_CODES_HELP } from '../errors.js';
import { ConfigError } from '../../config/errors.js';
import type { LevelWithSilent } from 'pino';

const HELP = `Usage: tsipsec mesh up --mesh FILE --node NAME [--socket PATH] [--keylog DIR] [--metrics HOST:PORT] [--tun NAME]
                        [--provider node|noble] [--log-level LEVEL]
       tsipsec mesh render --mesh FILE --node NAME
Cluster mesh encryption: every node of a mesh description encrypts its traffic to every other node
(transport mode host to host, tunnel mode between listed subnets; trap policies on both sides, so nothing
is sent in clear before the SA is up and there is one IKE SA per pair). See docs/mesh.md for the file.
  up        runs this node's connections in the foreground, like 'tsipsec up' (status, reload, down and
            SIGHUP work the same; reload re-reads the mesh file and the node's certificate: a re-issued
            certificate is used for new SAs, established SAs stay)
  render    prints this node's configuration as a swanctl.conf (with the plan and MTU headroom as
            comments), so a strongSwan node can join the mesh
  --mesh FILE   the mesh description (the same file on every node)
  --node NAME   this node's name in it
  --socket, --keylog, --metrics, --tun, --provider, --log-level: as for 'tsipsec up'
A bad mesh file is an error naming file, line, key and node; nothing starts.
${EXIT_CODES_HELP}`;

function configError(e: unknown): never {
  if (e instanceof ConfigError) throw new CliError(e.message, ExitCode.USAGE);
  throw e;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP + '\n');
    return sub === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (sub !== 'up' && sub !== 'render') {
    if (sub.startsWith('-')) parse('mesh', argv, {}, false); // an unknown option: the usual usage error
    throw new UsageError(`mesh: unknown subcommand "${sub}" (up or render)\nRun 'tsipsec mesh --help'.`);
  }
  const { values, positionals } = parse(`mesh ${sub}`, rest, {
    mesh: { type: 'string' }, node: { type: 'string' }, socket: { type: 'string' }, keylog: { type: 'string' }, metrics: { type: 'string' },
    tun: { type: 'string' }, provider: { type: 'string' }, 'log-level': { type: 'string' },
  }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new UsageError(`mesh ${sub}: unexpected argument "${positionals[0]}"\nRun 'tsipsec mesh --help'.`);
  if (!values.mesh) throw new UsageError(`mesh ${sub}: --mesh FILE is required\nRun 'tsipsec mesh --help'.`);
  if (!values.node) throw new UsageError(`mesh ${sub}: --node NAME is required\nRun 'tsipsec mesh --help'.`);
  const { loadMesh } = await import('../../mesh/load.js');
  const { formatMeshPlan } = await import('../../mesh/report.js');
  const meshFile = values.mesh;
  const node = values.node;
  let loaded;
  try { loaded = loadMesh(meshFile, node); } catch (e) { configError(e); }

  if (sub === 'render') {
    if (values.socket || values.keylog || values.metrics || values.tun || values.provider || values['log-level']) {
      throw new UsageError('mesh render: takes only --mesh and --node');
    }
    const head = formatMeshPlan(loaded.plan).map((l) => `# ${l}`).join('\n');
    process.stdout.write(`${head}\n${loaded.plan.swanctl}`);
    return 0;
  }

  let metrics: { host: string; port: number } | undefined;
  if (values.metrics !== undefined) {
    const m = /^(.*):(\d{1,5})$/.exec(values.metrics);
    if (!m || Number(m[2]) > 65535) throw new UsageError(`mesh up: --metrics must be HOST:PORT, got "${values.metrics}"`);
    metrics = { host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
  }
  if (values.provider !== undefined && values.provider !== 'node' && values.provider !== 'noble') throw new UsageError(`mesh up: --provider must be node or noble, got "${values.provider}"`);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  const level = values['log-level'] ?? 'info';
  if (!levels.includes(level)) throw new UsageError(`mesh up: --log-level must be one of ${levels.join(', ')}, got "${level}"`);
  const { createLogs } = await import('../../runtime/log.js');
  const { startDaemon } = await import('../../runtime/daemon.js');
  const { adoptCredentialChanges } = await import('../../mesh/rotate.js');
  const { cryptoProvider } = await import('../../crypto/index.js');
  const logs = createLogs({ level: level as LevelWithSilent });
  const log = logs.sub('cfg');
  for (const l of formatMeshPlan(loaded.plan)) process.stderr.write(`tsipsec mesh: ${l}\n`);
  log.info({ node, mesh: meshFile, peers: loaded.plan.peers.map((p) => ({ node: p.node.name, policy: p.policy })), mtu: loaded.plan.mtu, tunMtu: loaded.plan.tunMtu }, 'mesh plan');
  let first: typeof loaded | undefined = loaded;
  const provider = cryptoProvider(values.provider === 'noble' ? 'noble' : 'node');
  let daemon;
  try {
    daemon = await startDaemon({
      configPath: loaded.plan.mesh.file, socketPath: values.socket, keylogDir: values.keylog, metrics, tunName: values.tun,
      provider: values.provider as 'node' | 'noble' | undefined, logs, tunMtu: loaded.plan.tunMtu,
      // The first call uses the plan already checked above; every reload reads the mesh file (and certificates) again.
      loadConfig: () => {
        const l = first ?? loadMesh(meshFile, node);
        first = undefined;
        return { ike: l.ike, warnings: l.warnings };
      },
      beforeReload: (running, next) => {
        const r = adoptCredentialChanges(provider, running, next);
        if (r.rotated.length) log.info({ connections: r.rotated }, 'credentials rotated in place: established SAs kept, new SAs use the new certificate');
        return [...r.warnings, ...(r.rotated.length ? [`credentials rotated (SAs kept): ${r.rotated.join(', ')}`] : [])];
      },
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, ExitCode.USAGE);
    throw new CliError((e as Error).message, ExitCode.FAILURE);
  }
  // Both nodes of a pair may initiate at once (traps on both sides): the lower address deletes its own duplicate (mesh/dedupe.ts).
  const { resolveDuplicateIkeSas, resolveDuplicateChildSas } = await import('../../mesh/dedupe.js');
  const tunnel = daemon.tunnel;
  tunnel.on((e) => {
    if (e.type !== 'ike-up' && e.type !== 'child-up') return;
    setImmediate(() => {
      try {
        const ids = tunnel.command((ep, now) => resolveDuplicateIkeSas(ep, now));
        if (ids.length) logs.sub('ike').info({ ikeIds: ids }, 'deleted duplicate IKE SA(s) of a simultaneous initiation (the lower address yields)');
        const spis = tunnel.command((ep, now) => resolveDuplicateChildSas(ep, now));
        if (spis.length) logs.sub('ike').info({ spiIn: spis.map((x) => x.toString(16)) }, 'deleted duplicate CHILD SA(s) of a simultaneous acquire (the lower address yields)');
      } catch (err) {
        logs.sub('ike').warn({ err: (err as Error).message }, 'duplicate IKE SA check failed');
      }
    });
  });
  process.stderr.write(`tsipsec mesh up: node ${node}, ${daemon.tunName}, control socket ${daemon.socketPath}\n`);
  const onSignal = (sig: string) => { logs.sub('main').info({ signal: sig }, 'stopping'); void daemon.stop(); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const onHup = () => { logs.sub('main').info({ signal: 'SIGHUP' }, 'reloading the mesh description'); daemon.reload().catch(() => undefined); };
  process.on('SIGHUP', onHup);
  await daemon.stopped;
  process.removeListener('SIGHUP', onHup);
  return 0;
}
