/**
 * The consumers view (holdings.ts' events of every replica merged by node) and the fold that
 * keeps exactly what it needs of a topic's events, so a sink can keep one per topic for good.
 *
 * The fold is long-lived and large (the seed's fleet: 100k nodes x 7 topics), so it is kept as
 * columns, not as the events: a node is a number in a `NodeTable` (its key string once, shared
 * by every topic's fold that is handed the same table), and per topic an IntMap (int-map.ts: a
 * hash table in one Int32Array) from node number to its first word's slot, with typed arrays
 * for each word (replica, kind and pin flag, time, version, last poll) and the node's latest
 * move. Versions and replica names are small string tables per fold. A full garbage collection
 * then traces a few flat arrays per topic, which it does not look into, rather than an event
 * object, its identity object and their strings per node and topic (about 480 B per node and
 * topic, and a mark-compact pause several times longer), or a V8 Map it traces entry by entry.
 *
 * Every walk of the nodes (view, prune, save) goes by head slot, 0 to `top`, never through the
 * IntMap: a prune deletes as it walks and a save in pieces lets nodes come and go between them,
 * and an IntMap delete moves entries between buckets where a slot stays put. Saves are then in
 * slot order, which a restore keeps (it takes slots in the order of the words it reads).
 */
import type { ConsumerIdentity } from './types.js';
import { IntMap } from './int-map.js';
import {
  compareVersions,
  nodeKey,
  summaryKey,
  validateConsumersQuery,
  type ConsumerNode,
  type ConsumersQuery,
  type HoldingEvent,
  type SummaryEvent,
  type TopicConsumers,
  type VersionHeld,
} from './holdings.js';

/** A word's flags: a gone event (else a hold), pinned (a hold's). */
const GONE = 1;
const PINNED = 2;
/** No slot, no node. */
const NONE = -1;
/** Values per word and per move in ConsumersFoldData. */
const WORD_VALUES = 6;
const MOVE_VALUES = 4;

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A typed array at least `size` long (doubled, its contents kept). */
function atLeast<T extends Int32Array | Float64Array | Uint8Array>(a: T, size: number): T {
  if (size <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(size, a.length * 2));
  b.set(a);
  return b;
}

const utf8 = new TextEncoder();

/**
 * JSON text written as UTF-8 bytes into one growing buffer and taken a piece at a time. A save
 * of a large fold is mostly numbers: written as digits here they make no garbage, where a string
 * per value (and the ropes of concatenating them) made a save spend most of its time in the
 * garbage collector.
 */
export class JsonBytes {
  private buf = new Uint8Array(1 << 16);
  private len = 0;

  /** Bytes written since the last `take`. */
  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  /** Text that is JSON already (punctuation, a JSON.stringify'd value). */
  raw(text: string): void {
    this.room(text.length * 3);
    this.len += utf8.encodeInto(text, this.buf.subarray(this.len)).written;
  }

  /** JSON text already encoded (a string table's). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    // Most are a few bytes (a replica's name, a version): a loop beats set() on those.
    if (b.length <= 32) for (let i = 0; i < b.length; i++) this.buf[this.len++] = b[i] as number;
    else {
      this.buf.set(b, this.len);
      this.len += b.length;
    }
  }

  /** One ASCII character. */
  char(c: number): void {
    this.room(1);
    this.buf[this.len++] = c;
  }

  /**
   * A finite number, as JSON.stringify writes it: whole ones (times in ms, node numbers, flags)
   * as digits by hand, in 32-bit integer steps (a time in ms is two of them: the digits above
   * and below 10^8), others through JSON.stringify.
   */
  number(x: number): void {
    if (x >= 0 && x <= 0x7fffffff && (x | 0) === x) {
      this.int(x, 0);
      return;
    }
    if (!(Number.isSafeInteger(x) && x > 0)) {
      this.raw(JSON.stringify(x));
      return;
    }
    const high = Math.floor(x / 1e8);
    this.int(high, 0);
    this.int(x - high * 1e8, 8);
  }

