/**
 * Apache Cassandra 5.0 from Maven Central (no tarball, no Docker).
 *
 * fetch: a throwaway pom depending on org.apache.cassandra:cassandra-all:<version>; its runtime
 *   dependencies (about 100 jars, 67 MB) are copied with maven-dependency-plugin 3.6.1 (pinned:
 *   Maven 3.8.7 would otherwise pick 2.8) into `<cache>/cassandra/<version>/lib`.
 *   5.0.9 was the newest 5.0.x on Maven Central when this was written (probed with
 *   `mvn dependency:get -Dartifact=org.apache.cassandra:cassandra-all:5.0.10:pom` → not found).
 *   Override with IMPRINT_CASSANDRA_VERSION.
 * start: writes cassandra.yaml + logback.xml (the jar ships neither) into a fresh work dir and
 *   runs CassandraDaemon on JDK 17 (5.0 runs on 11/17 only; its SecurityManager use is refused
 *   by JDK 24+), -Xms1G -Xmx1G. Ready when the CQL native port answers
 *   `SELECT release_version FROM system.local` over the native protocol (v4, spoken by the tiny
 *   client below, since cassandra-driver is not a dependency here).
 */
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as path from 'node:path';
import {
  LOOPBACK,
  childEnv,
  ensureCached,
  findJdk17,
  freePorts,
  makeTestPki,
  makeWorkDir,
  run,
  runningBackend,
  spawnServer,
  startAndWait,
  fileContains,
} from './launcher.js';
import type { BackendModule, BackendSecurity, LaunchContext, RunningBackend, StartOptions, TestPki } from './launcher.js';

export const CASSANDRA_VERSION = process.env['IMPRINT_CASSANDRA_VERSION'] ?? '5.0.9';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
const READY_TIMEOUT_MS = 180_000;

function installDir(ctx: LaunchContext): string {
  return path.join(ctx.cacheDir, 'cassandra', CASSANDRA_VERSION);
}

