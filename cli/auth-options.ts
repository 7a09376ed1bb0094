/**
 * How `imprint serve` authenticates callers: the one place its authenticator is assembled
 * from the flags (server/auth combineAuthenticators). With --tls-client-ca every connection
 * presents a verified client certificate, and its principal is named by --principal-from.
 */
import { Option, type Command } from 'commander';
import { CERTIFICATE_AUTH_DEFAULTS, PRINCIPAL_FROM, certificateAuthenticator, combineAuthenticators, type Authenticate, type PrincipalFrom } from '../server/index.js';

export interface AuthCliOptions {
  tlsClientCa?: string;
  principalFrom: PrincipalFrom;
}

export function addAuthOptions(cmd: Command): Command {
  return cmd.addOption(
    new Option('--principal-from <name>', "with --tls-client-ca: the client certificate's name that is the caller's principal (auto: SAN URI, else SAN DNS, else CN)")
      .choices(PRINCIPAL_FROM)
      .env('IMPRINT_PRINCIPAL_FROM')
      .default(CERTIFICATE_AUTH_DEFAULTS.from),
  );
}

/** serve's authenticator; undefined when it accepts no credentials (calls are anonymous). */
export function authenticateFrom(o: AuthCliOptions): Authenticate | undefined {
  return combineAuthenticators({
    ...(o.tlsClientCa !== undefined && { certificate: certificateAuthenticator({ from: o.principalFrom }) }),
  });
}
