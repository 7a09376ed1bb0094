/**
 * Who is asking, on the command line: `serve`'s options for bearer JWTs (--jwt-*) and for
 * the client certificate's principal (--principal-from, with --tls-client-ca), the one place
 * its authenticator is assembled from them (server/auth combineAuthenticators), and the token
 * every client command sends (--token, --token-file).
 */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { InvalidArgumentError, isIdentityValue } from '../core/index.js';
import type { Logger } from '../log/index.js';
import { CERTIFICATE_AUTH_DEFAULTS, PRINCIPAL_FROM, certificateAuthenticator, combineAuthenticators, JWT_DEFAULTS, jwtAuthenticator, type Authenticate, type JwtOptions, type PrincipalFrom } from '../server/index.js';
import type { TokenSource } from '../client/token.js';
import { parseDuration } from './janitor.js';

export interface JwtCliOptions {
  jwtJwks?: string;
  jwtIssuer?: string[];
  jwtAudience?: string;
  jwtClockSkew: string;
  jwtAlgorithms?: string;
  jwtPrincipalClaim: string;
  jwtGroupsClaim: string;
  jwtAppsClaim: string;
}

export interface AuthCliOptions {
  tlsClientCa?: string;
  principalFrom: PrincipalFrom;
  principalApps?: string[];
}

export function addAuthOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--principal-from <name>', "with --tls-client-ca: the client certificate's name that is the caller's principal (auto: SAN URI, else SAN DNS, else CN)")
        .choices(PRINCIPAL_FROM)
        .env('IMPRINT_PRINCIPAL_FROM')
        .default(CERTIFICATE_AUTH_DEFAULTS.from),
    )
    .addOption(
      new Option(
        '--principal-apps <principal=apps>',
        'with --tls-client-ca: the apps a certificate principal may act as (identity.app, x-imprint-app) besides its own name, e.g. spiffe://corp/scorer=scorer,scorer-canary ("*": any); repeatable, the env var separates entries by ";" (default: none)',
      )
        .env('IMPRINT_PRINCIPAL_APPS')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(';').map((x) => x.trim()).filter(Boolean)]),
    );
}

/** --principal-apps entries ("principal=app,app" or "principal=*") as the certificate authenticator's `apps`. */
export function principalAppsFrom(entries: readonly string[]): Record<string, readonly string[] | '*'> {
  const out: Record<string, readonly string[] | '*'> = {};
  for (const entry of entries) {
    const at = entry.lastIndexOf('=');
    const name = at > 0 ? entry.slice(0, at).trim() : '';
    const apps = at > 0 ? entry.slice(at + 1).split(',').map((a) => a.trim()).filter(Boolean) : [];
    if (name === '' || apps.length === 0) throw new InvalidArgumentError('--principal-apps', 'must be PRINCIPAL=APP[,APP...] or PRINCIPAL=*', entry);
    const bad = apps.find((a) => a !== '*' && !isIdentityValue(a));
    if (bad !== undefined) throw new InvalidArgumentError('--principal-apps', 'must name apps of 1-256 characters without whitespace, "," or "="', bad);
    const prev = out[name];
    out[name] = apps.includes('*') || prev === '*' ? '*' : [...(prev ?? []), ...apps];
  }
  return out;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter((s) => s !== '')];

export function addJwtOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--jwt-jwks <file|url>', 'accept bearer JWTs signed by these keys: a JWKS file (read again when it changes) or an http(s) URL (default: no JWTs)').env('IMPRINT_JWT_JWKS'))
    .addOption(new Option('--jwt-issuer <iss>', "an issuer whose JWTs are accepted (the tokens' iss); repeat, or separate by \",\" (required with --jwt-jwks)").env('IMPRINT_JWT_ISSUER').argParser(collect))
    .addOption(new Option('--jwt-audience <aud>', "the audience a JWT must name (its aud): this service's name at the issuer (required with --jwt-jwks)").env('IMPRINT_JWT_AUDIENCE'))
    .addOption(new Option('--jwt-clock-skew <duration>', 'clock skew allowed on exp and nbf, 0 to 10m').env('IMPRINT_JWT_CLOCK_SKEW').default(`${JWT_DEFAULTS.clockToleranceMs / 1000}s`))
    .addOption(new Option('--jwt-algorithms <list>', `signature algorithms accepted, separated by "," (default: ${JWT_DEFAULTS.algorithms.join(',')})`).env('IMPRINT_JWT_ALGORITHMS'))
    .addOption(new Option('--jwt-principal-claim <claim>', "the claim naming the principal (pins and the history record it)").env('IMPRINT_JWT_PRINCIPAL_CLAIM').default(JWT_DEFAULTS.principalClaim))
    .addOption(new Option('--jwt-groups-claim <claim>', "the claim listing the principal's groups").env('IMPRINT_JWT_GROUPS_CLAIM').default(JWT_DEFAULTS.groupsClaim))
    .addOption(
      new Option('--jwt-apps-claim <claim>', 'the claim listing the apps the principal may act as (identity.app, x-imprint-app; "*": any); without it, only the app named as the principal')
        .env('IMPRINT_JWT_APPS_CLAIM')
        .default(JWT_DEFAULTS.appsClaim),
    );
}

