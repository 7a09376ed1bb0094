/**
 * On a server with principals the limiter's shares are the principals', not the apps they
 * claim: two principals acting as the same app do not share a share, and neither can spend
 * the other's (the guard's real wrapping, over a Poll that holds its slot until answered).
 * Without principals, the app named is the share, as before. Also the apps rule itself.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { APP_METADATA_KEY } from '../../proto/metadata-keys.js';
import type { ConsumerServiceHandlers } from '../../proto/gen/imprint/v1/ConsumerService.js';
import { ConcurrencyLimiter, checkClaimedApps, guardConsumerHandlers, mayActAs, rememberPrincipal, shareOf, type Principal } from '../../server/index.js';

const principal = (name: string, apps: Principal['apps'] = '*'): Principal => ({ name, groups: [], apps, via: 'jwt' });

function pollCall(app: string, who?: Principal): grpc.ServerUnaryCall<unknown, unknown> {
  const metadata = new grpc.Metadata();
  metadata.set(APP_METADATA_KEY, app);
  // A test double: the guard reads metadata, request and cancelled.
  const call = { metadata, request: { topic: 't', identity: { app } }, cancelled: false } as unknown as grpc.ServerUnaryCall<unknown, unknown>;
  if (who) rememberPrincipal(call, who);
  return call;
}

function guarded() {
  const limiter = new ConcurrencyLimiter({ initialLimit: 2, minLimit: 1, maxLimit: 2 });
  const held: grpc.sendUnaryData<unknown>[] = [];
  const handlers = { Poll: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => void held.push(cb) } as unknown as ConsumerServiceHandlers;
  const { Poll } = guardConsumerHandlers(handlers, { limiter });
  const codes: (number | undefined)[] = [];
  // The double stands in for a Poll call: the guard reads only its metadata, request and cancelled.
  const poll = (c: grpc.ServerUnaryCall<unknown, unknown>) => Poll(c as Parameters<typeof Poll>[0], (err) => codes.push(err?.code ?? grpc.status.OK));
  return { limiter, held, codes, poll };
}

describe('the limiter on a server with principals', () => {
  it('keys shares by principal: two principals claiming the same app do not share one', () => {
    const { limiter, held, codes, poll } = guarded();
    const [alice, bob] = [principal('alice'), principal('bob')];
    poll(pollCall('scorer', alice));
    poll(pollCall('scorer', alice));
    poll(pollCall('scorer', alice));
    expect(codes).toEqual([grpc.status.RESOURCE_EXHAUSTED]);
    // Alice's share is full; bob, claiming the same app, has his own.
    poll(pollCall('scorer', bob));
    expect(codes).toEqual([grpc.status.RESOURCE_EXHAUSTED]);
    expect(held).toHaveLength(3);
    expect(limiter.state('alice')?.inflight).toBe(2);
    expect(limiter.state('bob')?.inflight).toBe(1);
    expect(limiter.state('scorer')).toBeUndefined();
  });

  it('keys shares by the app named when calls are anonymous', () => {
    const { codes, poll } = guarded();
    poll(pollCall('scorer'));
    poll(pollCall('scorer'));
    poll(pollCall('scorer'));
    expect(codes).toEqual([grpc.status.RESOURCE_EXHAUSTED]);
    expect(shareOf(pollCall('scorer'))).toBe('scorer');
    expect(shareOf(pollCall('scorer', principal('alice')))).toBe('alice');
  });
});

describe('the apps a principal may act as', () => {
  it.each<[Principal['apps'], string, boolean]>([
    ['*', 'anything', true],
    [['scorer', 'scorer-canary'], 'scorer-canary', true],
    [['scorer'], 'scorer-canary', false],
    [[], 'scorer', false],
  ])('apps %j, app %s: %s', (apps, app, may) => {
    expect(mayActAs(principal('p', apps), app)).toBe(may);
  });

  it('checks x-imprint-app and identity.app, each when sent', () => {
    const p = principal('svc', ['scorer']);
    expect(() => checkClaimedApps(pollCall('scorer'), p)).not.toThrow();
    const noClaims = { metadata: new grpc.Metadata(), request: { name: 't' } };
    expect(() => checkClaimedApps(noClaims, p)).not.toThrow();
    const spoofedHeader = { metadata: pollCall('billing').metadata, request: { topic: 't', identity: { app: 'scorer' } } };
    expect(() => checkClaimedApps(spoofedHeader, p)).toThrow('permission denied: "svc" may not act as app "billing" (x-imprint-app) on topic "t" (it may act as: "scorer")');
    const spoofedIdentity = { metadata: new grpc.Metadata(), request: { topics: [{}, {}, {}], identity: { app: 'billing' } } };
    expect(() => checkClaimedApps(spoofedIdentity, p)).toThrow('"svc" may not act as app "billing" (identity.app) (for all 3 topics of the request; it may act as: "scorer")');
  });
});
