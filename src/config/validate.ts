/**
 * swanctl.conf settings tree → TsipsecConfig (swanctl.conf(5); defaults and value syntax from
 * strongSwan's vici_config.c, file locations from swanctl's load_creds.c).
 *
 * Every key tsipsec supports is mapped; keys in the harmless allow-list (key-rules.ts) are ignored
 * with a warning; any other swanctl key, and any unknown key, is an error. All errors are collected
 * and thrown together as one ConfigError, each naming file, line and dotted key. Nothing starts on a
 * bad config.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { checkIkeAddress, parseCidr, parseRange } from './address.js';
import { parseIp } from '../wire/addr.js';
import { formatConfigIssue, IssueCollector, sortIssues } from './errors.js';
import type { ConfigIssue, SourceLocation } from './errors.js';
import { AUTH_KEYS, CERT_SECTION_KEYS, CHILD_KEYS, CONNECTION_KEYS, KEY_SECRET_KEYS, POOL_KEYS } from './key-rules.js';
import type { KeyRule } from './key-rules.js';
import { checkProposalList } from './proposals.js';
import type { ProposalProtocol } from './proposals.js';
import type { SettingsSection, SettingsValue } from './swanctl-parser.js';
import { parseTrafficSelector } from './traffic-selector.js';
import type {
  PoolConfig,
  AuthConfig,
  AuthMethod,
  ChildConfig,
  ChildMode,
  CloseAction,
  ConfigFileSystem,
  ConnectionConfig,
  DpdAction,
  Fragmentation,
  IkeSecret,
  LoadedFile,
  PrivateKeyConfig,
  PrivateKeyKind,
  SendCert,
  StartAction,
  TrafficSelectorConfig,
  TsipsecConfig,
  UniquePolicy,
} from './types.js';
import { decodeSecret, parseBool, parseBytes, parseChoice, parseDurationSec, parseUint, splitList } from './values.js';
import type { Parsed } from './values.js';

export interface ValidateOptions {
  /** The swanctl directory: certs/keys are relative to its x509/, x509ca/, pubkey/, private/ … */
  readonly swanctlDir: string;
  readonly fs: ConfigFileSystem;
  /** Load every file of x509/, x509ca/, private/, rsa/, ecdsa/, pkcs8/ as `swanctl --load-all` does (default true). */
  readonly loadCredentialDirs?: boolean;
}

export interface ValidateResult {
  readonly config: TsipsecConfig;
  /** Formatted `file:line: key: message`. */
  readonly warnings: string[];
  readonly warningIssues: ConfigIssue[];
}

/** IKE and CHILD defaults (vici_config.c LFT_DEFAULT_*). */
export const DEFAULT_IKE_REKEY_TIME_SEC = 4 * 3600;
export const DEFAULT_CHILD_REKEY_TIME_SEC = 3600;
export const DEFAULT_REPLAY_WINDOW = 32;
export const DEFAULT_IKE_PORT = 500;

const UINT32_MAX = 0xffffffff;

/** Reads typed values out of one section, recording errors instead of throwing. */
class Reader {
  constructor(
    readonly section: SettingsSection,
    readonly issues: IssueCollector,
  ) {}

  path(key: string): string {
    return this.section.path === '' ? key : `${this.section.path}.${key}`;
  }

  /** The setting, or undefined when absent or cleared with an empty assignment. */
  raw(key: string): SettingsValue | undefined {
    const v = this.section.values.find((x) => x.key === key);
    return v !== undefined && v.value.trim() !== '' ? v : undefined;
  }

  maybe<T>(key: string, parse: (text: string) => Parsed<T>): T | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const r = parse(v.value.trim());
    if (r.ok) return r.value;
    this.issues.error(v, this.path(key), r.error);
    return undefined;
  }

  get<T>(key: string, parse: (text: string) => Parsed<T>, dflt: T): T {
    return this.maybe(key, parse) ?? dflt;
  }

  error(key: string, message: string, at?: SourceLocation): void {
    this.issues.error(at ?? this.raw(key) ?? this.section, this.path(key), message);
  }

  /** Report unknown and unsupported keys; warn about ignored ones. */
  checkKeys(rules: Readonly<Record<string, KeyRule>>, what: string): void {
    for (const v of this.section.values) {
      const rule = Object.hasOwn(rules, v.key) ? rules[v.key] : undefined;
      const path = this.path(v.key);
      if (rule === undefined) {
        this.issues.error(v, path, `unknown key "${v.key}" in ${what} (known: ${Object.keys(rules).join(', ')})`);
      } else if (rule.kind === 'ignored') {
        this.issues.warn(v, path, `ignored: ${rule.why}`);
      } else if (rule.kind === 'unsupported') {
        const harmless = v.value.trim() === '' || (rule.acceptIf !== undefined && rule.acceptIf(v.value));
        if (!harmless) this.issues.error(v, path, `not supported by tsipsec: ${rule.why}`);
      }
    }
  }
}

