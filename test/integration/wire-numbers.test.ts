/**
 * Issue 12 item 3: every number of the contract is range-checked where the wire becomes the
 * domain, on the embedded server (SQLite) over gRPC. (test/backends/cassandra-numbers.test.ts
 * runs the same cases on Cassandra.)
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { directPointer, startTestServer, type TestServer } from '../helpers.js';
import { NUMBER_CASES, RawStubs, checkNumberCase } from '../wire-numbers.js';

describe('numbers on the wire, embedded store', () => {
  let t: TestServer;
  let stubs: RawStubs;
  const topic = 'numbers';
  beforeAll(async () => {
    t = await startTestServer();
    await t.client.createTopic({ name: topic });
    await t.client.publishPointer(topic, directPointer('one'));
    stubs = new RawStubs(t.address);
  });
  afterAll(async () => {
    stubs.close();
    await t.stop();
  });

  it.each(NUMBER_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await checkNumberCase(stubs, topic, c);
  });
});
