/**
 * The REST API's answers as the console reads them: the proto3 JSON mapping of the messages in
 * proto/imprint/v1 (64-bit integers as decimal strings, enums by name, every field present).
 * Only the fields the console shows are declared.
 */
export type Int64 = string;

export interface Scope {
  match: Record<string, string>;
}

export interface Topic {
  name: string;
  owner: string;
  description: string;
  createdAtMs: Int64;
  latestVersion: Int64;
  expectEveryMs: Int64;
  deletedAtMs: Int64;
}

export interface PublishStatus {
  topic: string;
  lastPublishMs: Int64;
  overdueSinceMs: Int64;
}

export interface VersionRecord {
  topic: string;
  version: Int64;
  publishedAtMs: Int64;
  metadata: Record<string, string>;
  pointer: { size: Int64; sha256: string; direct?: string; blob?: unknown } | null;
  scopes: Scope[];
  signature: { keyId: string } | null;
}

export interface Pin {
  topic: string;
  scope: Scope | null;
  version: Int64;
  createdAtMs: Int64;
  reason: string;
  createdBy: string;
}

export interface VersionHeld {
  version: Int64;
  nodeCount: number;
  lastSeenMs: Int64;
}

export interface ConsumerGroup {
  app: string;
  cluster: string;
  region: string;
  nodeCount: number;
  versions: VersionHeld[];
  lastSeenMs: Int64;
}

export interface TopicConsumers {
  sinceMs: Int64;
  nodeCount: number;
  liveCount: number;
  versions: VersionHeld[];
  groups: ConsumerGroup[];
  lastSeenMs: Int64;
}

export type RolloutState = 'ROLLOUT_STATE_RUNNING' | 'ROLLOUT_STATE_PAUSED' | 'ROLLOUT_STATE_COMPLETED' | 'ROLLOUT_STATE_CANCELLED' | 'ROLLOUT_STATE_SUPERSEDED';

export interface RolloutStep {
  scopes: Scope[];
  percent: number;
  bakeMs: Int64;
  gates: ('ROLLOUT_GATE_CONSUMERS' | 'ROLLOUT_GATE_WEBHOOK')[];
}

export interface Rollout {
  topic: string;
  version: Int64;
  policy: { steps: RolloutStep[]; minHoldingPercent?: number | null; maxRejections?: number | null } | null;
  state: RolloutState;
  step: number;
  stepStartedAtMs: Int64;
  bakeLeftMs: Int64;
  startedAtMs: Int64;
  endedAtMs: Int64;
  reason: string;
  rejected: boolean;
  webhookPassedStep: number;
}

export interface RolloutProgress {
  reached: number;
  holding: number;
  rejections: number;
}

export interface Change {
  kind: string;
  atMs: Int64;
  by: { principal: string; authenticated: boolean; peer: string } | null;
  version: Int64;
  scopes: Scope[];
  reason: string;
  details: Record<string, string>;
}

export interface ConsumerMove {
  atMs: Int64;
  nodeId: string;
  fromVersion: Int64;
  toVersion: Int64;
}

export type AccessAction = 'consume' | 'inspect' | 'publish' | 'operate' | 'own';

export interface CallerAccess {
  principal: string;
  admin: boolean;
  actions: string[];
}

export interface DescribeTopic {
  topic: Topic;
  pins: Pin[];
  versionCount: Int64;
  consumers: TopicConsumers | null;
  consumersError: string;
  publishStatus: PublishStatus | null;
  rollout: Rollout | null;
}
