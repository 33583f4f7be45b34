/**
 * `tsipsec up` as a library call: loads a swanctl.conf, opens the UDP sockets and the TUN device,
 * installs routes, serves the control socket, the Wireshark key log and Prometheus metrics, and runs a
 * Tunnel until `stop()`. The CLI command is a thin wrapper around `startDaemon`.
 */
import { createHash } from 'node:crypto';
import { loadSwanctlConfig } from '../config/load.js';
import { KeylogWriter } from '../capture/keylog.js';
import { cryptoProvider } from '../crypto/index.js';
import { withEvpAead } from '../crypto/node-evp.js';
import { NodeUdpTransport } from '../net/udp.js';
import { LinuxUdpTransport, linuxUdpAvailable } from '../net/linux-udp.js';
import { openLinuxTun } from '../tun/linux.js';
import { LinuxRawEspTransport } from '../net/raw-esp.js';
import { ControlServer, DEFAULT_SOCKET, type ControlRequest } from './control.js';
import { ikeConfigFromSwanctl } from './from-swanctl.js';
import { loadStrongswanConf } from './strongswan-conf.js';
import { createLogs, type Logs } from './log.js';
import { HandshakeTimer, startMetrics, tapHandshakes, type MetricsServer } from './metrics.js';
import { RouteManager } from './netns.js';
import { TunnelRoutes } from './routes.js';
import { Tunnel, type KeySink } from './tunnel.js';
import { startDataPlaneFromEnv } from './dataplane-worker.js';
import { nodeRandom } from '../crypto/node.js';
import { applyReload, type ReloadResult } from './reload.js';
import { resolveConfig, type IkeConfig, type IkeConfigInput } from '../ike/config.js';
import { formatConfigIssue, ConfigError } from '../config/errors.js';

export interface DaemonOptions {
  configPath: string;
  socketPath?: string;
  keylogDir?: string;
  metrics?: { host: string; port: number };
  tunName?: string;
  provider?: 'node' | 'noble';
  logs?: Logs;
  /** Where route state lives, for cleanup after a crash (default /run/tsipsec). */
  stateDir?: string;
  /** strongswan.conf for charon.retransmit_* (default: $STRONGSWAN_CONF when set; see strongswan-conf.ts). */
  strongswanConf?: string;
  /**
   * Loads the configuration instead of reading `configPath` as a swanctl.conf (`tsipsec mesh up`: the
   * mesh description; `configPath` then only names the file in messages). Called at start and on every
   * reload; throws ConfigError (or an Error) on a bad source.
   */
  loadConfig?: () => { ike: IkeConfigInput; warnings: string[] };
  /** Runs on reload just before the new configuration is applied (mesh: certificate rotation); returns warnings. */
  beforeReload?: (running: IkeConfig, next: IkeConfig) => readonly string[];
  /** MTU the TUN device is opened with (default 1400; child SAs then set it from their ESP overhead). */
  tunMtu?: number;
}

export interface Daemon {
  readonly tunnel: Tunnel;
  readonly warnings: string[];
  readonly tunName: string;
  readonly socketPath: string;
  /** The port `--metrics` listens on (the actual one when 0 was asked), or undefined without metrics. */
  readonly metricsPort: number | undefined;
  stop(): Promise<void>;
  /**
   * Re-reads the configuration file and applies it like `swanctl --load-all` (src/runtime/reload.ts).
   * On a bad file nothing changes: rejects with a ReloadConfigError naming file, line and key.
   */
  reload(): Promise<ReloadResult>;
  /** Resolves when the daemon stopped (by `stop()` or a `down` request). */
  readonly stopped: Promise<void>;
}

