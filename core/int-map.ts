/**
 * A map from whole numbers to whole numbers (both 0 to 2^31 - 1): node number -> slot in the
 * audit's per-topic tables (server/audit/holdings.ts, consumers-fold.ts). A V8 `Map` of numbers
 * is a hash table the garbage collector traces entry by entry at every full collection (at the
 * seed's fleet, 100k nodes x 7 topics, 700k entries on each side); this one is a single
 * Int32Array the collector does not look into, about half the bytes, and a lookup allocates
 * nothing.
 *
 * Open addressing with linear probing: key and value side by side in one array (one cache line
 * per probe), a free bucket's key -1. The bucket is picked by the Murmur3 finalizer: node
 * numbers are dense, and sequential keys hashed by identity would sit in long runs that one
 * stride of other keys turns into long probes. The table doubles past half full, and halves
 * when under an eighth full, so a fleet that shrank gives its memory back (as V8's Map does)
 * without a set and a delete at one size resizing back and forth. A delete shifts the entries
 * after it back (no tombstones: probes stay as short as the load says, however many deletes).
 */
import { ImprintError, InvalidArgumentError } from './errors.js';

/** A free bucket's key (keys are >= 0). */
const EMPTY = -1;
const MIN_CAPACITY = 16;
const MAX_INT32 = 0x7fffffff;

/** The bucket hash of `key` before masking: Murmur3's fmix32 (every bit of the key moves every bit of the hash). */
export function intHash(key: number): number {
  let h = key ^ (key >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function isWhole(x: number): boolean {
  return (x | 0) === x && x >= 0;
}

export class IntMap {
  /** Buckets of two: key (EMPTY when free), value. */
  private table: Int32Array;
  /** (capacity - 1) * 2: a key's bucket index in `table` is `(intHash(key) << 1) & mask`. */
  private mask: number;
  private count = 0;
  /** Changed by every set of a new key, delete and clear: what `forEach` checks. */
  private changes = 0;

  /** `expected`: entries it will hold without growing. */
  constructor(expected = 0) {
    let capacity = MIN_CAPACITY;
    while (capacity < expected * 2) capacity *= 2;
    this.table = new Int32Array(capacity * 2).fill(EMPTY);
    this.mask = (capacity - 1) * 2;
  }

  get size(): number {
    return this.count;
  }

  /** Buckets (a power of two); memory is 8 B per bucket. */
  get capacity(): number {
    return this.table.length / 2;
  }

  /** The value of `key`, or -1 when it has none (values are >= 0, so -1 is never one). */
  get(key: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let i = (intHash(key) << 1) & mask; ; i = (i + 2) & mask) {
      const k = t[i] as number;
      // EMPTY first: get(-1) finds no free bucket's leftover value.
      if (k === EMPTY) return -1;
      if (k === key) return t[i + 1] as number;
    }
  }

  has(key: number): boolean {
    return this.get(key) !== -1;
  }

  /** Sets the value of `key`; both whole numbers from 0 to 2^31 - 1 (else InvalidArgumentError). */
  set(key: number, value: number): void {
    if (!isWhole(key)) throw new InvalidArgumentError('IntMap key', `must be a whole number from 0 to ${MAX_INT32}`, key);
    if (!isWhole(value)) throw new InvalidArgumentError('IntMap value', `must be a whole number from 0 to ${MAX_INT32}`, value);
    const t = this.table;
    const mask = this.mask;
    let i = (intHash(key) << 1) & mask;
    for (; ; i = (i + 2) & mask) {
      const k = t[i] as number;
      if (k === key) {
        t[i + 1] = value;
        return;
      }
      if (k === EMPTY) break;
    }
    this.count++;
    this.changes++;
    if (this.count * 2 > this.capacity) {
      this.resize(this.capacity * 2);
      this.put(key, value);
      return;
    }
    t[i] = key;
    t[i + 1] = value;
  }

  /** Removes `key`; whether it was there. */
  delete(key: number): boolean {
    const t = this.table;
    const mask = this.mask;
    let hole = (intHash(key) << 1) & mask;
    for (; ; hole = (hole + 2) & mask) {
      const k = t[hole] as number;
      if (k === EMPTY) return false;
      if (k === key) break;
    }
    // Backward shift: each entry of the run after the hole that may sit in it (the hole is not
    // before its home bucket, counting round the end of the table) moves in, leaving its own
    // bucket the hole; the run's end is the first free bucket.
    for (let j = (hole + 2) & mask; ; j = (j + 2) & mask) {
      const k = t[j] as number;
      if (k === EMPTY) break;
      const home = (intHash(k) << 1) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        t[hole] = k;
        t[hole + 1] = t[j + 1] as number;
        hole = j;
      }
    }
    t[hole] = EMPTY;
    this.count--;
    this.changes++;
    if (this.count * 8 < this.capacity && this.capacity > MIN_CAPACITY) this.resize(this.capacity / 2);
    return true;
  }

  /** Removes every entry, and the memory of a large table. */
  clear(): void {
    this.table = new Int32Array(MIN_CAPACITY * 2).fill(EMPTY);
    this.mask = (MIN_CAPACITY - 1) * 2;
    this.count = 0;
    this.changes++;
  }

  /**
   * Calls `each` with every entry, in no particular order (the buckets'). The map must not
   * change meanwhile (a delete shifts entries: some would be skipped, others seen twice), so a
   * change throws; to change it while walking, walk `keys()`.
   */
  forEach(each: (value: number, key: number) => void): void {
    const changes = this.changes;
    const t = this.table;
    for (let i = 0; i < t.length; i += 2) {
      const k = t[i] as number;
      if (k === EMPTY) continue;
      each(t[i + 1] as number, k);
      if (this.changes !== changes) throw new ImprintError('INTERNAL', 'IntMap changed during forEach (walk keys() to change it meanwhile)');
    }
  }

  /** The keys now, in no particular order: a copy, so the map may change while it is walked. */
  keys(): Int32Array {
    const out = new Int32Array(this.count);
    const t = this.table;
    let n = 0;
    for (let i = 0; i < t.length; i += 2) if ((t[i] as number) !== EMPTY) out[n++] = t[i] as number;
    return out;
  }

  private resize(capacity: number): void {
    const old = this.table;
    this.table = new Int32Array(capacity * 2).fill(EMPTY);
    this.mask = (capacity - 1) * 2;
    for (let i = 0; i < old.length; i += 2) if ((old[i] as number) !== EMPTY) this.put(old[i] as number, old[i + 1] as number);
  }

  /** Puts a key known to be absent (while resizing) into its first free bucket. */
  private put(key: number, value: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = (intHash(key) << 1) & mask;
    while ((t[i] as number) !== EMPTY) i = (i + 2) & mask;
    t[i] = key;
    t[i + 1] = value;
  }
}
