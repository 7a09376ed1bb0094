/** combineAuthenticators: a bearer token goes to the token authenticator, anything else to the certificate one, and a call with neither accepted kind is refused saying what is accepted. */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../core/index.js';
import { combineAuthenticators, type Authenticate, type Principal, type ServerCall } from '../../server/auth/index.js';

const principal = (name: string, via: Principal['via']): Principal => ({ name, groups: [], apps: '*', via });
const bearer: Authenticate = () => principal('from-token', 'jwt');
const certificate: Authenticate = () => principal('from-cert', 'certificate');
function callWith(authorization?: string): ServerCall {
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return { metadata } as unknown as ServerCall; // only the metadata is read
}
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthenticatedError);
    return (err as UnauthenticatedError).reason;
  }
  throw new Error('not refused');
};

describe('combineAuthenticators', () => {
  it('is none when the server accepts no credentials (calls stay anonymous)', () => {
    expect(combineAuthenticators({})).toBeUndefined();
  });
  it('sends a bearer token to the token authenticator and other calls to the certificate one', () => {
    const both = combineAuthenticators({ bearer, certificate });
    expect(both?.(callWith('Bearer abc'))).toMatchObject({ name: 'from-token' });
    expect(both?.(callWith('bearer   abc'))).toMatchObject({ name: 'from-token' });
    expect(both?.(callWith())).toMatchObject({ name: 'from-cert' });
  });
  it('refuses what the server does not accept, saying what it does', () => {
    expect(refusal(() => combineAuthenticators({ certificate })?.(callWith('Bearer abc')))).toBe('this server does not accept bearer tokens: send a client certificate');
    expect(refusal(() => combineAuthenticators({ bearer })?.(callWith()))).toBe('no credentials: send a bearer token');
    expect(refusal(() => combineAuthenticators({ bearer, certificate })?.(callWith('Basic dXNlcg==')))).toBe('the authorization metadata is not "Bearer <token>"');
  });
});
