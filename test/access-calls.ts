/**
 * Raw gRPC calls as a principal, for the access-control tests: a test authenticator (the bearer
 * token is "NAME" or "NAME@GROUP,GROUP"; the real ones, mTLS and JWT, have their own tests and
 * hand the server the same Principal) and a caller that sends it and resolves with the status.
 */
import * as grpc from '@grpc/grpc-js';
import { UnauthenticatedError } from '../core/index.js';
import { loadImprintProto } from '../proto/loader.js';
import type { Authenticate } from '../server/index.js';

export type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: unknown) => void) => grpc.ClientUnaryCall;
export type Service = 'PublisherService' | 'ConsumerService' | 'OperatorService';
export interface Answer {
  code: grpc.status;
  details: string;
  res: Record<string, unknown>;
}

/** Bearer "NAME" or "NAME@G1,G2": that principal (in those groups). */
export const authenticate: Authenticate = (call) => {
  const token = String(call.metadata.get('authorization')[0] ?? '').replace(/^Bearer /, '');
  if (!token) throw new UnauthenticatedError('no bearer token');
  const [name = '', groups = ''] = token.split('@');
  return { name, groups: groups ? groups.split(',') : [], apps: '*', via: 'jwt' };
};

export function clientsFor(port: number): Record<Service, Record<string, Unary>> {
  const v1 = loadImprintProto().proto.imprint.v1;
  const creds = grpc.credentials.createInsecure();
  const address = `127.0.0.1:${port}`;
  return {
    PublisherService: new v1.PublisherService(address, creds) as unknown as Record<string, Unary>,
    ConsumerService: new v1.ConsumerService(address, creds) as unknown as Record<string, Unary>,
    OperatorService: new v1.OperatorService(address, creds) as unknown as Record<string, Unary>,
  };
}

export function caller(clients: Record<Service, Record<string, Unary>>) {
  return (service: Service, method: string, request: object, who?: string): Promise<Answer> => {
    const md = new grpc.Metadata();
    if (who) md.set('authorization', `Bearer ${who}`);
    return new Promise((resolve) => {
      const client = clients[service];
      const fn = client[method];
      if (!fn) throw new Error(`no method ${method}`);
      fn.call(client, request, md, { deadline: Date.now() + 30_000 }, (err, res) =>
        resolve({ code: err ? err.code : grpc.status.OK, details: err?.details ?? '', res: (res ?? {}) as Record<string, unknown> }),
      );
    });
  };
}


/** Asks `check` again (one at a time, every 20 ms) until it holds; fails naming `what` after `ms` (generous: the machine is shared). */
export async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  for (const deadline = Date.now() + ms; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Closes the clients clientsFor made. */
export function closeClients(clients: Record<Service, Record<string, Unary>>): void {
  for (const c of Object.values(clients)) (c as unknown as grpc.Client).close();
}
