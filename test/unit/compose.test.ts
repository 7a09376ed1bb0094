/**
 * docker-compose.yml, checked by code (no Docker engine needed): the file parses, the
 * services hang together (images, depends_on, health checks, ports on 127.0.0.1 only), and
 * every imprint service is configured only with what the real `imprint` command takes: its
 * verb, its flags and IMPRINT_* variables read from `program` (cli/program.ts), values of
 * options with choices among the choices, and the options the server and janitor would
 * resolve pass their own validation (withDefaults, cassandraWithDefaults, parseDuration).
 * The Kibana import mounts the ndjson of kibana/, and the client address list README.md
 * documents is the two consume replicas. Prometheus reads its configuration from the
 * repository (ops/prometheus), scrapes every imprint service on its metrics port and loads
 * ops/prometheus/alerts.yml; Grafana's provisioning (ops/grafana/provisioning) has that
 * Prometheus as data source and a dashboard provider that sees ops/grafana/imprint.json.
 * Mutated copies of the files show each check fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../cli/janitor.js';
import { program } from '../../cli/program.js';
import { cassandraFrom, type StoreCliOptions } from '../../cli/store-options.js';
import { parseSwitch } from '../../cli/switch.js';
import { checkPlaintextHost, serverTlsFrom } from '../../cli/tls-options.js';
import { cassandraWithDefaults, DEFAULT_PORT, withDefaults, type AuditKind, type Role, type StoreKind } from '../../server/config.js';
import { servicesOf } from '../../server/index.js';
import type { ConsistencyName, SerialConsistencyName } from '../../server/store/cassandra.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPOSE_FILE = path.join(REPO, 'docker-compose.yml');
const KIBANA_OBJECTS = path.join(REPO, 'kibana', 'imprint-saved-objects.ndjson');
const ALERT_RULES = path.join(REPO, 'ops', 'prometheus', 'alerts.yml');
const DASHBOARD = path.join(REPO, 'ops', 'grafana', 'imprint.json');
const README = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const CLI = 'dist/cli/main.js';

/** Compose reads `<<` merge keys (the x-imprint anchor), so the test does too. */
function loadCompose(text: string): unknown {
  return parse(text, { merge: true });
}

// ---- small readers of the untyped document ----

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Shell-like words of a string (quotes group, no expansion), or the items of a list. */
function words(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((w) => String(w));
  if (typeof v !== 'string') return [];
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let cur: string | undefined;
  let last = -1;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const piece = m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3] ?? '';
    // Pieces with no blank between them are one word: --form 'a'"b" -> --form ab.
    if (cur !== undefined && m.index === last) cur += piece;
    else {
      if (cur !== undefined) out.push(cur);
      cur = piece;
    }
    last = re.lastIndex;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** Compose interpolation of a value: `$$` is `$`, `${VAR:-default}` / `${VAR-default}` the default (host variables unset). */
function interpolate(text: string, where: string, problems: string[]): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced: string | undefined, def: string | undefined, bare: string | undefined) => {
    if (all === '$$') return '$';
    if (def !== undefined) return def;
    problems.push(`${where}: takes \${${braced ?? bare}} from the host with no default`);
    return '';
  });
}

/** A service's `environment` (map or KEY=VALUE list), interpolated. */
function environmentOf(name: string, svc: Rec, problems: string[]): Map<string, string> {
  const env = new Map<string, string>();
  const raw = svc['environment'];
  const put = (k: string, v: unknown) => {
    if (v === null || v === undefined) {
      problems.push(`${name}: ${k} has no value (it would come from the host)`);
      return;
    }
    if (!isScalar(v)) {
      problems.push(`${name}: ${k} is not a scalar`);
      return;
    }
    env.set(k, interpolate(String(v), `${name}: ${k}`, problems));
  };
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const s = String(item);
      const eq = s.indexOf('=');
      put(eq < 0 ? s : s.slice(0, eq), eq < 0 ? undefined : s.slice(eq + 1));
    }
  } else if (isRec(raw)) {
    for (const [k, v] of Object.entries(raw)) put(k, v);
  } else if (raw !== undefined) {
    problems.push(`${name}: environment is neither a map nor a list`);
  }
  return env;
}

interface PortMapping {
  hostIp?: string;
  hostPort?: string;
  containerPort: string;
}

function portsOf(name: string, svc: Rec, problems: string[]): PortMapping[] {
  const raw = svc['ports'];
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${name}: ports is not a list`);
    return [];
  }
  const out: PortMapping[] = [];
  for (const p of raw) {
    if (isRec(p)) {
      out.push({
        ...(p['host_ip'] !== undefined && { hostIp: String(p['host_ip']) }),
        ...(p['published'] !== undefined && { hostPort: String(p['published']) }),
        containerPort: String(p['target']),
      });
      continue;
    }
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const containerPort = parts.pop() ?? '';
    const hostPort = parts.pop();
    const hostIp = parts.length ? parts.join(':') : undefined;
    out.push({ ...(hostIp !== undefined && { hostIp }), ...(hostPort !== undefined && { hostPort }), containerPort });
  }
  return out;
}

/** A health check that is there and on (not `disable: true`, not ["NONE"]). */
function healthTest(svc: Rec): string[] | undefined {
  const hc = svc['healthcheck'];
  if (!isRec(hc) || hc['disable'] === true) return undefined;
  const t = words(hc['test']);
  if (t.length === 0 || t[0] === 'NONE') return undefined;
  if (t[0] === 'CMD-SHELL' || typeof hc['test'] === 'string') return ['sh', '-c', ...words(typeof hc['test'] === 'string' ? hc['test'] : t.slice(1).join(' '))];
  return t[0] === 'CMD' ? t.slice(1) : t;
}

/** One-shot jobs (restart "no" or on-failure) run to completion; the others must stay up. */
function isOneShot(svc: Rec): boolean {
  const r = svc['restart'];
  return r === undefined || r === 'no' || r === false || (typeof r === 'string' && r.startsWith('on-failure'));
}

function dependsOn(svc: Rec): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const d = svc['depends_on'];
  if (Array.isArray(d)) for (const n of d) out.set(String(n), undefined);
  else if (isRec(d)) for (const [n, v] of Object.entries(d)) out.set(n, isRec(v) && typeof v['condition'] === 'string' ? v['condition'] : undefined);
  return out;
}

/** `http://host:port/...` or `host:port` → host. */
function hostOf(addr: string): string {
  return addr.replace(/^[a-z]+:\/\//, '').replace(/[/:].*$/, '');
}

// ---- the imprint command, read from commander ----

interface Invocation {
  /** The leaf command (`serve`, `janitor`, `health`, `topic create`...). */
  readonly command?: Command;
  readonly given: ReadonlyMap<Option, string | boolean>;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  return cmd.options.find((o) => o.long === flag || o.short === flag);
}

const commandName = (c: Command | undefined): string => {
  const names: string[] = [];
  for (let x: Command | null | undefined = c; x; x = x.parent) names.unshift(x.name());
  return names.join(' ') || 'imprint';
};

/**
 * Reads args the way commander does for these shapes: global options before or after the
 * verb, subcommand options after it, `--flag value` / `--flag=value`, switches.
 */
function parseInvocation(args: readonly string[], where: string, problems: string[]): Invocation {
  const given = new Map<Option, string | boolean>();
  let leaf: Command | undefined;
  let operands = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') break;
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const flag = eq > 0 ? a.slice(0, eq) : a;
      const inline = eq > 0 ? a.slice(eq + 1) : undefined;
      const opt = (leaf && findOption(leaf, flag)) ?? findOption(program, flag);
      if (!opt) {
        problems.push(`${where}: ${flag} is not an option of \`${commandName(leaf)}\`${leaf ? ' nor a global one' : ' (global options; the verb comes first?)'}`);
        continue;
      }
      if (opt.required || opt.optional) {
        const next = args[i + 1];
        if (inline !== undefined) given.set(opt, inline);
        else if (next !== undefined && (opt.required || !next.startsWith('-'))) given.set(opt, args[++i] ?? '');
        else if (opt.optional) given.set(opt, true);
        else problems.push(`${where}: ${flag} needs a value`);
      } else {
        if (inline !== undefined) problems.push(`${where}: ${flag} is a switch and takes no value (got "${inline}")`);
        given.set(opt, !opt.negate);
      }
      continue;
    }
    const parent = leaf ?? program;
    if (!leaf || (leaf.commands.length > 0 && operands === 0)) {
      const sub = parent.commands.find((c) => c.name() === a || c.aliases().includes(a));
      if (!sub) {
        problems.push(`${where}: "${a}" is not a command of \`${commandName(leaf)}\` (${parent.commands.map((c) => c.name()).join(', ')})`);
        return { given };
      }
      leaf = sub;
      continue;
    }
    operands++;
  }
  return { ...(leaf && { command: leaf }), given };
}

