/**
 * Messages between the main thread (IKE, control socket, timers) and the data-plane worker
 * (dataplane-thread.ts), which owns the TUN reads and the ESP-in-UDP sockets' reads (dataplane-worker.ts
 * has the why). Everything here is structured-clone data: SA keys travel as Uint8Arrays.
 *
 *   main → worker (a MessagePort read with receiveMessageOnPort after an eventfd wake-up):
 *     install / retire / remove / sweep / warm   the DataPath calls, replayed on the worker's DataPath
 *     seal    TUN packets the main thread holds (a trap policy released them)
 *     open    ESP packets the main thread read (raw ESP, IP protocol 50)
 *     write   an IP packet for the TUN device
 *     stats   asks for a DataPlaneSnapshot (answered on the stats port, signalled through Atomics)
 *     close   stop the loop
 *   worker → main (parentPort):
 *     ready, datagram (IKE / keepalive / invalid on 4500: the main thread's Tunnel handles it),
 *     nopolicy (a TUN packet no child matches: the trap table decides), raw (ESP for a child that is not
 *     UDP-encapsulated: the main thread's raw socket sends it), error, closed
 */
import type { ChildSaInfo } from '../ike/events.js';
import type { Datagram, SharedUdpSocket, UdpOffloadCounters, UdpStats } from '../net/types.js';
import type { TunOffloadCounters, TunStats } from '../tun/types.js';

/** Offload counters of the TUN device and the UDP transport together (status `offload`). */
export type OffloadCounters = TunOffloadCounters & UdpOffloadCounters;

export function emptyOffloadCounters(): OffloadCounters {
  return {
    tunSuperPackets: 0, tunSegments: 0, tunMalformed: 0, tunGroWrites: 0, tunGroSegments: 0,
    udpGsoSends: 0, udpGsoSegments: 0, udpGroReceives: 0, udpGroSegments: 0,
  };
}

/** The counters of a TUN device and a UDP transport added up; null when neither has any. */
export function sumOffload(...parts: ReadonlyArray<Partial<OffloadCounters> | undefined>): OffloadCounters | null {
  let out: OffloadCounters | null = null;
  for (const p of parts) {
    if (p === undefined) continue;
    out ??= emptyOffloadCounters();
    for (const k of Object.keys(out) as (keyof OffloadCounters)[]) out[k] += p[k] ?? 0;
  }
  return out;
}

/** What the worker needs to start (Worker `workerData`; the ports go in the transfer list). */
export interface DataPlaneInit {
  readonly tun: { readonly fd: number; readonly name: string; readonly mtu: number; readonly offload: boolean };
  /** The ESP-in-UDP sockets (port 4500) whose reads the worker takes over. */
  readonly sockets: readonly SharedUdpSocket[];
  readonly gso: boolean;
  /** ESP crypto: the provider by name, and whether the AEAD runs on OpenSSL EVP contexts (node-evp.ts). */
  readonly provider: 'node' | 'noble';
  readonly evp: boolean;
  /** eventfd the main thread writes after posting on `control`. */
  readonly wakeFd: number;
  /** The main thread's performance.timeOrigin: `now` values sent across are on its clock. */
  readonly mainTimeOrigin: number;
  /** After a wake-up, poll without sleeping for this many µs (0: always sleep in poll). */
  readonly busyPollUs: number;
  /** Int32Array over it: [0] counts stats answers. */
  readonly signal: SharedArrayBuffer;
}

export type ToWorker =
  | { readonly op: 'install'; readonly info: ChildSaInfo; readonly nowMs: number; readonly defer: boolean }
  | { readonly op: 'retire'; readonly spiIn: number; readonly untilMs: number }
  | { readonly op: 'remove'; readonly spiIn: number }
  | { readonly op: 'sweep'; readonly nowMs: number }
  | { readonly op: 'warm'; readonly info: ChildSaInfo }
  | { readonly op: 'seal'; readonly packets: readonly Uint8Array[] }
  | { readonly op: 'open'; readonly packets: readonly Uint8Array[] }
  | { readonly op: 'write'; readonly packets: readonly Uint8Array[] }
  | { readonly op: 'stats' }
  | { readonly op: 'close' };

export type FromWorker =
  | { readonly op: 'ready' }
  | { readonly op: 'datagram'; readonly d: Datagram }
  | { readonly op: 'nopolicy'; readonly packet: Uint8Array }
  | { readonly op: 'raw'; readonly data: Uint8Array; readonly remote: string; readonly local: string }
  | { readonly op: 'error'; readonly message: string }
  | { readonly op: 'closed' };

/** Per child SA pair: packets/bytes in and out (EspSa.stats) and the inbound SA's drops. */
export interface ChildSnapshot {
  readonly spiIn: number;
  readonly inStats: readonly number[];
  readonly outStats: readonly number[];
  readonly inDrops: readonly number[];
}

export interface DataPlaneSnapshot {
  readonly tunDrops: readonly number[];
  readonly espDrops: readonly number[];
  readonly children: readonly ChildSnapshot[];
  readonly tun: TunStats;
  readonly udp: UdpStats;
  readonly offload: OffloadCounters;
  /** Poll wake-ups of the worker loop (each one is a thread wake-up). */
  readonly wakeups: number;
  /** Milliseconds the worker spent handling what its wake-ups found (poll returned → poll called again). */
  readonly busyMs: number;
  /** Wake-ups by handling time: < 25, 50, 100, 200, 500, 1000, 5000 µs and longer (BUSY_BUCKETS_US). */
  readonly busyHistogram: readonly number[];
  readonly heapUsedBytes: number;
}

/** Upper bounds (µs) of the busy-time histogram's buckets; a last bucket holds the longer ones. */
export const BUSY_BUCKETS_US = [25, 50, 100, 200, 500, 1000, 5000] as const;

/** The data-plane thread as `status --json` shows it (`dataplane`). */
export interface DataPlaneThreadStats {
  readonly thread: 'worker';
  readonly wakeups: number;
  readonly busyMs: number;
  /** Wake-ups by handling time: < 25, 50, 100, 200, 500, 1000, 5000 µs and longer. */
  readonly busyHistogram: readonly number[];
  /** The worker's heap (process.memoryUsage is per process; this is v8.getHeapStatistics in the worker). */
  readonly heapUsedBytes: number;
}
