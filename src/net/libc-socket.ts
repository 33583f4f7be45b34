/**
 * The libc socket calls the raw ESP adapter needs (Node has no raw sockets), bound through koffi like
 * src/tun/libc.ts. Loaded lazily, so importing raw-esp.ts elsewhere (or a test that only uses the
 * in-memory double or the parser) never touches libc.
 *
 * Pointer arguments are declared `void *` and passed Uint8Arrays: koffi hands over the view's own
 * memory (byteOffset included) for the duration of a synchronous call, so reads land in place.
 */
import koffi from 'koffi';

/** sys/socket.h, netinet/in.h (Linux x86-64, arm64). */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
/** Like SO_SNDBUF / SO_RCVBUF but past net.core.wmem_max / rmem_max; needs CAP_NET_ADMIN. */
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_ERROR = 4;
/** sizeof(struct sockaddr_in) / sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;
/** errno (asm-generic/errno-base.h, errno.h). */
export const EINTR = 4;
export const EAGAIN = 11;
export const EPERM = 1;
export const EACCES = 13;
export const EADDRNOTAVAIL = 99;
export const EAFNOSUPPORT = 97;
/** poll.h */
export const POLLIN = 0x001;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

export interface SocketLibc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint8Array): number;
  /** recvfrom(2); `addr`/`addrLen` may be null when the sender is not wanted. */
  recvfrom(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array | null, addrLen: Uint8Array | null): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  close(fd: number): number;
  eventfd(initval: number, flags: number): number;
  /** poll(2) run on koffi's async worker: `fds` holds `count` struct pollfd (8 bytes each). */
  pollAsync(fds: Uint8Array, count: number, timeoutMs: number, done: (err: unknown, result: number) => void): void;
  /** The calling thread's errno after the last call (koffi saves it per call). */
  errno(): number;
}

let cached: SocketLibc | undefined;

/** Binds libc once. Throws (naming the platform) off Linux. */
export function socketLibc(): SocketLibc {
  if (cached) return cached;
  if (process.platform !== 'linux') throw new Error(`raw ESP sockets via libc are Linux-only (platform is ${process.platform})`);
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const bind = lib.func('int bind(int fd, const void *addr, unsigned int len)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, unsigned int len)');
  const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *value, void *len)');
  const recvfrom = lib.func('long recvfrom(int fd, void *buf, unsigned long len, int flags, void *addr, void *addrLen)');
  const sendto = lib.func('long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, unsigned int addrLen)');
  const write = lib.func('long write(int fd, const void *buf, unsigned long count)');
  const close = lib.func('int close(int fd)');
  const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
  const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
  cached = {
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    getsockopt: (fd, level, name, value, len) => getsockopt(fd, level, name, value, len) as number,
    recvfrom: (fd, buf, len, flags, addr, addrLen) => Number(recvfrom(fd, buf, len, flags, addr, addrLen)),
    sendto: (fd, buf, len, flags, addr, addrLen) => Number(sendto(fd, buf, len, flags, addr, addrLen)),
    write: (fd, buf, len) => Number(write(fd, buf, len)),
    close: (fd) => close(fd) as number,
    eventfd: (initval, flags) => eventfd(initval, flags) as number,
    pollAsync: (fds, count, timeoutMs, done) => poll.async(fds, count, timeoutMs, done),
    errno: () => koffi.errno(),
  };
  return cached;
}