function keySink(dir: string, tunnelRef: { t?: Tunnel }, logs: Logs): KeySink {
  const w = new KeylogWriter(dir);
  logs.sub('main').warn({ dir }, 'key log enabled: SA keys are written to disk (Wireshark esp_sa / ikev2_decryption_table)');
  const writeIke = (ikeId: number): void => {
    const k = tunnelRef.t?.endpoint.exportIkeKeys(ikeId);
    if (k) w.addIkeSa({ spiI: k.spiI, spiR: k.spiR, skEi: k.skEi, skEr: k.skEr, skAi: k.skAi, skAr: k.skAr, encr: k.encr, integ: k.integ });
  };
  return {
    ikeUp(e) {
      writeIke(e.ikeId);
    },
    // A rekeyed IKE SA keeps its ikeId; exportIkeKeys returns the new SA's keys.
    ikeRekeyed(e) {
      writeIke(e.ikeId);
    },
    childUp(c) {
      const encr = { id: c.algorithms.encr, keyLength: c.algorithms.encrKeyBits };
      const integ = c.algorithms.integ ?? 0;
      w.addEspSa({ src: c.remoteAddr.address, dst: c.localAddr.address, spi: c.spiIn, encr, encrKey: c.keys.encrIn, integ, integKey: c.keys.integIn });
      w.addEspSa({ src: c.localAddr.address, dst: c.remoteAddr.address, spi: c.spiOut, encr, encrKey: c.keys.encrOut, integ, integKey: c.keys.integOut });
    },
  };
}

/** A configuration that could not be (re)loaded; the message names file, line and key. */
export class ReloadConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReloadConfigError';
  }
}

