/**
 * A ConsumerService stub for unit tests of client code: it answers BatchPoll and Watch with
 * what the test sets for each topic (a version, possibly marked rolled back), keeps Watch
 * streams open so the test can push a change, answers Report (or fails it, when told), and
 * records every cursor it is sent (with its rejection) so the test can assert what the client
 * said. GetVersion answers the records it was given; the rest answer UNIMPLEMENTED.
 */
import * as grpc from '@grpc/grpc-js';
import type { Rejection, Version, VersionRecord } from '../core/index.js';
import { recordToWire, rejectionFromWire, versionFromWire } from '../proto/convert.js';
import type { ConsumerServiceHandlers } from '../proto/gen/imprint/v1/ConsumerService.js';
import type { TopicCursor__Output } from '../proto/gen/imprint/v1/TopicCursor.js';
import type { TopicPollResult } from '../proto/gen/imprint/v1/TopicPollResult.js';
import type { WatchResponse } from '../proto/gen/imprint/v1/WatchResponse.js';
import { loadImprintProto } from '../proto/loader.js';
import { directPointer } from './helpers.js';

/** One cursor as a request carried it. */
export interface SeenCursor {
  readonly topic: string;
  readonly lastSeen: Version;
  readonly rejected?: Rejection;
}

/** What the stub answers for a topic: this version (when the cursor is not at it), possibly rolled back. */
export interface StubAnswer {
  readonly version: Version;
  readonly rolledBack?: boolean;
}

export interface StubConsumer {
  readonly address: string;
  /** Every BatchPoll's cursors, every Watch's (as opened), every Report's, in order. */
  readonly batchPolls: SeenCursor[][];
  readonly watches: SeenCursor[][];
  readonly reports: SeenCursor[][];
  /** A record of `topic` at `version` whose payload is `text` (a direct pointer; `sha256` overrides the true one). */
  addRecord(topic: string, version: Version, text: string, opts?: { sha256?: string }): VersionRecord;
  /** Sets what the topic is answered from now on, and pushes it to the open Watch streams. */
  answer(topic: string, a: StubAnswer | undefined): void;
  /** Report fails UNAVAILABLE while true. */
  failReports: boolean;
  /** Watch answers UNIMPLEMENTED while true (the subscriber then polls). */
  refuseWatch: boolean;
  stop(): void;
}

function cursorFromWire(c: TopicCursor__Output): SeenCursor {
  const rejected = rejectionFromWire(c.rejected, 'rejected');
  return { topic: c.topic, lastSeen: versionFromWire(c.lastSeenVersion, 'last_seen_version', true), ...(rejected && { rejected }) };
}

export async function startStubConsumer(): Promise<StubConsumer> {
  const records = new Map<string, VersionRecord>();
  const answers = new Map<string, StubAnswer>();
  const streams = new Set<grpc.ServerWritableStream<unknown, WatchResponse>>();
  const key = (topic: string, v: Version) => `${topic}@${v}`;

  /** The topic's answer to a consumer at `lastSeen`. */
  const resultFor = (topic: string, lastSeen: Version): TopicPollResult => {
    const a = answers.get(topic);
    const record = a && a.version !== lastSeen ? records.get(key(topic, a.version)) : undefined;
    return { topic, maxStalenessMs: 0, ...(record && { update: { record: recordToWire(record), pinned: false, rolledBack: a?.rolledBack ?? false } }) };
  };

  const stub: StubConsumer = {
    address: '',
    batchPolls: [],
    watches: [],
    reports: [],
    failReports: false,
    refuseWatch: false,
    addRecord(topic, version, text, opts = {}) {
      const pointer = directPointer(text);
      const record: VersionRecord = { topic, version, publishedAtMs: Date.now(), metadata: {}, pointer: { ...pointer, sha256: opts.sha256 ?? pointer.sha256 }, scopes: [{}], digest: `d${version}` };
      records.set(key(topic, version), record);
      return record;
    },
    answer(topic, a) {
      if (a) answers.set(topic, a);
      else answers.delete(topic);
      for (const call of streams) call.write({ result: resultFor(topic, -1n) });
    },
    stop: () => server.forceShutdown(),
  };

  const unimplemented = (_call: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'not in the stub' });
  const handlers: ConsumerServiceHandlers = {
    BatchPoll: (call, cb) => {
      const cursors = call.request.topics.map(cursorFromWire);
      stub.batchPolls.push(cursors);
      cb(null, { results: cursors.map((c) => resultFor(c.topic, c.lastSeen)) });
    },
    Watch: (call) => {
      if (stub.refuseWatch) {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'no Watch in this stub now' });
        return;
      }
      const cursors = call.request.topics.map(cursorFromWire);
      stub.watches.push(cursors);
      streams.add(call);
      call.on('cancelled', () => streams.delete(call));
      call.on('close', () => streams.delete(call));
      for (const c of cursors) call.write({ result: resultFor(c.topic, c.lastSeen) });
    },
    Report: (call, cb) => {
      if (stub.failReports) return cb({ code: grpc.status.UNAVAILABLE, details: 'reports are failing' });
      stub.reports.push(call.request.topics.map(cursorFromWire));
      cb(null, {});
    },
    GetVersion: (call, cb) => {
      const r = records.get(key(call.request.topic, versionFromWire(call.request.version, 'version')));
      if (!r) return cb({ code: grpc.status.NOT_FOUND, details: 'no such version in the stub' });
      cb(null, { record: recordToWire(r) });
    },
    ListVersions: (_call, cb) => cb(null, { versions: [], nextPageToken: '' }),
    Poll: unimplemented,
    GetLatestAt: unimplemented,
    GetTopic: unimplemented,
    ListTopics: unimplemented,
    GetDownload: unimplemented,
  };
  const server = new grpc.Server();
  server.addService(loadImprintProto().proto.imprint.v1.ConsumerService.service, handlers);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return Object.assign(stub, { address: `127.0.0.1:${port}` });
}