/** The library's option names as `serve`'s flags, for errors. */
const JWT_FLAGS: Record<string, string> = {
  jwks: '--jwt-jwks',
  issuers: '--jwt-issuer',
  audience: '--jwt-audience',
  clockToleranceMs: '--jwt-clock-skew',
  algorithms: '--jwt-algorithms',
  principalClaim: '--jwt-principal-claim',
  groupsClaim: '--jwt-groups-claim',
  appsClaim: '--jwt-apps-claim',
};

/** A library option's error, speaking the flag's name. */
function asFlagError(err: unknown): unknown {
  if (!(err instanceof InvalidArgumentError)) return err;
  const flag = JWT_FLAGS[err.field];
  return flag ? new InvalidArgumentError(flag, err.message.slice(err.field.length + 1)) : err;
}

/** The JWT options the flags ask for; undefined without --jwt-jwks (and then no other --jwt-* flag may be given). */
export function jwtOptionsFrom(o: JwtCliOptions, log: Logger): JwtOptions | undefined {
  if (o.jwtJwks === undefined) {
    if (o.jwtIssuer !== undefined || o.jwtAudience !== undefined) throw new InvalidArgumentError('--jwt-jwks', 'is required with --jwt-issuer and --jwt-audience (the keys to verify tokens with)');
    return undefined;
  }
  if (!o.jwtIssuer?.length) throw new InvalidArgumentError('--jwt-issuer', 'is required with --jwt-jwks: the issuer (iss) of the tokens to accept');
  if (o.jwtAudience === undefined) throw new InvalidArgumentError('--jwt-audience', 'is required with --jwt-jwks: the audience (aud) a token must name');
  const skew = o.jwtClockSkew.trim() === '0' ? 0 : parseDuration(o.jwtClockSkew, '--jwt-clock-skew');
  return {
    jwks: o.jwtJwks,
    issuers: o.jwtIssuer,
    audience: o.jwtAudience,
    clockToleranceMs: skew,
    ...(o.jwtAlgorithms !== undefined && { algorithms: o.jwtAlgorithms.split(',').map((a) => a.trim()).filter((a) => a !== '') }),
    principalClaim: o.jwtPrincipalClaim,
    groupsClaim: o.jwtGroupsClaim,
    appsClaim: o.jwtAppsClaim,
    log,
  };
}

/** `serve`'s authenticator from its flags: undefined (anonymous calls) when none asks for one. */
export function authenticatorFrom(o: JwtCliOptions & AuthCliOptions, log: Logger): { authenticate?: Authenticate; describe: string } {
  let bearer: Authenticate | undefined;
  const ways: string[] = [];
  try {
    const jwt = jwtOptionsFrom(o, log);
    if (jwt) {
      bearer = jwtAuthenticator(jwt).authenticate;
      ways.push(`bearer JWTs from ${jwt.issuers.join(', ')} for audience ${jwt.audience}, keys ${jwt.jwks}`);
    }
  } catch (err) {
    throw asFlagError(err);
  }
  if (o.principalApps?.length && o.tlsClientCa === undefined) throw new InvalidArgumentError('--principal-apps', 'needs --tls-client-ca (it names what certificate principals may act as; a JWT carries its apps in a claim)');
  const certificate = o.tlsClientCa !== undefined ? certificateAuthenticator({ from: o.principalFrom, apps: principalAppsFrom(o.principalApps ?? []) }) : undefined;
  if (certificate) ways.push(`client certificates (principal from ${o.principalFrom})`);
  const authenticate = combineAuthenticators({ ...(bearer && { bearer }), ...(certificate && { certificate }) });
  const describe = ways.length ? ways.join('; or ') : 'none: every call is anonymous (--jwt-jwks to require bearer JWTs, --tls-client-ca for client certificates)';
  return { ...(authenticate && { authenticate }), describe };
}

export interface TokenCliOptions {
  token?: string;
  tokenFile?: string;
}

/** The token the client commands send, if any. */
export function tokenFrom(o: TokenCliOptions): TokenSource | undefined {
  if (o.token !== undefined && o.tokenFile !== undefined) throw new InvalidArgumentError('--token', 'and --token-file cannot both be given');
  if (o.tokenFile !== undefined) {
    const file = o.tokenFile;
    return () => {
      try {
        return fs.readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new InvalidArgumentError('--token-file', `must be a readable file (${err instanceof Error ? err.message : String(err)})`, file);
      }
    };
  }
  return o.token;
}
