/** swanctl.conf generators for the interop scenarios (../shared/INTEROP.md §4). */
export const PSK = 'tsipsec-interop-psk-0123456789abcdef';

export function pskConf(o: { local: string; remote: string; localId: string; remoteId: string; localTs: string; remoteTs: string; ike?: string; esp?: string; encap?: boolean }): string {
  return `connections {
  ipx {
    version = 2
    local_addrs = ${o.local}
    remote_addrs = ${o.remote}
    proposals = ${o.ike ?? 'aes256gcm16-prfsha256-modp2048'}
    encap = ${o.encap ? 'yes' : 'no'}
    mobike = no
    fragmentation = yes
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
      }
    }
  }
}
secrets { ike-ipx { id-a = a.ipx.test
  id-b = b.ipx.test
  secret = "${PSK}" } }
`;
}