  /** A 32-bit whole number `n` >= 0 in decimal, at least `width` digits (zeros in front). */
  private int(n: number, width: number): void {
    let digits = 1;
    for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
    if (digits < width) digits = width;
    this.room(digits);
    let at = this.len + digits;
    for (let i = 0; i < digits; i++) {
      const q = (n / 10) | 0;
      this.buf[--at] = 48 + n - q * 10;
      n = q;
    }
    this.len += digits;
  }

  /** What was written since the last take, as bytes of its own. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }
}

const COMMA = 0x2c;

/** The app, cluster and region a node's key starts with, kept once for all its nodes. */
interface NodeGroup {
  /** `app NUL cluster NUL region`: the node's key up to its node id. */
  readonly prefix: string;
  readonly app: string;
  readonly cluster: string;
  readonly region: string;
}

/**
 * Nodes by number: a node's key (`nodeKey`: app, cluster, region, node id) kept once however
 * many topics' folds hold it, counted by them, and forgotten (its number reused) when the last
 * lets it go. While `hold()`ed (a save in pieces reads numbers over many turns), a freed number
 * is not reused, so a number written earlier still names the node it named.
 */
export class NodeTable {
  private readonly numbers = new Map<string, number>();
  private readonly keys: (string | null)[] = [];
  private groupOf = new Int32Array(64);
  private refs = new Int32Array(64);
  private readonly groupIds = new Map<string, number>();
  private readonly groups: NodeGroup[] = [];
  private readonly free: number[] = [];
  private holds = 0;
  private readonly freedWhileHeld: number[] = [];
  private lastIdentity: ConsumerIdentity | undefined;
  private lastNumber = NONE;

  /** Node keys by number, null where a number is free: what `fromKeys` restores. */
  static fromKeys(keys: readonly (string | null)[]): NodeTable {
    const t = new NodeTable();
    for (let n = 0; n < keys.length; n++) {
      const key = keys[n] ?? null;
      if (key === null) {
        t.keys.push(null);
        t.free.push(n);
      } else t.add(key, n);
    }
    return t;
  }

  /** Nodes kept. */
  get size(): number {
    return this.numbers.size;
  }

  /** Numbers handed out (some may be free): every kept node's number is below it. */
  get length(): number {
    return this.keys.length;
  }

  /**
   * The number of the node `identity` is (as `numberOf`). The last identity object asked is
   * remembered: the events of one poll of several topics share theirs, so a node's key is made
   * and looked up once for all of them.
   */
  numberOfIdentity(identity: ConsumerIdentity): number {
    if (identity === this.lastIdentity && this.lastNumber !== NONE) return this.lastNumber;
    const n = this.numberOf(nodeKey(identity));
    this.lastIdentity = identity;
    this.lastNumber = n;
    return n;
  }

  /** The number of the node `key`, a new one if it has none (counted by nobody yet: `ref` it). */
  numberOf(key: string): number {
    const n = this.numbers.get(key);
    if (n !== undefined) return n;
    // A freed number first (the most recently freed), so numbers stay as few as the nodes.
    const free = this.free.pop();
    return this.add(key, free ?? this.keys.length);
  }

  private add(key: string, n: number): number {
    if (n === this.keys.length) this.keys.push(key);
    else this.keys[n] = key;
    this.numbers.set(key, n);
    this.groupOf = atLeast(this.groupOf, n + 1);
    this.refs = atLeast(this.refs, n + 1);
    const [app = '', cluster = '', region = ''] = key.split('\u0000', 3);
    const prefix = `${app}\u0000${cluster}\u0000${region}`;
    let g = this.groupIds.get(prefix);
    if (g === undefined) {
      g = this.groups.length;
      this.groups.push({ prefix, app, cluster, region });
      this.groupIds.set(prefix, g);
    }
    this.groupOf[n] = g;
    this.refs[n] = 0;
    return n;
  }