/**
 * The value of every option of the command and of the program, by attribute name, as
 * commander would settle it: the command line, else the environment variable, else the
 * default. Reports IMPRINT_* variables no option reads (unless told not to) and values
 * outside the choices.
 */
function resolveOptions(
  inv: Invocation,
  env: ReadonlyMap<string, string>,
  where: string,
  problems: string[],
  { unknownVariables = true }: { unknownVariables?: boolean } = {},
): Map<string, string | boolean | undefined> {
  const cmd = inv.command;
  const options = [...program.options, ...(cmd ? cmd.options : [])];
  const known = new Set(options.map((o) => o.envVar).filter((v): v is string => v !== undefined));
  for (const k of env.keys()) {
    if (unknownVariables && k.startsWith('IMPRINT_') && !known.has(k)) problems.push(`${where}: environment variable ${k} is not read by any option of \`${commandName(cmd)}\` nor by a global one`);
  }
  const values = new Map<string, string | boolean | undefined>();
  for (const o of options) {
    let v: string | boolean | undefined;
    const fromArgs = inv.given.get(o);
    const fromEnv = o.envVar !== undefined ? env.get(o.envVar) : undefined;
    if (fromArgs !== undefined) v = fromArgs;
    else if (fromEnv !== undefined) {
      if (o.required || o.optional) v = fromEnv;
      else {
        // A switch: its variable says true or false (cli/switch.ts); the command refuses anything else.
        try {
          v = parseSwitch(fromEnv, o.envVar ?? '');
        } catch (err) {
          problems.push(`${where}: ${message(err)}`);
        }
      }
    } else {
      const d: unknown = o.defaultValue;
      v = typeof d === 'string' || typeof d === 'boolean' ? d : undefined;
    }
    const explicit = fromArgs !== undefined || fromEnv !== undefined;
    if (explicit && typeof v === 'string' && o.argChoices && !o.argChoices.includes(v)) {
      problems.push(`${where}: ${o.long} ${v} is not one of ${o.argChoices.join(', ')}${fromArgs === undefined && o.envVar ? ` (from ${o.envVar})` : ''}`);
    }
    values.set(o.attributeName(), v);
  }
  return values;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---- the checker ----

interface ImprintService {
  readonly name: string;
  readonly svc: Rec;
  readonly env: Map<string, string>;
  readonly inv: Invocation;
  readonly values: Map<string, string | boolean | undefined>;
}

/** A file of the repository the stack mounts; undefined when there is none. Tests swap in edited copies. */
type ReadRepoFile = (hostPath: string) => string | undefined;
const readRepoFile: ReadRepoFile = (p) => (fs.existsSync(p) && fs.statSync(p).isFile() ? fs.readFileSync(p, 'utf8') : undefined);

/** Everything wrong with a compose document (parsed with merge keys); [] when nothing is. */
function composeProblems(doc: unknown, docs: { readme: string; read?: ReadRepoFile } = { readme: README }): string[] {
  const read = docs.read ?? readRepoFile;
  const problems: string[] = [];
  if (!isRec(doc)) return ['the file is not a YAML mapping'];
  if ('version' in doc) problems.push('top level: `version` is obsolete in the Compose spec; remove it');
  const services = doc['services'];
  if (!isRec(services) || Object.keys(services).length === 0) return [...problems, 'top level: no services'];
  const svcs = new Map<string, Rec>();
  for (const [name, s] of Object.entries(services)) {
    if (!isRec(s)) problems.push(`${name}: not a mapping`);
    else svcs.set(name, s);
  }

  // -- every service --
  const hostPorts = new Map<string, string>();
  for (const [name, svc] of svcs) {
    const image = svc['image'];
    const build = svc['build'];
    if (!(typeof image === 'string' && image !== '') && !(typeof build === 'string' || isRec(build))) problems.push(`${name}: has neither an image nor a build`);
    if (typeof image === 'string' && build === undefined && !/:[^/]+$/.test(image)) problems.push(`${name}: image ${image} has no pinned tag`);
    if (typeof image === 'string' && /:latest$/.test(image)) problems.push(`${name}: image ${image} is not pinned (latest)`);
    const deps = svc['depends_on'];
    if (Array.isArray(deps)) problems.push(`${name}: depends_on in the short form waits for nothing; give each a condition`);
    for (const [dep, condition] of dependsOn(svc)) {
      const target = svcs.get(dep);
      if (!target) {
        problems.push(`${name}: depends_on names ${dep}, which is not a service`);
        continue;
      }
      const want = isOneShot(target) ? 'service_completed_successfully' : 'service_healthy';
      if (condition !== want) problems.push(`${name}: depends_on ${dep} should have condition ${want} (has ${condition ?? 'none'})`);
    }
    if (!isOneShot(svc) && !healthTest(svc)) problems.push(`${name}: runs for good (restart ${String(svc['restart'])}) but has no healthcheck`);
    for (const p of portsOf(name, svc, problems)) {
      if (p.hostIp !== '127.0.0.1') problems.push(`${name}: port ${p.hostPort ?? p.containerPort} is published on ${p.hostIp ?? 'every interface'}, not 127.0.0.1`);
      if (p.hostPort === undefined) problems.push(`${name}: port ${p.containerPort} gets a random host port; give one`);
      else {
        const other = hostPorts.get(p.hostPort);
        if (other !== undefined) problems.push(`${name}: host port ${p.hostPort} is also published by ${other}`);
        hostPorts.set(p.hostPort, name);
      }
    }
  }

  // -- the imprint services: one image from the repo, configured only with real flags and variables --
  const shared = doc['x-imprint'];
  const sharedBuild = isRec(shared) ? shared['build'] : undefined;
  if (!isRec(sharedBuild)) problems.push('x-imprint: missing, or without the build every imprint service shares');
  else checkImprintBuild(sharedBuild, problems);
  const isImprint = (svc: Rec): boolean => {
    const ep = svc['entrypoint'];
    if (ep !== undefined) return words(ep).includes(CLI);
    const b = svc['build'];
    return isRec(b) && typeof b['dockerfile_inline'] === 'string' && b['dockerfile_inline'].includes(CLI);
  };
  const imprint: ImprintService[] = [];
  for (const [name, svc] of svcs) {
    if (!isImprint(svc)) continue;
    if (JSON.stringify(svc['build']) !== JSON.stringify(sharedBuild)) problems.push(`${name}: does not build the x-imprint image (use <<: *imprint)`);
    if (svc['restart'] !== 'unless-stopped') problems.push(`${name}: restart should be unless-stopped`);
    const ep = words(svc['entrypoint']);
    const args = [...ep.slice(ep.indexOf(CLI) + 1), ...words(svc['command'])];
    const env = environmentOf(name, svc, problems);
    const inv = parseInvocation(args, `${name} command`, problems);
    if (!inv.command) {
      if (args.length === 0) problems.push(`${name}: command names no imprint verb`);
      continue;
    }
    const values = resolveOptions(inv, env, name, problems);
    imprint.push({ name, svc, env, inv, values });
  }
  const str = (s: ImprintService, attr: string): string | undefined => {
    const v = s.values.get(attr);
    return typeof v === 'string' ? v : undefined;
  };

  for (const s of imprint) {
    const verb = s.inv.command?.name();
    if (verb !== 'serve' && verb !== 'janitor') {
      problems.push(`${s.name}: runs \`${commandName(s.inv.command)}\`; a service runs serve or janitor`);
      continue;
    }
    checkStore(s, str, svcs, problems);
    checkTlsFiles(s, str, svcs, problems);
    if (verb === 'serve') checkServe(s, str, svcs, problems);
    else checkJanitor(s, str, svcs, problems);
  }

  const role = (s: ImprintService) => (s.inv.command?.name() === 'serve' ? str(s, 'role') : undefined);
  const consume = imprint.filter((s) => role(s) === 'consume').sort((a, b) => a.name.localeCompare(b.name));
  if (consume.length !== 2) problems.push(`exactly two consume-role services wanted, found ${consume.length} (${consume.map((s) => s.name).join(', ') || 'none'})`);
  if (!imprint.some((s) => role(s) === 'publish' || role(s) === 'all')) problems.push('no service serves Publisher and Operator (role publish or all)');
  if (!imprint.some((s) => s.inv.command?.name() === 'janitor')) problems.push('no janitor service');

  // -- the documented client address list is the consume replicas --
  if (consume.length > 0) {
    const port = (s: ImprintService) => str(s, 'port') ?? String(DEFAULT_PORT);
    const inNetwork = consume.map((s) => `${s.name}:${port(s)}`).join(',');
    const fromHost = consume
      .map((s) => {
        const p = portsOf(s.name, s.svc, []).find((m) => m.containerPort === port(s));
        return `127.0.0.1:${p?.hostPort ?? '?'}`;
      })
      .join(',');
    for (const list of [inNetwork, fromHost]) {
      if (!docs.readme.includes(`IMPRINT_ADDRESS=${list}`)) problems.push(`README.md: does not document the client address list IMPRINT_ADDRESS=${list} (the consume replicas)`);
    }
  }

  checkKibanaSetup(svcs, problems);
  const prometheus = checkPrometheus(svcs, imprint, str, read, problems);
  checkGrafana(svcs, prometheus, read, problems);
  return problems;
}

/** The inline Dockerfile: node 20, builds the repo, runs the CLI; everything it copies exists. */
function checkImprintBuild(build: Rec, problems: string[]): void {
  const df = build['dockerfile_inline'];
  if (build['context'] !== '.') problems.push('x-imprint: build context should be the repository (.)');
  if (typeof df !== 'string') {
    problems.push('x-imprint: build has no dockerfile_inline');
    return;
  }
  for (const want of ['FROM node:20-bookworm-slim', 'npm install', 'npm run build', `ENTRYPOINT ["node", "${CLI}"]`]) {
    if (!df.includes(want)) problems.push(`x-imprint: the Dockerfile lacks ${want}`);
  }
  const copied = new Set<string>();
  for (const line of df.split('\n')) {
    const m = /^\s*COPY\s+(?!--from)(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const parts = m[1].trim().split(/\s+/).slice(0, -1);
    for (const src of parts) {
      copied.add(src);
      if (!fs.existsSync(path.join(REPO, src))) problems.push(`x-imprint: the Dockerfile copies ${src}, which is not in the repository`);
    }
  }
  const buildConfig: unknown = JSON.parse(fs.readFileSync(path.join(REPO, 'tsconfig.build.json'), 'utf8'));
  const include = isRec(buildConfig) && Array.isArray(buildConfig['include']) ? buildConfig['include'].map(String) : [];
  for (const dir of include) if (!copied.has(dir)) problems.push(`x-imprint: the Dockerfile does not copy ${dir}, which tsconfig.build.json compiles`);
}

type Str = (s: ImprintService, attr: string) => string | undefined;

/** The Cassandra options a service's flags and variables give, as the CLI reads them. */
function cassandraOptionsOf(s: ImprintService, str: Str): StoreCliOptions {
  return {
    store: 'cassandra',
    cassandraContactPoints: str(s, 'cassandraContactPoints'),
    cassandraLocalDc: str(s, 'cassandraLocalDc'),
    cassandraKeyspace: str(s, 'cassandraKeyspace'),
    cassandraReplication: str(s, 'cassandraReplication'),
    cassandraConsistency: str(s, 'cassandraConsistency') as ConsistencyName | undefined,
    cassandraSerialConsistency: str(s, 'cassandraSerialConsistency') as SerialConsistencyName | undefined,
  };
}

/** Cassandra for every imprint service (replicas share it), accepted by cassandraWithDefaults, on a service it waits for. */
function checkStore(s: ImprintService, str: Str, svcs: Map<string, Rec>, problems: string[]): void {
  if (str(s, 'store') !== 'cassandra') {
    problems.push(`${s.name}: store is ${str(s, 'store') ?? 'sqlite (default)'}; the services share their metadata only with cassandra`);
    return;
  }
  try {
    const c = cassandraWithDefaults(cassandraFrom(cassandraOptionsOf(s, str)));
    for (const cp of c.contactPoints) waitsFor(s, hostOf(cp), 'a Cassandra contact point', svcs, problems);
  } catch (e) {
    problems.push(`${s.name}: the Cassandra options are refused: ${message(e)}`);
  }
}

function waitsFor(s: ImprintService, host: string, what: string, svcs: Map<string, Rec>, problems: string[]): void {
  if (!svcs.has(host)) problems.push(`${s.name}: ${what} is ${host}, which is not a service`);
  else if (dependsOn(s.svc).get(host) !== 'service_healthy') problems.push(`${s.name}: does not wait for ${host} (${what}) to be healthy`);
}


function checkServe(s: ImprintService, str: Str, svcs: Map<string, Rec>, problems: string[]): void {
  // What the serve action does with its options (cli/program.ts), then the server's own check.
  const count = (attr: string, field: string): number | undefined => {
    const v = str(s, attr);
    if (v === undefined) return undefined;
    if (!/^-?[0-9]+$/.test(v)) {
      problems.push(`${s.name}: ${field} ${v} is not a whole number`);
      return undefined;
    }
    return Number(v);
  };
  const port = count('port', 'port') ?? DEFAULT_PORT;
  const refreshMs = count('refreshMs', 'refresh-ms');
  const metricsPort = count('metricsPort', 'metrics-port');
  const blobCheckTimeoutMs = count('blobCheckTimeoutMs', 'blob-check-timeout-ms');
  const store = str(s, 'store') as StoreKind | undefined;
  let role: Role = 'all';
  try {
    const tls = serverTlsFrom({ ...Object.fromEntries(s.values), tlsReloadMs: str(s, 'tlsReloadMs') ?? '5000' });
    const o = withDefaults({
      dataDir: str(s, 'dataDir') ?? 'imprint-data',
      host: str(s, 'host') ?? '127.0.0.1',
      ...(tls && { tls }),
      insecure: s.values.get('insecure') === true,
      port,
      ...(store && { store }),
      ...(store === 'cassandra' && {
        cassandra: cassandraFrom(cassandraOptionsOf(s, str)),
      }),
      audit: (str(s, 'audit') ?? 'file') as AuditKind,
      ...(str(s, 'esUrl') !== undefined && { esUrl: str(s, 'esUrl') }),
      role: (str(s, 'role') ?? 'all') as Role,
      ...(refreshMs !== undefined && { refreshMs }),
      ...(metricsPort !== undefined && { metricsPort }),
      ...(blobCheckTimeoutMs !== undefined && { blobCheckTimeoutMs }),
    });
    role = o.role;
    // A publishing instance checks publishes' blob objects in the stores publishers write to.
    if (o.role !== 'consume') checkS3Blobs(s, str, svcs, problems);
    if (o.host !== '0.0.0.0') problems.push(`${s.name}: host is ${o.host}; in a container it must be 0.0.0.0 to be reached`);
    if (!o.tls?.clientCaFile) problems.push(`${s.name}: serves without mTLS; the stack runs with --tls-cert, --tls-key and --tls-client-ca`);
    if (o.audit !== 'elasticsearch') problems.push(`${s.name}: audit is ${o.audit}; the stack's audit goes to Elasticsearch`);
    if (o.esUrl) waitsFor(s, hostOf(o.esUrl), 'the Elasticsearch URL', svcs, problems);
    const ports = portsOf(s.name, s.svc, []);
    if (!ports.some((p) => p.containerPort === String(o.port))) problems.push(`${s.name}: the gRPC port ${o.port} is not published`);
    if (o.metricsPort !== undefined && !ports.some((p) => p.containerPort === String(o.metricsPort))) problems.push(`${s.name}: the metrics port ${o.metricsPort} is not published`);
    if (o.role === 'consume' && o.metricsPort === undefined) problems.push(`${s.name}: a consume replica without --metrics-port serves no metrics`);
  } catch (e) {
    problems.push(`${s.name}: the server refuses its options: ${message(e)}`);
  }

  // The health check: `imprint health` against this server's port, for a service it serves.
  const test = healthTest(s.svc) ?? [];
  const at = test.indexOf(CLI);
  if (at < 0) {
    problems.push(`${s.name}: the healthcheck does not run \`node ${CLI} health\``);
    return;
  }
  const where = `${s.name} healthcheck`;
  const inv = parseInvocation(test.slice(at + 1), where, problems);
  if (inv.command?.name() !== 'health') {
    problems.push(`${where}: runs \`${commandName(inv.command)}\`, not \`imprint health\``);
    return;
  }
  // The check runs in the server's container: its environment is the server's, checked above.
  const hv = resolveOptions(inv, s.env, where, problems, { unknownVariables: false });
  const address = String(hv.get('address') ?? '');
  const m = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(address);
  if (!m || Number(m[2]) !== port) problems.push(`${where}: asks ${address}, not this server (127.0.0.1:${port})`);
  const service = String(hv.get('service') ?? '');
  if (service !== '' && !(servicesOf(role) as readonly string[]).includes(service)) problems.push(`${where}: asks about ${service}, which a ${role} instance does not serve`);
}

/** The TLS files an imprint service names are in a volume a one-shot it waits for writes. */
function checkTlsFiles(s: ImprintService, str: Str, svcs: Map<string, Rec>, problems: string[]): void {
  const volumeAt = (svc: Rec, file: string): string | undefined => {
    for (const v of Array.isArray(svc['volumes']) ? svc['volumes'].map(String) : []) {
      const [source = '', target = ''] = v.split(':');
      if (!source.startsWith('.') && !source.startsWith('/') && (file === target || file.startsWith(`${target}/`))) return source;
    }
    return undefined;
  };
  for (const attr of ['tlsCert', 'tlsKey', 'tlsClientCa', 'tlsCa']) {
    const file = str(s, attr);
    if (file === undefined) continue;
    const volume = volumeAt(s.svc, file);
    if (!volume) {
      problems.push(`${s.name}: its TLS file ${file} is in no volume mounted into it`);
      continue;
    }
    const writer = [...svcs].find(([, svc]) => isOneShot(svc) && Array.isArray(svc['volumes']) && svc['volumes'].map(String).some((v) => v.split(':')[0] === volume && !v.endsWith(':ro')));
    if (!writer) problems.push(`${s.name}: no one-shot service writes the ${volume} volume its TLS file ${file} is in`);
    else if (dependsOn(s.svc).get(writer[0]) !== 'service_completed_successfully') problems.push(`${s.name}: does not wait for ${writer[0]}, which writes its TLS file ${file}`);
  }
}

function checkJanitor(s: ImprintService, str: Str, svcs: Map<string, Rec>, problems: string[]): void {
  for (const [attr, field] of [
    ['snapshotEvery', 'snapshot-every'],
    ['purgeEvery', 'purge-every'],
  ] as const) {
    try {
      parseDuration(str(s, attr) ?? '', field);
    } catch (e) {
      problems.push(`${s.name}: ${message(e)}`);
    }
  }
  if (s.values.get('once') === true) problems.push(`${s.name}: --once exits after one run; a service runs on intervals`);
  try {
    checkPlaintextHost(str(s, 'host') ?? '127.0.0.1', serverTlsFrom(Object.fromEntries(s.values)), s.values.get('insecure') === true);
    if (str(s, 'metricsPort') !== undefined && str(s, 'tlsCert') === undefined) problems.push(`${s.name}: serves metrics without TLS; the stack's listeners speak TLS (--tls-cert, --tls-key)`);
  } catch (e) {
    problems.push(`${s.name}: the janitor refuses its options: ${message(e)}`);
  }
  checkS3Blobs(s, str, svcs, problems);
}

/** The blob flags of a janitor or a publishing server: both regions' MinIO, with their credentials and buckets. */
function checkS3Blobs(s: ImprintService, str: Str, svcs: Map<string, Rec>, problems: string[]): void {
  if (str(s, 'blobs') !== 's3') {
    problems.push(`${s.name}: blobs ${str(s, 'blobs') ?? 'local'}; the stack keeps payloads and snapshots in S3 (MinIO)`);
    return;
  }
  // As blobStoresFrom (cli/blobs.ts) reads them.
  const regions = (str(s, 'regions') ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length < 2) problems.push(`${s.name}: regions ${str(s, 'regions') ?? '(none)'}; the stack has two`);
  const endpoints = new Map<string, string>();
  for (const pair of (str(s, 's3Endpoints') ?? '').split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) problems.push(`${s.name}: s3-endpoints entry ${pair} is not region=url`);
    else endpoints.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  for (const r of endpoints.keys()) if (!regions.includes(r)) problems.push(`${s.name}: s3-endpoints names region ${r}, which is not in regions`);
  if (s.values.get('s3PathStyle') !== true) problems.push(`${s.name}: MinIO needs --s3-path-style`);
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) if (!s.env.get(k)) problems.push(`${s.name}: ${k} is not set (the AWS SDK reads it)`);
  const bucketTemplate = str(s, 'bucket') ?? 'imprint-{region}';
  const oneShotText = [...svcs.entries()].filter(([, o]) => isOneShot(o)).map(([n, o]) => ({ n, text: [...words(o['entrypoint']), ...words(o['command'])].join(' ') }));
  for (const r of regions) {
    const url = endpoints.get(r);
    if (!url) {
      problems.push(`${s.name}: region ${r} has no endpoint in s3-endpoints`);
      continue;
    }
    const host = hostOf(url);
    waitsFor(s, host, `the S3 endpoint of ${r}`, svcs, problems);
    const minio = svcs.get(host);
    if (minio) {
      const menv = environmentOf(host, minio, []);
      if (menv.get('MINIO_ROOT_USER') !== s.env.get('AWS_ACCESS_KEY_ID') || menv.get('MINIO_ROOT_PASSWORD') !== s.env.get('AWS_SECRET_ACCESS_KEY')) {
        problems.push(`${s.name}: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not ${host}'s MINIO_ROOT_USER/MINIO_ROOT_PASSWORD`);
      }
    }
    const bucket = bucketTemplate.replaceAll('{region}', r);
    const maker = oneShotText.find((o) => new RegExp(`\\bmb\\b.*\\b${bucket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(o.text) && o.text.includes(url.replace(/\/+$/, '')));
    if (!maker) problems.push(`${s.name}: no one-shot service creates bucket ${bucket} on ${url}`);
    else if (dependsOn(s.svc).get(maker.n) !== 'service_completed_successfully') problems.push(`${s.name}: does not wait for ${maker.n} (creates ${bucket}) to complete`);
  }
}

/** One one-shot POSTs kibana/imprint-saved-objects.ndjson, mounted read-only, to a healthy Kibana. */
function checkKibanaSetup(svcs: Map<string, Rec>, problems: string[]): void {
  const importers = [...svcs.entries()].filter(([, s]) => [...words(s['entrypoint']), ...words(s['command'])].join(' ').includes('/api/saved_objects/_import'));
  if (importers.length !== 1) {
    problems.push(`exactly one service should import the Kibana objects, found ${importers.length}`);
    return;
  }
  const [name, svc] = importers[0] ?? ['', {}];
  const text = [...words(svc['entrypoint']), ...words(svc['command'])].join(' ');
  if (!isOneShot(svc)) problems.push(`${name}: should be a one-shot (restart "no")`);
  if (!/kbn-xsrf/.test(text)) problems.push(`${name}: Kibana refuses the import without the kbn-xsrf header`);
  if (!/_import\?overwrite=true/.test(text)) problems.push(`${name}: without overwrite=true a second run reports conflicts`);
  const kibana = /https?:\/\/([A-Za-z0-9.-]+)(?::\d+)?\/api\/saved_objects\/_import/.exec(text)?.[1];
  if (!kibana || !svcs.has(kibana)) problems.push(`${name}: imports into ${kibana ?? '?'}, which is not a service`);
  else if (dependsOn(svc).get(kibana) !== 'service_healthy') problems.push(`${name}: does not wait for ${kibana} to be healthy`);
  const file = /file=@("?)([^\s"']+)\1/.exec(text)?.[2];
  if (!file) {
    problems.push(`${name}: posts no file=@... form field`);
    return;
  }
  const { hostPath, readOnly } = repoPathOf(svc, file) ?? {};
  if (!hostPath) problems.push(`${name}: ${file} is not in a bind mount of the repository`);
  else {
    if (hostPath !== KIBANA_OBJECTS) problems.push(`${name}: imports ${path.relative(REPO, hostPath)}, not kibana/imprint-saved-objects.ndjson`);
    if (!fs.existsSync(hostPath)) problems.push(`${name}: ${path.relative(REPO, hostPath)} does not exist`);
    if (!readOnly) problems.push(`${name}: mount the objects read-only (:ro)`);
  }
}

interface BindMount {
  /** The host path, resolved against the repository. */
  readonly source: string;
  /** The path in the container. */
  readonly target: string;
  readonly readOnly: boolean;
}

/** A service's bind mounts of the repository (./ or ../ sources; named volumes are not). */
function bindMounts(svc: Rec): BindMount[] {
  const out: BindMount[] = [];
  for (const v of Array.isArray(svc['volumes']) ? svc['volumes'] : []) {
    let source: string | undefined;
    let target: string | undefined;
    let ro = false;
    if (isRec(v)) {
      source = typeof v['source'] === 'string' ? v['source'] : undefined;
      target = typeof v['target'] === 'string' ? v['target'] : undefined;
      ro = v['read_only'] === true;
    } else {
      const [src, dst, mode] = String(v).split(':');
      source = src;
      target = dst;
      ro = (mode ?? '').split(',').includes('ro');
    }
    if (source && target && /^\.{0,2}\//.test(source)) out.push({ source: path.resolve(REPO, source), target, readOnly: ro });
  }
  return out;
}

/** The repository path a container path of the service is (through the last bind mount that holds it). */
function repoPathOf(svc: Rec, containerPath: string): { hostPath: string; readOnly: boolean } | undefined {
  let found: { hostPath: string; readOnly: boolean } | undefined;
  for (const m of bindMounts(svc)) {
    const rel = path.posix.relative(m.target, containerPath);
    if (rel.startsWith('..') || path.posix.isAbsolute(rel)) continue;
    found = { hostPath: path.join(m.source, rel), readOnly: m.readOnly };
  }
  return found;
}

/** The repository files a container directory of the service shows (mounted at it, in it or above it). */
function repoFilesIn(svc: Rec, containerDir: string): string[] {
  const files: string[] = [];
  const walk = (p: string) => {
    if (!fs.existsSync(p)) return;
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    else files.push(p);
  };
  for (const m of bindMounts(svc)) {
    const down = path.posix.relative(containerDir, m.target);
    if (!down.startsWith('..') && !path.posix.isAbsolute(down)) walk(m.source);
    else {
      const up = path.posix.relative(m.target, containerDir);
      if (!up.startsWith('..') && !path.posix.isAbsolute(up)) walk(path.join(m.source, up));
    }
  }
  return [...new Set(files)];
}

/** The one service whose image is `repository:tag`; a problem when there is none or several. */
function serviceOfImage(svcs: Map<string, Rec>, repository: string, what: string, problems: string[]): [string, Rec] | undefined {
  const found = [...svcs.entries()].filter(([, s]) => typeof s['image'] === 'string' && s['image'].startsWith(`${repository}:`));
  if (found.length !== 1) {
    problems.push(`exactly one ${what} service (image ${repository}) wanted, found ${found.length}`);
    return undefined;
  }
  return found[0];
}

/** A command's `--name=value` or `--name value`. */
function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
    if (a === name) return args[i + 1];
  }
  return undefined;
}

interface PrometheusService {
  readonly name: string;
  /** The port it listens on in its container. */
  readonly port: string;
}

/**
 * Prometheus: its configuration from the repository, which loads ops/prometheus/alerts.yml
 * and scrapes every imprint service on that service's metrics port (the janitor with its own
 * `job` label kept), and targets nothing else.
 */
function checkPrometheus(svcs: Map<string, Rec>, imprint: readonly ImprintService[], str: Str, read: ReadRepoFile, problems: string[]): PrometheusService | undefined {
  const found = serviceOfImage(svcs, 'prom/prometheus', 'Prometheus', problems);
  if (!found) return undefined;
  const [name, svc] = found;
  const args = words(svc['command']);
  const port = (flagValue(args, '--web.listen-address') ?? ':9090').replace(/^.*:/, '');
  const configPath = flagValue(args, '--config.file') ?? '/etc/prometheus/prometheus.yml';
  const config = repoPathOf(svc, configPath);
  const configText = config && read(config.hostPath);
  if (!config || configText === undefined) {
    problems.push(`${name}: its configuration ${configPath} is not a file of the repository mounted into it`);
    return { name, port };
  }
  const where = `${name} (${path.relative(REPO, config.hostPath)})`;
  let conf: unknown;
  try {
    conf = parse(configText);
  } catch (e) {
    problems.push(`${where}: does not parse: ${message(e)}`);
    return { name, port };
  }
  if (!isRec(conf)) {
    problems.push(`${where}: not a YAML mapping`);
    return { name, port };
  }
  // Rule files: relative to the configuration file, each a file of the repository; alerts.yml among them.
  const ruleFiles = Array.isArray(conf['rule_files']) ? conf['rule_files'].map(String) : [];
  const rules = ruleFiles.map((f) => {
    const inContainer = path.posix.resolve(path.posix.dirname(configPath), f);
    const host = repoPathOf(svc, inContainer)?.hostPath;
    if (!host || read(host) === undefined) problems.push(`${where}: rule file ${f} (${inContainer}) is not a file of the repository mounted into ${name}`);
    return host;
  });
  if (!rules.includes(ALERT_RULES)) problems.push(`${where}: does not load ${path.relative(REPO, ALERT_RULES)}`);
  // Scrape targets: every imprint service on its metrics port, nothing else.
  const targets = new Map<string, { port: string; job: Rec }>();
  for (const job of Array.isArray(conf['scrape_configs']) ? conf['scrape_configs'] : []) {
    if (!isRec(job)) continue;
    for (const sc of Array.isArray(job['static_configs']) ? job['static_configs'] : []) {
      for (const t of isRec(sc) && Array.isArray(sc['targets']) ? sc['targets'].map(String) : []) {
        const [host = '', tport = ''] = t.split(':');
        if (!svcs.has(host)) problems.push(`${where}: scrapes ${t}, and ${host} is not a service`);
        else if (!imprint.some((s) => s.name === host)) problems.push(`${where}: scrapes ${t}, and ${host} is not an imprint service`);
        targets.set(host, { port: tport, job });
      }
    }
  }
  for (const s of imprint) {
    const metricsPort = str(s, 'metricsPort');
    const target = targets.get(s.name);
    if (!target) problems.push(`${where}: does not scrape ${s.name}`);
    else if (metricsPort === undefined) problems.push(`${where}: scrapes ${s.name}:${target.port}, and ${s.name} serves no metrics (no --metrics-port)`);
    else if (target.port !== metricsPort) problems.push(`${where}: scrapes ${s.name}:${target.port}, and its metrics port is ${metricsPort}`);
    if (target && str(s, 'tlsCert') !== undefined) {
      const caFile = isRec(target.job['tls_config']) ? String(target.job['tls_config']['ca_file'] ?? '') : '';
      if (target.job['scheme'] !== 'https') problems.push(`${where}: scrapes ${s.name} over http, and its metrics are HTTPS (--tls-cert): scheme: https`);
      else if (caFile === '' || !bindMountsOrVolumes(svc).some((target) => caFile.startsWith(`${target}/`))) problems.push(`${where}: the job scraping ${s.name} has no tls_config.ca_file mounted into ${name}`);
    }
    if (target && s.inv.command?.name() === 'janitor' && target.job['honor_labels'] !== true) {
      problems.push(`${where}: the job scraping ${s.name} needs honor_labels: true (the janitor's metrics have a job label of their own)`);
    }
  }
  return { name, port };
}

/** Where a service's volumes and bind mounts are mounted. */
function bindMountsOrVolumes(svc: Rec): string[] {
  return (Array.isArray(svc['volumes']) ? svc['volumes'].map(String) : []).map((v) => v.split(':')[1] ?? '');
}

/**
 * Grafana: its provisioning from the repository, with the Prometheus service as a data source
 * and a dashboard provider whose path shows ops/grafana/imprint.json.
 */
function checkGrafana(svcs: Map<string, Rec>, prometheus: PrometheusService | undefined, read: ReadRepoFile, problems: string[]): void {
  const found = serviceOfImage(svcs, 'grafana/grafana', 'Grafana', problems);
  if (!found) return;
  const [name, svc] = found;
  if (prometheus && dependsOn(svc).get(prometheus.name) !== 'service_healthy') problems.push(`${name}: does not wait for ${prometheus.name} to be healthy`);
  const env = environmentOf(name, svc, problems);
  const provisioning = env.get('GF_PATHS_PROVISIONING') ?? '/etc/grafana/provisioning';
  const docsIn = (sub: string) =>
    repoFilesIn(svc, path.posix.join(provisioning, sub))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => ({ file: path.relative(REPO, f), doc: parse(read(f) ?? '') as unknown }));
  // Data sources: one of type prometheus at the Prometheus service.
  const datasources = docsIn('datasources').flatMap(({ doc }) => (isRec(doc) && Array.isArray(doc['datasources']) ? doc['datasources'].filter(isRec) : []));
  const promSources = datasources.filter((d) => d['type'] === 'prometheus');
  if (promSources.length === 0) problems.push(`${name}: no Prometheus data source in ${provisioning}/datasources (from the repository)`);
  for (const d of promSources) {
    const url = String(d['url'] ?? '');
    const want = prometheus && `http://${prometheus.name}:${prometheus.port}`;
    if (want && url.replace(/\/+$/, '') !== want) problems.push(`${name}: data source ${String(d['name'])} is at ${url}, not the Prometheus service (${want})`);
  }
  // Dashboard providers: one whose path shows the dashboard.
  const providers = docsIn('dashboards').flatMap(({ doc }) => (isRec(doc) && Array.isArray(doc['providers']) ? doc['providers'].filter(isRec) : []));
  const dashboardPaths = providers.map((p) => (isRec(p['options']) ? String(p['options']['path'] ?? '') : '')).filter((p) => p !== '');
  const shown = dashboardPaths.flatMap((p) => repoFilesIn(svc, p));
  if (!shown.includes(DASHBOARD)) {
    problems.push(`${name}: no dashboard provider in ${provisioning}/dashboards shows ${path.relative(REPO, DASHBOARD)} (provider paths: ${dashboardPaths.join(', ') || 'none'})`);
  }
  if (read(DASHBOARD) === undefined) problems.push(`${path.relative(REPO, DASHBOARD)} does not exist`);
}

// ---- the tests ----

const text = fs.readFileSync(COMPOSE_FILE, 'utf8');
const doc = loadCompose(text);

/** The document's own `services` mapping (mutations of it change the document). */
function services(d: unknown): Rec {
  if (!isRec(d) || !isRec(d['services'])) throw new Error('no services');
  return d['services'];
}
function service(d: unknown, name: string): Rec {
  const s = services(d)[name];
  if (!isRec(s)) throw new Error(`no service ${name}`);
  return s;
}
function envOf(d: unknown, name: string): Rec {
  const e = service(d, name)['environment'];
  if (!isRec(e)) throw new Error(`${name}: environment is not a map`);
  return e;
}

describe('docker-compose.yml', () => {
  it('parses with the services of the stack', () => {
    expect(isRec(doc)).toBe(true);
    expect(Object.keys(services(doc)).sort()).toEqual(
      [
        'buckets',
        'cassandra',
        'elasticsearch',
        'imprint-consume-1',
        'imprint-consume-2',
        'imprint-janitor',
        'imprint-publish',
        'kibana',
        'kibana-setup',
        'minio-eu-west-1',
        'minio-us-east-1',
        'prometheus',
        'grafana',
        'tls-certs',
      ].sort(),
    );
  });

  it('reads the real command: serve and janitor exist and their variables are known', () => {
    const env = (name: string) => program.commands.find((c) => c.name() === name)?.options.map((o) => o.envVar) ?? [];
    expect(env('serve')).toEqual(
      expect.arrayContaining(['IMPRINT_HOST', 'IMPRINT_PORT', 'IMPRINT_ROLE', 'IMPRINT_REFRESH_MS', 'IMPRINT_METRICS_PORT', 'IMPRINT_STORE', 'IMPRINT_AUDIT', 'IMPRINT_BLOBS', 'IMPRINT_BLOB_CHECK_TIMEOUT_MS']),
    );
    expect(env('janitor')).toEqual(expect.arrayContaining(['IMPRINT_BLOBS', 'IMPRINT_REGIONS', 'IMPRINT_S3_ENDPOINTS', 'IMPRINT_SNAPSHOT_EVERY', 'IMPRINT_ES_URL']));
    expect(program.options.map((o) => o.envVar)).toContain('IMPRINT_ADDRESS');
  });

  it('has no problems', () => {
    expect(composeProblems(doc)).toEqual([]);
  });

  // Each mutation of a copy must be caught, with a message that names what is wrong.
  const mutations: [string, (d: unknown) => void, string[]][] = [
    ['an unknown IMPRINT_ variable', (d) => void (envOf(d, 'imprint-consume-1')['IMPRINT_NOPE'] = '1'), ['imprint-consume-1', 'IMPRINT_NOPE']],
    ['a serve variable on the janitor', (d) => void (envOf(d, 'imprint-janitor')['IMPRINT_ROLE'] = 'consume'), ['imprint-janitor', 'IMPRINT_ROLE']],
    ['an unknown flag in a command', (d) => void (service(d, 'imprint-publish')['command'] = ['serve', '--nope']), ['imprint-publish', '--nope']],
    ['an unknown flag in a healthcheck', (d) => void (service(d, 'imprint-consume-2')['healthcheck'] = { test: ['CMD', 'node', CLI, 'health', '--wait'] }), ['imprint-consume-2', '--wait']],
    ['a verb that does not exist', (d) => void (service(d, 'imprint-janitor')['command'] = ['jantior']), ['imprint-janitor', 'jantior']],
    ['a value outside the choices', (d) => void (envOf(d, 'imprint-consume-2')['IMPRINT_ROLE'] = 'both'), ['imprint-consume-2', 'both']],
    ['a refresh the server refuses', (d) => void (envOf(d, 'imprint-consume-1')['IMPRINT_REFRESH_MS'] = '5'), ['imprint-consume-1', 'refresh-ms']],
    ['a port the server refuses', (d) => void (envOf(d, 'imprint-publish')['IMPRINT_PORT'] = '70000'), ['imprint-publish', 'port']],
    ['bad Cassandra replication', (d) => void (envOf(d, 'imprint-publish')['IMPRINT_CASSANDRA_REPLICATION'] = '{"replication_factor":1}'), ['imprint-publish', 'replication.class']],
    ['a duration the janitor refuses', (d) => void (envOf(d, 'imprint-janitor')['IMPRINT_SNAPSHOT_EVERY'] = '5 minutes'), ['imprint-janitor', 'snapshot-every']],
    ['a switch value the command refuses', (d) => void (envOf(d, 'imprint-janitor')['IMPRINT_S3_PATH_STYLE'] = 'off'), ['imprint-janitor', 'IMPRINT_S3_PATH_STYLE']],
    ['a depends_on on no service', (d) => void ((service(d, 'kibana')['depends_on'] as Rec)['nope'] = { condition: 'service_healthy' }), ['kibana', 'nope']],
    ['a port on every interface', (d) => void (service(d, 'elasticsearch')['ports'] = ['9200:9200']), ['elasticsearch', '127.0.0.1']],
    ['a long-running service without healthcheck', (d) => void delete service(d, 'cassandra')['healthcheck'], ['cassandra', 'healthcheck']],
    ['a third consume replica', (d) => void (services(d)['imprint-consume-3'] = structuredClone(service(d, 'imprint-consume-2'))), ['exactly two consume-role']],
    ['a health check against another port', (d) => void (envOf(d, 'imprint-consume-1')['IMPRINT_PORT'] = '50061'), ['imprint-consume-1 healthcheck', '127.0.0.1:50051']],
    ['the Kibana objects from elsewhere', (d) => void (service(d, 'kibana-setup')['volumes'] = ['./kibana/other.ndjson:/setup/imprint-saved-objects.ndjson:ro']), ['kibana-setup', 'kibana/other.ndjson']],
    ['a bucket nobody creates', (d) => void (envOf(d, 'imprint-janitor')['IMPRINT_BUCKET'] = 'models-{region}'), ['imprint-janitor', 'models-us-east-1']],
    ['a blob check timeout the server refuses', (d) => void (envOf(d, 'imprint-publish')['IMPRINT_BLOB_CHECK_TIMEOUT_MS'] = '0'), ['imprint-publish', 'blob-check-timeout-ms']],
    ['a publish instance without the S3 blob flags', (d) => void delete envOf(d, 'imprint-publish')['IMPRINT_BLOBS'], ['imprint-publish', 'blobs local']],
    ['a consume replica without mTLS', (d) => void delete envOf(d, 'imprint-consume-1')['IMPRINT_TLS_CLIENT_CA'], ['imprint-consume-1', 'without mTLS']],
    [
      'a server on 0.0.0.0 without TLS',
      (d) => {
        for (const v of ['IMPRINT_TLS_CERT', 'IMPRINT_TLS_KEY', 'IMPRINT_TLS_CLIENT_CA']) delete envOf(d, 'imprint-consume-2')[v];
      },
      ['imprint-consume-2', 'not a loopback address'],
    ],
    [
      'the janitor with plaintext metrics on 0.0.0.0',
      (d) => {
        for (const v of ['IMPRINT_TLS_CERT', 'IMPRINT_TLS_KEY']) delete envOf(d, 'imprint-janitor')[v];
      },
      ['imprint-janitor', 'not a loopback address'],
    ],
    ['TLS files in no volume', (d) => void (service(d, 'imprint-publish')['volumes'] = []), ['imprint-publish', 'in no volume']],
    ['a server not waiting for its certificates', (d) => void delete (service(d, 'imprint-consume-1')['depends_on'] as Rec)['tls-certs'], ['imprint-consume-1', 'does not wait for tls-certs']],
    ['a publish region without an endpoint', (d) => void (envOf(d, 'imprint-publish')['IMPRINT_REGIONS'] = 'us-east-1,ap-south-1'), ['imprint-publish', 'ap-south-1']],
  ];
  it.each(mutations)('catches %s', (_what, mutate, wanted) => {
    const copy = structuredClone(doc);
    mutate(copy);
    const found = composeProblems(copy);
    expect(found.some((p) => wanted.every((w) => p.includes(w))), `expected a problem naming ${wanted.join(' and ')}; got:\n${found.join('\n')}`).toBe(true);
  });

  /** The repository's files, but `rel` edited. */
  const editing =
    (rel: string, edit: (text: string) => string): ReadRepoFile =>
    (p) => {
      const text = readRepoFile(p);
      return p === path.join(REPO, rel) && text !== undefined ? edit(text) : text;
    };
  const PROM = 'ops/prometheus/prometheus.yml';
  const fileMutations: [string, (d: unknown) => void, ReadRepoFile, string[]][] = [
    ['a scrape target that is no service', () => {}, editing(PROM, (t) => t.replace('imprint-consume-2:9464', 'imprint-consume-3:9464')), ['imprint-consume-3', 'not a service']],
    ['a scrape target on another port', () => {}, editing(PROM, (t) => t.replace('imprint-consume-1:9464', 'imprint-consume-1:9465')), ['imprint-consume-1:9465', 'metrics port is 9464']],
    ['an imprint service not scraped', () => {}, editing(PROM, (t) => t.replace('- imprint-publish:9464', '')), ['does not scrape imprint-publish']],
    ['a scraped service without a metrics port', (d) => void delete envOf(d, 'imprint-publish')['IMPRINT_METRICS_PORT'], readRepoFile, ['imprint-publish', 'no --metrics-port']],
    ['the janitor scraped without honor_labels', () => {}, editing(PROM, (t) => t.replace('honor_labels: true', 'honor_labels: false')), ['imprint-janitor', 'honor_labels']],
    ['metrics scraped over http', () => {}, editing(PROM, (t) => t.replace('scheme: https', 'scheme: http')), ['imprint-publish', 'scheme: https']],
    ['a rule file that does not exist', () => {}, editing(PROM, (t) => t.replace('- alerts.yml', '- alert.yml')), ['rule file alert.yml', 'is not a file of the repository']],
    ['the Prometheus configuration not mounted', (d) => void (service(d, 'prometheus')['volumes'] = ['prometheus-data:/prometheus']), readRepoFile, ['prometheus', '/etc/prometheus/imprint/prometheus.yml']],
    ['a Grafana data source at another host', () => {}, editing('ops/grafana/provisioning/datasources/prometheus.yml', (t) => t.replace('http://prometheus:9090', 'http://localhost:9090')), ['grafana', 'localhost:9090']],
    ['a dashboard provider path that shows no dashboard', () => {}, editing('ops/grafana/provisioning/dashboards/imprint.yml', (t) => t.replace('path: /etc/imprint/grafana/dashboards', 'path: /var/lib/grafana/dashboards')), ['grafana', 'ops/grafana/imprint.json', '/var/lib/grafana/dashboards']],
    ['the dashboard mounted from elsewhere', (d) => void (service(d, 'grafana')['volumes'] = ['./ops/grafana/provisioning:/etc/grafana/provisioning:ro', './ops/grafana/other.json:/etc/imprint/grafana/dashboards/imprint.json:ro']), readRepoFile, ['grafana', 'ops/grafana/imprint.json']],
    ['Grafana not waiting for Prometheus', (d) => void delete service(d, 'grafana')['depends_on'], readRepoFile, ['grafana', 'prometheus']],
    ['a second Prometheus', (d) => void (services(d)['prometheus-2'] = structuredClone(service(d, 'prometheus'))), readRepoFile, ['exactly one Prometheus']],
  ];
  it.each(fileMutations)('catches %s', (_what, mutate, read, wanted) => {
    const copy = structuredClone(doc);
    mutate(copy);
    const found = composeProblems(copy, { readme: README, read });
    expect(found.some((p) => wanted.every((w) => p.includes(w))), `expected a problem naming ${wanted.join(' and ')}; got:\n${found.join('\n')}`).toBe(true);
  });

  it('catches a README without the consume replicas as the client address list', () => {
    const found = composeProblems(doc, { readme: README.replaceAll('IMPRINT_ADDRESS=', 'ADDRESS=') });
    expect(found.filter((p) => p.startsWith('README.md'))).toHaveLength(2);
  });
});
