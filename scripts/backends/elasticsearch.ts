/**
 * Elasticsearch 8.19 from Maven Central: the integ-test-zip distribution
 * (`org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip`, ~107 MB, 119 MB
 * unzipped). It is a stripped server (modules: apm, transport-netty4, x-pack-core,
 * x-pack-security): index CRUD, mappings, index templates, bulk, search and core aggregations
 * work; painless, ingest, reindex, analysis-common, data streams/ILM and `GET /` do not.
 *
 * Version: 8.19.21 was the newest 8.19.x with this artifact on Maven Central when written
 * (8.19.22 absent; some patch releases, e.g. 8.19.10 and 8.19.15, were never published there).
 * Override with IMPRINT_ES_VERSION. The project's client is `@elastic/elasticsearch@^8`: a 9.x
 * server would answer it, but a 9.x client gets HTTP 400 from this 8.x server.
 *
 * Elasticsearch refuses to run as root, so when we are root it runs as the system user
 * `imprint-es` (created with useradd if missing). That user cannot read the cache under
 * /root, so each start() makes a hard-link copy of the install in its work dir (a full copy if
 * /tmp is on another file system), plus a private config dir (ES writes its keystore there),
 * data, logs and tmp dirs owned by that user. No bundled JDK: ES_JAVA_HOME = the JDK 17 home.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import {
  LOOPBACK,
  childEnv,
  ensureCached,
  findJdk17,
  freePorts,
  httpRequest,
  makeTestPki,
  makeWorkDir,
  run,
  runningBackend,
  spawnServer,
  startAndWait,
} from './launcher.js';
import type { BackendModule, BackendSecurity, LaunchContext, RunningBackend, StartOptions, TestPki } from './launcher.js';

export const ES_VERSION = process.env['IMPRINT_ES_VERSION'] ?? '8.19.21';
export const ES_USER = 'imprint-es';
const ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`;
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
const READY_TIMEOUT_MS = 180_000;

function installDir(ctx: LaunchContext): string {
  return path.join(ctx.cacheDir, 'elasticsearch', ES_VERSION);
}

async function fetchElasticsearch(ctx: LaunchContext): Promise<void> {
  const dir = installDir(ctx);
  const t0 = Date.now();
  const built = await ensureCached(dir, async (tmp) => {
    ctx.log(`elasticsearch: fetching ${ARTIFACT} from Maven Central`);
    const dl = path.join(tmp, '.download');
    await run('mvn', ['-B', '-q', `${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${dl}`], {
      cwd: tmp,
      env: childEnv({ JAVA_HOME: findJdk17() }),
      timeoutMs: 20 * 60_000,
    });
    const zip = path.join(dl, `elasticsearch-${ES_VERSION}.zip`);
    await run('unzip', ['-q', zip, '-d', dl], { timeoutMs: 10 * 60_000 });
    const top = path.join(dl, `elasticsearch-${ES_VERSION}`);
    for (const entry of await fsp.readdir(top)) await fsp.rename(path.join(top, entry), path.join(tmp, entry));
    await fsp.rm(dl, { recursive: true, force: true });
    if (!fs.existsSync(path.join(tmp, 'modules', 'apm'))) {
      throw new Error('elasticsearch zip lacks modules/apm (release builds refuse to start without it)');
    }
  });
  if (built) ctx.log(`elasticsearch: cached in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

/** uid/gid to run ES as: the current user if not root, else the system user ES_USER (created if missing). */
async function esUser(ctx: LaunchContext): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async (): Promise<{ uid: number; gid: number } | undefined> => {
    try {
      const uid = Number((await run('id', ['-u', ES_USER])).stdout.trim());
      const gid = Number((await run('id', ['-g', ES_USER])).stdout.trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = await lookup();
  if (found) return found;
  ctx.log(`elasticsearch: creating system user ${ES_USER} (ES refuses to run as root)`);
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent',
      '--shell', '/usr/sbin/nologin', ES_USER]);
  } catch (err) {
    // A concurrent start may have created it.
    if (!(await lookup())) throw err;
  }
  const created = await lookup();
  if (!created) throw new Error(`could not create user ${ES_USER}`);
  return created;
}

