/**
 * core/int-map.ts: IntMap answers what a Map<number, number> answers, through growth, shrinking
 * and deletes whose backward shift runs round the end of the table; its edges (key 0, the
 * largest key, -1 for absent, clear, a key put back after its delete); and walking it.
 */
import { describe, expect, it } from 'vitest';
import { ImprintError, IntMap, InvalidArgumentError, intHash } from '../../core/index.js';
import { seededRandom } from '../helpers.js';

/** Every key of `m` and `ref` agrees, and `keys()` is the same set. */
function expectSame(m: IntMap, ref: Map<number, number>, probe: Iterable<number>): void {
  expect(m.size).toBe(ref.size);
  const wrong: string[] = [];
  for (const k of probe) if (m.get(k) !== (ref.get(k) ?? -1)) wrong.push(`${k}: ${m.get(k)}, not ${ref.get(k) ?? -1}`);
  expect(wrong).toEqual([]);
  expect([...m.keys()].sort((a, b) => a - b)).toEqual([...ref.keys()].sort((a, b) => a - b));
}

/** `n` keys whose home bucket in a table of `capacity` is `bucket`. */
function keysAt(bucket: number, capacity: number, n: number, from = 0): number[] {
  const out: number[] = [];
  for (let k = from; out.length < n; k++) if ((intHash(k) & (capacity - 1)) === bucket) out.push(k);
  return out;
}

describe('IntMap', () => {
  it('answers as a Map does over thousands of random sets, gets and deletes (collisions, growth, shrinking)', () => {
    for (const [seed, range] of [
      [1, 64], // few keys: most operations hit a present key, deletes shift long runs
      [2, 5000], // the table grows and shrinks as the count wanders
      [3, 0x7fffffff], // anywhere in the key space
    ] as const) {
      const next = seededRandom(seed);
      const m = new IntMap();
      const ref = new Map<number, number>();
      const touched = new Set<number>();
      for (let op = 0; op < 30_000; op++) {
        const key = Math.floor(next() * range);
        touched.add(key);
        const r = next();
        // Phases of mostly sets, then mostly deletes: the size climbs and falls through several capacities.
        const setShare = Math.floor(op / 5000) % 2 === 0 ? 0.7 : 0.3;
        if (r < setShare) {
          const value = Math.floor(next() * 0x7fffffff);
          m.set(key, value);
          ref.set(key, value);
        } else if (r < 0.9) expect(m.delete(key)).toBe(ref.delete(key));
        else if (m.get(key) !== (ref.get(key) ?? -1)) expect(m.get(key)).toBe(ref.get(key) ?? -1);
        if (op % 1000 === 0) expectSame(m, ref, touched);
      }
      expectSame(m, ref, touched);
    }
  });

  it('a delete shifts back the entries that ran round the end of the table, and only those it may', () => {
    const m = new IntMap();
    expect(m.capacity).toBe(16);
    // Three keys at home in the last bucket: two run round the end into buckets 0 and 1; one
    // at home in bucket 1 is pushed to bucket 2 and must not move before its home.
    const [a, b, c] = keysAt(15, 16, 3) as [number, number, number];
    const [d] = keysAt(1, 16, 1) as [number];
    const [e] = keysAt(0, 16, 1) as [number];
    for (const k of [a, b, c, d]) m.set(k, k + 1);
    m.delete(a);
    expect([m.get(b), m.get(c), m.get(d)]).toEqual([b + 1, c + 1, d + 1]);
    m.set(e, 7); // at home in bucket 0, behind the run that wrapped there
    m.delete(b);
    expect([m.get(c), m.get(d), m.get(e), m.get(a)]).toEqual([c + 1, d + 1, 7, -1]);
    m.delete(c);
    expect([m.get(d), m.get(e), m.size, m.capacity]).toEqual([d + 1, 7, 2, 16]);
  });

  it('key 0, the largest key and value, absent keys, -1 and bad input', () => {
    const m = new IntMap();
    expect(m.get(0)).toBe(-1);
    m.set(0, 0);
    m.set(0x7fffffff, 0x7fffffff);
    expect([m.get(0), m.get(0x7fffffff), m.has(0), m.size]).toEqual([0, 0x7fffffff, true, 2]);
    // Keys it cannot hold are absent, also -1 (a free bucket's key).
    expect([m.get(-1), m.get(1.5), m.get(2 ** 31), m.has(-1)]).toEqual([-1, -1, -1, false]);
    const [h] = keysAt(intHash(-1) & 15, 16, 1) as [number];
    m.set(h, 42);
    m.delete(h); // its bucket, where -1 would be, is free again with 42 left in it
    expect(m.get(-1)).toBe(-1);
    for (const bad of [-1, 1.5, 2 ** 31, NaN]) {
      expect(() => m.set(bad, 1)).toThrow(InvalidArgumentError);
      expect(() => m.set(1, bad)).toThrow(InvalidArgumentError);
    }
    expect(m.size).toBe(2);
    expect(m.delete(0)).toBe(true);
    expect(m.delete(0)).toBe(false);
    expect(m.get(0)).toBe(-1);
    m.set(0, 5); // put back after its delete
    expect([m.get(0), m.size]).toEqual([5, 2]);
  });

  it('grows past half full, gives memory back when nearly empty, and clear starts small again', () => {
    const m = new IntMap();
    for (let k = 0; k < 8; k++) m.set(k, k);
    expect(m.capacity).toBe(16);
    m.set(8, 8);
    expect(m.capacity).toBe(32);
    for (let k = 9; k < 100_000; k++) m.set(k, k);
    expect(m.capacity).toBe(262_144);
    for (let k = 1000; k < 100_000; k++) m.delete(k);
    expect(m.capacity).toBeLessThanOrEqual(8192);
    for (let k = 0; k < 1000; k++) expect(m.get(k)).toBe(k);
    expect(m.get(1000)).toBe(-1);
    m.clear();
    expect([m.size, m.capacity, m.get(5)]).toEqual([0, 16, -1]);
    m.set(5, 1);
    expect([m.size, m.get(5)]).toEqual([1, 1]);
    expect(new IntMap(1000).capacity).toBe(2048);
  });

  it('walks every entry once; a change during forEach throws, a walk of keys() may change it', () => {
    const m = new IntMap();
    for (let k = 0; k < 100; k++) m.set(k * 7, k);
    const seen = new Map<number, number>();
    m.forEach((v, k) => seen.set(k, v));
    expect(seen).toEqual(new Map(Array.from({ length: 100 }, (_, k) => [k * 7, k])));
    expect(() => m.forEach((_, k) => m.delete(k))).toThrow(ImprintError);
    m.forEach((v, k) => m.set(k, v + 1)); // a new value for a key it has is no change of its keys
    for (const k of m.keys()) if (k % 2 === 0) m.delete(k);
    expect(m.size).toBe(50);
    expect([...m.keys()].every((k) => k % 2 === 1)).toBe(true);
  });
});
