import { defineConfig } from 'vitest/config';

/**
 * Three kinds of suites: the embedded ones (no outside server), the web console's in a real
 * Chromium (`browser`, whose set-up installs it when missing), and one project per real
 * backend whose global set-up starts that backend (scripts/backends) before its files run
 * and stops it after. A project whose files are not selected starts nothing.
 */
export default defineConfig({
  test: {
    // better-sqlite3 is a native addon: child processes isolate it more simply than threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    // A served process's HTTP port (the CLI's default is 8080) is any free port in tests, so
    // files running at once never race for one; a test that means a port says so.
    env: { IMPRINT_HTTP_PORT: '0' },
    projects: [
      {
        extends: true,
        test: { name: 'embedded', include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'cassandra',
          include: ['test/backends/cassandra*.test.ts'],
          globalSetup: ['test/setup/backends.ts'],
          env: { IMPRINT_TEST_BACKENDS: 'cassandra' },
          // One Cassandra serves the project's files one after another (fault tests stop it).
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 's3',
          include: ['test/backends/s3*.test.ts'],
          globalSetup: ['test/setup/backends.ts'],
          // Two S3 servers stand for two regions, so "region down" is a stopped process.
          env: { IMPRINT_TEST_BACKENDS: 's3', IMPRINT_TEST_S3_INSTANCES: '2' },
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'elasticsearch',
          include: ['test/backends/elasticsearch*.test.ts', 'test/backends/kibana*.test.ts'],
          globalSetup: ['test/setup/backends.ts'],
          env: { IMPRINT_TEST_BACKENDS: 'elasticsearch' },
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          // The web console in a real headless Chromium (scripts/chromium.ts installs it when missing).
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/setup.ts'],
          // One Chromium at a time on a shared machine.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
        },
      },
    ],
  },
});