/** Hard-link copy of a tree (fresh directories, shared file inodes); full copy across devices. */
async function linkTree(src: string, dst: string): Promise<void> {
  try {
    await run('cp', ['-al', src, dst]);
  } catch {
    await fsp.rm(dst, { recursive: true, force: true });
    await run('cp', ['-a', src, dst]);
  }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await fsp.chown(dir, uid, gid);
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid, gid);
    else await fsp.lchown(p, uid, gid);
  }
}

async function startElasticsearch(ctx: LaunchContext, opts: StartOptions = {}): Promise<RunningBackend> {
  await fetchElasticsearch(ctx);
  const jdk = findJdk17();
  const user = await esUser(ctx);

  const workDir = await makeWorkDir('elasticsearch');
  const home = path.join(workDir, 'home');
  const conf = path.join(workDir, 'config');
  const data = path.join(workDir, 'data');
  const logs = path.join(workDir, 'logs');
  const tmp = path.join(workDir, 'tmp');
  await linkTree(installDir(ctx), home);
  await fsp.rm(path.join(home, '.complete'), { force: true });
  await fsp.cp(path.join(installDir(ctx), 'config'), conf, { recursive: true });
  await Promise.all([data, logs, tmp].map((d) => fsp.mkdir(d)));

  const [autoHttp, transportPort] = await freePorts(2);
  if (autoHttp === undefined || transportPort === undefined) throw new Error('no free ports');
  const httpPort = opts.port ?? autoHttp;
  const secure = opts.secure === true ? await securityFiles(conf) : undefined;
  // Only settings of the modules present in the integ-test-zip: others are "unknown setting".
  await fsp.writeFile(
    path.join(conf, 'elasticsearch.yml'),
    [
      'cluster.name: imprint-test',
      'node.name: imprint-es-0',
      `network.host: ${LOOPBACK}`,
      `http.port: ${httpPort}`,
      `transport.port: ${transportPort}`,
      'discovery.type: single-node',
      ...(secure ? secure.settings : ['xpack.security.enabled: false']),
      `path.data: ${JSON.stringify(data)}`,
      `path.logs: ${JSON.stringify(logs)}`,
      'cluster.routing.allocation.disk.threshold_enabled: false',
      'action.destructive_requires_name: false',
      '',
    ].join('\n'),
  );
  if (user) {
    // Fresh dirs only: the hard-linked files in home/ stay root-owned (chowning them would
    // change the cached install too); they are world-readable.
    for (const d of [conf, data, logs, tmp]) await chownTree(d, user.uid, user.gid);
    await fsp.chown(workDir, user.uid, user.gid);
  }

  const logFile = path.join(workDir, 'server.log');
  const env = childEnv({
    ES_JAVA_HOME: jdk,
    ES_JAVA_OPTS: '-Xms512m -Xmx512m',
    ES_PATH_CONF: conf,
    ES_TMPDIR: tmp,
    HOME: workDir,
  });
  delete env['JAVA_HOME'];
  const t0 = Date.now();
  const server = spawnServer({
    cmd: path.join(home, 'bin', 'elasticsearch'),
    args: [],
    logFile,
    cwd: workDir,
    env,
    ...(user ?? {}),
  });
  const endpoint = `${secure ? 'https' : 'http'}://${LOOPBACK}:${httpPort}`;
  const login = secure ? { headers: { authorization: `Basic ${Buffer.from(`${secure.username}:${secure.password}`).toString('base64')}` }, ca: secure.ca } : {};
  ctx.log(`elasticsearch: pid ${server.pid}, http port ${httpPort}, transport port ${transportPort}, work dir ${workDir}`);
  await startAndWait({
    what: 'elasticsearch',
    server,
    workDir,
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: 1000,
    check: async () =>
      (await httpRequest(`${endpoint}/_cluster/health?wait_for_status=yellow&timeout=1s`, { timeoutMs: 5000, ...login }))
        .status === 200,
  });
  const security: BackendSecurity | undefined = secure && {
    caFile: secure.pki.caFile,
    clientCertFile: secure.pki.clientCertFile,
    clientKeyFile: secure.pki.clientKeyFile,
    username: secure.username,
    password: secure.password,
    users: secure.users,
  };
  ctx.log(`elasticsearch: ready at ${endpoint} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return runningBackend({
    name: 'elasticsearch',
    host: LOOPBACK,
    port: httpPort,
    endpoint,
    server,
    workDir,
    graceMs: 30_000,
    ...(security && { security }),
  });
}

/**
 * The role the audit sink needs (roles.yml, the file realm's roles: this distribution cannot
 * create roles, users or API keys through the API, see below): templates and the ILM policy,
 * and on its indices create, write, read, mappings/settings and delete (retention).
 */
export const ES_AUDIT_ROLE = {
  name: 'imprint_audit',
  cluster: ['manage_index_templates', 'manage_ilm', 'monitor'],
  indices: [{ names: ['imprint-audit-*'], privileges: ['create_index', 'create_doc', 'read', 'manage'] }],
} as const;

/**
 * Security on (`secure`): TLS on HTTP with a certificate of a CA made now (openssl, in
 * config/certs), and two users of the file realm (config/users, passwords as `{SHA}` hashes, a
 * format the file realm reads; fine for a throwaway server): `imprint-admin` (superuser) and
 * `imprint` (role ES_AUDIT_ROLE, from config/roles.yml). Transport TLS is off: a single node on
 * loopback has no transport peers, and its bootstrap checks only warn there.
 *
 * Not possible on the integ-test-zip: API keys and native users or roles. They live in the
 * `.security` index, whose mapping uses the `pattern_capture` filter of the analysis-common
 * module this distribution lacks (`POST /_security/api_key` answers 400 "Unknown filter type
 * [pattern_capture] for [email]").
 */
async function securityFiles(conf: string): Promise<{ settings: string[]; pki: TestPki; ca: Buffer; username: string; password: string; users: Readonly<Record<string, string>> }> {
  const pki = await makeTestPki(path.join(conf, 'certs'));
  const users: Record<string, string> = { 'imprint-admin': randomBytes(12).toString('base64url'), imprint: randomBytes(12).toString('base64url') };
  const sha = (pw: string) => `{SHA}${createHash('sha1').update(pw).digest('base64')}`;
  await fsp.writeFile(path.join(conf, 'users'), Object.entries(users).map(([u, pw]) => `${u}:${sha(pw)}\n`).join(''));
  await fsp.writeFile(path.join(conf, 'users_roles'), `superuser:imprint-admin\n${ES_AUDIT_ROLE.name}:imprint\n`);
  await fsp.writeFile(
    path.join(conf, 'roles.yml'),
    `${ES_AUDIT_ROLE.name}:\n  cluster: ${JSON.stringify(ES_AUDIT_ROLE.cluster)}\n  indices:\n${ES_AUDIT_ROLE.indices.map((i) => `    - names: ${JSON.stringify(i.names)}\n      privileges: ${JSON.stringify(i.privileges)}\n`).join('')}`,
  );
  return {
    settings: [
      'xpack.security.enabled: true',
      'xpack.security.http.ssl.enabled: true',
      `xpack.security.http.ssl.key: ${JSON.stringify(pki.serverKeyFile)}`,
      `xpack.security.http.ssl.certificate: ${JSON.stringify(pki.serverCertFile)}`,
      `xpack.security.http.ssl.certificate_authorities: [${JSON.stringify(pki.caFile)}]`,
      'xpack.security.transport.ssl.enabled: false',
    ],
    pki,
    ca: await fsp.readFile(pki.caFile),
    username: 'imprint-admin',
    password: users['imprint-admin'] as string,
    users,
  };
}
export const elasticsearch: BackendModule = {
  name: 'elasticsearch',
  fetch: fetchElasticsearch,
  start: startElasticsearch,
};
