import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Actor as _imprint_v1_Actor, Actor__Output as _imprint_v1_Actor__Output } from './imprint/v1/Actor.js';
import type { BatchPollRequest as _imprint_v1_BatchPollRequest, BatchPollRequest__Output as _imprint_v1_BatchPollRequest__Output } from './imprint/v1/BatchPollRequest.js';
import type { BatchPollResponse as _imprint_v1_BatchPollResponse, BatchPollResponse__Output as _imprint_v1_BatchPollResponse__Output } from './imprint/v1/BatchPollResponse.js';
import type { BlobLocation as _imprint_v1_BlobLocation, BlobLocation__Output as _imprint_v1_BlobLocation__Output } from './imprint/v1/BlobLocation.js';
import type { BlobLocations as _imprint_v1_BlobLocations, BlobLocations__Output as _imprint_v1_BlobLocations__Output } from './imprint/v1/BlobLocations.js';
import type { Change as _imprint_v1_Change, Change__Output as _imprint_v1_Change__Output } from './imprint/v1/Change.js';
import type { ConsumerIdentity as _imprint_v1_ConsumerIdentity, ConsumerIdentity__Output as _imprint_v1_ConsumerIdentity__Output } from './imprint/v1/ConsumerIdentity.js';
import type { ConsumerServiceClient as _imprint_v1_ConsumerServiceClient, ConsumerServiceDefinition as _imprint_v1_ConsumerServiceDefinition } from './imprint/v1/ConsumerService.js';
import type { DataPointer as _imprint_v1_DataPointer, DataPointer__Output as _imprint_v1_DataPointer__Output } from './imprint/v1/DataPointer.js';
import type { DownloadUrl as _imprint_v1_DownloadUrl, DownloadUrl__Output as _imprint_v1_DownloadUrl__Output } from './imprint/v1/DownloadUrl.js';
import type { GetDownloadRequest as _imprint_v1_GetDownloadRequest, GetDownloadRequest__Output as _imprint_v1_GetDownloadRequest__Output } from './imprint/v1/GetDownloadRequest.js';
import type { GetDownloadResponse as _imprint_v1_GetDownloadResponse, GetDownloadResponse__Output as _imprint_v1_GetDownloadResponse__Output } from './imprint/v1/GetDownloadResponse.js';
import type { GetLatestAtRequest as _imprint_v1_GetLatestAtRequest, GetLatestAtRequest__Output as _imprint_v1_GetLatestAtRequest__Output } from './imprint/v1/GetLatestAtRequest.js';
import type { GetLatestAtResponse as _imprint_v1_GetLatestAtResponse, GetLatestAtResponse__Output as _imprint_v1_GetLatestAtResponse__Output } from './imprint/v1/GetLatestAtResponse.js';
import type { GetTopicRequest as _imprint_v1_GetTopicRequest, GetTopicRequest__Output as _imprint_v1_GetTopicRequest__Output } from './imprint/v1/GetTopicRequest.js';
import type { GetTopicResponse as _imprint_v1_GetTopicResponse, GetTopicResponse__Output as _imprint_v1_GetTopicResponse__Output } from './imprint/v1/GetTopicResponse.js';
import type { GetVersionRequest as _imprint_v1_GetVersionRequest, GetVersionRequest__Output as _imprint_v1_GetVersionRequest__Output } from './imprint/v1/GetVersionRequest.js';
import type { GetVersionResponse as _imprint_v1_GetVersionResponse, GetVersionResponse__Output as _imprint_v1_GetVersionResponse__Output } from './imprint/v1/GetVersionResponse.js';
import type { ListTopicsRequest as _imprint_v1_ListTopicsRequest, ListTopicsRequest__Output as _imprint_v1_ListTopicsRequest__Output } from './imprint/v1/ListTopicsRequest.js';
import type { ListTopicsResponse as _imprint_v1_ListTopicsResponse, ListTopicsResponse__Output as _imprint_v1_ListTopicsResponse__Output } from './imprint/v1/ListTopicsResponse.js';
import type { ListVersionsRequest as _imprint_v1_ListVersionsRequest, ListVersionsRequest__Output as _imprint_v1_ListVersionsRequest__Output } from './imprint/v1/ListVersionsRequest.js';
import type { ListVersionsResponse as _imprint_v1_ListVersionsResponse, ListVersionsResponse__Output as _imprint_v1_ListVersionsResponse__Output } from './imprint/v1/ListVersionsResponse.js';
import type { Pin as _imprint_v1_Pin, Pin__Output as _imprint_v1_Pin__Output } from './imprint/v1/Pin.js';
import type { PollRequest as _imprint_v1_PollRequest, PollRequest__Output as _imprint_v1_PollRequest__Output } from './imprint/v1/PollRequest.js';
import type { PollResponse as _imprint_v1_PollResponse, PollResponse__Output as _imprint_v1_PollResponse__Output } from './imprint/v1/PollResponse.js';
import type { PublishStatus as _imprint_v1_PublishStatus, PublishStatus__Output as _imprint_v1_PublishStatus__Output } from './imprint/v1/PublishStatus.js';
import type { Rejection as _imprint_v1_Rejection, Rejection__Output as _imprint_v1_Rejection__Output } from './imprint/v1/Rejection.js';
import type { ReportRequest as _imprint_v1_ReportRequest, ReportRequest__Output as _imprint_v1_ReportRequest__Output } from './imprint/v1/ReportRequest.js';
import type { ReportResponse as _imprint_v1_ReportResponse, ReportResponse__Output as _imprint_v1_ReportResponse__Output } from './imprint/v1/ReportResponse.js';
import type { Retention as _imprint_v1_Retention, Retention__Output as _imprint_v1_Retention__Output } from './imprint/v1/Retention.js';
import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from './imprint/v1/Rollout.js';
import type { RolloutPolicy as _imprint_v1_RolloutPolicy, RolloutPolicy__Output as _imprint_v1_RolloutPolicy__Output } from './imprint/v1/RolloutPolicy.js';
import type { RolloutProgress as _imprint_v1_RolloutProgress, RolloutProgress__Output as _imprint_v1_RolloutProgress__Output } from './imprint/v1/RolloutProgress.js';
import type { RolloutStep as _imprint_v1_RolloutStep, RolloutStep__Output as _imprint_v1_RolloutStep__Output } from './imprint/v1/RolloutStep.js';
import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from './imprint/v1/Scope.js';
import type { ScopeHead as _imprint_v1_ScopeHead, ScopeHead__Output as _imprint_v1_ScopeHead__Output } from './imprint/v1/ScopeHead.js';
import type { Signature as _imprint_v1_Signature, Signature__Output as _imprint_v1_Signature__Output } from './imprint/v1/Signature.js';
import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from './imprint/v1/Topic.js';
import type { TopicCursor as _imprint_v1_TopicCursor, TopicCursor__Output as _imprint_v1_TopicCursor__Output } from './imprint/v1/TopicCursor.js';
import type { TopicPollResult as _imprint_v1_TopicPollResult, TopicPollResult__Output as _imprint_v1_TopicPollResult__Output } from './imprint/v1/TopicPollResult.js';
import type { Update as _imprint_v1_Update, Update__Output as _imprint_v1_Update__Output } from './imprint/v1/Update.js';
import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from './imprint/v1/VersionRecord.js';
import type { WatchHeartbeat as _imprint_v1_WatchHeartbeat, WatchHeartbeat__Output as _imprint_v1_WatchHeartbeat__Output } from './imprint/v1/WatchHeartbeat.js';
import type { WatchRequest as _imprint_v1_WatchRequest, WatchRequest__Output as _imprint_v1_WatchRequest__Output } from './imprint/v1/WatchRequest.js';
import type { WatchResponse as _imprint_v1_WatchResponse, WatchResponse__Output as _imprint_v1_WatchResponse__Output } from './imprint/v1/WatchResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  imprint: {
    v1: {
      Actor: MessageTypeDefinition<_imprint_v1_Actor, _imprint_v1_Actor__Output>
      BatchPollRequest: MessageTypeDefinition<_imprint_v1_BatchPollRequest, _imprint_v1_BatchPollRequest__Output>
      BatchPollResponse: MessageTypeDefinition<_imprint_v1_BatchPollResponse, _imprint_v1_BatchPollResponse__Output>
      BlobKind: EnumTypeDefinition
      BlobLocation: MessageTypeDefinition<_imprint_v1_BlobLocation, _imprint_v1_BlobLocation__Output>
      BlobLocations: MessageTypeDefinition<_imprint_v1_BlobLocations, _imprint_v1_BlobLocations__Output>
      Change: MessageTypeDefinition<_imprint_v1_Change, _imprint_v1_Change__Output>
      ChangeKind: EnumTypeDefinition
      ConsumerIdentity: MessageTypeDefinition<_imprint_v1_ConsumerIdentity, _imprint_v1_ConsumerIdentity__Output>
      ConsumerService: SubtypeConstructor<typeof grpc.Client, _imprint_v1_ConsumerServiceClient> & { service: _imprint_v1_ConsumerServiceDefinition }
      DataPointer: MessageTypeDefinition<_imprint_v1_DataPointer, _imprint_v1_DataPointer__Output>
      DownloadUrl: MessageTypeDefinition<_imprint_v1_DownloadUrl, _imprint_v1_DownloadUrl__Output>
      GetDownloadRequest: MessageTypeDefinition<_imprint_v1_GetDownloadRequest, _imprint_v1_GetDownloadRequest__Output>
      GetDownloadResponse: MessageTypeDefinition<_imprint_v1_GetDownloadResponse, _imprint_v1_GetDownloadResponse__Output>
      GetLatestAtRequest: MessageTypeDefinition<_imprint_v1_GetLatestAtRequest, _imprint_v1_GetLatestAtRequest__Output>
      GetLatestAtResponse: MessageTypeDefinition<_imprint_v1_GetLatestAtResponse, _imprint_v1_GetLatestAtResponse__Output>
      GetTopicRequest: MessageTypeDefinition<_imprint_v1_GetTopicRequest, _imprint_v1_GetTopicRequest__Output>
      GetTopicResponse: MessageTypeDefinition<_imprint_v1_GetTopicResponse, _imprint_v1_GetTopicResponse__Output>
      GetVersionRequest: MessageTypeDefinition<_imprint_v1_GetVersionRequest, _imprint_v1_GetVersionRequest__Output>
      GetVersionResponse: MessageTypeDefinition<_imprint_v1_GetVersionResponse, _imprint_v1_GetVersionResponse__Output>
      ListTopicsRequest: MessageTypeDefinition<_imprint_v1_ListTopicsRequest, _imprint_v1_ListTopicsRequest__Output>
      ListTopicsResponse: MessageTypeDefinition<_imprint_v1_ListTopicsResponse, _imprint_v1_ListTopicsResponse__Output>
      ListVersionsRequest: MessageTypeDefinition<_imprint_v1_ListVersionsRequest, _imprint_v1_ListVersionsRequest__Output>
      ListVersionsResponse: MessageTypeDefinition<_imprint_v1_ListVersionsResponse, _imprint_v1_ListVersionsResponse__Output>
      Pin: MessageTypeDefinition<_imprint_v1_Pin, _imprint_v1_Pin__Output>
      PollRequest: MessageTypeDefinition<_imprint_v1_PollRequest, _imprint_v1_PollRequest__Output>
      PollResponse: MessageTypeDefinition<_imprint_v1_PollResponse, _imprint_v1_PollResponse__Output>
      PublishStatus: MessageTypeDefinition<_imprint_v1_PublishStatus, _imprint_v1_PublishStatus__Output>
      RejectStage: EnumTypeDefinition
      Rejection: MessageTypeDefinition<_imprint_v1_Rejection, _imprint_v1_Rejection__Output>
      ReportRequest: MessageTypeDefinition<_imprint_v1_ReportRequest, _imprint_v1_ReportRequest__Output>
      ReportResponse: MessageTypeDefinition<_imprint_v1_ReportResponse, _imprint_v1_ReportResponse__Output>
      Retention: MessageTypeDefinition<_imprint_v1_Retention, _imprint_v1_Retention__Output>
      Rollout: MessageTypeDefinition<_imprint_v1_Rollout, _imprint_v1_Rollout__Output>
      RolloutGate: EnumTypeDefinition
      RolloutPolicy: MessageTypeDefinition<_imprint_v1_RolloutPolicy, _imprint_v1_RolloutPolicy__Output>
      RolloutProgress: MessageTypeDefinition<_imprint_v1_RolloutProgress, _imprint_v1_RolloutProgress__Output>
      RolloutState: EnumTypeDefinition
      RolloutStep: MessageTypeDefinition<_imprint_v1_RolloutStep, _imprint_v1_RolloutStep__Output>
      Scope: MessageTypeDefinition<_imprint_v1_Scope, _imprint_v1_Scope__Output>
      ScopeHead: MessageTypeDefinition<_imprint_v1_ScopeHead, _imprint_v1_ScopeHead__Output>
      Signature: MessageTypeDefinition<_imprint_v1_Signature, _imprint_v1_Signature__Output>
      Topic: MessageTypeDefinition<_imprint_v1_Topic, _imprint_v1_Topic__Output>
      TopicCursor: MessageTypeDefinition<_imprint_v1_TopicCursor, _imprint_v1_TopicCursor__Output>
      TopicPollResult: MessageTypeDefinition<_imprint_v1_TopicPollResult, _imprint_v1_TopicPollResult__Output>
      Update: MessageTypeDefinition<_imprint_v1_Update, _imprint_v1_Update__Output>
      VersionRecord: MessageTypeDefinition<_imprint_v1_VersionRecord, _imprint_v1_VersionRecord__Output>
      WatchHeartbeat: MessageTypeDefinition<_imprint_v1_WatchHeartbeat, _imprint_v1_WatchHeartbeat__Output>
      WatchRequest: MessageTypeDefinition<_imprint_v1_WatchRequest, _imprint_v1_WatchRequest__Output>
      WatchResponse: MessageTypeDefinition<_imprint_v1_WatchResponse, _imprint_v1_WatchResponse__Output>
    }
  }
}

