/**
 * Faults and floods against running `tsipsec up` processes (real namespaces, UDP, TUN; as root):
 *
 *   1. a half-open IKE_SA_INIT flood (thousands per second, random SPIs, from 16 addresses × 16
 *      source ports of an attacker namespace) while the legitimate initiator re-establishes again
 *      and again: ≥ 99% of the attempts succeed, the responder answers with COOKIEs, its RSS stays
 *      bounded;
 *   2. ESP datagrams sealed with the real keys (taken from the key log) but replayed, and tampered,
 *      truncated and unknown-SPI ones, injected at the responder: each is counted as a drop by
 *      reason in `status --json` and nothing reaches the TUN device (a UDP listener behind it hears
 *      nothing; one fresh, correctly sealed packet does get through, so the listener would notice);
 *   3. a peer crash: SIGKILL the initiator → the responder's DPD clears the SA (dpd_action = clear);
 *      the initiator restarts and the tunnel is back; SIGKILL the responder → the initiator's DPD
 *      restarts (dpd_action = restart) and re-establishes once the responder is back.
 *
 * Namespaces `tsh-d-*`, addresses in 198.18.0.0/15, everything removed in afterAll.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeylog } from '../../src/capture/keylog.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { createEspSa } from '../../src/esp/sa.js';
import { espSeal, espTailroom } from '../../src/esp/seal.js';
import { controlRequest } from '../../src/runtime/control.js';
import { writeIpv4Header } from '../../src/wire/ip.js';
import { ikeSession } from '../../fuzz/fixtures.js';
import { ADDR, ATTACKER_ADDRS, childUp, DaemonLab, labAvailable, LAN, sleep, swanctlConf, type Daemon } from '../unit/hostile/daemon-lab.js';

const missing = labAvailable();
if (missing) {
  if (process.env.CI) throw new Error(`hostile e2e: missing in CI: ${missing}`);
  console.warn(`\n!!! hostile daemon e2e NOT RUN: missing ${missing} !!!\n`);
}

const FLOODER = `
const dgram = require('node:dgram'); const crypto = require('node:crypto');
const [tmplHex, addrs, target, rate, seconds] = [process.argv[1], process.argv[2].split(','), process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const tmpl = Buffer.from(tmplHex, 'hex'); let sent = 0, replies = 0, cookies = 0;
const socks = [];
for (const a of addrs) for (let i = 0; i < 16; i++) {
  const s = dgram.createSocket('udp4'); s.bind(0, a);
  s.on('message', (m) => { replies++; if (m.length >= 36 && m[16] === 41 && m.readUInt16BE(34) === 16390) cookies++; });
  s.on('error', () => {}); socks.push(s);
}
const perTick = Math.max(1, Math.round(rate / 100)); const end = Date.now() + seconds * 1000;
const t = setInterval(() => {
  if (Date.now() >= end) { clearInterval(t); setTimeout(() => { process.stdout.write(JSON.stringify({ sent, replies, cookies }) + '\\n'); process.exit(0); }, 500); return; }
  for (let i = 0; i < perTick; i++) { const b = Buffer.from(tmpl); crypto.randomFillSync(b, 0, 8); socks[(sent++) % socks.length].send(b, 500, target); }
}, 10);`;

const LISTENER = `
const s = require('node:dgram').createSocket('udp4'); let n = 0;
s.on('message', () => { n++; process.stdout.write('got ' + n + '\\n'); });
s.bind(5555, process.argv[1], () => process.stdout.write('listening\\n'));`;

describe.runIf(!missing)('hostile: floods, forged ESP and peer crashes against tsipsec up', () => {
  const lab = new DaemonLab('tsh-d-');
  const psk = `0s${randomBytes(24).toString('base64')}`;
  let a: Daemon;
  let b: Daemon;
  // Short retransmits so DPD gives up in seconds: 1 s, base 1, 2 retransmits.
  const ssConf = join(lab.work, 'strongswan.conf');
  const env = { STRONGSWAN_CONF: ssConf };
  const confA = swanctlConf('a', { psk, dpdDelaySec: 2, dpdAction: 'restart' });
  const confB = swanctlConf('b', { psk, anyRemote: true, dpdDelaySec: 2, dpdAction: 'clear' });

  beforeAll(async () => {
    writeFileSync(ssConf, 'charon {\n  retransmit_timeout = 1\n  retransmit_base = 1\n  retransmit_tries = 2\n}\n');
    await lab.setup();
    b = lab.start('b', confB, [], env);
    await sleep(700);
    a = lab.start('a', confA, [], env);
    await lab.waitFor(a, childUp, 20_000, 'first establishment');
  }, 60_000);

  afterAll(async () => {
    await lab.cleanup();
  }, 30_000);

  it('half-open flood: cookies switch on, the legitimate initiator still establishes (≥ 99%), RSS bounded', async () => {
    const init = ikeSession().sentByI[0]!;
    expect(init[18]).toBe(34); // IKE_SA_INIT
    const rss0 = lab.rssKb(b);
    const seconds = 40;
    const flood = lab.net.spawnIn('x', process.execPath, ['-e', FLOODER, Buffer.from(init).toString('hex'), ATTACKER_ADDRS.join(','), ADDR.b, '3000', String(seconds)]);
    let floodOut = '';
    flood.stdout?.on('data', (d: Buffer) => { floodOut += d.toString(); });
    const floodDone = new Promise<void>((r) => flood.once('exit', () => r()));
    await sleep(2000);
    let ok = 0;
    let attempts = 0;
    let rssMax = rss0;
    const failures: string[] = [];
    const end = Date.now() + (seconds - 6) * 1000;
    while (Date.now() < end && attempts < 40) {
      attempts++;
      try {
        await controlRequest(a.socket, { cmd: 'terminate', ike: 'gw' }, 5000).catch(() => undefined);
        await lab.waitFor(a, (s) => s.ikeSas.length === 0, 5000, 'terminated');
        await controlRequest(a.socket, { cmd: 'initiate', child: 'net' }, 15_000);
        await lab.waitFor(a, childUp, 10_000, `attempt ${attempts}`);
        ok++;
      } catch (e) {
        failures.push((e as Error).message.split('\n')[0]!);
      }
      rssMax = Math.max(rssMax, lab.rssKb(b));
    }
    await floodDone;
    rssMax = Math.max(rssMax, lab.rssKb(b));
    const f = JSON.parse(floodOut.trim().split('\n').at(-1) ?? '{}') as { sent: number; replies: number; cookies: number };
    const st = await lab.status(b);
    const summary = { attempts, ok, failures, flood: f, rateSent: Math.round(f.sent / seconds), rssKb: { before: rss0, max: rssMax }, ikeDrops: st.drops.ike };
    console.log(`hostile flood: ${JSON.stringify(summary)}`);
    expect(f.sent).toBeGreaterThan(seconds * 1000); // thousands per second
    expect(f.cookies).toBeGreaterThan(0); // the responder switched to stateless cookies
    expect(attempts).toBeGreaterThanOrEqual(10);
    expect(ok / attempts, JSON.stringify(summary)).toBeGreaterThanOrEqual(0.99);
    expect(rssMax - rss0, JSON.stringify(summary)).toBeLessThan(150 * 1024);
    expect(b.child.exitCode).toBeNull();
  }, 120_000);

  it('replayed, tampered, truncated and unknown-SPI ESP at the responder: counted drops, nothing reaches the TUN', async () => {
    await lab.waitFor(a, childUp, 15_000, 'tunnel up');
    const listener = lab.net.spawnIn('b', process.execPath, ['-e', LISTENER, LAN.b]);
    let heard = '';
    listener.stdout?.on('data', (d: Buffer) => { heard += d.toString(); });
    for (let i = 0; i < 50 && !heard.includes('listening'); i++) await sleep(100);
    // Real traffic first, so sequence numbers 1..n are used.
    await lab.net.execIn('a', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', LAN.a, LAN.b], { timeoutMs: 20_000 });
    const st0 = await lab.status(b);
    const sa0 = st0.ikeSas.find((s) => s.children.length > 0)!;
    const spiIn = sa0.children[0]!.spiIn; // B's inbound SPI = what A seals with
    const entry = readKeylog(a.keylog).esp.filter((e) => e.spi === spiIn).at(-1);
    expect(entry, `no key log line for SPI ${spiIn.toString(16)}`).toBeDefined();
    const sa = createEspSa({ direction: 'out', spi: spiIn, algorithm: { encr: 'aes-gcm-16', keyBits: 256 }, encKey: entry!.encrKey, provider: nodeCrypto, mode: 'tunnel' });
    const inner = (): Uint8Array => {
      const p = new Uint8Array(28 + 8).fill(0x41);
      writeIpv4Header(p, 0, { totalLength: p.length, protocol: 17, src: Uint8Array.from(LAN.a.split('.').map(Number)), dst: Uint8Array.from(LAN.b.split('.').map(Number)) });
      p.set([0x0f, 0xa0, 0x15, 0xb3, 0, 16, 0, 0], 20); // UDP 4000 → 5555, length 16, no checksum
      return p;
    };
    const seal = (seq: number): Uint8Array => {
      sa.setOutboundSeq(0, seq - 1);
      const payload = inner();
      const buf = new Uint8Array(sa.headerLength + payload.length + espTailroom(sa, payload.length));
      buf.set(payload, sa.headerLength);
      const n = espSeal(sa, buf, sa.headerLength, sa.headerLength + payload.length, 4);
      return buf.slice(0, n);
    };
    const send = async (pkts: Uint8Array[]): Promise<void> => {
      const hex = pkts.map((p) => Buffer.from(p).toString('hex')).join(',');
      await lab.net.execIn('a', process.execPath, ['-e', `
const s = require('node:dgram').createSocket('udp4'); const ps = process.argv[1].split(',').map((h) => Buffer.from(h, 'hex'));
let i = 0; const next = () => { if (i >= ps.length) return s.close(); s.send(ps[i++], 4500, process.argv[2], next); }; next();`, hex, ADDR.b], { timeoutMs: 10_000 });
      await sleep(500);
    };
    const drops = async (): Promise<Record<string, number>> => (await lab.status(b)).drops.esp;
    const before = await drops();
    const replayed = [seal(1), seal(2), seal(3), seal(1)];
    await send(replayed);
    const afterReplay = await drops();
    expect(afterReplay.replay! - before.replay!).toBe(4);

    const fresh = seal(1_000_000);
    const tampered = [fresh.slice(), seal(1_000_001), seal(1_000_002)];
    tampered[0]![40] ^= 0x01; // ciphertext
    tampered[1]![tampered[1]!.length - 1] ^= 0x80; // ICV
    tampered[2]![12] ^= 0x10; // IV
    await send(tampered);
    const afterTamper = await drops();
    expect(afterTamper.icv! - afterReplay.icv!).toBe(3);

    // (A datagram under 8 bytes on 4500 is neither IKE nor ESP, RFC 3948 §2.2: tunnel.ts ignores it
    // before the ESP counters; it is sent too but only checked not to reach the TUN.)
    const truncated = [fresh.slice(0, 20), fresh.slice(0, fresh.length - 5), fresh.slice(0, 6)];
    const unknown = seal(1_000_003);
    unknown[0] ^= 0xff; // another SPI
    await send([...truncated, unknown]);
    const afterShort = await drops();
    const shortish = ['short', 'malformed', 'icv'].reduce((n, k) => n + (afterShort[k] ?? 0) - (afterTamper[k] ?? 0), 0);
    expect(shortish).toBe(2);
    expect(afterShort.unknownSpi! - afterTamper.unknownSpi!).toBe(1);
    expect(heard).not.toMatch(/got/);

    // The listener does hear an authentic fresh packet: the check above could fail.
    await send([fresh]);
    for (let i = 0; i < 20 && !heard.includes('got 1'); i++) await sleep(100);
    expect(heard).toMatch(/got 1/);
    await send([fresh]); // and its replay is dropped again
    expect((await drops()).replay! - afterShort.replay!).toBe(1);
    expect(heard).not.toMatch(/got 2/);
    listener.kill('SIGTERM');
  }, 60_000);

  it('peer crash: DPD clears on the responder, restarts on the initiator; the tunnel comes back', async () => {
    await lab.waitFor(a, childUp, 15_000, 'tunnel up');
    // 1. The initiator crashes: B's DPD (2 s, 2 retransmits of 1 s) clears its SA.
    await lab.kill(a);
    const t0 = Date.now();
    await lab.waitFor(b, (s) => s.ikeSas.length === 0, 20_000, 'B clears after A crashed');
    const clearMs = Date.now() - t0;
    // The initiator comes back with no state and re-establishes (start_action = start).
    a = lab.start('a', confA, [], env, 'a2');
    await lab.waitFor(a, childUp, 20_000, 'A restarted');
    await lab.waitFor(b, childUp, 10_000, 'B has the new SA');
    // 2. The responder crashes: A's DPD gives up and, dpd_action = restart, keeps re-initiating.
    await lab.kill(b);
    await lab.waitFor(a, (s) => !childUp(s), 20_000, 'A notices B is gone');
    const downAt = Date.now();
    await sleep(1000);
    b = lab.start('b', confB, [], env, 'b2');
    await lab.waitFor(a, childUp, 40_000, 'A re-establishes with the restarted B');
    console.log(`hostile dpd: responder cleared ${clearMs} ms after the crash; initiator re-established ${Date.now() - downAt} ms after it noticed`);
    const ping = await lab.net.execIn('a', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '-I', LAN.a, LAN.b], { timeoutMs: 20_000 });
    expect(ping.stdout).toMatch(/2 received/);
  }, 120_000);
});
