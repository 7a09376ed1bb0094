/**
 * sha256 on a worker thread, over bytes the reading thread writes into a SharedArrayBuffer, so
 * that hashing a large payload runs beside its download instead of on the thread that receives
 * and copies it (profiled: sha256 was a fifth of the reading thread's CPU, and a raw GetObject
 * does no hashing at all). The worker also faults the buffer's pages in ahead of the reader:
 * the first write to a fresh page costs the kernel more than the copy itself (256 MiB copied in
 * 64 KiB chunks here: 148-168 ms into fresh memory, 38-45 ms into memory already mapped).
 *
 * One worker per payload read, stopped when its digest is delivered or the read is dropped: a
 * worker kept between reads would keep the last payload's buffer alive until its own heap is
 * collected, which an idle worker seldom does. The reading thread passes the buffer once and
 * then only how far it may be hashed, at most one message per FLUSH_BYTES (and one at the
 * digest), so a 256 MiB payload is a few hundred messages. Message passing orders the worker's
 * reads after the reader's writes; the reader never writes a byte again once it has been given.
 *
 * A worker that fails (it throws, cannot start, runs out of memory, is terminated) fails its
 * hash at once: `onFail` is called and the digest rejects, so the read stops rather than hangs.
 */
import { Worker } from 'node:worker_threads';
import { ImprintError } from '../core/index.js';

/** Bytes given to the worker at least at once (the last ones at the digest). */
const FLUSH_BYTES = 1024 * 1024;

/**
 * The worker's code, run as a CommonJS script (`eval`): no file to locate, so it runs the same
 * from the TypeScript sources, the compiled dist/ and an installed package.
 *  - prefault: touches every page of the buffer, in slices from its start, ahead of the reader.
 *    An atomic compare-and-exchange of 0 for 0 writes nothing the reader wrote (a byte that is
 *    no longer 0 is left as it is), yet faults the page in on this thread.
 *  - 'update' hashes the bytes up to `upTo`; 'digest' answers the hex digest.
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const bytes = new Uint8Array(workerData.buffer);
const hash = createHash('sha256');
const SLICE = 2 * 1024 * 1024;
let touched = 0;
let hashed = 0;
let over = false;
const prefault = () => {
  const end = Math.min(bytes.length, touched + SLICE);
  for (let i = touched; i < end; i += 4096) Atomics.compareExchange(bytes, i, 0, 0);
  touched = end;
  if (end < bytes.length && !over) setImmediate(prefault);
};
prefault();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    hash.update(bytes.subarray(hashed, m.upTo));
    hashed = m.upTo;
  } else if (m.op === 'digest') {
    over = true;
    parentPort.postMessage({ digest: hash.digest('hex') });
  }
});
`;

/** The hash worker stopped (crashed, could not start, ran out of memory, was terminated) before its digest. */
export class HashWorkerError extends ImprintError {
  constructor(message: string, cause?: unknown) {
    super('INTERNAL', message, { cause });
  }
}

/** One payload's sha256 on its own worker. */
export interface SharedHash {
  /** Feeds `view`'s bytes: the next ones of the hash's buffer, in order (not written again). @throws TypeError for any other view. */
  update(view: Uint8Array): void;
  /** The hex digest of everything fed; the worker is then stopped. @throws HashWorkerError when the worker failed. */
  digest(): Promise<string>;
  /** Stops the worker (the read failed); the digest is never asked for. */
  drop(): void;
  /** The worker thread (tests stop it to see a read fail). */
  readonly worker: Worker;
}

/** Starts a hash of `buffer` from its start on a new worker; see the top of this file. `onFail` is called at most once. */
export function sharedHash(buffer: SharedArrayBuffer, onFail: (err: HashWorkerError) => void): SharedHash {
  const worker = new Worker(WORKER_CODE, { eval: true, workerData: { buffer } });
  let fed = 0;
  let sent = 0;
  /** Why the worker stopped, once it has. */
  let ended: { readonly err: HashWorkerError } | undefined;
  let answer: { resolve: (hex: string) => void; reject: (err: unknown) => void } | undefined;
  const end = (err: HashWorkerError): void => {
    if (ended) return;
    ended = { err };
    answer?.reject(err);
    onFail(err);
  };
  worker.on('message', (m: { readonly digest: string }) => {
    ended = { err: new HashWorkerError('the sha256 worker thread was stopped after its digest') };
    answer?.resolve(m.digest);
    void worker.terminate();
  });
  worker.on('error', (err) => end(new HashWorkerError(`the sha256 worker thread failed: ${err.message}`, err)));
  worker.on('exit', (code) => end(new HashWorkerError(`the sha256 worker thread stopped (exit code ${code}) before its digest`)));
  const send = (): void => {
    if (fed > sent) worker.postMessage({ op: 'update', upTo: fed });
    sent = fed;
  };
  return {
    worker,
    update: (view) => {
      if (view.buffer !== buffer || view.byteOffset !== fed) throw new TypeError(`a SharedHash is fed its buffer in order: bytes from ${fed} next, got a view at ${view.byteOffset}`);
      fed += view.length;
      if (fed - sent >= FLUSH_BYTES && !ended) send();
    },
    digest: () => {
      if (ended) return Promise.reject(ended.err);
      send();
      return new Promise<string>((resolve, reject) => {
        answer = { resolve, reject };
        worker.postMessage({ op: 'digest' });
      });
    },
    drop: () => {
      // Told first, so that the exit that follows fails no one.
      ended ??= { err: new HashWorkerError('the hash was dropped before its digest') };
      void worker.terminate();
    },
  };
}
