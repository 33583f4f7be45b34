import { parse } from '../args.js';
import { UsageError, EXIT_CODES_HELP } from '../errors.js';
import type { TunnelStatus } from '../../runtime/tunnel.js';
import { ask } from './control-client.js';

const HELP = `Usage: tsipsec status [--json] [--socket PATH]
Shows configured connections, IKE SAs and child SAs (state, peer, SPIs, algorithms, mode, encapsulation,
selectors, bytes/packets, drops by reason, rekey times), like 'swanctl --list-sas'.
${EXIT_CODES_HELP}`;

function age(ms: number | undefined, nowMs: number): string {
  if (ms === undefined) return '-';
  const s = Math.round((ms - nowMs) / 1000);
  return s >= 0 ? `in ${s}s` : `${-s}s ago`;
}

export function formatStatus(s: TunnelStatus, nowMs = performance.now()): string {
  const out: string[] = [];
  for (const c of s.connections) out.push(`${c.name}: ${c.established > 0 ? 'ESTABLISHED' : 'configured (down)'}, children ${c.children.join(', ') || '-'}`);
  for (const sa of s.ikeSas) {
    out.push(`${sa.name}: #${sa.ikeId}, ${sa.state.toUpperCase()}, IKEv2, ${sa.spiI}_i${sa.initiator ? '*' : ''} ${sa.spiR}_r${sa.initiator ? '' : '*'}`);
    out.push(`  local  '${sa.localId}' @ ${sa.localAddr.address}[${sa.localAddr.port}]`);
    out.push(`  remote '${sa.remoteId}' @ ${sa.remoteAddr.address}[${sa.remoteAddr.port}]`);
    out.push(`  ${sa.algorithms}${sa.encap ? ', UDP-encapsulated' : ''}`);
    out.push(`  established ${age(sa.establishedAtMs, nowMs)}, rekeying ${age(sa.rekeyAtMs, nowMs)}`);
    sa.children.forEach((ch, i) => {
      const cc = sa.childCounters[i];
      out.push(`  ${ch.name}: ${ch.state.toUpperCase()}, ${ch.mode.toUpperCase()}${ch.encap ? ' in UDP' : ''}, SPIs: ${cc?.spiIn ?? ch.spiIn}_i ${cc?.spiOut ?? ch.spiOut}_o`);
      if (cc) out.push(`    in  ${cc.bytesIn} bytes, ${cc.packetsIn} packets; out ${cc.bytesOut} bytes, ${cc.packetsOut} packets`);
      if (cc && Object.keys(cc.drops).length) out.push(`    drops: ${Object.entries(cc.drops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      out.push(`    rekeying ${age(ch.rekeyAtMs, nowMs)}, expires ${age(ch.expireAtMs, nowMs)}`);
      out.push(`    local  ${ch.tsLocal.join(' ')}`);
      out.push(`    remote ${ch.tsRemote.join(' ')}`);
    });
  }
  // Trap policies, like `swanctl --list-pols`: "gw/net, TRAP (start_action), tunnel: 198.19.1.0/24 === 198.19.2.0/24".
  for (const t of s.traps ?? []) {
    out.push(`${t.connection}/${t.child}, TRAP (${t.reason}), ${t.mode}: ${t.tsLocal.join(' ')} === ${t.tsRemote.join(' ')}${t.acquiring ? ', acquiring' : ''}`);
    out.push(`    acquires ${t.acquires} (suppressed ${t.acquiresSuppressed}), held ${t.held}, released ${t.released}, dropped ${t.dropped}`);
  }
  if (s.rawEsp) out.push(`raw ESP: rx ${s.rawEsp.rxPackets} (${s.rawEsp.rxBytes} bytes, ${s.rawEsp.rxDrops} not ESP), tx ${s.rawEsp.txPackets} (${s.rawEsp.txBytes} bytes, ${s.rawEsp.txErrors} refused)`);
  if (s.tun) out.push(`tun ${s.tun.name}: mtu ${s.tun.mtu}, rx ${s.tun.rxPackets}, tx ${s.tun.txPackets}, rx drops ${s.tun.rxDrops}, tx drops ${s.tun.txDrops}`);
  const nz = (m: Record<string, number>) => Object.entries(m).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  out.push(`drops: tun ${nz(s.drops.tun)}; esp ${nz(s.drops.esp)}; ike ${nz(s.drops.ike)}`);
  return out.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse('status', argv, { json: { type: 'boolean' }, socket: { type: 'string' } }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length > 0) throw new UsageError(`status: unexpected argument "${positionals[0]}"\n${HELP}`);
  const s = (await ask(values.socket, { cmd: 'status' })) as TunnelStatus;
  process.stdout.write(values.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s) + '\n');
  return 0;
}
