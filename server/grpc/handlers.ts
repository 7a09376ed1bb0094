/**
 * The gRPC handlers: each translates a wire message to a call of the service code
 * (ImprintService for publish, operate and the Consumer's reads; the Poller for Poll and
 * BatchPoll; the Watch streams for Watch, watch.ts) and its answer or error back, and nothing
 * more.
 */
import * as grpc from '@grpc/grpc-js';
import {
  changeToWire,
  contractMsFromWire,
  publishStatusToWire,
  moveToWire,
  denialToWire,
  consumersToWire,
  headToWire,
  identityFromWire,
  pageSizeFromWire,
  pageTokenFromWire,
  pinToWire,
  pointerFromWire,
  pointerToWire,
  sizeFromWire,
  recordToWire,
  retentionFromWire,
  scopeFromWire,
  signatureFromWire,
  trustedKeysFromWire,
  timeMsFromWire,
  topicToWire,
  versionFromWire,
  grantFromWire,
  grantToWire,
  accessActionToWire,
  rejectionFromWire,
  rolloutPolicyFromWire,
  rolloutProgressToWire,
  rolloutToWire,
} from '../../proto/convert.js';
import type { ConsumerServiceHandlers } from '../../proto/gen/imprint/v1/ConsumerService.js';
import type { OperatorServiceHandlers } from '../../proto/gen/imprint/v1/OperatorService.js';
import type { PublisherServiceHandlers } from '../../proto/gen/imprint/v1/PublisherService.js';
import type { TopicPollResult } from '../../proto/gen/imprint/v1/TopicPollResult.js';
import { InvalidArgumentError, contractOf } from '../../core/index.js';
import { batchPollWithDefaults, type BatchPollOptions } from '../config.js';
import type { Logger } from '../../log/index.js';
import type { Poller, Watchers } from '../poll/index.js';
import type { Caller, ImprintService, RolloutVerb } from '../service.js';
import { answeredResult, batchPollFromWire, failedResult, fitToBudget, toUpdate } from './batch-poll.js';
import { toServiceError } from './errors.js';
import { requestLog } from './request-log.js';
import { principalOf } from '../auth/principal.js';
import { UNKNOWN_APP, appFromCall } from './throttle.js';
import { watchHandler } from './watch.js';
import type { ConsumerOutcomes } from '../poll/outcomes.js';

/** Wraps an async handler: its result or its error (as a status, logged in the request's log) goes to the callback. */
export function unary<Req, Res>(method: string, log: Logger, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, method, requestLog(call, log))),
    );
  };
}

/** Who calls: its address, the principal the server authenticated (server/auth), the request's log, the method and the app it claims. */
function callerOf(call: grpc.ServerUnaryCall<unknown, unknown>, log: Logger): Caller {
  const principal = principalOf(call);
  const app = appFromCall(call);
  return { peer: call.getPeer(), ...(principal && { principal }), log: requestLog(call, log), method: call.getPath().slice(call.getPath().lastIndexOf('/') + 1), ...(app !== UNKNOWN_APP && { app }) };
}