function lowerStarts(name: string, prefix: string): boolean {
  return name.toLowerCase().startsWith(prefix);
}

/** Validate a parsed swanctl.conf tree. Throws ConfigError with every problem found. */
export function validateSwanctl(root: SettingsSection, options: ValidateOptions): ValidateResult {
  return new Validator(root, options).run();
}

class Validator {
  private readonly issues = new IssueCollector();
  private readonly swanctlDir: string;
  private readonly trustAnchors: LoadedFile[] = [];
  private readonly certificates: LoadedFile[] = [];
  private readonly privateKeys: PrivateKeyConfig[] = [];
  /** ike<suffix> sections written, valid or not (a broken one already has its own error). */
  private ikeSections = 0;

  constructor(
    private readonly root: SettingsSection,
    private readonly options: ValidateOptions,
  ) {
    this.swanctlDir = resolve(options.swanctlDir);
  }

  run(): ValidateResult {
    for (const v of this.root.values) {
      this.issues.error(v, v.key, `unknown top-level key "${v.key}" (expected sections connections, secrets)`);
    }
    for (const s of this.root.sections) {
      if (s.name === 'connections' || s.name === 'secrets') continue;
      if (s.name === 'pools') continue;
      else if (s.name === 'authorities') this.issues.error(s, s.path, 'not supported by tsipsec: certification authority sections (put CA certificates in x509ca/ or use cacerts)');
      else this.issues.error(s, s.path, `unknown section "${s.name}" (expected connections, secrets)`);
    }
    if (this.options.loadCredentialDirs !== false) this.loadCredentialDirs();

    const secretsSection = this.root.sections.find((s) => s.name === 'secrets');
    const ike = secretsSection === undefined ? [] : this.secrets(secretsSection);

    const connectionsSection = this.root.sections.find((s) => s.name === 'connections');
    const connections: ConnectionConfig[] = [];
    if (connectionsSection !== undefined) {
      for (const v of connectionsSection.values) {
        this.issues.error(v, `connections.${v.key}`, `unexpected key "${v.key}": connections holds one section per connection`);
      }
      for (const s of connectionsSection.sections) {
        const conn = this.connection(s);
        if (conn !== undefined) connections.push(conn);
      }
    }
    for (const conn of connections) this.checkCredentials(conn, ike);
    const poolsSection = this.root.sections.find((s) => s.name === 'pools');
    const pools = poolsSection === undefined ? [] : this.pools(poolsSection);
    for (const conn of connections) {
      for (const name of conn.pools ?? []) {
        if (!pools.some((p) => p.name === name)) this.issues.error(conn.source, `connections.${conn.name}.pools`, `names pool "${name}", which the pools section does not define`);
      }
    }

    this.issues.throwIfErrors();
    const warningIssues = sortIssues(this.issues.warnings);
    return {
      config: { connections, secrets: { ike, privateKeys: this.privateKeys }, trustAnchors: this.trustAnchors, certificates: this.certificates, pools },
      warnings: warningIssues.map(formatConfigIssue),
      warningIssues,
    };
  }

  // ---------------------------------------------------------------- files

  private dir(sub: string): string {
    return join(this.swanctlDir, sub);
  }

  /** Read a file named in `key`, relative to the swanctl subdirectory `sub` unless absolute. */
  private readNamed(r: Reader, key: string, at: SourceLocation, name: string, sub: string, what: string): LoadedFile | undefined {
    const path = isAbsolute(name) ? name : join(this.dir(sub), name);
    try {
      return { path, data: this.options.fs.readFile(path) };
    } catch (e) {
      r.error(key, `cannot read ${what} "${name}" (${path}): ${e instanceof Error ? e.message : String(e)}`, at);
      return undefined;
    }
  }