/** swanctl.conf (+ strongswan.conf retransmits) → the resolved IKE config. Throws on any config error. */
function loadConfig(opts: DaemonOptions): { ike: IkeConfig; warnings: string[] } {
  let cfgWarnings: string[] = [];
  let mapped: { ike: IkeConfigInput; warnings: string[] };
  if (opts.loadConfig) mapped = opts.loadConfig();
  else {
    const loaded = loadSwanctlConfig(opts.configPath);
    cfgWarnings = loaded.warnings;
    mapped = ikeConfigFromSwanctl(loaded.config);
  }
  const ssConf = opts.strongswanConf ?? process.env.STRONGSWAN_CONF;
  if (ssConf) mapped.ike = { ...mapped.ike, limits: { ...mapped.ike.limits, retransmit: { ...mapped.ike.limits?.retransmit, ...loadStrongswanConf(ssConf).retransmit } } };
  return { ike: resolveConfig(mapped.ike), warnings: [...cfgWarnings, ...mapped.warnings] };
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const logs = opts.logs ?? createLogs();
  const loaded = loadConfig(opts);
  const mapped = { ike: loaded.ike };
  const warnings = loaded.warnings;
  for (const w of warnings) logs.sub('cfg').warn(w);

  const socketPath = opts.socketPath ?? DEFAULT_SOCKET;
  const stateName = `tsipsec-${createHash('sha256').update(socketPath).digest('hex').slice(0, 12)}`;
  const routeManager = new RouteManager({ name: stateName, stateDir: opts.stateDir });
  const stale = await RouteManager.cleanupStale(routeManager.stateFile);
  if (stale > 0) logs.sub('tun').warn({ removed: stale }, 'removed routes left by an earlier run');

  // Bind to the configured local addresses, so each datagram names its concrete local address (NAT-D).
  const literal = new Set<string>();
  for (const c of mapped.ike.connections) for (const a of c.localAddrs ?? []) if (a !== '%any') literal.add(a);
  const addresses = literal.size ? [...literal] : ['0.0.0.0'];
  // Batching sockets (sendmmsg/recvmmsg through koffi) on Linux; node:dgram elsewhere or with TSIPSEC_UDP=dgram.
  const udp = process.env.TSIPSEC_UDP !== 'dgram' && linuxUdpAvailable() ? new LinuxUdpTransport() : new NodeUdpTransport();
  await udp.bind({ addresses, ports: [500, 4500] });

  // Raw ESP (IP protocol 50) only when a connection says `encap = no` (from-swanctl.ts): a raw socket needs root.
  const rawConnsOf = (ike: IkeConfig): string[] => ike.connections.filter((c) => c.encap === false).map((c) => c.name);
  const openRawEsp = async (rawConns: readonly string[]): Promise<LinuxRawEspTransport> => {
    let lastLogMs = 0;
    const raw = new LinuxRawEspTransport({
      // Refused sends are counted in the transport's stats; log at most one error a second.
      onError: (err) => { const t = Date.now(); if (t - lastLogMs >= 1000) { lastLogMs = t; logs.sub('esp').warn({ err: err.message }, 'raw ESP'); } },
    });
    try {
      await raw.open({ addresses });
    } catch (err) {
      throw new Error(`connections ${rawConns.join(', ')}: encap = no sends ESP as IP protocol 50 when no NAT is seen, which needs a raw socket: ${(err as Error).message}`);
    }
    return raw;
  };
  const rawConns = rawConnsOf(mapped.ike);
  let rawEsp: LinuxRawEspTransport | undefined;
  if (rawConns.length > 0) {
    try {
      rawEsp = await openRawEsp(rawConns);
    } catch (err) {
      await udp.close();
      throw err;
    }
  }

  let tun;
  try {
    // TSIPSEC_TUN_READ=uv-poll|async-poll picks how TUN readability is detected when packets run on the main
    // thread (TSIPSEC_DATAPLANE=main); the data-plane worker polls the device itself (tun/linux.ts).
    const readMode = process.env.TSIPSEC_TUN_READ === 'uv-poll' || process.env.TSIPSEC_TUN_READ === 'async-poll' ? process.env.TSIPSEC_TUN_READ : undefined;
    tun = await openLinuxTun({ name: opts.tunName ?? 'tsipsec%d', mtu: opts.tunMtu ?? 1400, readMode });
  } catch (err) {
    await udp.close();
    await rawEsp?.close();
    throw err;
  }
  // Packets run in a worker thread (runtime/dataplane-worker.ts) unless TSIPSEC_DATAPLANE=main.
  const espEvp = (opts.provider ?? 'node') === 'node' && process.env.TSIPSEC_AEAD !== 'node';
  const worker = await startDataPlaneFromEnv(tun, udp, { provider: opts.provider ?? 'node', evp: espEvp, mirrorProvider: cryptoProvider(opts.provider ?? 'node'), rng: nodeRandom, logs });
  const routes = new TunnelRoutes({ routes: routeManager });
  const ref: { t?: Tunnel } = {};
  const handshakes = opts.metrics ? new HandshakeTimer() : undefined;
  const tunnel = new Tunnel({
    config: mapped.ike, udp: handshakes ? tapHandshakes(udp, handshakes) : udp, tun: worker?.tun ?? tun, datapath: worker?.datapath, routes, logs,
    rawEsp,
    // IKE: the provider as is ('node': native AEAD on shared contexts, no native state per IKE SA, which
    // keeps an IKE SA with one child under 8 KiB; bench/ike.ts row 'daemon').
    // ESP 'node': the AEAD runs on per-SA OpenSSL EVP contexts through koffi when libcrypto.so.3 loads
    // (node-evp.ts). TSIPSEC_AEAD=node keeps node:crypto's createCipheriv per packet (for comparison in bench/e2e).
    provider: cryptoProvider(opts.provider ?? 'node'),
    espProvider: (opts.provider ?? 'node') === 'node' && process.env.TSIPSEC_AEAD !== 'node' ? withEvpAead(cryptoProvider('node')) : undefined,
    keys: opts.keylogDir ? keySink(opts.keylogDir, ref, logs) : undefined,
  });
  ref.t = tunnel;

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => { resolveStopped = r; });
  let metrics: MetricsServer | undefined;
  let control: ControlServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await control?.close();
      await metrics?.close();
      await tunnel.close();
      resolveStopped();
    })();
    return stopping;
  };

  control = new ControlServer(socketPath, async (req: ControlRequest) => {
    switch (req.cmd) {
      case 'status': return tunnel.status();
      case 'initiate': return initiateAndWait(tunnel, req.child);
      case 'terminate': {
        const n = tunnel.terminate(req);
        if (n === 0) throw new Error(`no established SA named ${req.ike ?? req.child}`);
        return { terminated: n };
      }
      case 'down': setImmediate(() => { void stop(); }); return { stopping: true };
      case 'reload': return reload();
    }
  });
  let reloading: Promise<ReloadResult> | undefined;
  const reload = (): Promise<ReloadResult> => {
    // One reload at a time; a second request waits for the first and then reads the file again.
    const run = async (): Promise<ReloadResult> => {
      const log = logs.sub('cfg');
      let next: { ike: IkeConfig; warnings: string[] };
      try {
        next = loadConfig(opts);
      } catch (err) {
        const msg = err instanceof ConfigError ? err.issues.map(formatConfigIssue).join('\n') : (err as Error).message;
        log.error({ file: opts.configPath, err: msg }, 'reload failed: bad configuration, keeping the running one');
        throw new ReloadConfigError(`configuration error, keeping the running configuration:\n${msg}`);
      }
      for (const w of next.warnings) log.warn(w);
      // The first `encap = no` connection (none at start) needs the raw ESP socket: open it before applying.
      const nextRaw = rawConnsOf(next.ike);
      if (nextRaw.length > 0 && !tunnel.hasRawEsp) {
        try {
          tunnel.attachRawEsp(await openRawEsp(nextRaw));
          log.info({ connections: nextRaw }, 'raw ESP socket opened for encap = no');
        } catch (err) {
          log.error({ err: (err as Error).message }, 'reload failed, keeping the running configuration');
          throw new ReloadConfigError(`keeping the running configuration: ${(err as Error).message}`);
        }
      }
      const pre = opts.beforeReload?.(tunnel.endpoint.config, next.ike) ?? [];
      const r0 = applyReload(tunnel, next.ike);
      const r = pre.length ? { ...r0, warnings: [...pre, ...r0.warnings] } : r0;
      const extra: string[] = [];
      for (const c of next.ike.connections) for (const a of c.localAddrs) {
        if (a !== '%any' && !addresses.includes(a)) extra.push(`connections.${c.name}: local address ${a} is not bound (bound at start: ${addresses.join(', ')}); restart tsipsec to use it`);
      }
      for (const w of [...r.warnings, ...extra]) log.warn(w);
      log.info({ added: r.added, removed: r.removed, changed: r.changed, unchanged: r.unchanged, childrenAdded: r.childrenAdded, childrenRemoved: r.childrenRemoved, childrenChanged: r.childrenChanged }, 'configuration reloaded');
      return { ...r, warnings: [...next.warnings, ...r.warnings, ...extra] };
    };
    const p = (reloading ?? Promise.resolve()).catch(() => undefined).then(run);
    reloading = p;
    return p;
  };
  try {
    await control.listen();
    if (opts.metrics) metrics = await startMetrics(opts.metrics.host, opts.metrics.port, tunnel, { handshakes });
  } catch (err) {
    await stop();
    throw err;
  }
  tunnel.start();
  logs.sub('main').info({ tun: tun.name, socket: socketPath, connections: mapped.ike.connections.map((c) => c.name) }, 'tsipsec up');
  return { tunnel, warnings, tunName: tun.name, socketPath, get metricsPort() { return metrics?.port; }, stop, reload, stopped };
}

/** Initiates `child` and resolves when it is up (or rejects with the reason it failed). */
function initiateAndWait(tunnel: Tunnel, child: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const off = tunnel.on((e) => {
      if (e.type === 'child-up' && e.childName === child) { off(); resolve({ child, spiIn: e.spiIn.toString(16), spiOut: e.spiOut.toString(16) }); }
      else if (e.type === 'child-failed' && e.childName === child) { off(); reject(new Error(`child ${child} failed: ${e.reason}`)); }
      else if (e.type === 'ike-down' && e.reason !== 'rekeyed') { off(); reject(new Error(`IKE SA ${e.ikeName} down: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`)); }
    });
    try { tunnel.initiate(child); } catch (err) { off(); reject(err as Error); }
  });
}