export function publisherHandlers(svc: ImprintService, log: Logger): PublisherServiceHandlers {
  return {
    CreateTopic: unary('CreateTopic', log, async (req, call) => ({
      topic: topicToWire(
        await svc.createTopic(
          {
            name: req.name,
            owner: req.owner,
            description: req.description,
            retention: retentionFromWire(req.retention),
            ...contractOf(contractMsFromWire(req.expectEveryMs, 'expect_every_ms'), contractMsFromWire(req.maxStalenessMs, 'max_staleness_ms')),
            ...(req.trustedKeys.length > 0 && { trustedKeys: trustedKeysFromWire(req.trustedKeys) }),
            ...(req.rolloutPolicy && { rolloutPolicy: rolloutPolicyFromWire(req.rolloutPolicy) }),
          },
          callerOf(call, log),
        ),
      ),
    })),
    UpdateTopic: unary('UpdateTopic', log, async (req, call) => ({
      topic: topicToWire(
        await svc.updateTopic(
          req.name,
          {
            ...(req._owner === 'owner' && { owner: req.owner }),
            ...(req._description === 'description' && { description: req.description }),
            ...(req.retention && { retention: retentionFromWire(req.retention) }),
            ...(req._expectEveryMs === 'expectEveryMs' && { expectEveryMs: contractMsFromWire(req.expectEveryMs, 'expect_every_ms') }),
            ...(req._maxStalenessMs === 'maxStalenessMs' && { maxStalenessMs: contractMsFromWire(req.maxStalenessMs, 'max_staleness_ms') }),
            ...(req.trustedKeys && { trustedKeys: trustedKeysFromWire(req.trustedKeys.keys) }),
            // Present with no steps: the policy is removed.
            ...(req.rolloutPolicy && { rolloutPolicy: req.rolloutPolicy.steps.length === 0 ? null : (rolloutPolicyFromWire(req.rolloutPolicy) ?? null) }),
          },
          callerOf(call, log),
        ),
      ),
    })),
    DeleteTopic: unary('DeleteTopic', log, async (req, call) => ({ topic: topicToWire(await svc.deleteTopic(req.name, req.reason, callerOf(call, log))) })),
    Publish: unary('Publish', log, async (req, call) => {
      const { record, replayed, rollout } = await svc.publish(
        {
          topic: req.topic,
          metadata: req.metadata,
          pointer: pointerFromWire(req.pointer),
          scopes: req.scopes.map(scopeFromWire),
          publishId: req.publishId,
          ...(req.signature && { signature: signatureFromWire(req.signature) }),
          noRollout: req.noRollout,
        },
        callerOf(call, log),
      );
      return { record: recordToWire(record), replayed, rollout: rollout ? rolloutToWire(rollout) : null };
    }),
    AddScopes: unary('AddScopes', log, async (req, call) => ({
      record: recordToWire(await svc.addScopes(req.topic, versionFromWire(req.version, 'version'), req.scopes.map(scopeFromWire), callerOf(call, log))),
    })),
    // Lent payload URLs (server/lend.ts).
    BeginUpload: unary('BeginUpload', log, async (req, call) => {
      const lent = await svc.beginUpload(req.topic, sizeFromWire(req.size, 'size'), req.sha256, partSizeFromWire(req.partSize), callerOf(call, log));
      return {
        uploadId: lent.uploadId,
        pointer: pointerToWire(lent.pointer),
        targets: lent.targets.map((t) => ({ region: t.region, multipart: t.multipart, parts: t.parts.map((p) => ({ ...p, headers: { ...p.headers } })) })),
        expiresAtMs: lent.expiresAtMs,
      };
    }),
    CompleteUpload: unary('CompleteUpload', log, async (req, call) => ({
      pointer: pointerToWire(await svc.completeUpload(req.topic, req.uploadId, req.regions.map((r) => ({ region: r.region, parts: r.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })) })), callerOf(call, log))),
    })),
  };
}

/** part_size off the wire: 0 (the service's choice) or a whole number of bytes (the service checks the range). */
function partSizeFromWire(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('part_size', 'must be 0 or a whole number of bytes from 5 MiB to 5 GiB', v);
  return n;
}

/**
 * Poll and BatchPoll over the Poller. What it answers at once (from memory) costs no promise
 * per topic. A BatchPoll is bounded by `limits` (batch-poll.ts).
 */