  private loadDir(sub: string, at: SourceLocation): LoadedFile[] {
    const out: LoadedFile[] = [];
    for (const path of this.options.fs.listFiles(this.dir(sub))) {
      try {
        out.push({ path, data: this.options.fs.readFile(path) });
      } catch (e) {
        this.issues.warn(at, '', `skipped unreadable ${sub}/ file ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return out;
  }

  private loadCredentialDirs(): void {
    const at = { file: this.root.file, line: 0 };
    this.trustAnchors.push(...this.loadDir('x509ca', at));
    this.certificates.push(...this.loadDir('x509', at));
    for (const kind of ['private', 'rsa', 'ecdsa', 'pkcs8'] as const) {
      for (const f of this.loadDir(kind, at)) this.privateKeys.push({ kind, path: f.path, data: f.data });
    }
    if (this.options.fs.listFiles(this.dir('pkcs12')).length > 0) {
      this.issues.warn(at, '', 'ignored: PKCS#12 containers in pkcs12/ are not loaded (convert them to PEM in x509/ and private/)');
    }
  }

  // ---------------------------------------------------------------- pools

  /** pools { <name> { addrs = 198.18.200.0/24  dns = 198.18.0.53 } } */
  private pools(section: SettingsSection): PoolConfig[] {
    for (const v of section.values) this.issues.error(v, `pools.${v.key}`, `unexpected key "${v.key}": pools holds one section per pool`);
    const out: PoolConfig[] = [];
    for (const s of section.sections) {
      const r = new Reader(s, this.issues);
      r.checkKeys(POOL_KEYS, 'a pool');
      const addrs = r.raw('addrs');
      if (addrs === undefined) {
        r.error('addrs', 'a pool needs addrs (a CIDR prefix or a range a-b)');
        continue;
      }
      const text = addrs.value.trim();
      if (parseCidr(text) === undefined && parseRange(text) === undefined) {
        r.error('addrs', `bad address pool "${text}" (expected a CIDR prefix or a range a-b)`);
        continue;
      }
      const dns = r.raw('dns') === undefined ? [] : splitList(r.raw('dns')!.value);
      for (const d of dns) if (parseIp(d) === undefined) r.error('dns', `bad DNS server address "${d}"`);
      out.push({ name: s.name, source: { file: s.file, line: s.line }, addrs: text, dns });
    }
    return out;
  }

  // ---------------------------------------------------------------- secrets

  private secrets(section: SettingsSection): IkeSecret[] {
    const ike: IkeSecret[] = [];
    for (const v of section.values) {
      this.issues.error(v, `secrets.${v.key}`, `unexpected key "${v.key}": secrets holds sections like ike-1 { id = … secret = … }`);
    }
    for (const s of section.sections) {
      const r = new Reader(s, this.issues);
      const name = s.name.toLowerCase();
      if (name.startsWith('ike')) {
        this.ikeSections++;
        const ids: string[] = [];
        for (const v of s.values) {
          if (v.key.toLowerCase().startsWith('id')) {
            if (v.value.trim() !== '') ids.push(v.value.trim());
          } else if (v.key !== 'secret') {
            this.issues.error(v, r.path(v.key), `unknown key "${v.key}" in an IKE secret (expected secret, id<suffix>)`);
          }
        }
        const sv = r.raw('secret');
        if (sv === undefined) {
          r.error('secret', `IKE secret "${s.name}" has no secret`, s);
          continue;
        }
        const decoded = decodeSecret(sv.value);
        if (!decoded.ok) r.error('secret', decoded.error);
        else ike.push({ name: s.name, source: { file: s.file, line: s.line }, ids, secret: decoded.value });
      } else if (['eap', 'xauth', 'ntlm', 'ppk'].some((p) => name.startsWith(p))) {
        this.issues.warn(s, s.path, 'ignored: EAP, XAuth, NTLM and PPK secrets are not used by tsipsec');
      } else if (name.startsWith('pkcs12') || name.startsWith('token')) {
        this.issues.error(s, s.path, 'not supported by tsipsec: PKCS#12 containers and PKCS#11 tokens (use PEM files in x509/ and private/)');
      } else {
        const kind = (['private', 'rsa', 'ecdsa', 'pkcs8'] as const).find((k) => name.startsWith(k));
        if (kind === undefined) {
          this.issues.error(s, s.path, `unknown secret section "${s.name}" (expected ike, private, rsa, ecdsa or pkcs8 followed by a suffix)`);
        } else {
          this.keyPassphrase(r, kind);
        }
      }
    }
    return ike;
  }

  /** secrets.private<suffix> { file = x.pem  secret = passphrase }: attach the passphrase to the key. */
  private keyPassphrase(r: Reader, kind: PrivateKeyKind): void {
    r.checkKeys(KEY_SECRET_KEYS, `secrets.${r.section.name}`);
    const fv = r.raw('file');
    const sv = r.raw('secret');
    if (fv === undefined) {
      r.error('file', `"${r.section.name}" needs the name of a key file in ${kind}/`, r.section);
      return;
    }
    if (sv === undefined) {
      r.error('secret', `"${r.section.name}" needs the passphrase of ${fv.value.trim()}`, r.section);
      return;
    }
    const passphrase = decodeSecret(sv.value);
    if (!passphrase.ok) {
      r.error('secret', passphrase.error);
      return;
    }
    const name = fv.value.trim();
    const path = isAbsolute(name) ? name : join(this.dir(kind), name);
    const index = this.privateKeys.findIndex((k) => k.path === path);
    if (index >= 0) {
      this.privateKeys[index] = { ...this.privateKeys[index], passphrase: passphrase.value };
      return;
    }
    const file = this.readNamed(r, 'file', fv, name, kind, 'private key');
    if (file !== undefined) this.privateKeys.push({ kind, path: file.path, data: file.data, passphrase: passphrase.value });
  }

  // ---------------------------------------------------------------- connections

  private connection(s: SettingsSection): ConnectionConfig | undefined {
    const r = new Reader(s, this.issues);
    r.checkKeys(CONNECTION_KEYS, 'a connection');
    const errorsBefore = this.issues.errors.length;

    const version = r.get('version', (t) => parseUint(t, UINT32_MAX), 0);
    if (version === 1) r.error('version', 'IKEv1 is not supported by tsipsec (use version = 2)');
    else if (version !== 0 && version !== 2) r.error('version', `unknown IKE version ${version} (expected 2)`);

    const localAddrs = this.addrs(r, 'local_addrs');
    const remoteAddrs = this.addrs(r, 'remote_addrs');
    const localPort = r.get('local_port', (t) => parseUint(t, 0xffff), 0) || DEFAULT_IKE_PORT;
    const remotePort = r.get('remote_port', (t) => parseUint(t, 0xffff), DEFAULT_IKE_PORT);
    if (remotePort === 0) r.error('remote_port', 'remote_port must be 1..65535');
    const proposals = this.proposals(r, 'proposals', 'ike');

    const rekeySet = r.maybe('rekey_time', parseDurationSec);
    const reauthSet = r.maybe('reauth_time', parseDurationSec);
    // vici_config.c: without either, rekey 4h and no reauth; setting one leaves the other at 0.
    const rekeyTimeSec = rekeySet ?? (reauthSet === undefined ? DEFAULT_IKE_REKEY_TIME_SEC : 0);
    const reauthTimeSec = reauthSet ?? 0;
    const overTimeSec = r.maybe('over_time', parseDurationSec) ?? Math.floor(Math.max(rekeyTimeSec, reauthTimeSec) / 10);
    const base = rekeyTimeSec > 0 && reauthTimeSec > 0 ? Math.min(rekeyTimeSec, reauthTimeSec) : Math.max(rekeyTimeSec, reauthTimeSec);
    const randTimeSec = r.maybe('rand_time', parseDurationSec) ?? Math.min(overTimeSec, Math.floor(base / 2));

    const fragmentation = r.get<Fragmentation>('fragmentation', (t) => parseChoice(t, ['yes', 'accept', 'force', 'no'] as const, 'fragmentation setting'), 'yes');
    const sendCert = r.get<SendCert>('send_cert', (t) => parseChoice(t, ['always', 'never', 'ifasked'] as const, 'send_cert setting'), 'ifasked');
    const unique = r.get<UniquePolicy>('unique', (t) => parseChoice(t, ['no', 'never', 'keep', 'replace'] as const, 'unique policy'), 'no');

    const local: AuthConfig[] = [];
    const remote: AuthConfig[] = [];
    const children: ChildConfig[] = [];
    for (const sub of s.sections) {
      if (sub.name === 'children') {
        for (const v of sub.values) {
          this.issues.error(v, `${sub.path}.${v.key}`, `unexpected key "${v.key}": children holds one section per CHILD_SA`);
        }
        for (const c of sub.sections) {
          const child = this.child(c);
          if (child !== undefined) children.push(child);
        }
      } else if (lowerStarts(sub.name, 'local')) {
        const a = this.auth(sub, 'local');
        if (a !== undefined) insertByRound(local, a);
      } else if (lowerStarts(sub.name, 'remote')) {
        const a = this.auth(sub, 'remote');
        if (a !== undefined) insertByRound(remote, a);
      } else {
        this.issues.error(sub, sub.path, `unknown section "${sub.name}" in a connection (expected local<suffix>, remote<suffix>, children)`);
      }
    }
    if (local.length === 0) local.push(defaultAuth('local', s));
    if (remote.length === 0) remote.push(defaultAuth('remote', s));

    const conn: ConnectionConfig = {
      name: s.name,
      source: { file: s.file, line: s.line },
      version: 2,
      localAddrs,
      remoteAddrs,
      localPort,
      remotePort,
      proposals,
      encap: r.get('encap', parseBool, false),
      encapConfigured: r.raw('encap') !== undefined,
      mobike: r.get('mobike', parseBool, true),
      fragmentation,
      dpdDelaySec: r.get('dpd_delay', parseDurationSec, 0),
      dpdTimeoutSec: r.get('dpd_timeout', parseDurationSec, 0),
      rekeyTimeSec,
      reauthTimeSec,
      overTimeSec,
      randTimeSec,
      keyingtries: r.get('keyingtries', (t) => parseUint(t, UINT32_MAX), 1),
      unique,
      sendCertreq: r.get('send_certreq', parseBool, true),
      vips: this.vips(r),
      pools: r.raw('pools') === undefined ? [] : splitList(r.raw('pools')!.value),
      sendCert,
      local,
      remote,
      children,
    };

    const initiates = children.some((c) => c.startAction !== 'none' || c.closeAction === 'start' || c.dpdAction === 'restart');
    const concrete = remoteAddrs.some((a) => !a.startsWith('%any') && !a.includes('/') && !a.includes('-'));
    if (initiates && !concrete) {
      r.error('remote_addrs', 'a connection that initiates (start_action, close_action = start or dpd_action = restart) needs a specific remote address or DNS name', r.raw('remote_addrs') ?? s);
    }
    return this.issues.errors.length === errorsBefore ? conn : undefined;
  }

  /** vips = 0.0.0.0, :: (any address of that family) or concrete addresses to request. */
  private vips(r: Reader): string[] {
    const v = r.raw('vips');
    if (v === undefined) return [];
    const list = splitList(v.value);
    for (const a of list) if (parseIp(a) === undefined) r.error('vips', `bad virtual IP "${a}" (expected 0.0.0.0, :: or an IP address)`);
    return list;
  }

  private addrs(r: Reader, key: string): string[] {
    const v = r.raw(key);
    if (v === undefined) return ['%any'];
    const list = splitList(v.value);
    if (list.length === 0) return ['%any'];
    for (const a of list) {
      const problem = checkIkeAddress(a);
      if (problem !== undefined) r.error(key, problem);
    }
    return list;
  }

  private proposals(r: Reader, key: string, protocol: ProposalProtocol): string[] {
    const v = r.raw(key);
    if (v === undefined) return ['default'];
    const { proposals, errors } = checkProposalList(v.value, protocol);
    for (const e of errors) r.error(key, e);
    return proposals;
  }

  // ---------------------------------------------------------------- authentication rounds

  private auth(s: SettingsSection, side: 'local' | 'remote'): AuthConfig | undefined {
    const r = new Reader(s, this.issues);
    r.checkKeys(AUTH_KEYS, `an authentication round (${side})`);
    const round = r.get('round', (t) => parseUint(t, UINT32_MAX), 0);
    let auth: AuthMethod = side === 'local' ? 'pubkey' : 'any';
    let authConstraints: string[] = [];
    let ikeConstraint = false;
    const av = r.raw('auth');
    if (av !== undefined) {
      const parsed = parseAuth(av.value.trim());
      if (!parsed.ok) r.error('auth', parsed.error);
      else ({ auth, authConstraints, ikeConstraint } = parsed.value);
    }
    const id = r.raw('id')?.value.trim();

    const certs: LoadedFile[] = [];
    const cacerts: LoadedFile[] = [];
    const pubkeys: LoadedFile[] = [];
    const readList = (key: string, sub: string, what: string, into: LoadedFile[]): void => {
      const v = r.raw(key);
      if (v === undefined) return;
      for (const name of splitList(v.value)) {
        const f = this.readNamed(r, key, v, name, sub, what);
        if (f !== undefined) into.push(f);
      }
    };
    readList('certs', 'x509', 'certificate', certs);
    readList('cacerts', 'x509ca', 'CA certificate', cacerts);
    readList('pubkeys', 'pubkey', 'public key', pubkeys);

    for (const sub of s.sections) {
      const isCa = lowerStarts(sub.name, 'cacert');
      if (!isCa && !lowerStarts(sub.name, 'cert')) {
        this.issues.error(sub, sub.path, `unknown section "${sub.name}" in an authentication round (expected cert<suffix>, cacert<suffix>)`);
        continue;
      }
      const cr = new Reader(sub, this.issues);
      cr.checkKeys(CERT_SECTION_KEYS, 'a certificate section');
      const fv = cr.raw('file');
      if (fv === undefined) {
        if (cr.raw('handle') === undefined) cr.error('file', `"${sub.name}" needs a file`, sub);
        continue;
      }
      const f = this.readNamed(cr, 'file', fv, fv.value.trim(), isCa ? 'x509ca' : 'x509', isCa ? 'CA certificate' : 'certificate');
      if (f !== undefined) (isCa ? cacerts : certs).push(f);
    }
    for (const f of cacerts) if (!this.trustAnchors.some((t) => t.path === f.path)) this.trustAnchors.push(f);

    return {
      name: s.name,
      source: { file: s.file, line: s.line },
      round,
      auth,
      authConstraints,
      ikeConstraint,
      id: id ?? (side === 'remote' ? '%any' : undefined),
      certs: certs.map((f) => f.path),
      certData: certs.map((f) => f.data),
      cacerts: cacerts.map((f) => f.path),
      cacertData: cacerts.map((f) => f.data),
      pubkeys: pubkeys.map((f) => f.path),
      pubkeyData: pubkeys.map((f) => f.data),
      revocation: 'relaxed',
    };
  }

  /** Cross-checks that need secrets and credentials: PSKs exist, certificates and keys exist. */
  private checkCredentials(conn: ConnectionConfig, ike: IkeSecret[]): void {
    const rounds = [...conn.local, ...conn.remote];
    const at = (a: AuthConfig): SourceLocation => a.source;
    if (rounds.some((a) => a.auth === 'psk')) {
      const key = `connections.${conn.name}`;
      if (this.ikeSections === 0) {
        this.issues.error(conn.source, key, 'uses auth = psk but secrets has no ike<suffix> { secret = … } section');
      } else if (ike.length > 0) {
        const ids = rounds.map((a) => a.id).filter((x): x is string => x !== undefined && x !== '%any');
        const matches = ike.some((s) => s.ids.length === 0 || s.ids.some((i) => i === '%any' || ids.some((id) => idMatches(i, id))));
        if (!matches) {
          this.issues.warn(conn.source, key, `uses auth = psk but no IKE secret names its identities (${ids.join(', ') || 'none set'}); the peer's address will have to match`);
        }
      }
    }
    for (const a of conn.local) {
      if (a.auth === 'psk' || a.auth === 'any') continue;
      const key = `connections.${conn.name}.${a.name}`;
      if (a.certs.length === 0 && a.pubkeys.length === 0 && this.certificates.length === 0) {
        this.issues.error(at(a), `${key}.certs`, `auth = ${a.auth} needs a certificate: set certs (relative to ${this.dir('x509')}) or put one in x509/`);
      }
      if (this.privateKeys.length === 0 && this.options.loadCredentialDirs !== false) {
        this.issues.error(at(a), `${key}.auth`, `auth = ${a.auth} needs a private key, but private/, rsa/, ecdsa/ and pkcs8/ under ${this.swanctlDir} hold none`);
      }
    }
    for (const a of conn.remote) {
      if (a.auth === 'psk' || a.auth === 'any') continue;
      if (a.cacerts.length === 0 && a.certs.length === 0 && a.pubkeys.length === 0 && this.trustAnchors.length === 0) {
        this.issues.error(at(a), `connections.${conn.name}.${a.name}.cacerts`, `auth = ${a.auth} needs something to verify the peer against: set cacerts, certs or pubkeys, or put the CA in x509ca/`);
      }
    }
  }