async function fetchCassandra(ctx: LaunchContext): Promise<void> {
  const dir = installDir(ctx);
  const t0 = Date.now();
  const built = await ensureCached(dir, async (tmp) => {
    ctx.log(`cassandra: fetching cassandra-all ${CASSANDRA_VERSION} and its runtime deps from Maven Central`);
    const pom = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>imprint.backends</groupId>
  <artifactId>cassandra-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>${CASSANDRA_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
    await fsp.writeFile(path.join(tmp, 'pom.xml'), pom);
    await run(
      'mvn',
      ['-B', '-q', '-f', path.join(tmp, 'pom.xml'), `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        `-DoutputDirectory=${path.join(tmp, 'lib')}`, '-DincludeScope=runtime'],
      { cwd: tmp, env: childEnv({ JAVA_HOME: findJdk17() }), timeoutMs: 20 * 60_000 },
    );
    const jars = await fsp.readdir(path.join(tmp, 'lib'));
    if (!jars.includes(`cassandra-all-${CASSANDRA_VERSION}.jar`) || !jars.some((j) => /^jamm-.*\.jar$/.test(j))) {
      throw new Error(`cassandra fetch: lib/ lacks cassandra-all or jamm (${jars.length} jars)`);
    }
    await fsp.rm(path.join(tmp, 'pom.xml'));
  });
  if (built) ctx.log(`cassandra: cached in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

function cassandraYaml(o: { storagePort: number; nativePort: number; dataDir: string; pki?: TestPki }): string {
  const d = (sub: string): string => JSON.stringify(path.join(o.dataDir, sub));
  // Unknown keys are fatal in Cassandra: keep to documented 5.0 names.
  return `cluster_name: imprint-test
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${LOOPBACK}:${o.storagePort}"
listen_address: ${LOOPBACK}
rpc_address: ${LOOPBACK}
storage_port: ${o.storagePort}
native_transport_port: ${o.nativePort}
start_native_transport: true
commitlog_sync: periodic
commitlog_sync_period: 10000ms
data_file_directories:
  - ${d('data')}
commitlog_directory: ${d('commitlog')}
saved_caches_directory: ${d('saved_caches')}
hints_directory: ${d('hints')}
cdc_raw_directory: ${d('cdc_raw')}
auto_snapshot: false
snapshot_before_compaction: false
${o.pki ? secureYaml(o.pki) : ''}`;
}

/**
 * \`secure\`: logins (PasswordAuthenticator; the default superuser cassandra/cassandra is made at
 * once with -Dcassandra.superuser_setup_delay_ms=0), permissions (CassandraAuthorizer: a role
 * may do only what it was granted, and owns what it creates) and TLS only on the native port, with a
 * server certificate of the test CA (a PEM keystore) and client certificates required.
 */
function secureYaml(pki: TestPki): string {
  return `authenticator: PasswordAuthenticator
authorizer: CassandraAuthorizer
client_encryption_options:
  enabled: true
  optional: false
  require_client_auth: true
  ssl_context_factory:
    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory
  keystore: ${JSON.stringify(pki.serverPemFile)}
  truststore: ${JSON.stringify(pki.caFile)}
`;
}

/** The default superuser of a Cassandra with PasswordAuthenticator. */
export const CASSANDRA_SUPERUSER = { username: 'cassandra', password: 'cassandra' } as const;

const LOGBACK_XML = `<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <logger name="com.datastax" level="WARN"/>
  <root level="WARN"><appender-ref ref="STDOUT"/></root>
</configuration>
`;

/** JVM flags from conf/jvm-server.options + conf/jvm17-server.options of the 5.0 branch. */
function jvm17Flags(): string[] {
  const exports = [
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.management/com.sun.jmx.remote.security',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
  ];
  const opens = [
    ...['java.lang.module', 'jdk.internal.loader', 'jdk.internal.ref', 'jdk.internal.reflect', 'jdk.internal.math',
      'jdk.internal.module', 'jdk.internal.util.jar', 'sun.nio.ch', 'java.io', 'java.lang.reflect', 'java.lang',
      'java.util', 'java.nio'].map((p) => `java.base/${p}`),
    'jdk.management/com.sun.management.internal',
  ];
  return [
    '-XX:+UseG1GC',
    '-XX:+ParallelRefProcEnabled',
    '-XX:MaxTenuringThreshold=1',
    '-XX:MaxGCPauseMillis=300',
    '-XX:InitiatingHeapOccupancyPercent=70',
    '-Xss256k',
    '-Djdk.attach.allowAttachSelf=true',
    '-Djava.net.preferIPv4Stack=true',
    '-Dchronicle.analytics.disable=true',
    '-Dio.netty.tryReflectionSetAccessible=true',
    ...exports.map((e) => `--add-exports=${e}=ALL-UNNAMED`),
    ...opens.map((o) => `--add-opens=${o}=ALL-UNNAMED`),
  ];
}

async function startCassandra(ctx: LaunchContext, opts: StartOptions = {}): Promise<RunningBackend> {
  await fetchCassandra(ctx);
  const lib = path.join(installDir(ctx), 'lib');
  const jars = await fsp.readdir(lib);
  const jamm = jars.find((j) => /^jamm-.*\.jar$/.test(j));
  if (jamm === undefined) throw new Error(`no jamm jar in ${lib}`);
  const jdk = findJdk17();

  const workDir = await makeWorkDir('cassandra');
  const conf = path.join(workDir, 'conf');
  const dataDir = path.join(workDir, 'data');
  const logDir = path.join(workDir, 'logs');
  await Promise.all([conf, dataDir, logDir].map((d) => fsp.mkdir(d, { recursive: true })));

  const wanted = opts.port;
  const [storagePort, autoNative] = await freePorts(2);
  if (storagePort === undefined || autoNative === undefined) throw new Error('no free ports');
  const nativePort = wanted ?? autoNative;
  const pki = opts.secure === true ? await makeTestPki(path.join(conf, 'certs')) : undefined;
  await fsp.writeFile(path.join(conf, 'cassandra.yaml'), cassandraYaml({ storagePort, nativePort, dataDir, ...(pki && { pki }) }));
  const security: BackendSecurity | undefined = pki && {
    caFile: pki.caFile,
    clientCertFile: pki.clientCertFile,
    clientKeyFile: pki.clientKeyFile,
    ...CASSANDRA_SUPERUSER,
    users: { [CASSANDRA_SUPERUSER.username]: CASSANDRA_SUPERUSER.password },
  };
  const login: CqlLogin = security
    ? { ...CASSANDRA_SUPERUSER, tls: { ca: await fsp.readFile(security.caFile), cert: await fsp.readFile(security.clientCertFile), key: await fsp.readFile(security.clientKeyFile) } }
    : {};
  await fsp.writeFile(path.join(conf, 'logback.xml'), LOGBACK_XML);

  const logFile = path.join(workDir, 'server.log');
  const args = [
    '-Xms1G',
    '-Xmx1G',
    '-XX:+ExitOnOutOfMemoryError',
    ...jvm17Flags(),
    `-javaagent:${path.join(lib, jamm)}`,
    '-Dcassandra-foreground=yes',
    `-Dcassandra.config=file://${path.join(conf, 'cassandra.yaml')}`,
    `-Dlogback.configurationFile=${path.join(conf, 'logback.xml')}`,
    `-Dcassandra.logdir=${logDir}`,
    `-Dcassandra.storagedir=${dataDir}`,
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    ...(pki ? ['-Dcassandra.superuser_setup_delay_ms=0'] : []),
    `-Djava.io.tmpdir=${workDir}`,
    '-cp',
    `${conf}:${lib}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ];
  const t0 = Date.now();
  const server = spawnServer({
    cmd: path.join(jdk, 'bin', 'java'),
    args,
    logFile,
    cwd: workDir,
    env: childEnv({ JAVA_HOME: jdk }),
  });
  ctx.log(`cassandra: pid ${server.pid}, CQL port ${nativePort}, storage port ${storagePort}, work dir ${workDir}`);
  await startAndWait({
    what: 'cassandra',
    server,
    workDir,
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: 1000,
    check: async () =>
      (await fileContains(logFile, 'Startup complete')) &&
      (await cqlReleaseVersion(LOOPBACK, nativePort, login)) !== undefined,
  });
  ctx.log(`cassandra: ready at ${LOOPBACK}:${nativePort} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return runningBackend({
    ...(security && { security }),
    name: 'cassandra',
    host: LOOPBACK,
    port: nativePort,
    endpoint: `${LOOPBACK}:${nativePort}`,
    server,
    workDir,
    graceMs: 30_000,
  });
}

// ---------------------------------------------------------------------------------------------
// Minimal CQL native protocol v4 client: STARTUP, then one QUERY returning a single text cell.
// Only used for readiness; not a driver.

const OP = { ERROR: 0x00, STARTUP: 0x01, READY: 0x02, AUTHENTICATE: 0x03, QUERY: 0x07, RESULT: 0x08, AUTH_RESPONSE: 0x0f, AUTH_SUCCESS: 0x10 } as const;

/** How to reach a Cassandra started with `secure`: TLS (CA, client certificate) and a login. */
export interface CqlLogin {
  readonly tls?: tls.ConnectionOptions;
  readonly username?: string;
  readonly password?: string;
}

function frame(stream: number, opcode: number, body: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUInt8(0x04, 0); // request, protocol v4
  h.writeUInt8(0, 1); // flags
  h.writeInt16BE(stream, 2);
  h.writeUInt8(opcode, 4);
  h.writeInt32BE(body.length, 5);
  return Buffer.concat([h, body]);
}

function cqlString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function cqlLongString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/**
 * Sends `query` (which must select exactly one text column) and returns the first row's value,
 * or undefined on any failure (connection refused, protocol error, timeout).
 */
export async function cqlQuerySingleText(
  host: string,
  port: number,
  query: string,
  timeoutMs = 5000,
  login: CqlLogin = {},
): Promise<string | undefined> {
  const sock = login.tls ? tls.connect({ host, port, ...login.tls }) : net.connect({ host, port });
  sock.setTimeout(timeoutMs);
  let buf = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  let failed: Error | undefined;
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake();
  });
  const fail = (e: Error): void => {
    failed = e;
    wake();
  };
  sock.on('error', fail);
  sock.on('timeout', () => fail(new Error('timeout')));
  sock.on('close', () => fail(new Error('closed')));
  const readFrame = async (): Promise<{ opcode: number; body: Buffer }> => {
    for (;;) {
      if (buf.length >= 9) {
        const len = buf.readInt32BE(5);
        if (buf.length >= 9 + len) {
          const opcode = buf.readUInt8(4);
          const body = buf.subarray(9, 9 + len);
          buf = buf.subarray(9 + len);
          return { opcode, body };
        }
      }
      if (failed) throw failed;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once(login.tls ? 'secureConnect' : 'connect', resolve);
      sock.once('error', reject);
    });
    // STARTUP {CQL_VERSION: 3.0.0}
    const n = Buffer.alloc(2);
    n.writeUInt16BE(1);
    sock.write(frame(1, OP.STARTUP, Buffer.concat([n, cqlString('CQL_VERSION'), cqlString('3.0.0')])));
    let ready = await readFrame();
    if (ready.opcode === OP.AUTHENTICATE && login.username !== undefined) {
      // SASL PLAIN, as PasswordAuthenticator takes it: \0user\0password.
      const token = Buffer.from(`\0${login.username}\0${login.password ?? ''}`, 'utf8');
      const len = Buffer.alloc(4);
      len.writeInt32BE(token.length);
      sock.write(frame(1, OP.AUTH_RESPONSE, Buffer.concat([len, token])));
      ready = await readFrame();
      if (ready.opcode === OP.AUTH_SUCCESS) ready = { opcode: OP.READY, body: ready.body };
    }
    if (ready.opcode !== OP.READY) return undefined;
    // QUERY <query> consistency ONE, no flags
    const params = Buffer.from([0x00, 0x01, 0x00]);
    sock.write(frame(2, OP.QUERY, Buffer.concat([cqlLongString(query), params])));
    const res = await readFrame();
    if (res.opcode !== OP.RESULT) return undefined;
    const b = res.body;
    let off = 0;
    const int = (): number => {
      const v = b.readInt32BE(off);
      off += 4;
      return v;
    };
    const short = (): number => {
      const v = b.readUInt16BE(off);
      off += 2;
      return v;
    };
    const str = (): string => {
      const l = short();
      const s = b.toString('utf8', off, off + l);
      off += l;
      return s;
    };
    if (int() !== 0x0002) return undefined; // kind: Rows
    const flags = int();
    const columns = int();
    if (flags & 0x0002) {
      const l = int(); // paging state [bytes]
      if (l > 0) off += l;
    }
    if (flags & 0x0004) return undefined; // no metadata: not expected
    if (flags & 0x0001) {
      str(); // keyspace
      str(); // table
    }
    for (let i = 0; i < columns; i++) {
      if (!(flags & 0x0001)) {
        str();
        str();
      }
      str(); // column name
      const type = short();
      if (type === 0x0000) str(); // custom type class
      else if (type >= 0x0020) return undefined; // collections/UDTs: not handled here
    }
    const rows = int();
    if (rows < 1 || columns < 1) return undefined;
    const len = int();
    if (len < 0) return undefined;
    return b.toString('utf8', off, off + len);
  } catch {
    return undefined;
  } finally {
    sock.destroy();
  }
}

export function cqlReleaseVersion(host: string, port: number, login: CqlLogin = {}): Promise<string | undefined> {
  return cqlQuerySingleText(host, port, 'SELECT release_version FROM system.local', 5000, login);
}

export const cassandra: BackendModule = {
  name: 'cassandra',
  fetch: fetchCassandra,
  start: startCassandra,
};
