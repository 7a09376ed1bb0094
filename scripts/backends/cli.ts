/**
 * npx tsx scripts/backends/cli.ts fetch|start <name...>   (see --help)
 */
import { BACKEND_NAMES, ENV_VARS, S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, backends, createContext, isBackendName, startBackends } from './index.js';
import type { BackendName, StartedBackends } from './index.js';

const HELP = `Usage: npx tsx scripts/backends/cli.ts <command> <backend...>

Starts real backend servers for Imprint's tests, without Docker.

Commands:
  fetch <backend...>   Download/build into the cache (idempotent; safe to run concurrently).
  start <backend...>   Fetch if needed, start, print endpoints and the env lines to export,
                       then keep running until Ctrl-C / SIGTERM, which stops them cleanly.

Backends:
  cassandra       Cassandra 5.0 (jars from Maven Central) on JDK 17, 1 GB heap, CQL endpoint host:port
  elasticsearch   Elasticsearch 8.19 integ-test-zip (Maven Central), 512 MB heap, http://host:port
  s3              MinIO built with 'go install' (or moto with IMPRINT_S3_SERVER=moto), http://host:port
                  Give 's3' twice (or --s3-instances N) to start several, e.g. for two regions.
  all             All three.

Options:
  --s3-instances N  Number of S3 servers for 'start' (default: how often 's3' was named).
  -h, --help        This help.

Environment:
  IMPRINT_BACKENDS_CACHE   Cache dir (default ~/.cache/imprint-backends).
  ${ENV_VARS.cassandra}=host:port, ${ENV_VARS.elasticsearch}=http://host:port,
  ${ENV_VARS.s3}=http://host:port[,http://host:port]
                           Use an already running server instead of starting one.
  IMPRINT_BACKENDS_KEEP_WORKDIR=1   Keep work dirs (logs, data) after stop.
  IMPRINT_JAVA17_HOME      JDK 17 home (default: found in /usr/lib/jvm).

S3 credentials: access key '${S3_ACCESS_KEY}', secret '${S3_SECRET_KEY}', any region (e.g. ${S3_REGION}), path-style.

Examples:
  npx tsx scripts/backends/cli.ts fetch all
  npx tsx scripts/backends/cli.ts start cassandra s3 s3
`;

function fail(msg: string): never {
  process.stderr.write(`${msg}\n\nRun with --help for usage.\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help') || argv[0] === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const [command, ...rest] = argv;
  if (command !== 'fetch' && command !== 'start') fail(`Unknown command "${command ?? ''}".`);

  const names: BackendName[] = [];
  let s3Instances: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] ?? '';
    if (a === '--s3-instances') {
      const n = Number(rest[++i]);
      if (!Number.isInteger(n) || n < 1) fail('--s3-instances needs a positive integer.');
      s3Instances = n;
    } else if (a === 'all') {
      names.push(...BACKEND_NAMES);
    } else if (isBackendName(a)) {
      names.push(a);
    } else {
      fail(`Unknown backend "${a}" (expected ${BACKEND_NAMES.join(', ')} or all).`);
    }
  }
  if (names.length === 0) fail(`Name at least one backend (${BACKEND_NAMES.join(', ')}, all).`);

  const ctx = createContext();
  if (command === 'fetch') {
    for (const n of new Set(names)) {
      const t0 = Date.now();
      await backends[n].fetch(ctx);
      process.stdout.write(`${n}: in cache ${ctx.cacheDir} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
    return;
  }

  let started: StartedBackends | undefined;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (started === undefined) {
      // Still starting: stop cleanly once started; a second signal exits at once (the
      // launcher's exit hook SIGKILLs the servers; their temp work dirs are left behind).
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(`\n${signal}: will stop as soon as the servers are up (again to force)...\n`);
      return;
    }
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping...\n`);
    void started.stop().then(
      () => {
        process.stderr.write('stopped.\n');
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  const t0 = Date.now();
  started = await startBackends(names, { ctx, s3Instances: s3Instances ?? Math.max(1, names.filter((n) => n === 's3').length) });
  if (stopping) {
    // A signal arrived while starting.
    await started.stop();
    process.stderr.write('stopped.\n');
    process.exit(0);
  }
  process.stdout.write(`\nStarted in ${((Date.now() - t0) / 1000).toFixed(1)} s:\n`);
  for (const b of started.all) {
    process.stdout.write(`  ${b.name.padEnd(14)} ${b.endpoint}${b.pid ? `  (pid ${b.pid}, work dir ${b.workDir})` : '  (from env)'}\n`);
  }
  process.stdout.write('\n');
  for (const [k, v] of Object.entries(started.env)) process.stdout.write(`export ${k}=${v}\n`);
  process.stdout.write('\nPress Ctrl-C to stop.\n');
  setInterval(() => undefined, 1 << 30); // keep running until a signal
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
