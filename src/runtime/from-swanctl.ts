/**
 * Maps the typed swanctl.conf configuration (src/config) onto the IKE engine's configuration
 * (src/ike/config.ts). Everything a strongSwan user wrote is honoured or reported: what tsipsec cannot
 * do becomes an error naming the file and line, what it does differently becomes a warning.
 */
import type { ChildConfig, ConnectionConfig, TsipsecConfig } from '../config/types.js';
import type { IkeChildConfigInput, IkeConfigInput, IkeConnectionInput } from '../ike/config.js';

export interface MappedConfig {
  ike: IkeConfigInput;
  warnings: string[];
}

function where(c: { source: { file: string; line: number } }): string {
  return `${c.source.file}:${c.source.line}`;
}

function isLiteralIp(a: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(a) || (a.includes(':') && /^[0-9a-fA-F:.]+$/.test(a));
}

function findPsk(cfg: TsipsecConfig, localId: string | undefined, remoteId: string | undefined): Uint8Array | undefined {
  // strongSwan picks the secret whose ids best match both identities; an id-less secret matches anything.
  let best: { score: number; secret: Uint8Array } | undefined;
  for (const s of cfg.secrets.ike) {
    let score = 0;
    if (s.ids.length === 0) score = 1;
    else {
      if (localId !== undefined && s.ids.includes(localId)) score += 2;
      if (remoteId !== undefined && s.ids.includes(remoteId)) score += 2;
      if (score === 0) continue;
    }
    if (!best || score > best.score) best = { score, secret: s.secret };
  }
  return best?.secret;
}