  /** The key of node `n`, or null when the number is free. */
  key(n: number): string | null {
    return this.keys[n] ?? null;
  }

  group(n: number): NodeGroup {
    return this.groups[this.groupOf[n] as number] as NodeGroup;
  }

  nodeId(n: number): string {
    return (this.keys[n] ?? '').slice(this.group(n).prefix.length + 1);
  }

  /** One more fold holds node `n`. */
  ref(n: number): void {
    this.refs[n] = (this.refs[n] ?? 0) + 1;
  }

  /** One fold fewer holds node `n`; with none left it is forgotten. */
  unref(n: number): void {
    const refs = (this.refs[n] ?? 0) - 1;
    this.refs[n] = refs;
    if (refs > 0) return;
    const key = this.keys[n];
    if (key === null || key === undefined) return;
    this.numbers.delete(key);
    this.keys[n] = null;
    if (this.lastNumber === n) this.lastNumber = NONE;
    (this.holds > 0 ? this.freedWhileHeld : this.free).push(n);
  }

  /** Forgets the nodes no fold holds (after folds were restored over `fromKeys`). */
  dropUnreferenced(): void {
    for (let n = 0; n < this.keys.length; n++) if (this.keys[n] !== null && this.refs[n] === 0) this.unref(n);
  }

  /** Freed numbers are not reused until the returned function is called. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) this.free.push(...this.freedWhileHeld.splice(0));
    };
  }
}

/** A string table: each string once, numbered, with its JSON text as bytes (written in every save). */
class Strings {
  readonly list: string[] = [];
  readonly json: Uint8Array[] = [];
  private readonly ids = new Map<string, number>();

  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.json.push(utf8.encode(JSON.stringify(s)));
      this.ids.set(s, i);
    }
    return i;
  }
}

/**
 * A ConsumersFold as plain data (what a sink persists): numbers and strings in flat arrays, no
 * object per event, a node's key once.
 */
export interface ConsumersFoldData {
  /**
   * Node keys by number (null: a free number). Absent when the fold was written beside its
   * NodeTable (a sink's snapshot of several folds writes the table once): then `fromJSON` is
   * handed that table.
   */
  readonly nodes?: readonly (string | null)[];
  /** Per word (a replica's latest hold or gone of a node) 6 values: node, replica, flags (1 gone, 2 pinned), atMs, version, seenMs (a gone's; 0 for a hold). */
  readonly words: readonly (number | string)[];
  /** Per node with a move on record 4 values: node, replica, atMs, version (of its latest move). */
  readonly moves: readonly (number | string)[];
  readonly summaries: readonly SummaryEvent[];
}

/**
 * Exactly what the consumers view needs of one topic's events, kept as they come: per node and
 * replica the replica's latest word (hold or gone), per node its latest move, per replica and
 * summary group the latest summary. Folding events one by one (in the order they were
 * recorded) and asking `view` answers what `consumersView` answers over all of them, for a
 * query without `untilMs`: consumersView is this fold. A sink may keep one per topic (over one
 * shared NodeTable), persist `jsonPieces` and resume from `fromJSON()`.
 */
export class ConsumersFold {
  /** replica NUL summaryKey -> latest summary. */
  readonly summaries = new Map<string, SummaryEvent>();
  private readonly table: NodeTable;
  /** node number -> the slot of its first word (its head), which also keeps the node's latest move. */
  private readonly heads = new IntMap();
  // Per slot (one replica's word of one node); a node's further replicas' words are chained by `next`.
  /** The node whose head the slot is; NONE for a chained word or a free slot. */
  private nodeOf = new Int32Array(16).fill(NONE);
  private next = new Int32Array(16);
  private replica = new Int32Array(16);
  private flags = new Uint8Array(16);
  private atMs = new Float64Array(16);
  private version = new Int32Array(16);
  private seenMs = new Float64Array(16);
  // Per head slot: the node's latest move (NaN: none on record).
  private moveAtMs = new Float64Array(16);
  private moveVersion = new Int32Array(16);
  private moveReplica = new Int32Array(16);
  private top = 0;
  private readonly freeSlots: number[] = [];
  private versions = new Strings();
  private replicas = new Strings();

