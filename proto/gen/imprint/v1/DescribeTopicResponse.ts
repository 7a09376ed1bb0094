// Original file: imprint/v1/operator.proto

import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from '../../imprint/v1/Topic.js';
import type { ScopeHead as _imprint_v1_ScopeHead, ScopeHead__Output as _imprint_v1_ScopeHead__Output } from '../../imprint/v1/ScopeHead.js';
import type { Pin as _imprint_v1_Pin, Pin__Output as _imprint_v1_Pin__Output } from '../../imprint/v1/Pin.js';
import type { TopicConsumers as _imprint_v1_TopicConsumers, TopicConsumers__Output as _imprint_v1_TopicConsumers__Output } from '../../imprint/v1/TopicConsumers.js';
import type { Change as _imprint_v1_Change, Change__Output as _imprint_v1_Change__Output } from '../../imprint/v1/Change.js';
import type { PublishStatus as _imprint_v1_PublishStatus, PublishStatus__Output as _imprint_v1_PublishStatus__Output } from '../../imprint/v1/PublishStatus.js';
import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from '../../imprint/v1/Rollout.js';
import type { Long } from '@grpc/proto-loader';

export interface DescribeTopicResponse {
  'topic'?: (_imprint_v1_Topic | null);
  'heads'?: (_imprint_v1_ScopeHead)[];
  'pins'?: (_imprint_v1_Pin)[];
  'versionCount'?: (number | string | Long);
  'consumers'?: (_imprint_v1_TopicConsumers | null);
  'consumersError'?: (string);
  'recentChanges'?: (_imprint_v1_Change)[];
  'publishStatus'?: (_imprint_v1_PublishStatus | null);
  'rollout'?: (_imprint_v1_Rollout | null);
}

export interface DescribeTopicResponse__Output {
  'topic': (_imprint_v1_Topic__Output | null);
  'heads': (_imprint_v1_ScopeHead__Output)[];
  'pins': (_imprint_v1_Pin__Output)[];
  'versionCount': (string);
  'consumers': (_imprint_v1_TopicConsumers__Output | null);
  'consumersError': (string);
  'recentChanges': (_imprint_v1_Change__Output)[];
  'publishStatus': (_imprint_v1_PublishStatus__Output | null);
  'rollout': (_imprint_v1_Rollout__Output | null);
}
