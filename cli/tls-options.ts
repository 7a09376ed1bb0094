/**
 * TLS on the command line. The global --tls-cert and --tls-key are this process's certificate
 * and key: `serve` (and the janitor's metrics listener) presents them as a server, a client
 * command as its client certificate (mTLS). --tls-ca and --tls-server-name are a client's:
 * what the server's certificate must chain to and be named. `serve --tls-client-ca` asks
 * clients for certificates (cli/auth-options.ts names the principal from them).
 */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import type { ClientTlsOptions } from '../client/tls.js';
import { InvalidArgumentError } from '../core/index.js';
import { INSECURE_RULE, TLS_DEFAULTS, isLoopback, type TlsOptions } from '../server/index.js';
import { addSwitch } from './switch.js';

export interface TlsCliOptions {
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
}

/** The global TLS options (program level, like --address). */
export function addTlsOptions(program: Command): Command {
  return addSwitch(program, '--tls', 'speak TLS to the service (implied by --tls-ca, --tls-cert, --tls-server-name); without --tls-ca its certificate is checked against the system roots', 'IMPRINT_TLS')
    .addOption(new Option('--tls-ca <file>', "PEM CA certificate(s) the service's certificate must chain to").env('IMPRINT_TLS_CA'))
    .addOption(new Option('--tls-cert <file>', "PEM certificate this process presents: serve's (and the janitor's metrics) server certificate; a client command's client certificate (mTLS)").env('IMPRINT_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('IMPRINT_TLS_KEY'))
    .addOption(new Option('--tls-server-name <name>', "the name the service's certificate must carry when the --address host is not it (an IP address, a tunnel)").env('IMPRINT_TLS_SERVER_NAME'));
}

/** Reads a PEM file a flag names; an unreadable one is an error naming the flag. */
function pemFile(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new InvalidArgumentError(flag, `must be a readable PEM file: ${err instanceof Error ? err.message : String(err)}`, file);
  }
}

/** A client command's TLS from the global options; undefined (plaintext) when none is given. */
export function clientTlsFrom(o: TlsCliOptions): ClientTlsOptions | undefined {
  const on = o.tls === true || o.tlsCa !== undefined || o.tlsCert !== undefined || o.tlsServerName !== undefined;
  if (!on) {
    if (o.tlsKey !== undefined) throw new InvalidArgumentError('--tls-key', 'needs --tls-cert (a client certificate and its key go together)', o.tlsKey);
    return undefined;
  }
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new InvalidArgumentError(o.tlsCert === undefined ? '--tls-cert' : '--tls-key', 'must be given with the other (--tls-cert and --tls-key)');
  return {
    ...(o.tlsCa !== undefined && { ca: pemFile(o.tlsCa, '--tls-ca') }),
    ...(o.tlsCert !== undefined && { cert: pemFile(o.tlsCert, '--tls-cert') }),
    ...(o.tlsKey !== undefined && { key: pemFile(o.tlsKey, '--tls-key') }),
    ...(o.tlsServerName !== undefined && { serverName: o.tlsServerName }),
  };
}

export interface ServeTlsCliOptions {
  tlsClientCa?: string;
  tlsReloadMs: string;
  insecure?: boolean;
}

/** serve's own TLS options (the certificate and key are the global --tls-cert and --tls-key). */
export function addServeTlsOptions(cmd: Command): Command {
  return addSwitch(
    cmd
      .addOption(new Option('--tls-client-ca <file>', 'mTLS: PEM CA certificate(s) client certificates must chain to; every gRPC connection must present one (with --tls-cert, --tls-key)').env('IMPRINT_TLS_CLIENT_CA'))
      .addOption(new Option('--tls-reload-ms <ms>', 'how often the TLS files are checked for a change; new connections get a changed certificate (10-3600000)').env('IMPRINT_TLS_RELOAD_MS').default(String(TLS_DEFAULTS.reloadMs))),
    '--insecure',
    'allow plaintext on a non-loopback --host (no --tls-cert): anyone who reaches the port can read and change what is served',
    'IMPRINT_INSECURE',
  );
}

/** The server's TLS files from serve's (or the janitor's) options; undefined without --tls-cert and --tls-key. */
export function serverTlsFrom(o: TlsCliOptions & Partial<ServeTlsCliOptions>): TlsOptions | undefined {
  if (o.tlsCert === undefined && o.tlsKey === undefined) {
    if (o.tlsClientCa !== undefined) throw new InvalidArgumentError('--tls-client-ca', 'needs --tls-cert and --tls-key (the server certificate clients check)', o.tlsClientCa);
    return undefined;
  }
  if (o.tlsCert === undefined || o.tlsKey === undefined) throw new InvalidArgumentError(o.tlsCert === undefined ? '--tls-cert' : '--tls-key', 'must be given with the other (--tls-cert and --tls-key)');
  if (o.tlsReloadMs !== undefined && !/^[0-9]+$/.test(o.tlsReloadMs)) throw new InvalidArgumentError('tls-reload-ms', 'must be a whole number of milliseconds', o.tlsReloadMs);
  const reloadMs = o.tlsReloadMs === undefined ? undefined : Number(o.tlsReloadMs);
  return { certFile: o.tlsCert, keyFile: o.tlsKey, ...(o.tlsClientCa !== undefined && { clientCaFile: o.tlsClientCa }), ...(reloadMs !== undefined && { reloadMs }) };
}

/** A listener on `host` without TLS: refused on a non-loopback host unless --insecure (the janitor's check; serve's is the server's own). */
export function checkPlaintextHost(host: string, tls: TlsOptions | undefined, insecure: boolean | undefined): void {
  if (!tls && !isLoopback(host) && insecure !== true) throw new InvalidArgumentError('host', INSECURE_RULE, host);
}
