import { describe, expect, it } from 'vitest';
import { openLinuxTun } from '../../../src/tun/linux.js';
import { IFF_NO_PI, IFF_TUN, TUNSETIFF } from '../../../src/tun/libc.js';

// Option checks happen before /dev/net/tun is opened, so these run without root.
describe('openLinuxTun option checks', () => {
  it('rejects names the kernel cannot take (IFNAMSIZ 16 incl. NUL, no / or spaces)', async () => {
    await expect(openLinuxTun({ name: 'a-name-of-16-chr' })).rejects.toThrow(/name/);
    await expect(openLinuxTun({ name: 'a/b' })).rejects.toThrow(/name/);
    await expect(openLinuxTun({ name: '' })).rejects.toThrow(/name/);
  });

  it('rejects an MTU, batch size, head/tailroom or read mode out of range, naming the field', async () => {
    await expect(openLinuxTun({ mtu: 40 })).rejects.toThrow(/mtu/);
    await expect(openLinuxTun({ mtu: 70000 })).rejects.toThrow(/mtu/);
    await expect(openLinuxTun({ maxBatch: 0 })).rejects.toThrow(/maxBatch/);
    await expect(openLinuxTun({ headroom: -1 })).rejects.toThrow(/headroom/);
    await expect(openLinuxTun({ tailroom: 1.5 })).rejects.toThrow(/tailroom/);
    await expect(openLinuxTun({ readMode: 'blocking' as never })).rejects.toThrow(/readMode/);
  });
});

describe('linux/if_tun.h constants', () => {
  it('TUNSETIFF is _IOW(\'T\', 202, int) and the flags match the header', () => {
    // _IOW(type, nr, size) = (1 << 30) | (size << 16) | (type << 8) | nr on x86-64/arm64 (asm-generic/ioctl.h)
    const iow = ((1 << 30) | (4 << 16) | ('T'.charCodeAt(0) << 8) | 202) >>> 0;
    expect(TUNSETIFF).toBe(iow);
    expect(IFF_TUN).toBe(0x0001);
    expect(IFF_NO_PI).toBe(0x1000);
  });
});
