// Original file: imprint/v1/operator.proto

import type { VersionHeld as _imprint_v1_VersionHeld, VersionHeld__Output as _imprint_v1_VersionHeld__Output } from '../../imprint/v1/VersionHeld.js';
import type { ConsumerGroup as _imprint_v1_ConsumerGroup, ConsumerGroup__Output as _imprint_v1_ConsumerGroup__Output } from '../../imprint/v1/ConsumerGroup.js';
import type { ConsumerNode as _imprint_v1_ConsumerNode, ConsumerNode__Output as _imprint_v1_ConsumerNode__Output } from '../../imprint/v1/ConsumerNode.js';
import type { Long } from '@grpc/proto-loader';

export interface TopicConsumers {
  'sinceMs'?: (number | string | Long);
  'nodeCount'?: (number);
  'versions'?: (_imprint_v1_VersionHeld)[];
  'groups'?: (_imprint_v1_ConsumerGroup)[];
  'lastSeenMs'?: (number | string | Long);
  'liveCount'?: (number);
  'nodes'?: (_imprint_v1_ConsumerNode)[];
  'foldedPolls'?: (number | string | Long);
}

export interface TopicConsumers__Output {
  'sinceMs': (string);
  'nodeCount': (number);
  'versions': (_imprint_v1_VersionHeld__Output)[];
  'groups': (_imprint_v1_ConsumerGroup__Output)[];
  'lastSeenMs': (string);
  'liveCount': (number);
  'nodes': (_imprint_v1_ConsumerNode__Output)[];
  'foldedPolls': (string);
}
