/** Human-readable summary of a node's mesh plan: peers by policy group and the MTU headroom. */
import type { MeshPlan } from './build.js';

/** Lines (no trailing newline), e.g. for `mesh up`'s start message and as `#` comments in `mesh render`. */
export function formatMeshPlan(plan: MeshPlan): string[] {
  const out: string[] = [];
  out.push(`node ${plan.node.name} (${plan.node.addrs.join(', ')}${plan.node.subnets.length ? `; subnets ${plan.node.subnets.join(', ')}` : ''})`);
  for (const p of plan.peers) {
    const what = p.connection === undefined ? 'no SA, sent in clear' : `${p.connection}: ${p.children.map((c) => `${c.name} ${c.mode}`).join(', ')}${p.policy === 'clear-or-private' ? ' (answered, never initiated)' : ' (trap: never sent in clear)'}`;
    out.push(`peer ${p.node.name} ${p.node.addrs[0] ?? ''} ${p.policy}: ${what}`);
  }
  if (plan.clearPrefixes.length) out.push(`clear (never encrypted): ${plan.clearPrefixes.join(', ')}`);
  for (const l of plan.mtu) {
    out.push(`MTU ${l.connection}/${l.child}: ${l.mode} IPv${l.family} ESP-in-UDP, outer ${l.outerMtu} - headroom ${l.headroom} = inner ${l.innerMtu}`);
  }
  out.push(`TUN MTU ${plan.tunMtu}`);
  return out;
}
