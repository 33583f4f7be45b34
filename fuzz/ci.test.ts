/**
 * CI fuzzing: every target for a bounded time, every saved input in fuzz/corpus replayed as a
 * regression test, and checks that the harness itself can fail (a target that throws or hangs is
 * reported) and that the seeds reach deep into the code (the recorded IKE session re-establishes,
 * every authentic ESP packet is accepted in order).
 */
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Drop } from '../src/esp/drop.js';
import { espOpen, OpenResult } from '../src/esp/open.js';
import { espFixture, freshSad, ikeSession, toHex } from './fixtures.js';
import { corpusDir, fuzzLoop, runOne } from './loop.js';
import { MAX_MUTATED_LENGTH, mutateOnce, nextInput, Prng } from './mutate.js';
import { datapathReached } from './datapath-target.js';
import { innerSeeds, runInner } from './inner.js';
import { encodeRecords, replay } from './session.js';
import { findTarget, FuzzFailure, TARGETS, type FuzzTarget } from './targets.js';

/** Per-target budget: 12 targets × 3 s stays under a minute on two cores. */
const SECONDS = 3;
/** CI machines are loaded (vitest runs files in parallel): a generous per-input limit. */
const SLOW_MS = 3000;

describe('mutation engine', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const seeds = [Uint8Array.from({ length: 64 }, (_, i) => i), new Uint8Array(10).fill(0xaa)];
    const run = (seed: number): string[] => {
      const rng = new Prng(seed);
      return Array.from({ length: 200 }, () => toHex(nextInput(rng, seeds)));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('never throws and never exceeds MAX_MUTATED_LENGTH (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 3 }), fc.integer(), (input, seeds, seed) => {
        const rng = new Prng(seed);
        let b: Uint8Array = input;
        for (let i = 0; i < 20; i++) {
          b = mutateOnce(rng, b, seeds);
          expect(b.length).toBeLessThanOrEqual(MAX_MUTATED_LENGTH);
        }
        // The input is never modified in place.
        expect(b === input).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('edits length fields: some outputs differ from the seed only in an aligned 16-bit word', () => {
    const seed = new Uint8Array(32);
    const rng = new Prng(7);
    let hits = 0;
    for (let i = 0; i < 2000; i++) {
      const out = mutateOnce(rng, seed, []);
      if (out.length !== 32) continue;
      const diff = [...out.keys()].filter((k) => out[k] !== 0);
      if (diff.length === 2 && diff[0]! % 2 === 0 && diff[1] === diff[0]! + 1 && out[diff[0]!] === 0xff && out[diff[1]!] === 0xff) hits++;
    }
    expect(hits).toBeGreaterThan(0);
  });
});

describe('harness can fail', () => {
  const base = { description: 'test', seeds: () => [new Uint8Array(4)] };

  it('reports an exception and an invariant violation, with the input', () => {
    const throwing: FuzzTarget = { ...base, name: 'throws', run: (x) => { if (x.length > 6) throw new TypeError('boom'); } };
    const r = fuzzLoop(throwing, { seed: 1, seconds: 5, maxExecs: 5000 });
    expect(r.failures.length).toBe(1);
    expect(r.failures[0]!.message).toBe('TypeError: boom');
    expect(r.failures[0]!.input.length).toBeGreaterThan(6);
    const violating: FuzzTarget = { ...base, name: 'violates', run: (x) => { if (x[0] === 0xff) throw new FuzzFailure('violates', 'first byte'); } };
    expect(fuzzLoop(violating, { seed: 1, seconds: 5, maxExecs: 20000 }).failures[0]?.message).toBe('FuzzFailure: violates: first byte');
  });

  it('a one-off slow run (GC pause, busy machine) is not reported', () => {
    let calls = 0;
    const once: FuzzTarget = { ...base, name: 'once', run: () => { if (calls++ === 0) { const end = performance.now() + 30; while (performance.now() < end); } } };
    expect(runOne(once, new Uint8Array(1), 10)).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('reports a slow input', () => {
    const slow: FuzzTarget = { ...base, name: 'slow', run: () => { const end = performance.now() + 30; while (performance.now() < end); } };
    expect(runOne(slow, new Uint8Array(1), 10)).toMatch(/^slow input: \d+ ms > 10 ms \(fastest of 3 runs\)$/);
  });
});

describe('seeds reach deep', () => {
  it('the recorded IKE session replays to ike-up and child-up on both sides', () => {
    const s = ikeSession();
    for (const side of ['i', 'r'] as const) {
      const types: string[] = [];
      const ep = replay(side, encodeRecords(side === 'i' ? s.toI : s.toR), (e) => {
        for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) types.push(ev.type);
        while (e.pollTransmit());
      });
      expect(ep.internalErrors).toBe(0);
      expect(types.slice(0, 2)).toEqual(['ike-up', 'child-up']);
      expect(types).toContain('child-rekeyed');
      expect(types).toContain('ike-rekeyed');
      expect(types.at(-1)).toBe('ike-down');
    }
  });

  for (const side of ['r', 'i'] as const) {
    it(`the sealed inner chains bring the ${side === 'r' ? 'responder' : 'initiator'} to ike-up, child-up and a child rekey (ike-*-inner seeds)`, () => {
      const seeds = innerSeeds(ikeSession(), side);
      expect(seeds.length).toBeGreaterThanOrEqual(3);
      const types: string[] = [];
      const ep = runInner(ikeSession(), seeds[0]!, (e) => {
        for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) types.push(ev.type);
        while (e.pollTransmit());
      }, side);
      expect(ep?.internalErrors).toBe(0);
      expect(types.slice(0, 2)).toEqual(['ike-up', 'child-up']);
      expect(types).toContain('child-rekeyed');
    });
  }

  it('every authentic ESP seed packet is accepted once, in sealing order, across the ESN wrap', () => {
    const { specs, packets } = espFixture();
    const sad = freshSad(specs);
    const out = new OpenResult();
    const results = packets.filter((p) => p.authentic).map((p) => espOpen(sad, p.bytes.slice(), out));
    expect(results.every((r) => r === Drop.ok)).toBe(true);
    // gcm 4, chacha 5, cbc 3 + 4 across the ESN wrap, draft-mcgrew 1.
    expect(results.length).toBe(17);
    // A second pass accepts nothing: replays, or (for old ESN packets, now read with seq_hi 1) ICV failures.
    const again = packets.filter((p) => p.authentic).map((p) => espOpen(sad, p.bytes.slice(), out));
    expect(again.filter((r) => r !== Drop.replay && r !== Drop.icv)).toEqual([]);
    expect(again.filter((r) => r === Drop.replay).length).toBeGreaterThanOrEqual(14);
  });
});

describe('fuzz targets (bounded run)', () => {
  for (const target of TARGETS) {
    it(`${target.name}: seeds and ${SECONDS} s of mutations hold every invariant`, () => {
      const r = fuzzLoop(target, { seed: Date.now() & 0xffff, seconds: SECONDS, slowMs: SLOW_MS, maxFailures: 1 });
      const f = r.failures[0];
      // On failure, show the input so it can be added to fuzz/corpus/<target>/.
      expect(f === undefined ? 'ok' : `${f.message}\ninput (hex): ${toHex(f.input)}`).toBe('ok');
      expect(r.execs).toBeGreaterThan(target.seeds().length);
    }, 60_000);
  }
});

describe('datapath seeds reach the far TUN', () => {
  it('the IPv4 seeds are sealed by X and rebuilt by Y (tunnel and transport); the IPv6 one has no policy', () => {
    const t = findTarget('datapath')!;
    const reached = t.seeds().map((s) => { t.run(s); return datapathReached(); });
    expect(reached).toEqual(['tunnel', 'tunnel', 'transport', 'transport', 'none']);
  });

  it('a protocol-59 packet in transport mode is the ESP dummy packet: sealed, then dropped (RFC 4303 §2.6)', () => {
    const t = findTarget('datapath')!;
    const p = t.seeds()[3]!.slice();
    p[9] = 59;
    t.run(p);
    expect(datapathReached()).toBe('sealed');
  });
});

describe('corpus regression', () => {
  const root = corpusDir();
  const dirs = existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
  const cases: [string, string][] = [];
  for (const d of dirs) for (const f of readdirSync(join(root, d.name)).sort()) if (f.endsWith('.bin')) cases.push([d.name, f]);

  it('every corpus directory names a target', () => {
    for (const d of dirs) expect(findTarget(d.name)?.name).toBe(d.name);
  });

  for (const [name, file] of cases) {
    it(`${name}/${file} passes`, () => {
      const input = new Uint8Array(readFileSync(join(root, name, file)));
      expect(runOne(findTarget(name)!, input, SLOW_MS)).toBeUndefined();
    });
  }
});
