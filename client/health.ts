/**
 * The standard gRPC health check (grpc.health.v1.Health/Check) against an Imprint server:
 * what `imprint health` and container health checks ask.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { fromGrpcError } from './errors.js';
import { channelCredentials, type ClientTlsOptions } from './tls.js';

/** SERVING, NOT_SERVING, UNKNOWN, or SERVICE_UNKNOWN (the server does not serve that service, e.g. Publisher on a consume instance). */
export type HealthStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

interface HealthCheckResponse {
  status?: string | number;
}

type HealthClient = grpc.Client & {
  Check(req: { service: string }, options: grpc.CallOptions, cb: grpc.requestCallback<HealthCheckResponse>): grpc.ClientUnaryCall;
};

const STATUS_NAMES: readonly HealthStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const HealthClientCtor = grpc.makeGenericClientConstructor(healthService, 'Health');

/**
 * Asks `address` how `service` is ("" : the server as a whole; or e.g. "imprint.v1.ConsumerService").
 * A server that does not answer within `timeoutMs` rejects with UnavailableError; `tls`: over
 * TLS (a failed handshake is UnavailableError too, naming the cause).
 */
export async function checkHealth(address: string, service = '', timeoutMs = 5000, tls?: ClientTlsOptions): Promise<HealthStatus> {
  const { credentials, options, files } = channelCredentials(tls);
  // A generic client has its methods by name at run time; the type says which one we use.
  const client = new HealthClientCtor(address, credentials, options) as unknown as HealthClient;
  try {
    return await new Promise<HealthStatus>((resolve, reject) => {
      client.Check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) {
          // The health service answers NOT_FOUND for a service it has no status for.
          if (err.code === grpc.status.NOT_FOUND) resolve('SERVICE_UNKNOWN');
          else reject(fromGrpcError(err, `health check of ${address}`));
          return;
        }
        const s = res?.status;
        resolve(typeof s === 'number' ? (STATUS_NAMES[s] ?? 'UNKNOWN') : STATUS_NAMES.find((n) => n === s) ?? 'UNKNOWN');
      });
    });
  } finally {
    client.close();
    files?.close();
  }
}
