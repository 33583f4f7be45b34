/**
 * libreswan 4.10 (pluto, unpacked with dpkg -x: it conflicts with strongSwan's packages) as the peer in
 * netns <p>-b: its ipsec.conf and ipsec.secrets (../shared/INTEROP.md §5). scenario.sh starts pluto with
 * these, and builds its NSS database (certutil/pk12util) from ca.pem and b.p12 for certificates.
 */
import { PSK } from './conf.js';

export interface LibreswanConf {
  /** Where pluto's log goes (a path inside the kernel that runs it). */
  logFile: string;
  mode: 'tunnel' | 'transport';
  auth: 'psk' | 'cert';
  /** ike= / esp= in libreswan syntax (aes_gcm256-sha2_256-modp2048 = strongSwan aes256gcm16-prfsha256-modp2048). */
  ike?: string;
  esp?: string;
  /** encapsulation= (auto lets pluto follow NAT detection, i.e. tsipsec's forced encapsulation). */
  encapsulation?: 'yes' | 'no' | 'auto';
}

/** The NSS nickname of b's certificate: the PKCS#12 friendly name. */
export const LS_CERT_NICK = 'b.ipx.test';

export function libreswanConf(o: LibreswanConf): string {
  const auth = o.auth === 'cert'
    ? `    authby=rsasig\n    leftcert=${LS_CERT_NICK}\n    leftsendcert=always\n    rightca=%same\n`
    : '    authby=secret\n';
  const subnets = o.mode === 'tunnel'
    ? '    leftsubnet=198.19.2.0/24\n    rightsubnet=198.19.1.0/24\n    leftsourceip=198.19.2.1\n'
    : '';
  return `config setup
    logfile=${o.logFile}
    logappend=no
    logip=yes
    plutodebug="base"
    dnssec-enable=no
    uniqueids=yes
conn ipx
    ikev2=insist
${auth}    left=198.18.10.2
    leftid=@b.ipx.test
    right=198.18.10.1
    rightid=@a.ipx.test
    type=${o.mode}
${subnets}    ike=${o.ike ?? 'aes_gcm256-sha2_256-modp2048'}
    esp=${o.esp ?? 'aes_gcm256'}
    pfs=no
    encapsulation=${o.encapsulation ?? 'auto'}
    mobike=no
    fragmentation=yes
    leftupdown=/usr/libexec/ipsec/_updown
    auto=add
`;
}

export function libreswanSecrets(psk = PSK): string {
  return `@b.ipx.test @a.ipx.test : PSK "${psk}"\n`;
}
