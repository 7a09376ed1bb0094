/**
 * vitest globalSetup for the suites that need real servers. Each backend project names the
 * backends it needs in IMPRINT_TEST_BACKENDS; they are started once (or taken from
 * IMPRINT_CASSANDRA / IMPRINT_ELASTICSEARCH / IMPRINT_S3 when set) and stopped after.
 */
import type { TestProject } from 'vitest/node';
import { isBackendName, startBackends, type BackendName } from '../../scripts/backends/index.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const wanted = String(project.config.env.IMPRINT_TEST_BACKENDS ?? '')
    .split(',')
    .filter((n): n is BackendName => isBackendName(n));
  const s3Instances = Number(project.config.env.IMPRINT_TEST_S3_INSTANCES ?? '1');
  const started = await startBackends(wanted, { s3Instances });
  // Test workers start after this and inherit the endpoints.
  Object.assign(process.env, started.env);
  for (const [k, v] of Object.entries(started.env)) project.config.env[k] = v;
  return () => started.stop();
}