  /** `nodes`: the table the fold numbers its nodes in; folds that share one keep each node's key once. */
  constructor(nodes: NodeTable = new NodeTable()) {
    this.table = nodes;
  }

  add(e: HoldingEvent): void {
    if (e.kind === 'summary') {
      const k = `${e.replica}\u0000${summaryKey(e, e.version)}`;
      const cur = this.summaries.get(k);
      if (!cur || e.atMs > cur.atMs) this.summaries.set(k, e);
      return;
    }
    const n = this.table.numberOfIdentity(e.identity);
    const flags = e.kind === 'gone' ? GONE : e.pinned ? PINNED : 0;
    this.word(n, e.replica, flags, e.atMs, e.version, e.kind === 'gone' ? e.seenMs : 0);
    if (e.kind === 'hold' && e.moved) this.move(n, e.replica, e.atMs, e.version);
  }

  /** A word of `replica` on node `n`: kept when it is that replica's first, or newer than its last (emitted later; the same ms: the higher version). */
  private word(n: number, replica: string, flags: number, atMs: number, version: string, seenMs: number): void {
    const head = this.heads.get(n);
    let slot: number;
    if (head === NONE) {
      slot = this.newSlot();
      this.heads.set(n, slot);
      this.nodeOf[slot] = n;
      this.table.ref(n);
      this.moveAtMs[slot] = NaN;
    } else {
      const r = this.replicas.id(replica);
      let last = head;
      for (slot = head; slot !== NONE; slot = this.next[slot] as number) {
        if (this.replica[slot] === r) break;
        last = slot;
      }
      if (slot !== NONE) {
        const cur = this.atMs[slot] as number;
        const newer = atMs !== cur ? atMs > cur : compareVersions(version, this.versions.list[this.version[slot] as number] as string) > 0;
        if (!newer) return;
      } else {
        slot = this.newSlot();
        this.next[last] = slot;
      }
    }
    this.replica[slot] = this.replicas.id(replica);
    this.flags[slot] = flags;
    this.atMs[slot] = atMs;
    this.version[slot] = this.versions.id(version);
    this.seenMs[slot] = seenMs;
  }

  /** A move of node `n` (which has a word): kept when later than its last (the same ms: the lower replica name, so every sink picks the same). */
  private move(n: number, replica: string, atMs: number, version: string): void {
    const head = this.heads.get(n);
    if (head === NONE) return;
    const cur = this.moveAtMs[head] as number;
    if (!Number.isNaN(cur) && !(atMs > cur || (atMs === cur && replica < (this.replicas.list[this.moveReplica[head] as number] as string)))) return;
    this.moveAtMs[head] = atMs;
    this.moveVersion[head] = this.versions.id(version);
    this.moveReplica[head] = this.replicas.id(replica);
  }