export function pollHandlers(poller: Poller, log: Logger, limits: BatchPollOptions = {}, outcomes?: ConsumerOutcomes): Pick<ConsumerServiceHandlers, 'Poll' | 'BatchPoll'> {
  const { maxTopics, maxResponseBytes } = batchPollWithDefaults(limits);
  return {
    Poll: unary('Poll', log, async (req, call) => {
      const identity = identityFromWire(req.identity);
      const lastSeen = versionFromWire(req.lastSeenVersion, 'last_seen_version', true);
      const rejected = rejectionFromWire(req.rejected, 'rejected');
      const polled = poller.poll(req.topic, identity, lastSeen, principalOf(call), 'Poll', req.lastSeenVersion);
      const answer = polled instanceof Promise ? await polled : polled;
      // What the node said, for the rollout gates (once it may consume the topic).
      outcomes?.heard(req.topic, identity, lastSeen, rejected);
      return { update: toUpdate(answer), maxStalenessMs: answer.maxStalenessMs ?? 0 };
    }),
    BatchPoll: unary('BatchPoll', log, async (req, call) => {
      // 1. The request, checked whole before any work.
      const { identity, cursors } = batchPollFromWire(req, maxTopics);
      const rlog = requestLog(call, log);
      const principal = principalOf(call);
      // 2. Each topic's answer (PERMISSION_DENIED for a topic the principal may not consume, like
      //    NOT_FOUND for one that does not exist): at once where the Poller gives it from memory,
      //    else all awaited together.
      const results: TopicPollResult[] = new Array(cursors.length);
      let later: Promise<void>[] | undefined;
      //    What each node said goes to the rollout gates for each topic answered.
      cursors.forEach(({ topic, lastSeen, lastSeenText, rejected }, i) => {
        try {
          const answer = poller.poll(topic, identity, lastSeen, principal, 'BatchPoll', lastSeenText);
          if (!(answer instanceof Promise)) {
            outcomes?.heard(topic, identity, lastSeen, rejected);
            results[i] = answeredResult(topic, answer);
            return;
          }
          (later ??= []).push(
            answer.then(
              (a) => {
                outcomes?.heard(topic, identity, lastSeen, rejected);
                results[i] = answeredResult(topic, a);
              },
              (err: unknown) => void (results[i] = failedResult(topic, err, 'BatchPoll', rlog)),
            ),
          );
        } catch (err) {
          results[i] = failedResult(topic, err, 'BatchPoll', rlog);
        }
      });
      if (later) await Promise.all(later);
      // 3. The answer within its byte budget.
      return { results: fitToBudget(results, maxResponseBytes) };
    }),
  };
}

const POLLS_REFUSED: Partial<grpc.StatusObject> = { code: grpc.status.UNIMPLEMENTED, details: 'this is a publish-role instance: polls go to a consume-role (or all-role) instance' };

/** Refuses Poll, BatchPoll and Watch: an instance without a Poller (the publish role) sends polls elsewhere. */
export const refusedPolls: Pick<ConsumerServiceHandlers, 'Poll' | 'BatchPoll' | 'Watch'> = {
  Poll: (_call, callback) => callback(POLLS_REFUSED),
  BatchPoll: (_call, callback) => callback(POLLS_REFUSED),
  Watch: (call) => void call.emit('error', POLLS_REFUSED),
};

/** Refuses Report where outcomes are not taken in (a publish-role instance, as it refuses polls). */
const refusedReport: Pick<ConsumerServiceHandlers, 'Report'> = {
  Report: (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: 'this instance does not take consumer reports: report to a consume-role (or all-role) instance' }),
};

/**
 * Report: checked whole as a BatchPoll's request is (batchPollFromWire; the principal's apps
 * by the authenticator); each topic's word goes to the rollout gates' outcomes when the topic
 * is one they take words for (an active rollout) and the caller may consume it (a topic it may
 * not, or that does not exist, is left out without failing the rest: a report answers nothing).
 */
function reportHandler(poller: Poller, log: Logger, limits: BatchPollOptions, outcomes: ConsumerOutcomes): ConsumerServiceHandlers['Report'] {
  const { maxTopics } = batchPollWithDefaults(limits);
  return unary('Report', log, async (req, call) => {
    const { identity, cursors } = batchPollFromWire(req, maxTopics);
    const principal = principalOf(call);
    for (const c of cursors) {
      if (outcomes.wants(c.topic) && (await poller.mayConsume(c.topic, principal, { method: 'Report', app: identity.app }))) outcomes.heard(c.topic, identity, c.lastSeen, c.rejected);
    }
    return {};
  });
}

/** Refuses Watch on a server given a Poller but no Watch streams (a server assembled by hand). */
const refusedWatch: Pick<ConsumerServiceHandlers, 'Watch'> = {
  Watch: (call) => void call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'this server does not serve Watch: use BatchPoll' }),
};