function uniqueBytes(list: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return list.filter((b) => {
    const k = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function mapChild(ch: ChildConfig, errors: string[], warnings: string[]): IkeChildConfigInput | undefined {
  if (ch.mode !== 'tunnel' && ch.mode !== 'transport') {
    errors.push(`${where(ch)}: children.${ch.name}.mode: "${ch.mode}" is not supported by tsipsec (tunnel or transport)`);
    return undefined;
  }
  // start_action / dpd_action / close_action = trap map one to one: the runtime installs trap policies
  // as routes into the TUN device and initiates on the first matching packet (runtime/traps.ts).
  const startAction = ch.startAction;
  return {
    name: ch.name,
    localTs: ch.localTs,
    remoteTs: ch.remoteTs,
    espProposals: ch.espProposals,
    mode: ch.mode,
    startAction,
    dpdAction: ch.dpdAction,
    closeAction: ch.closeAction,
    rekeyTimeMs: ch.rekeyTimeSec * 1000,
    lifeTimeMs: ch.lifeTimeSec * 1000,
    randTimeMs: ch.randTimeSec * 1000,
    // swanctl's 0 disables replay protection; tsipsec always keeps a window (RFC 4303 §3.4.3 minimum 32).
    replayWindow: ch.replayWindow === 0 ? 32 : Math.max(32, ch.replayWindow),
  };
}

function mapConnection(cfg: TsipsecConfig, c: ConnectionConfig, errors: string[], warnings: string[]): IkeConnectionInput | undefined {
  const local = c.local[0];
  const remote = c.remote[0];
  if (!local || !remote) {
    errors.push(`${where(c)}: connections.${c.name}: needs a local and a remote authentication round`);
    return undefined;
  }
  if (c.local.length > 1 || c.remote.length > 1) errors.push(`${where(c)}: connections.${c.name}: multiple authentication rounds are not supported`);
  for (const a of [...c.localAddrs, ...c.remoteAddrs]) {
    if (a !== '%any' && !isLiteralIp(a)) errors.push(`${where(c)}: connections.${c.name}: address "${a}" must be an IP address or %any (names and subnets are not supported)`);
  }
  const pskOf = (): Uint8Array | undefined => findPsk(cfg, local.id, remote.id);
  const localAuth = local.auth === 'psk' ? 'psk' : 'pubkey';
  const remoteAuth = remote.auth === 'psk' ? 'psk' : 'pubkey';
  let psk: Uint8Array | undefined;
  if (localAuth === 'psk' || remoteAuth === 'psk') {
    psk = pskOf();
    if (!psk) errors.push(`${where(c)}: connections.${c.name}: no secrets.ike-* entry for ids ${local.id ?? '(address)'} / ${remote.id ?? '%any'}`);
  }
  let privateKey: Uint8Array | undefined;
  if (localAuth === 'pubkey') {
    // All loaded keys go to the engine, which uses the one matching the certificate it sends.
    privateKey = cfg.secrets.privateKeys[0]?.data;
    if (!privateKey) errors.push(`${where(c)}: connections.${c.name}.local: auth = pubkey needs a private key (private/ or secrets.private-*)`);
  }
  // Deliberately unlike strongSwan, whose default is `encap = no` (UDP-encapsulate only when a NAT is
  // seen): without an `encap` setting tsipsec forces ESP-in-UDP on 4500 (RFC 3948), which passes
  // firewalls that drop protocol 50 and needs no raw socket. Only an explicit `encap = no` gives
  // strongSwan's behaviour: raw ESP (IP protocol 50, a raw socket, root) unless NAT detection sees a NAT.
  const encap = c.encap || c.encapConfigured !== true;
  const children: IkeChildConfigInput[] = [];
  for (const ch of c.children) {
    const m = mapChild(ch, errors, warnings);
    if (m) children.push(m);
    const traps = ch.startAction === 'trap' || ch.startAction === 'trap|start' || ch.dpdAction === 'trap' || ch.closeAction === 'trap';
    if (traps && (c.localAddrs[0] === undefined || c.localAddrs[0] === '%any')) {
      // A trap initiates from the connection's first local address (tsipsec does not pick a source from the routes).
      errors.push(`${where(ch)}: children.${ch.name}: a trap (start_action, dpd_action or close_action = trap) needs connections.${c.name}.local_addrs to start with a concrete IP address`);
    }
  }
  return {
    name: c.name,
    localAddrs: c.localAddrs.length ? c.localAddrs : ['%any'],
    remoteAddrs: c.remoteAddrs.length ? c.remoteAddrs : ['%any'],
    localPort: c.localPort,
    remotePort: c.remotePort,
    proposals: c.proposals,
    encap,
    fragmentation: c.fragmentation !== 'no',
    dpdDelayMs: c.dpdDelaySec * 1000,
    rekeyTimeMs: c.rekeyTimeSec * 1000,
    ikeLifetimeMs: (Math.max(c.rekeyTimeSec, c.reauthTimeSec) + c.overTimeSec) * 1000,
    randTimeMs: c.randTimeSec * 1000,
    local: {
      auth: localAuth, id: local.id ?? '', psk: localAuth === 'psk' ? psk : undefined,
      certs: localAuth === 'pubkey' ? [...local.certData, ...(local.certData.length ? [] : cfg.certificates.map((f) => f.data))] : undefined,
      privateKey,
      ...(cfg.secrets.privateKeys.length > 1 ? { privateKeys: cfg.secrets.privateKeys.slice(1).map((k) => k.data) } : {}),
      // swanctl `auth = rsa/pss` (or `pubkey`/`rsa` with ike:rsa/pss) asks for RSASSA-PSS AUTH signatures (RFC 7427).
      ...(local.auth === 'rsa/pss' ? { rsaPadding: 'pss' as const } : {}),
    },
    remote: {
      auth: remoteAuth, id: remote.id ?? '%any', psk: remoteAuth === 'psk' ? psk : undefined,
      // cacerts named in the section and the x509ca/ directory usually hold the same file: list each CA
      // once, or every CERTREQ names it twice.
      cacerts: remoteAuth === 'pubkey' ? uniqueBytes([...remote.cacertData, ...cfg.trustAnchors.map((f) => f.data)]) : undefined,
    },
    children,
    // RFC 7296 §2.19 configuration payloads: swanctl `vips` (client) and `pools` (server).
    vips: c.vips ?? [],
    pools: c.pools ?? [],
  };
}

/** Throws an Error listing every problem (file:line: key: message) when the config cannot run. */
export function ikeConfigFromSwanctl(cfg: TsipsecConfig): MappedConfig {
  const errors: string[] = [];
  const warnings: string[] = [];
  const connections: IkeConnectionInput[] = [];
  for (const c of cfg.connections) {
    const m = mapConnection(cfg, c, errors, warnings);
    if (m) connections.push(m);
  }
  if (connections.length === 0 && errors.length === 0) errors.push('the configuration defines no connections');
  if (errors.length) throw new Error(errors.join('\n'));
  return { ike: { connections, pools: (cfg.pools ?? []).map((p) => ({ name: p.name, addrs: p.addrs, dns: p.dns })) }, warnings };
}
