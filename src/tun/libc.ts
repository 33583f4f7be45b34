/**
 * The few libc calls the Linux TUN adapter needs, bound through koffi (FFI with prebuilt binaries; no
 * compiler, no install script). Loaded lazily so importing the TUN module on another OS, or in a test
 * that only uses MemoryTun, never touches libc.
 *
 * ioctl is variadic in C; declaring its third argument as `void *` is ABI-correct on x86-64 and arm64 for
 * a pointer argument, which is all TUNSETIFF takes.
 */
import koffi from 'koffi';

/** fcntl.h / asm-generic (Linux x86-64, arm64). */
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
/** errno values (asm-generic/errno-base.h). */
export const EINTR = 4;
export const EAGAIN = 11;
/** linux/if_tun.h: _IOW('T', 202, int). */
export const TUNSETIFF = 0x400454ca;
/** linux/if_tun.h: _IOW('T', 208, unsigned int); its argument is the flag word itself, not a pointer. */
export const TUNSETOFFLOAD = 0x400454d0;
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
/** linux/if.h: IFNAMSIZ; struct ifreq is 40 bytes on 64-bit (16-byte name + 24-byte union). */
export const IFNAMSIZ = 16;
export const IFREQ_SIZE = 40;

export interface Libc {
  open(path: string, flags: number): number;
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  /** ioctl with an integer argument (TUNSETOFFLOAD). */
  ioctlValue(fd: number, request: number, value: number): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  /** The calling thread's errno after the last call (koffi saves it per call). */
  errno(): number;
  /** A libuv poll handle on `fd` (no thread-pool thread, no syscall on the JS side while idle). */
  pollReadable(fd: number, onReadable: () => void): { stop(): void; close(): void };
  /** poll(2) run on koffi's async worker: `fds` holds `count` struct pollfd (8 bytes each). */
  pollAsync(fds: Uint8Array, count: number, timeoutMs: number, done: (err: unknown, result: number) => void): void;
  /** poll(2) on the calling thread (blocks it: only for the data-plane worker, runtime/dataplane-thread.ts). */
  poll(fds: Uint8Array, count: number, timeoutMs: number): number;
  eventfd(initval: number, flags: number): number;
}

let cached: Libc | undefined;

/** Binds libc once. Throws (naming the platform) off Linux. */
export function libc(): Libc {
  if (cached) return cached;
  if (process.platform !== 'linux') throw new Error(`TUN via libc is Linux-only (platform is ${process.platform})`);
  const lib = koffi.load('libc.so.6');
  const open = lib.func('int open(const char *path, int flags)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, void *arg)');
  const ioctlValue = lib.func('int ioctl(int fd, unsigned long request, unsigned long arg)');
  const read = lib.func('long read(int fd, void *buf, unsigned long count)');
  const write = lib.func('long write(int fd, const void *buf, unsigned long count)');
  const close = lib.func('int close(int fd)');
  const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
  const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
  cached = {
    open: (path, flags) => open(path, flags) as number,
    ioctl: (fd, request, arg) => ioctl(fd, request, arg) as number,
    ioctlValue: (fd, request, value) => ioctlValue(fd, request, value) as number,
    read: (fd, buf, len) => Number(read(fd, buf, len)),
    write: (fd, buf, len) => Number(write(fd, buf, len)),
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
    pollReadable: (fd, onReadable) => {
      const h = koffi.node.poll(fd, { readable: true }, () => onReadable());
      return { stop: () => h.stop(), close: () => h.close() };
    },
    pollAsync: (fds, count, timeoutMs, done) => poll.async(fds, count, timeoutMs, done),
    poll: (fds, count, timeoutMs) => poll(fds, count, timeoutMs) as number,
    eventfd: (initval, flags) => eventfd(initval, flags) as number,
  };
  return cached;
}