/**
 * The Consumer service: Poll and BatchPoll by the Poller and Watch by `watchers` (refused
 * without them), the other reads by the service.
 */
export function consumerHandlers(svc: ImprintService, poller: Poller | undefined, log: Logger, limits: BatchPollOptions = {}, watchers?: Watchers, outcomes?: ConsumerOutcomes): ConsumerServiceHandlers {
  return {
    ...(poller ? { ...pollHandlers(poller, log, limits, outcomes), ...(watchers ? { Watch: watchHandler(watchers, log, limits, outcomes) } : refusedWatch) } : refusedPolls),
    ...(poller && outcomes ? { Report: reportHandler(poller, log, limits, outcomes) } : refusedReport),
    GetDownload: unary('GetDownload', log, async (req, call) => {
      const { record, urls, expiresAtMs } = await svc.getDownload(req.topic, versionFromWire(req.version, 'version'), req.region, callerOf(call, log));
      return { size: record.pointer.size, sha256: record.pointer.sha256, urls: [...urls], expiresAtMs };
    }),
    GetVersion: unary('GetVersion', log, async (req, call) => ({ record: recordToWire(await svc.getVersion(req.topic, versionFromWire(req.version, 'version'), callerOf(call, log))) })),
    ListVersions: unary('ListVersions', log, async (req, call) => {
      const page = await svc.listVersions(req.topic, pageSizeFromWire(req.pageSize), pageTokenFromWire(req.pageToken), callerOf(call, log));
      return { versions: page.versions.map(recordToWire), nextPageToken: page.nextPageToken };
    }),
    GetLatestAt: unary('GetLatestAt', log, async (req, call) => {
      const at = await svc.latestAt(req.topic, identityFromWire(req.identity), timeMsFromWire(req.atMs, 'at_ms'), req.applyPins, callerOf(call, log));
      return { record: at.record ? recordToWire(at.record) : null, pinned: at.pinned, pin: at.pin ? pinToWire(at.pin) : null };
    }),
    GetTopic: unary('GetTopic', log, async (req, call) => ({ topic: topicToWire(await svc.getTopic(req.name, callerOf(call, log))) })),
    ListTopics: unary('ListTopics', log, async (req) => {
      const { topics, publishStatus } = await svc.listTopicsWithStatus(req.includeDeleted);
      return { topics: topics.map(topicToWire), publishStatus: publishStatus.map(publishStatusToWire) };
    }),
  };
}

/** The rollout RPCs: reads and an operator's verbs over the service (core/rollout.ts decides the moves). */
function rolloutHandlers(svc: ImprintService, log: Logger): Pick<OperatorServiceHandlers, 'GetRollout' | 'ListRollouts' | 'PauseRollout' | 'ResumeRollout' | 'CancelRollout' | 'PromoteRollout'> {
  const verb = (method: string, which: (req: { full?: boolean }) => RolloutVerb) =>
    unary<{ topic: string; reason?: string; full?: boolean }, { rollout: ReturnType<typeof rolloutToWire> }>(method, log, async (req, call) => ({
      rollout: rolloutToWire(await svc.changeRollout(req.topic, which(req), req.reason ?? '', callerOf(call, log))),
    }));
  return {
    GetRollout: unary('GetRollout', log, async (req, call) => {
      const { rollout, progress } = await svc.getRollout(req.topic, versionFromWire(req.version, 'version', true), callerOf(call, log));
      return { rollout: rolloutToWire(rollout), progress: rolloutProgressToWire(progress) };
    }),
    ListRollouts: unary('ListRollouts', log, async (req, call) => {
      const page = await svc.listRollouts(req.topic, pageSizeFromWire(req.pageSize), pageTokenFromWire(req.pageToken), callerOf(call, log));
      return { rollouts: page.rollouts.map(rolloutToWire), nextPageToken: page.nextPageToken };
    }),
    PauseRollout: verb('PauseRollout', () => 'pause'),
    ResumeRollout: verb('ResumeRollout', () => 'resume'),
    CancelRollout: verb('CancelRollout', () => 'cancel'),
    PromoteRollout: verb('PromoteRollout', (req) => (req.full ? 'promote-full' : 'promote')),
  };
}

