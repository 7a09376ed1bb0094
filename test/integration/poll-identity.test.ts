/**
 * Issue 12 item 5: a poll must name its application (identity.app): the audit and the
 * consume role's per-application limits count by it. Refused on every role that serves polls,
 * on Poll and BatchPoll alike, before anything is audited.
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImprintClient } from '../../client/index.js';
import { silentLogger } from '../../log/index.js';
import { readAuditFile, startImprintServer, type ImprintServer } from '../../server/index.js';
import { directPointer, tempDir } from '../helpers.js';
import { RawStubs } from '../wire-numbers.js';

const REQUIRED = 'identity.app is required: name the application that polls (audit and per-application limits count by it)';

describe.each(['all', 'consume'] as const)('a poll without identity.app, %s role', (role) => {
  let server: ImprintServer;
  let stubs: RawStubs;
  beforeAll(async () => {
    const dataDir = tempDir();
    // The topic exists before the server starts, so the consume role's table has it.
    const seed = await startImprintServer({ dataDir, port: 0, log: silentLogger });
    const c = new ImprintClient({ address: `127.0.0.1:${seed.port}` });
    await c.createTopic({ name: 'model' });
    await c.publishPointer('model', directPointer('one'));
    c.close();
    await seed.stop();
    fs.rmSync(seed.options.auditFile);
    server = await startImprintServer({ dataDir, port: 0, log: silentLogger, role });
    stubs = new RawStubs(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    stubs.close();
    await server.stop();
  });

  const polls = async () => {
    await server.audit.flush();
    return fs.existsSync(server.options.auditFile) ? readAuditFile(server.options.auditFile).filter((e) => e.kind === 'hold') : [];
  };

  it.each([
    ['no identity', null],
    ['an empty app', { app: '', cluster: 'c1', region: 'eu', nodeId: 'n1' }],
  ])('%s: INVALID_ARGUMENT naming identity.app, on Poll and BatchPoll, nothing audited', async (_what, identity) => {
    const poll = await stubs.call('ConsumerService', 'Poll', { topic: 'model', identity, lastSeenVersion: '0' });
    const batch = await stubs.call('ConsumerService', 'BatchPoll', { identity, topics: [{ topic: 'model', lastSeenVersion: '0' }] });
    for (const r of [poll, batch]) expect({ code: grpc.status[r.code], details: r.details }).toEqual({ code: 'INVALID_ARGUMENT', details: REQUIRED });
    expect(await polls()).toEqual([]);
  });

  it('with an app, the same polls are answered and heard under it (one hold event: the second poll changes nothing)', async () => {
    const identity = { app: 'scorer', nodeId: 'n1' };
    const poll = await stubs.call('ConsumerService', 'Poll', { topic: 'model', identity, lastSeenVersion: '0' });
    const batch = await stubs.call('ConsumerService', 'BatchPoll', { identity, topics: [{ topic: 'model', lastSeenVersion: '0' }] });
    expect([poll.code, batch.code]).toEqual([grpc.status.OK, grpc.status.OK]);
    expect((await polls()).map((e) => (e.kind === 'hold' ? [e.identity.app, e.version] : []))).toEqual([['scorer', '1']]);
    expect(server.holdings?.stats().observed).toBe(2);
  });
});