  // ---------------------------------------------------------------- children

  private child(s: SettingsSection): ChildConfig | undefined {
    const r = new Reader(s, this.issues);
    r.checkKeys(CHILD_KEYS, 'a CHILD_SA');
    for (const sub of s.sections) this.issues.error(sub, sub.path, `unexpected section "${sub.name}" in a CHILD_SA`);
    const errorsBefore = this.issues.errors.length;

    const ts = (key: string): { text: string[]; parsed: TrafficSelectorConfig[] } => {
      const v = r.raw(key);
      const items = v === undefined ? ['dynamic'] : splitList(v.value);
      const text: string[] = [];
      const parsed: TrafficSelectorConfig[] = [];
      for (const item of items.length > 0 ? items : ['dynamic']) {
        const p = parseTrafficSelector(item);
        if (p.ok) {
          text.push(item);
          parsed.push(p.value);
        } else r.error(key, p.error);
      }
      return { text, parsed };
    };
    const localTs = ts('local_ts');
    const remoteTs = ts('remote_ts');

    let mode: ChildMode = 'tunnel';
    const mv = r.raw('mode');
    if (mv !== undefined) {
      const t = mv.value.trim().toLowerCase();
      if (t === 'tunnel' || t === 'transport' || t === 'pass' || t === 'drop') mode = t;
      else if (t === 'transport_proxy' || t === 'beet') r.error('mode', `mode "${t}" is not supported by tsipsec (expected tunnel, transport, pass, drop)`);
      else r.error('mode', `unknown mode "${mv.value.trim()}" (expected tunnel, transport, pass, drop)`);
    }

    const startAction = r.get<StartAction>(
      'start_action',
      (t) => parseChoice(t, ['none', 'trap', 'start', 'trap|start'] as const, 'start_action', { route: 'trap', restart: 'start', 'start|trap': 'trap|start', 'route|start': 'trap|start' }),
      'none',
    );
    const dpdAction = r.get<DpdAction>('dpd_action', (t) => parseChoice(t, ['clear', 'trap', 'restart'] as const, 'dpd_action', { none: 'clear', route: 'trap', start: 'restart' }), 'clear');
    const closeAction = r.get<CloseAction>('close_action', (t) => parseChoice(t, ['none', 'trap', 'start'] as const, 'close_action', { clear: 'none', route: 'trap', restart: 'start' }), 'none');

    // vici_config.c check_lifetimes(): life = rekey + 10 %, rand = life - rekey.
    // life defaults to 110 % of rekey (strongSwan). For times it is kept fractional: strongSwan's integer
    // arithmetic makes rekey_time = 4s expire at 4 s, the very moment it should rekey.
    const lifetimes = (rekeyKey: string, lifeKey: string, randKey: string, parse: (t: string) => Parsed<number>, rekeyDefault: number, whole = true): [number, number, number] => {
      const rekey = r.get(rekeyKey, parse, rekeyDefault);
      const life = r.maybe(lifeKey, parse) ?? (whole ? Math.floor((rekey * 110) / 100) : (rekey * 110) / 100);
      const rand = r.maybe(randKey, parse) ?? life - Math.min(life, rekey);
      if (rekey > 0 && life > 0 && life < rekey) {
        this.issues.warn(r.raw(lifeKey) ?? s, r.path(lifeKey), `${lifeKey} (${life}) is shorter than ${rekeyKey} (${rekey}): the SA expires before it is rekeyed`);
      }
      return [rekey, life, rand];
    };
    const [rekeyTimeSec, lifeTimeSec, randTimeSec] = lifetimes('rekey_time', 'life_time', 'rand_time', parseDurationSec, DEFAULT_CHILD_REKEY_TIME_SEC, false);
    const [rekeyBytes, lifeBytes, randBytes] = lifetimes('rekey_bytes', 'life_bytes', 'rand_bytes', parseBytes, 0);
    const [rekeyPackets, lifePackets, randPackets] = lifetimes('rekey_packets', 'life_packets', 'rand_packets', (t) => parseUint(t), 0);

    let hwOffload: 'no' | 'auto' = 'no';
    const hv = r.raw('hw_offload');
    if (hv !== undefined) {
      const t = hv.value.trim().toLowerCase();
      const asBool = parseBool(t);
      if (t === 'auto') hwOffload = 'auto';
      else if (asBool.ok && asBool.value) r.error('hw_offload', 'hw_offload = yes requires hardware offload, which tsipsec cannot do (use auto or no)');
      else if (!asBool.ok) r.error('hw_offload', `unknown hw_offload "${hv.value.trim()}" (expected no, auto)`);
    }

    const updown = r.raw('updown')?.value.trim();
    if (updown !== undefined) this.issues.warn(r.raw('updown') ?? s, r.path('updown'), 'accepted but not run: tsipsec does not execute updown scripts');

    const child: ChildConfig = {
      name: s.name,
      source: { file: s.file, line: s.line },
      localTs: localTs.text,
      remoteTs: remoteTs.text,
      localTsSelectors: localTs.parsed,
      remoteTsSelectors: remoteTs.parsed,
      espProposals: this.proposals(r, 'esp_proposals', 'esp'),
      mode,
      startAction,
      dpdAction,
      closeAction,
      rekeyTimeSec,
      lifeTimeSec,
      randTimeSec,
      rekeyBytes,
      lifeBytes,
      randBytes,
      rekeyPackets,
      lifePackets,
      randPackets,
      replayWindow: r.get('replay_window', (t) => parseUint(t, UINT32_MAX), DEFAULT_REPLAY_WINDOW),
      hwOffload,
      ...(updown !== undefined ? { updown } : {}),
    };
    return this.issues.errors.length === errorsBefore ? child : undefined;
  }
}