export function operatorHandlers(svc: ImprintService, log: Logger): OperatorServiceHandlers {
  return {
    ...rolloutHandlers(svc, log),
    Pin: unary('Pin', log, async (req, call) => ({
      pin: pinToWire(await svc.pin(req.topic, scopeFromWire(req.scope), versionFromWire(req.version, 'version'), req.reason, req.createdBy, callerOf(call, log))),
    })),
    Unpin: unary('Unpin', log, async (req, call) => {
      const removed = await svc.unpin(req.topic, scopeFromWire(req.scope), callerOf(call, log));
      return { removed: removed ? pinToWire(removed) : null };
    }),
    ListPins: unary('ListPins', log, async (req, call) => ({ pins: (await svc.listPins(req.topic, callerOf(call, log))).map(pinToWire) })),
    DescribeTopic: unary('DescribeTopic', log, async (req, call) => {
      const d = await svc.describeTopic(
        req.name,
        {
          sinceMs: timeMsFromWire(req.consumersSinceMs, 'consumers_since_ms'),
          nodeLimit: req.consumersNodeLimit,
          version: versionFromWire(req.consumersVersion, 'consumers_version', true),
        },
        callerOf(call, log),
      );
      return {
        topic: topicToWire(d.topic),
        heads: d.heads.map(headToWire),
        pins: d.pins.map(pinToWire),
        versionCount: d.versionCount,
        ...('error' in d.consumers ? { consumers: null, consumersError: d.consumers.error } : { consumers: consumersToWire(d.consumers), consumersError: '' }),
        recentChanges: d.recentChanges.map(changeToWire),
        publishStatus: publishStatusToWire(d.publishStatus),
        rollout: d.rollout ? rolloutToWire(d.rollout) : null,
      };
    }),
    ListHistory: unary('ListHistory', log, async (req, call) => {
      const page = await svc.listHistory(req.topic, pageSizeFromWire(req.pageSize), pageTokenFromWire(req.pageToken), callerOf(call, log));
      return { changes: page.changes.map(changeToWire), nextPageToken: page.nextPageToken };
    }),
    ListMoves: unary('ListMoves', log, async (req, call) => {
      const page = await svc.listMoves(
        req.topic,
        {
          sinceMs: timeMsFromWire(req.sinceMs, 'since_ms'),
          untilMs: timeMsFromWire(req.untilMs, 'until_ms'),
          nodeId: req.nodeId,
          limit: pageSizeFromWire(req.pageSize),
        },
        callerOf(call, log),
      );
      return { moves: page.moves.map(moveToWire), truncated: page.truncated };
    }),
    ListDenials: unary('ListDenials', log, async (req, call) => {
      const page = await svc.listDenials(
        req.topic,
        { sinceMs: timeMsFromWire(req.sinceMs, 'since_ms'), untilMs: timeMsFromWire(req.untilMs, 'until_ms'), limit: pageSizeFromWire(req.pageSize) },
        callerOf(call, log),
      );
      return { denials: page.denials.map(denialToWire), truncated: page.truncated };
    }),
    GetAccess: unary('GetAccess', log, async (req, call) => ({ grants: (await svc.getAccess(req.topic, callerOf(call, log))).map(grantToWire) })),
    GetCallerAccess: unary('GetCallerAccess', log, async (req, call) => {
      const a = await svc.callerAccess(req.topic, callerOf(call, log));
      return { principal: a.principal, admin: a.admin, actions: a.actions.map(accessActionToWire) };
    }),
    GrantAccess: unary('GrantAccess', log, async (req, call) => {
      const done = await svc.grant(req.topic, grantFromWire(req.grant), callerOf(call, log));
      return { changed: done.changed, grants: done.grants.map(grantToWire) };
    }),
    RevokeAccess: unary('RevokeAccess', log, async (req, call) => {
      const done = await svc.revoke(req.topic, grantFromWire(req.grant), callerOf(call, log));
      return { changed: done.changed, grants: done.grants.map(grantToWire) };
    }),
  };
}
