#!/usr/bin/env node
/**
 * Prints the interop matrix (scenario × direction → pass/fail, seconds, notes) of one `npm run
 * test:interop` run and writes it to test/interop/results/latest.md.
 *
 *   node scripts/interop-report.mjs [--run ID] [--results FILE] [--out FILE] [--quiet] [--check]
 *
 * Rows come from test/interop/results/results.jsonl (test/interop/harness/results.ts appends one line
 * per scenario). Without --run the run of the last line is shown. --check exits 1 when a cell failed
 * or no row exists; --quiet writes the file without printing.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const resultsFile = opt('--results', join(root, 'test/interop/results/results.jsonl'));
const outFile = opt('--out', join(root, 'test/interop/results/latest.md'));
const quiet = args.includes('--quiet');
const check = args.includes('--check');

let lines = [];
try {
  lines = readFileSync(resultsFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
} catch {
  /* no results yet */
}
const all = [];
for (const l of lines) {
  try {
    all.push(JSON.parse(l));
  } catch {
    /* a torn line from a killed run */
  }
}
const run = opt('--run', all.length ? all[all.length - 1].run : undefined);
const rows = new Map();
for (const r of all) if (r.run === run) rows.set(`${r.file}\u0000${r.scenario}\u0000${r.direction}`, r); // last wins

// Columns: the side in the scenario's role (who initiates, deletes, rekeys, …), tsipsec first.
const directions = ['tsipsec', 'strongswan', 'libreswan'].filter((d) => [...rows.values()].some((r) => r.direction === d));
const scenarios = [];
for (const r of rows.values()) {
  if (!directions.includes(r.direction)) directions.push(r.direction);
  const key = `${r.file}\u0000${r.scenario}`;
  if (!scenarios.some((s) => s.key === key)) scenarios.push({ key, file: r.file, scenario: r.scenario, role: r.role });
}
const short = { tsipsec: 'ts', strongswan: 'ss', libreswan: 'ls' };
const cell = (r) => (r ? `${r.ok ? 'pass' : '**FAIL**'} ${r.seconds.toFixed(1)} s` : '–');
const esc = (s) => String(s).replace(/\|/g, '\\|');
const out = [];
const list = [...rows.values()];
const failed = list.filter((r) => !r.ok);
const total = list.reduce((a, r) => a + r.seconds, 0);
out.push(`# tsipsec interop matrix`);
out.push('');
out.push(`run ${run ?? '(none)'}: ${list.length} cells, ${failed.length} failed, ${total.toFixed(1)} s of scenario time${list.length ? `, last finished ${list.map((r) => r.at).sort().at(-1)}` : ''}.`);
out.push('A column names the side that plays the role given after the scenario (initiates, deletes, rekeys, …); notes are per side (ts = tsipsec, ss = strongSwan, ls = libreswan). kernel-* files ran in user-mode-linux (kernel ESP), one boot per file; their seconds are the time of each cell inside it.');
out.push('');
if (list.length === 0) out.push('(no results for this run)');
else out.push(`| file | scenario (column …) | ${directions.map(esc).join(' | ')} | notes |`);
if (list.length) out.push(`| --- | --- | ${directions.map(() => '---').join(' | ')} | --- |`);
for (const s of scenarios) {
  const cells = directions.map((d) => rows.get(`${s.key}\u0000${d}`));
  const notes = cells.flatMap((r, i) => (r ? [...r.notes, ...(r.error ? [r.error] : [])].map((n) => `${short[directions[i]] ?? directions[i]}: ${n}`) : []));
  out.push(`| ${esc(s.file)} | ${esc(s.scenario)} (${esc(s.role ?? '')}) | ${cells.map(cell).join(' | ')} | ${esc(notes.join('; '))} |`);
}
if (failed.length) {
  out.push('');
  out.push('Failed:');
  for (const r of failed) out.push(`- ${r.file}: ${r.scenario} (${r.direction} ${r.role ?? ''}): ${r.error ?? 'failed'}`);
}
const text = out.join('\n') + '\n';
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, text);
if (!quiet) process.stdout.write(text);
if (check && (list.length === 0 || failed.length > 0)) process.exit(1);
