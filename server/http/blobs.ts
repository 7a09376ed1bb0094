/**
 * The embedded local blob store's lent URLs (server/lend.ts signs them), served over HTTP:
 *  - PUT /blobs/BUCKET/KEY?topic&size&sha256&expires&sig: the body streams to a temporary file
 *    while it is counted and hashed; only bytes of the signed size and sha256 are renamed into
 *    place (anything else leaves nothing: 400 {code, message, field});
 *  - GET (and HEAD) /blobs/BUCKET/KEY?topic&expires&sig: the object, streamed, with one Range
 *    (206, Content-Range; 416 past its end).
 * A URL that is expired, tampered with, or signed for another method or object: 403.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BlobNotFoundError } from '../../client/blob-store/blob-store.js';
import { ImprintError, InvalidArgumentError } from '../../core/index.js';
import type { Logger } from '../../log/index.js';
import { BLOB_ROUTE, LentUrlRefusedError, type LocalGrant, type Lender } from '../lend.js';
import type { HttpRoutes } from './server.js';

type Query = Record<string, string | undefined>;

/**
 * The bytes of `body`, counted and hashed as they pass; the stream fails when they are not
 * `size` bytes with `sha256`. Lazy (nothing is read until the store reads it), so the failure
 * reaches the store's pipeline, which then removes its temporary file.
 */
async function* verified(body: AsyncIterable<Buffer>, size: number, sha256: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > size) throw new InvalidArgumentError('size', `must be the signed ${size} bytes (the body is longer)`, seen);
    hash.update(chunk);
    yield chunk;
  }
  if (seen !== size) throw new InvalidArgumentError('size', `must be the signed ${size} bytes`, seen);
  const got = hash.digest('hex');
  if (got !== sha256) throw new InvalidArgumentError('sha256', `must be the signed sha256 ${sha256} (the body's is another)`, got);
}

/** One Range header against an object of `size` bytes: the bytes, 'unsatisfiable', or undefined (the whole object). */
function rangeOf(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // not one range we serve: the whole object, as RFC 9110 allows
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export function lentBlobRoutes(lender: Lender, log: Logger): HttpRoutes {
  const fail = (reply: FastifyReply, err: unknown, what: string): FastifyReply => {
    if (err instanceof LentUrlRefusedError) return reply.code(403).send({ code: err.code, message: err.message });
    if (err instanceof InvalidArgumentError) return reply.code(400).send({ code: err.code, message: err.message, field: err.field });
    if (err instanceof BlobNotFoundError) return reply.code(404).send({ code: err.code, message: err.message });
    log.error('lent blob URL failed', { what, err: err instanceof Error ? err.message : String(err) });
    return reply.code(500).send({ code: err instanceof ImprintError ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
  };
  /** The grant and store of a request, checked. */
  const grantOf = (req: FastifyRequest, method: 'GET' | 'PUT'): { grant: LocalGrant; store: NonNullable<ReturnType<Lender['localStore']>> } => {
    const [bucket = '', ...segments] = ((req.params as { '*': string })['*'] ?? '').split('/');
    const key = segments.join('/');
    const grant = lender.checkLocal(method, bucket, key, req.query as Query);
    const store = lender.localStore(bucket);
    if (!store) throw new LentUrlRefusedError(`this service has no local blob store with bucket "${bucket}"`);
    return { grant, store };
  };
  return (app) => {
    void app.register(async (scope) => {
      // The body is the object's bytes, whatever its Content-Type: the PUT reads the raw stream.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
      scope.put(`${BLOB_ROUTE}/*`, async (req, reply) => {
        let where = req.url.split('?')[0] ?? '';
        try {
          const { grant, store } = grantOf(req, 'PUT');
          where = `${grant.bucket}/${grant.key}`;
          const size = grant.size ?? 0;
          const declared = req.headers['content-length'];
          if (declared !== undefined && Number(declared) !== size) throw new InvalidArgumentError('size', `must be the signed ${size} bytes (Content-Length says ${declared})`, Number(declared));
          // The store writes a temporary file and renames it only when the stream ends well.
          await store.put(grant.key, Readable.from(verified(req.raw, size, grant.sha256 ?? '')));
          log.info('lent upload stored', { key: grant.key, size, region: store.region });
          return reply.code(200).send({ key: grant.key, size, sha256: grant.sha256 });
        } catch (err) {
          // What is left of a refused body is not read: the connection closes after the answer.
          if (!req.raw.readableEnded) reply.header('connection', 'close');
          return fail(reply, err, `PUT ${where}`);
        }
      });
      scope.get(`${BLOB_ROUTE}/*`, async (req, reply) => {
        try {
          const { grant, store } = grantOf(req, 'GET');
          const loc = store.locationOf(grant.key);
          const { size } = await store.stat(loc);
          reply.header('accept-ranges', 'bytes').header('content-type', 'application/octet-stream');
          const range = rangeOf(req.headers.range, size);
          if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${size}`).send();
          if (range === undefined) return reply.code(200).header('content-length', size).send(await store.get(loc));
          const length = range.end - range.start + 1;
          return reply
            .code(206)
            .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
            .header('content-length', length)
            .send(await store.get(loc, { range: { offset: range.start, length } }));
        } catch (err) {
          return fail(reply, err, `GET ${req.url.split('?')[0] ?? ''}`);
        }
      });
    });
  };
}