/** strongSwan inserts a round before the first one with a higher `round` (vici_config.c peer_sn). */
function insertByRound(list: AuthConfig[], a: AuthConfig): void {
  const i = list.findIndex((x) => a.round < x.round);
  if (i < 0) list.push(a);
  else list.splice(i, 0, a);
}

function defaultAuth(side: 'local' | 'remote', at: SourceLocation): AuthConfig {
  return {
    name: side,
    source: { file: at.file, line: at.line },
    round: 0,
    auth: side === 'local' ? 'pubkey' : 'any',
    authConstraints: [],
    ikeConstraint: false,
    id: side === 'remote' ? '%any' : undefined,
    certs: [],
    certData: [],
    cacerts: [],
    cacertData: [],
    pubkeys: [],
    pubkeyData: [],
    revocation: 'relaxed',
  };
}

const SIGNATURE_METHODS = new Set(['pubkey', 'rsa', 'rsa/pss', 'ecdsa', 'ed25519']);
const CONSTRAINT_WORD = /^(\d+|sha1|sha256|sha384|sha512|sha2_256|sha2_384|sha2_512|identity|pubkey|rsa|rsa\/pss|ecdsa|ed25519)$/;

/** swanctl `auth`: psk, or pubkey/rsa/ecdsa/ed25519/rsa/pss with optional `ike:` and `-` constraints. */
function parseAuth(text: string): Parsed<{ auth: AuthMethod; authConstraints: string[]; ikeConstraint: boolean }> {
  const lower = text.toLowerCase();
  if (lower === 'psk') return { ok: true, value: { auth: 'psk', authConstraints: [], ikeConstraint: false } };
  if (lower.startsWith('eap') || lower.startsWith('xauth')) {
    return { ok: false, error: `auth "${text}" is not supported by tsipsec: EAP and XAuth are not implemented (use psk or pubkey)` };
  }
  const ikeConstraint = lower.startsWith('ike:');
  const words = (ikeConstraint ? lower.slice(4) : lower).split('-');
  const method = words[0];
  if (!SIGNATURE_METHODS.has(method)) {
    return { ok: false, error: `unknown auth "${text}" (expected psk, pubkey, rsa, ecdsa, ed25519, optionally with ike: and -sha256 style constraints)` };
  }
  const constraints = words.slice(1);
  const badWord = constraints.find((w) => !CONSTRAINT_WORD.test(w));
  if (badWord !== undefined) return { ok: false, error: `unknown constraint "${badWord}" in auth "${text}"` };
  return { ok: true, value: { auth: method as AuthMethod, authConstraints: constraints, ikeConstraint } };
}

/** strongSwan-style identity match: exact (case-insensitive) or with a leading '*' wildcard. */
function idMatches(pattern: string, id: string): boolean {
  const p = pattern.toLowerCase();
  const i = id.toLowerCase();
  if (p === i) return true;
  if (p.startsWith('*')) return i.endsWith(p.slice(1));
  return false;
}