  private newSlot(): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.top++;
      if (slot >= this.next.length) {
        const size = slot + 1;
        this.nodeOf = atLeast(this.nodeOf, size);
        this.next = atLeast(this.next, size);
        this.replica = atLeast(this.replica, size);
        this.flags = atLeast(this.flags, size);
        this.atMs = atLeast(this.atMs, size);
        this.version = atLeast(this.version, size);
        this.seenMs = atLeast(this.seenMs, size);
        this.moveAtMs = atLeast(this.moveAtMs, size);
        this.moveVersion = atLeast(this.moveVersion, size);
        this.moveReplica = atLeast(this.moveReplica, size);
      }
    }
    this.next[slot] = NONE;
    this.nodeOf[slot] = NONE;
    return slot;
  }

  /** When word `slot` of node `n` says the node was last seen: a gone's last poll; a hold's time, brought forward by its replica's latest summary at or after `sinceMs` that counted its group. */
  private sighting(n: number, slot: number, sinceMs: number): number {
    const atMs = this.atMs[slot] as number;
    if ((this.flags[slot] as number) & GONE) return this.seenMs[slot] as number;
    if (this.summaries.size === 0) return atMs;
    const k = `${this.replicas.list[this.replica[slot] as number]}\u0000${this.table.group(n).prefix}\u0000${this.versions.list[this.version[slot] as number]}`;
    const s = this.summaries.get(k);
    return s && s.atMs >= sinceMs && s.nodeCount > 0 && s.atMs > atMs ? s.atMs : atMs;
  }

  /**
   * Forgets what no view with `sinceMs` at or after `cutoffMs` can show: nodes every word of
   * which was last seen before it (with their moves), and summaries older than it. Bounds the
   * memory of a long-lived fold to the nodes seen since the cutoff. Exact for the events
   * Holdings write: a hold's sighting moves forward only with a later summary of its replica,
   * and a replica that still tracks a node counts it in a summary every period, so a hold not
   * brought forward since the cutoff is one its replica forgot (or the replica stopped).
   */
  prune(cutoffMs: number): void {
    for (let head = 0; head < this.top; head++) {
      const n = this.nodeOf[head] as number;
      if (n === NONE) continue;
      let seen = -Infinity;
      for (let s = head; s !== NONE; s = this.next[s] as number) seen = Math.max(seen, this.sighting(n, s, cutoffMs));
      if (seen >= cutoffMs) continue;
      for (let s = head; s !== NONE; s = this.next[s] as number) this.freeSlots.push(s);
      this.nodeOf[head] = NONE;
      this.heads.delete(n);
      this.table.unref(n);
    }
    for (const [k, s] of this.summaries) if (s.atMs < cutoffMs) this.summaries.delete(k);
    this.compactStrings();
  }

  /** Versions and replica names still in use, renumbered (a topic publishes new versions for good; its old ones go with its old nodes). */
  private compactStrings(): void {
    const versions = new Strings();
    const replicas = new Strings();
    for (let head = 0; head < this.top; head++) {
      if (this.nodeOf[head] === NONE) continue;
      for (let s = head; s !== NONE; s = this.next[s] as number) {
        this.version[s] = versions.id(this.versions.list[this.version[s] as number] as string);
        this.replica[s] = replicas.id(this.replicas.list[this.replica[s] as number] as string);
      }
      if (Number.isNaN(this.moveAtMs[head])) continue;
      this.moveVersion[head] = versions.id(this.versions.list[this.moveVersion[head] as number] as string);
      this.moveReplica[head] = replicas.id(this.replicas.list[this.moveReplica[head] as number] as string);
    }
    this.versions = versions;
    this.replicas = replicas;
  }

  /** Whether nothing is kept. */
  get empty(): boolean {
    return this.heads.size === 0 && this.summaries.size === 0;
  }

  /** Distinct nodes kept. */
  get nodes(): number {
    return this.heads.size;
  }

  /** The kept state as plain data, with its nodes' keys (`fromJSON` restores exactly this fold). */
  toJSON(): ConsumersFoldData {
    const nodes: (string | null)[] = [];
    for (let n = 0; n < this.table.length; n++) nodes.push(this.table.key(n));
    const words: (number | string)[] = [];
    const moves: (number | string)[] = [];
    for (let head = 0; head < this.top; head++) {
      const n = this.nodeOf[head] as number;
      if (n === NONE) continue;
      for (let s = head; s !== NONE; s = this.next[s] as number) {
        words.push(n, this.replicas.list[this.replica[s] as number] as string, this.flags[s] as number, this.atMs[s] as number, this.versions.list[this.version[s] as number] as string, this.seenMs[s] as number);
      }
    }
    for (let head = 0; head < this.top; head++) {
      const n = this.nodeOf[head] as number;
      if (n === NONE || Number.isNaN(this.moveAtMs[head])) continue;
      moves.push(n, this.replicas.list[this.moveReplica[head] as number] as string, this.moveAtMs[head] as number, this.versions.list[this.moveVersion[head] as number] as string);
    }
    return { nodes, words, moves, summaries: [...this.summaries.values()] };
  }

  /**
   * toJSON's text, `JSON.stringify(this.toJSON())`, in pieces of at most `perPiece` items (a
   * node key, a word, a move, a summary): `jsonBytes` decoded.
   */
  *jsonPieces(perPiece: number, listed?: number): Generator<string> {
    const text = new TextDecoder();
    for (const b of this.jsonBytes(perPiece, listed)) yield text.decode(b, { stream: true });
  }

  /**
   * toJSON's text as UTF-8, in pieces of at most `perPiece` items (a node key, a word, a move,
   * a summary), so a fold of many nodes can be written a piece at a time with other work
   * between the pieces; numbers written as digits, a replica's and a version's JSON kept once
   * (no string per word). The fold may change between two pieces: each piece reads it as it
   * is then, and the node numbers stay those of the keys written first (freed numbers are not
   * reused meanwhile).
   *
   * `listed`: the fold's NodeTable was written apart (a snapshot of several folds), with this
   * many numbers: the data has no `nodes`, and words of nodes numbered from `listed` on (new
   * since) are left out.
   */
  *jsonBytes(perPiece: number, listed?: number): Generator<Uint8Array> {
    const release = this.table.hold();
    try {
      const w = new JsonBytes();
      let count = 0;
      let limit = listed ?? 0;
      w.raw('{');
      if (listed === undefined) {
        w.raw('"nodes":[');
        limit = this.table.length;
        for (let n = 0; n < limit; n++) {
          if (n > 0) w.char(COMMA);
          const key = this.table.key(n);
          w.raw(key === null ? 'null' : JSON.stringify(key));
          if (++count % perPiece === 0) yield w.take();
        }
        w.raw('],');
      }
      w.raw('"words":[');
      let first = true;
      for (let head = 0; head < this.top; head++) {
        const n = this.nodeOf[head] as number;
        if (n === NONE || n >= limit) continue;
        for (let s = head; s !== NONE; s = this.next[s] as number) {
          if (!first) w.char(COMMA);
          first = false;
          w.number(n);
          w.char(COMMA);
          w.bytes(this.replicas.json[this.replica[s] as number] as Uint8Array);
          w.char(COMMA);
          w.number(this.flags[s] as number);
          w.char(COMMA);
          w.number(this.atMs[s] as number);
          w.char(COMMA);
          w.bytes(this.versions.json[this.version[s] as number] as Uint8Array);
          w.char(COMMA);
          w.number(this.seenMs[s] as number);
          if (++count % perPiece === 0) yield w.take();
        }
      }
      w.raw('],"moves":[');
      first = true;
      for (let head = 0; head < this.top; head++) {
        const n = this.nodeOf[head] as number;
        if (n === NONE || n >= limit || Number.isNaN(this.moveAtMs[head])) continue;
        if (!first) w.char(COMMA);
        first = false;
        w.number(n);
        w.char(COMMA);
        w.bytes(this.replicas.json[this.moveReplica[head] as number] as Uint8Array);
        w.char(COMMA);
        w.number(this.moveAtMs[head] as number);
        w.char(COMMA);
        w.bytes(this.versions.json[this.moveVersion[head] as number] as Uint8Array);
        if (++count % perPiece === 0) yield w.take();
      }
      w.raw('],"summaries":[');
      first = true;
      for (const e of this.summaries.values()) {
        if (!first) w.char(COMMA);
        first = false;
        w.raw(JSON.stringify(e));
        if (++count % perPiece === 0) yield w.take();
      }
      w.raw(']}');
      yield w.take();
    } finally {
      release();
    }
  }

  /**
   * The fold `toJSON` (or `jsonPieces`) wrote. With `d.nodes`, its nodes are numbered anew in
   * `nodes` (a new table by default); without, `nodes` is the table written beside it
   * (`NodeTable.fromKeys`), and a word of a number it does not hold is left out.
   */
  static fromJSON(d: ConsumersFoldData, nodes: NodeTable = new NodeTable()): ConsumersFold {
    const f = new ConsumersFold(nodes);
    const own = d.nodes;
    const number = (v: number | string | undefined): number => {
      if (typeof v !== 'number') return NONE;
      if (own) {
        const key = own[v];
        return typeof key === 'string' ? nodes.numberOf(key) : NONE;
      }
      return nodes.key(v) === null ? NONE : v;
    };
    for (let i = 0; i + WORD_VALUES <= d.words.length; i += WORD_VALUES) {
      const n = number(d.words[i]);
      if (n === NONE) continue;
      f.word(n, String(d.words[i + 1]), Number(d.words[i + 2]), Number(d.words[i + 3]), String(d.words[i + 4]), Number(d.words[i + 5]));
    }
    for (let i = 0; i + MOVE_VALUES <= d.moves.length; i += MOVE_VALUES) {
      const n = number(d.moves[i]);
      if (n !== NONE) f.move(n, String(d.moves[i + 1]), Number(d.moves[i + 2]), String(d.moves[i + 3]));
    }
    for (const s of d.summaries) f.add(s);
    return f;
  }

  /** The consumers view of `topic` from what this fold holds (the fold's events are all before `q.untilMs`, if given). */
  view(topic: string, q: ConsumersQuery): TopicConsumers {
    validateConsumersQuery(q);
    const nodes: ConsumerNode[] = [];
    const versions = this.versions.list;
    const replicas = this.replicas.list;
    for (let head = 0; head < this.top; head++) {
      const n = this.nodeOf[head] as number;
      if (n === NONE) continue;
      let best = NONE;
      let bestSeen = -Infinity;
      for (let s = head; s !== NONE; s = this.next[s] as number) {
        const seen = this.sighting(n, s, q.sinceMs);
        let wins = best === NONE || seen > bestSeen;
        if (!wins && seen === bestSeen) {
          // A tie: a live word first, then the higher version, then the lower replica name.
          const gone = ((this.flags[s] as number) & GONE) !== 0;
          const bestGone = ((this.flags[best] as number) & GONE) !== 0;
          const v = versions[this.version[s] as number] as string;
          const bv = versions[this.version[best] as number] as string;
          wins = gone !== bestGone ? !gone : compareVersions(v, bv) > 0 || (v === bv && (replicas[this.replica[s] as number] as string) < (replicas[this.replica[best] as number] as string));
        }
        if (wins) {
          best = s;
          bestSeen = seen;
        }
      }
      if (best === NONE || bestSeen < q.sinceMs) continue;
      const g = this.table.group(n);
      const version = versions[this.version[best] as number] as string;
      const moveAtMs = this.moveAtMs[head] as number;
      const live = ((this.flags[best] as number) & GONE) === 0;
      nodes.push({
        app: g.app,
        cluster: g.cluster,
        region: g.region,
        nodeId: this.table.nodeId(n),
        version,
        ...(!Number.isNaN(moveAtMs) && versions[this.moveVersion[head] as number] === version && { sinceMs: moveAtMs }),
        lastSeenMs: bestSeen,
        live,
        pinned: live && ((this.flags[best] as number) & PINNED) !== 0,
        replica: replicas[this.replica[best] as number] as string,
      });
    }
    let foldedPolls = 0;
    for (const s of this.summaries.values()) if (s.atMs >= q.sinceMs) foldedPolls += s.foldedPolls;
    return { topic, ...groupNodes(q, nodes), foldedPolls };
  }
}

