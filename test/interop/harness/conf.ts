/**
 * swanctl.conf generator for the failure and lifecycle scenarios: pskConf (configs.ts) plus the knobs
 * those scenarios turn: the PSK, lifetimes, DPD and the actions. The same text is loaded by charon
 * (swanctl --load-all) and by `tsipsec up --config`, so every key written here is one both accept.
 */
import { PSK } from './configs.js';

export interface ScenarioConf {
  local: string;
  remote: string;
  localId: string;
  remoteId: string;
  localTs: string;
  remoteTs: string;
  /** IKE proposals, comma-separated strongSwan syntax. */
  ike?: string;
  esp?: string;
  encap?: boolean;
  psk?: string;
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
  if (o.childRekey) child.push(`        rekey_time = ${o.childRekey}`);
  if (o.childLife) child.push(`        life_time = ${o.childLife}`);
  if (o.dpdAction) child.push(`        dpd_action = ${o.dpdAction}`);
  if (o.closeAction) child.push(`        close_action = ${o.closeAction}`);
  return `connections {
  ipx {
    version = 2
    local_addrs = ${o.local}
    remote_addrs = ${o.remote}
    proposals = ${o.ike ?? 'aes256gcm16-prfsha256-modp2048'}
    encap = ${o.encap ? 'yes' : 'no'}
    mobike = no
    fragmentation = yes
${conn.join('\n')}
    local { auth = psk
      id = ${o.localId} }
    remote { auth = psk
      id = ${o.remoteId} }
    children {
      ipx {
        local_ts = ${o.localTs}
        remote_ts = ${o.remoteTs}
        esp_proposals = ${o.esp ?? 'aes256gcm16'}
        start_action = none
${child.join('\n')}
      }
    }
  }
}
secrets { ike-ipx { id-a = a.ipx.test
  id-b = b.ipx.test
  secret = "${o.psk ?? PSK}" } }
`;
}
