/** Virtual IP pools (RFC 7296 §2.19 responder side; strongSwan `pools { addrs }` semantics). */
import { describe, expect, it } from 'vitest';
import { AddressPools, poolRange } from '../../../src/ike/pools.js';

const ip = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));

describe('poolRange', () => {
  it('IPv4 prefixes exclude the network and broadcast address; /31, /32 and ranges keep every address', () => {
    expect(poolRange('198.18.200.0/24')).toEqual({ family: 4, first: 0xc612c801n, last: 0xc612c8fen });
    expect(poolRange('198.18.200.7/24')).toEqual({ family: 4, first: 0xc612c801n, last: 0xc612c8fen });
    expect(poolRange('198.18.200.4/31')).toEqual({ family: 4, first: 0xc612c804n, last: 0xc612c805n });
    expect(poolRange('198.18.200.10-198.18.200.12')).toEqual({ family: 4, first: 0xc612c80an, last: 0xc612c80cn });
    expect(poolRange('2001:db8::/126')).toEqual({ family: 6, first: 0x20010db8n << 96n, last: (0x20010db8n << 96n) + 3n });
  });

  it('rejects what is not a prefix or range', () => {
    for (const bad of ['', 'x', '198.18.200.0/33', '198.18.200.9-198.18.200.1', '198.18.200.1-2001:db8::1', '198.18.200.0/x']) {
      expect(() => poolRange(bad), bad).toThrow();
    }
  });
});

describe('AddressPools', () => {
  it('hands out distinct addresses until exhausted, then undefined; release frees an owner\'s leases', () => {
    const p = new AddressPools([{ name: 'a', addrs: '198.18.200.0/30', dns: [] }]); // .1 and .2
    expect(Array.from(p.acquire(['a'], 4, 1)!.address)).toEqual(Array.from(ip('198.18.200.1')));
    expect(Array.from(p.acquire(['a'], 4, 2)!.address)).toEqual(Array.from(ip('198.18.200.2')));
    expect(p.acquire(['a'], 4, 3)).toBeUndefined();
    expect(p.acquire(['a'], 6, 3)).toBeUndefined(); // no IPv6 pool
    expect(p.release(1)).toBe(1);
    expect(p.release(1)).toBe(0);
    expect(p.leasesOf(3)).toEqual([]);
    expect(Array.from(p.acquire(['a'], 4, 3)!.address)).toEqual(Array.from(ip('198.18.200.1')));
    expect(p.status()).toEqual([{ name: 'a', size: 2n, leased: 2 }]);
  });

  it('the same owner gets its lease again; a requested free address is honoured, a taken one is not', () => {
    const p = new AddressPools([{ name: 'a', addrs: '198.18.200.0/24', dns: [] }, { name: 'b', addrs: '198.18.201.0/24', dns: [] }]);
    const l1 = p.acquire(['a'], 4, 7, ip('198.18.200.50'))!;
    expect(p.leasesOf(7)).toEqual(['198.18.200.50']);
    expect(p.acquire(['a'], 4, 7)).toBe(l1);
    expect(p.leasesOf(8)).toEqual([]);
    expect(p.acquire(['a'], 4, 8, ip('198.18.200.50'))!.address).not.toEqual(ip('198.18.200.50'));
    // A request outside the first pool but inside the second is served from the second.
    expect(p.acquire(['a', 'b'], 4, 9, ip('198.18.201.9'))!.pool).toBe('b');
  });
});