/**
 * Who consumes `topic`, from the audit events of every replica (in any order, and already
 * reduced or not: the latest hold-or-gone per node and replica, the latest move per node and
 * replica, and the latest summary per replica and group are all this needs, so a sink may hand
 * in just those; ConsumersFold keeps exactly that).
 *
 * Per node and replica, the replica's latest word (by the time it was said) is what that
 * replica knows: a hold (still polling there; its last sighting brought forward by the
 * replica's latest summary that counted its group) or a gone (its last poll there). The
 * replica that saw the node last wins, a live word on a tie; so a node that moved replicas is
 * one node, and the old replica's later gone event does not hide it. Nodes whose last sighting
 * is before `sinceMs` are left out.
 */
export function consumersView(topic: string, q: ConsumersQuery, events: Iterable<HoldingEvent>): TopicConsumers {
  validateConsumersQuery(q);
  const fold = new ConsumersFold();
  for (const e of events) if (e.topic === topic && (q.untilMs === undefined || e.atMs < q.untilMs)) fold.add(e);
  return fold.view(topic, q);
}

type Counted = { nodeCount: number; lastSeenMs: number };

function groupNodes(q: ConsumersQuery, nodes: ConsumerNode[]): Omit<TopicConsumers, 'topic' | 'foldedPolls'> {
  const count = (m: Map<string, Counted>, n: ConsumerNode) => {
    const v = m.get(n.version);
    if (v) {
      v.nodeCount++;
      v.lastSeenMs = Math.max(v.lastSeenMs, n.lastSeenMs);
    } else m.set(n.version, { nodeCount: 1, lastSeenMs: n.lastSeenMs });
  };
  const versionList = (m: Map<string, Counted>): VersionHeld[] =>
    [...m.entries()].map(([version, v]) => ({ version, ...v })).sort((a, b) => compareVersions(b.version, a.version));
  const groups = new Map<string, { app: string; cluster: string; region: string; nodes: number; lastSeenMs: number; versions: Map<string, Counted> }>();
  const all = new Map<string, Counted>();
  let lastSeenMs: number | undefined;
  let liveCount = 0;
  for (const n of nodes) {
    const gk = `${n.app}\u0000${n.cluster}\u0000${n.region}`;
    let g = groups.get(gk);
    if (!g) {
      g = { app: n.app, cluster: n.cluster, region: n.region, nodes: 0, lastSeenMs: n.lastSeenMs, versions: new Map() };
      groups.set(gk, g);
    }
    g.nodes++;
    g.lastSeenMs = Math.max(g.lastSeenMs, n.lastSeenMs);
    count(g.versions, n);
    count(all, n);
    if (n.live) liveCount++;
    lastSeenMs = lastSeenMs === undefined ? n.lastSeenMs : Math.max(lastSeenMs, n.lastSeenMs);
  }
  const limit = q.nodeLimit ?? 0;
  const listed =
    limit > 0
      ? nodes
          .filter((n) => q.version === undefined || n.version === q.version)
          .sort((a, b) => compareVersions(a.version, b.version) || byText(a.app, b.app) || byText(a.cluster, b.cluster) || byText(a.region, b.region) || byText(a.nodeId, b.nodeId))
          .slice(0, limit)
      : undefined;
  return {
    sinceMs: q.sinceMs,
    ...(q.untilMs !== undefined && { untilMs: q.untilMs }),
    nodeCount: nodes.length,
    liveCount,
    versions: versionList(all),
    groups: [...groups.values()]
      .sort((a, b) => byText(a.app, b.app) || byText(a.cluster, b.cluster) || byText(a.region, b.region))
      .map((g) => ({ app: g.app, cluster: g.cluster, region: g.region, nodeCount: g.nodes, versions: versionList(g.versions), lastSeenMs: g.lastSeenMs })),
    ...(lastSeenMs !== undefined && { lastSeenMs }),
    ...(listed && { nodes: listed }),
  };
}
