/**
 * The one swanctl.conf generator of the interop harness (../shared/INTEROP.md §4). The same text is
 * loaded by charon (swanctl --load-all) and by `tsipsec up --config`, so every key written here is one
 * both accept. Knobs: proposals, encapsulation, mode, PSK or certificates, lifetimes, DPD and actions.
 */
export const PSK = 'tsipsec-interop-psk-0123456789abcdef';

export interface ScenarioConf {
  local: string;
  remote: string;
  localId: string;
  remoteId: string;
  localTs: string;
  remoteTs: string;
  /** IKE proposals, comma-separated strongSwan syntax. */
  ike?: string;
  /** ESP proposals, e.g. 'aes256gcm16' or 'aes256gcm16-esn'. */
  esp?: string;
  encap?: boolean;
  /** children.<c>.mode (tunnel when absent). */
  mode?: 'tunnel' | 'transport';
  psk?: string;
  /** auth = pubkey with this certificate file (x509/<cert>); no secrets section then. */
  cert?: string;
  /** remote.cacerts (x509ca/<cacert>) with certificates. */
  cacert?: string;
  /** connections.<c>.rekey_time (IKE SA), e.g. '20s'. */
  ikeRekey?: string;
  /** children.<c>.rekey_time / life_time. */
  childRekey?: string;
  childLife?: string;
  dpdDelay?: string;
  dpdAction?: 'clear' | 'trap' | 'restart';
  closeAction?: 'none' | 'trap' | 'start';
}

export function scenarioConf(o: ScenarioConf): string {
  const conn: string[] = [];
  if (o.ikeRekey) conn.push(`    rekey_time = ${o.ikeRekey}`);
  if (o.dpdDelay) conn.push(`    dpd_delay = ${o.dpdDelay}`);
  const child: string[] = [];
  if (o.mode) child.push(`        mode = ${o.mode}`);
  if (o.childRekey) child.push(`        rekey_time = ${o.childRekey}`);
  if (o.childLife) child.push(`        life_time = ${o.childLife}`);
  if (o.dpdAction) child.push(`        dpd_action = ${o.dpdAction}`);
  if (o.closeAction) child.push(`        close_action = ${o.closeAction}`);
  const local = o.cert ? `    local { auth = pubkey
      certs = ${o.cert}
      id = ${o.localId} }` : `    local { auth = psk
      id = ${o.localId} }`;
  const remote = o.cert ? `    remote { auth = pubkey
      id = ${o.remoteId}${o.cacert ? `\n      cacerts = ${o.cacert}` : ''} }` : `    remote { auth = psk
      id = ${o.remoteId} }`;
  const secrets = o.cert ? '' : `secrets { ike-ipx { id-a = a.ipx.test
  id-b = b.ipx.test
  secret = "${o.psk ?? PSK}" } }
`;
  return `connections {
  ipx {
    version = 2
    local_addrs = ${o.local}
    remote_addrs = ${o.remote}
    proposals = ${o.ike ?? 'aes256gcm16-prfsha256-modp2048'}
    encap = ${o.encap ? 'yes' : 'no'}
    mobike = no
    fragmentation = yes
${conn.map((l) => l + '\n').join('')}${local}
${remote}
    children {
      ipx {
        local_ts = ${o.localTs}
        remote_ts = ${o.remoteTs}
        esp_proposals = ${o.esp ?? 'aes256gcm16'}
        start_action = none
${child.map((l) => l + '\n').join('')}      }
    }
  }
}
${secrets}`;
}
