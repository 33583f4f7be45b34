import { describe, expect, it } from 'vitest';
import { decodeSecret, parseBool, parseBytes, parseDurationSec, parseUint, splitList } from '../../../src/config/values.js';
import { checkProposal } from '../../../src/config/proposals.js';
import { parseTrafficSelector } from '../../../src/config/traffic-selector.js';
import { checkIkeAddress } from '../../../src/config/address.js';

describe('values (vici_config.c syntaxes)', () => {
  it('durations: bare seconds and s/m/h/d suffixes, case-insensitive, space before the unit', () => {
    expect([parseDurationSec('90'), parseDurationSec('60s'), parseDurationSec('5m'), parseDurationSec('1h'), parseDurationSec('2d'), parseDurationSec('3 H')]).toEqual(
      [90, 60, 300, 3600, 172800, 10800].map((value) => ({ ok: true, value })),
    );
    for (const bad of ['', '1w', '-5', '1.5h', 'h', '10 minutes']) expect(parseDurationSec(bad).ok).toBe(false);
  });

  it('bytes: k/M/G are powers of 1024', () => {
    expect(parseBytes('500')).toEqual({ ok: true, value: 500 });
    expect(parseBytes('2k')).toEqual({ ok: true, value: 2048 });
    expect(parseBytes('10M')).toEqual({ ok: true, value: 10 * 1048576 });
    expect(parseBytes('1g')).toEqual({ ok: true, value: 1073741824 });
    expect(parseBytes('1T').ok).toBe(false);
  });

  it('counts and booleans', () => {
    expect(parseUint('42')).toEqual({ ok: true, value: 42 });
    expect(parseUint('70000', 65535).ok).toBe(false);
    expect(parseUint('1k').ok).toBe(false);
    for (const t of ['yes', 'TRUE', 'enabled', '1']) expect(parseBool(t)).toEqual({ ok: true, value: true });
    for (const t of ['no', 'False', 'disabled', '0']) expect(parseBool(t)).toEqual({ ok: true, value: false });
    expect(parseBool('maybe').ok).toBe(false);
    expect(splitList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
  });

  it('secrets: plain text, 0x hex, 0s base64', () => {
    expect(decodeSecret('abc')).toEqual({ ok: true, value: new Uint8Array([0x61, 0x62, 0x63]) });
    expect(decodeSecret('0x0102ff')).toEqual({ ok: true, value: new Uint8Array([1, 2, 255]) });
    expect(decodeSecret('0X0a:0B')).toEqual({ ok: true, value: new Uint8Array([10, 11]) });
    expect(decodeSecret('0sAQL/')).toEqual({ ok: true, value: new Uint8Array([1, 2, 255]) });
    expect(decodeSecret('0xzz').ok).toBe(false);
    expect(decodeSecret('0s!!').ok).toBe(false);
  });
});

describe('proposal syntax', () => {
  it('accepts strongSwan proposals made of known keywords', () => {
    for (const p of ['aes256gcm16-prfsha256-x25519', 'aes128-sha256-modp2048', 'AES256GCM16-SHA256-ECP256', 'chacha20poly1305-prfsha512-curve25519', 'default']) {
      expect(checkProposal(p, 'ike')).toEqual({ ok: true, value: p.toLowerCase() });
    }
    for (const p of ['aes256gcm16', 'aes128gcm128-x25519-esn', 'aes256-sha384-noesn-esn', 'default']) {
      expect(checkProposal(p, 'esp')).toEqual({ ok: true, value: p });
    }
  });

  it('rejects unknown keywords and broken structure', () => {
    const cases: Array<[string, 'ike' | 'esp', RegExp]> = [
      ['aes256gcm16-prfsha256-modp1024', 'ike', /unknown keyword "modp1024"/],
      ['3des-sha1-modp2048', 'ike', /unknown keyword "3des"/],
      ['aes256--sha256-x25519', 'ike', /empty keyword/],
      ['aes256gcm16-prfsha256', 'ike', /key exchange method .* mandatory/],
      ['aes256-prfsha256-x25519', 'ike', /integrity algorithm .* mandatory/],
      ['aes256gcm16-x25519', 'ike', /PRF .* mandatory/],
      ['aes256gcm16-aes256-sha256', 'esp', /cannot be mixed/],
      ['aes256', 'esp', /integrity algorithm/],
      ['aes256gcm16-esn-prfsha256-x25519', 'ike', /esn\/noesn apply to ESP/],
      ['default-x25519', 'ike', /"default" must be the whole proposal/],
    ];
    for (const [p, proto, re] of cases) {
      const r = checkProposal(p, proto);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(re);
    }
  });
});

describe('traffic selectors', () => {
  it('parses dynamic, CIDR, host, range and proto/port forms', () => {
    expect(parseTrafficSelector('dynamic')).toEqual({ ok: true, value: { kind: 'dynamic', text: 'dynamic', protocol: 0, fromPort: 0, toPort: 65535 } });
    const net = parseTrafficSelector('198.19.1.0/24');
    expect(net.ok && net.value.kind === 'range' && [...net.value.start, ...net.value.end]).toEqual([198, 19, 1, 0, 198, 19, 1, 255]);
    const host = parseTrafficSelector('10.0.0.1[tcp/80]');
    expect(host.ok && host.value).toMatchObject({ kind: 'range', family: 4, protocol: 6, fromPort: 80, toPort: 80 });
    const v6 = parseTrafficSelector('2001:db8::/127[udp/1000-2000]');
    expect(v6.ok && v6.value.kind === 'range' && Buffer.from(v6.value.end).toString('hex')).toBe('20010db8000000000000000000000001');
    expect(v6.ok && v6.value).toMatchObject({ family: 6, protocol: 17, fromPort: 1000, toPort: 2000 });
    expect(parseTrafficSelector('dynamic[icmp]')).toMatchObject({ ok: true, value: { protocol: 1, fromPort: 0, toPort: 65535 } });
    expect(parseTrafficSelector('0.0.0.0/0[any/opaque]')).toMatchObject({ ok: true, value: { protocol: 0, fromPort: 65535, toPort: 0 } });
    expect(parseTrafficSelector('10.0.0.1-10.0.0.9[47]')).toMatchObject({ ok: true, value: { protocol: 47 } });
    expect(parseTrafficSelector('dynamic[tcp/https]')).toMatchObject({ ok: true, value: { fromPort: 443, toPort: 443 } });
  });

  it('rejects bad selectors', () => {
    for (const t of ['198.19.1.0/33', '198.19.300.0/24', 'dynamc', '10.0.0.9-10.0.0.1', '10.0.0.1[tcp/80', '10.0.0.1[foo]', '10.0.0.1[tcp/99999]', '1.2.3.4-::1']) {
      expect(parseTrafficSelector(t).ok).toBe(false);
    }
  });

  it('checks IKE addresses', () => {
    for (const a of ['%any', '198.18.10.1', '2001:db8::1', '::ffff:1.2.3.4', 'vpn.example.com', '10.0.0.0/8', '10.0.0.1-10.0.0.20']) expect(checkIkeAddress(a)).toBeUndefined();
    for (const a of ['198.18.10.300', '1.2.3', 'bad_host!', '10.0.0.0/40', '2001:db8:::1', '%anyx']) expect(checkIkeAddress(a)).toBeDefined();
  });
});
