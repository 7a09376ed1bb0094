import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Actor as _imprint_v1_Actor, Actor__Output as _imprint_v1_Actor__Output } from './imprint/v1/Actor.js';
import type { BlobLocation as _imprint_v1_BlobLocation, BlobLocation__Output as _imprint_v1_BlobLocation__Output } from './imprint/v1/BlobLocation.js';
import type { BlobLocations as _imprint_v1_BlobLocations, BlobLocations__Output as _imprint_v1_BlobLocations__Output } from './imprint/v1/BlobLocations.js';
import type { CancelRolloutRequest as _imprint_v1_CancelRolloutRequest, CancelRolloutRequest__Output as _imprint_v1_CancelRolloutRequest__Output } from './imprint/v1/CancelRolloutRequest.js';
import type { CancelRolloutResponse as _imprint_v1_CancelRolloutResponse, CancelRolloutResponse__Output as _imprint_v1_CancelRolloutResponse__Output } from './imprint/v1/CancelRolloutResponse.js';
import type { Change as _imprint_v1_Change, Change__Output as _imprint_v1_Change__Output } from './imprint/v1/Change.js';
import type { ConsumerGroup as _imprint_v1_ConsumerGroup, ConsumerGroup__Output as _imprint_v1_ConsumerGroup__Output } from './imprint/v1/ConsumerGroup.js';
import type { ConsumerIdentity as _imprint_v1_ConsumerIdentity, ConsumerIdentity__Output as _imprint_v1_ConsumerIdentity__Output } from './imprint/v1/ConsumerIdentity.js';
import type { ConsumerMove as _imprint_v1_ConsumerMove, ConsumerMove__Output as _imprint_v1_ConsumerMove__Output } from './imprint/v1/ConsumerMove.js';
import type { ConsumerNode as _imprint_v1_ConsumerNode, ConsumerNode__Output as _imprint_v1_ConsumerNode__Output } from './imprint/v1/ConsumerNode.js';
import type { DataPointer as _imprint_v1_DataPointer, DataPointer__Output as _imprint_v1_DataPointer__Output } from './imprint/v1/DataPointer.js';
import type { Denial as _imprint_v1_Denial, Denial__Output as _imprint_v1_Denial__Output } from './imprint/v1/Denial.js';
import type { DescribeTopicRequest as _imprint_v1_DescribeTopicRequest, DescribeTopicRequest__Output as _imprint_v1_DescribeTopicRequest__Output } from './imprint/v1/DescribeTopicRequest.js';
import type { DescribeTopicResponse as _imprint_v1_DescribeTopicResponse, DescribeTopicResponse__Output as _imprint_v1_DescribeTopicResponse__Output } from './imprint/v1/DescribeTopicResponse.js';
import type { GetAccessRequest as _imprint_v1_GetAccessRequest, GetAccessRequest__Output as _imprint_v1_GetAccessRequest__Output } from './imprint/v1/GetAccessRequest.js';
import type { GetAccessResponse as _imprint_v1_GetAccessResponse, GetAccessResponse__Output as _imprint_v1_GetAccessResponse__Output } from './imprint/v1/GetAccessResponse.js';
import type { GetCallerAccessRequest as _imprint_v1_GetCallerAccessRequest, GetCallerAccessRequest__Output as _imprint_v1_GetCallerAccessRequest__Output } from './imprint/v1/GetCallerAccessRequest.js';
import type { GetCallerAccessResponse as _imprint_v1_GetCallerAccessResponse, GetCallerAccessResponse__Output as _imprint_v1_GetCallerAccessResponse__Output } from './imprint/v1/GetCallerAccessResponse.js';
import type { GetRolloutRequest as _imprint_v1_GetRolloutRequest, GetRolloutRequest__Output as _imprint_v1_GetRolloutRequest__Output } from './imprint/v1/GetRolloutRequest.js';
import type { GetRolloutResponse as _imprint_v1_GetRolloutResponse, GetRolloutResponse__Output as _imprint_v1_GetRolloutResponse__Output } from './imprint/v1/GetRolloutResponse.js';
import type { GrantAccessRequest as _imprint_v1_GrantAccessRequest, GrantAccessRequest__Output as _imprint_v1_GrantAccessRequest__Output } from './imprint/v1/GrantAccessRequest.js';
import type { GrantAccessResponse as _imprint_v1_GrantAccessResponse, GrantAccessResponse__Output as _imprint_v1_GrantAccessResponse__Output } from './imprint/v1/GrantAccessResponse.js';
import type { ListDenialsRequest as _imprint_v1_ListDenialsRequest, ListDenialsRequest__Output as _imprint_v1_ListDenialsRequest__Output } from './imprint/v1/ListDenialsRequest.js';
import type { ListDenialsResponse as _imprint_v1_ListDenialsResponse, ListDenialsResponse__Output as _imprint_v1_ListDenialsResponse__Output } from './imprint/v1/ListDenialsResponse.js';
import type { ListHistoryRequest as _imprint_v1_ListHistoryRequest, ListHistoryRequest__Output as _imprint_v1_ListHistoryRequest__Output } from './imprint/v1/ListHistoryRequest.js';
import type { ListHistoryResponse as _imprint_v1_ListHistoryResponse, ListHistoryResponse__Output as _imprint_v1_ListHistoryResponse__Output } from './imprint/v1/ListHistoryResponse.js';
import type { ListMovesRequest as _imprint_v1_ListMovesRequest, ListMovesRequest__Output as _imprint_v1_ListMovesRequest__Output } from './imprint/v1/ListMovesRequest.js';
import type { ListMovesResponse as _imprint_v1_ListMovesResponse, ListMovesResponse__Output as _imprint_v1_ListMovesResponse__Output } from './imprint/v1/ListMovesResponse.js';
import type { ListPinsRequest as _imprint_v1_ListPinsRequest, ListPinsRequest__Output as _imprint_v1_ListPinsRequest__Output } from './imprint/v1/ListPinsRequest.js';
import type { ListPinsResponse as _imprint_v1_ListPinsResponse, ListPinsResponse__Output as _imprint_v1_ListPinsResponse__Output } from './imprint/v1/ListPinsResponse.js';
import type { ListRolloutsRequest as _imprint_v1_ListRolloutsRequest, ListRolloutsRequest__Output as _imprint_v1_ListRolloutsRequest__Output } from './imprint/v1/ListRolloutsRequest.js';
import type { ListRolloutsResponse as _imprint_v1_ListRolloutsResponse, ListRolloutsResponse__Output as _imprint_v1_ListRolloutsResponse__Output } from './imprint/v1/ListRolloutsResponse.js';
import type { OperatorServiceClient as _imprint_v1_OperatorServiceClient, OperatorServiceDefinition as _imprint_v1_OperatorServiceDefinition } from './imprint/v1/OperatorService.js';
import type { PauseRolloutRequest as _imprint_v1_PauseRolloutRequest, PauseRolloutRequest__Output as _imprint_v1_PauseRolloutRequest__Output } from './imprint/v1/PauseRolloutRequest.js';
import type { PauseRolloutResponse as _imprint_v1_PauseRolloutResponse, PauseRolloutResponse__Output as _imprint_v1_PauseRolloutResponse__Output } from './imprint/v1/PauseRolloutResponse.js';
import type { Pin as _imprint_v1_Pin, Pin__Output as _imprint_v1_Pin__Output } from './imprint/v1/Pin.js';
import type { PinRequest as _imprint_v1_PinRequest, PinRequest__Output as _imprint_v1_PinRequest__Output } from './imprint/v1/PinRequest.js';
import type { PinResponse as _imprint_v1_PinResponse, PinResponse__Output as _imprint_v1_PinResponse__Output } from './imprint/v1/PinResponse.js';
import type { PromoteRolloutRequest as _imprint_v1_PromoteRolloutRequest, PromoteRolloutRequest__Output as _imprint_v1_PromoteRolloutRequest__Output } from './imprint/v1/PromoteRolloutRequest.js';
import type { PromoteRolloutResponse as _imprint_v1_PromoteRolloutResponse, PromoteRolloutResponse__Output as _imprint_v1_PromoteRolloutResponse__Output } from './imprint/v1/PromoteRolloutResponse.js';
import type { PublishStatus as _imprint_v1_PublishStatus, PublishStatus__Output as _imprint_v1_PublishStatus__Output } from './imprint/v1/PublishStatus.js';
import type { Rejection as _imprint_v1_Rejection, Rejection__Output as _imprint_v1_Rejection__Output } from './imprint/v1/Rejection.js';
import type { ResumeRolloutRequest as _imprint_v1_ResumeRolloutRequest, ResumeRolloutRequest__Output as _imprint_v1_ResumeRolloutRequest__Output } from './imprint/v1/ResumeRolloutRequest.js';
import type { ResumeRolloutResponse as _imprint_v1_ResumeRolloutResponse, ResumeRolloutResponse__Output as _imprint_v1_ResumeRolloutResponse__Output } from './imprint/v1/ResumeRolloutResponse.js';
import type { Retention as _imprint_v1_Retention, Retention__Output as _imprint_v1_Retention__Output } from './imprint/v1/Retention.js';
import type { RevokeAccessRequest as _imprint_v1_RevokeAccessRequest, RevokeAccessRequest__Output as _imprint_v1_RevokeAccessRequest__Output } from './imprint/v1/RevokeAccessRequest.js';
import type { RevokeAccessResponse as _imprint_v1_RevokeAccessResponse, RevokeAccessResponse__Output as _imprint_v1_RevokeAccessResponse__Output } from './imprint/v1/RevokeAccessResponse.js';
import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from './imprint/v1/Rollout.js';
import type { RolloutPolicy as _imprint_v1_RolloutPolicy, RolloutPolicy__Output as _imprint_v1_RolloutPolicy__Output } from './imprint/v1/RolloutPolicy.js';
import type { RolloutProgress as _imprint_v1_RolloutProgress, RolloutProgress__Output as _imprint_v1_RolloutProgress__Output } from './imprint/v1/RolloutProgress.js';
import type { RolloutStep as _imprint_v1_RolloutStep, RolloutStep__Output as _imprint_v1_RolloutStep__Output } from './imprint/v1/RolloutStep.js';
import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from './imprint/v1/Scope.js';
import type { ScopeHead as _imprint_v1_ScopeHead, ScopeHead__Output as _imprint_v1_ScopeHead__Output } from './imprint/v1/ScopeHead.js';
import type { Signature as _imprint_v1_Signature, Signature__Output as _imprint_v1_Signature__Output } from './imprint/v1/Signature.js';
import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from './imprint/v1/Topic.js';
import type { TopicConsumers as _imprint_v1_TopicConsumers, TopicConsumers__Output as _imprint_v1_TopicConsumers__Output } from './imprint/v1/TopicConsumers.js';
import type { TopicGrant as _imprint_v1_TopicGrant, TopicGrant__Output as _imprint_v1_TopicGrant__Output } from './imprint/v1/TopicGrant.js';
import type { UnpinRequest as _imprint_v1_UnpinRequest, UnpinRequest__Output as _imprint_v1_UnpinRequest__Output } from './imprint/v1/UnpinRequest.js';
import type { UnpinResponse as _imprint_v1_UnpinResponse, UnpinResponse__Output as _imprint_v1_UnpinResponse__Output } from './imprint/v1/UnpinResponse.js';
import type { VersionHeld as _imprint_v1_VersionHeld, VersionHeld__Output as _imprint_v1_VersionHeld__Output } from './imprint/v1/VersionHeld.js';
import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from './imprint/v1/VersionRecord.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  imprint: {
    v1: {
      AccessAction: EnumTypeDefinition
      Actor: MessageTypeDefinition<_imprint_v1_Actor, _imprint_v1_Actor__Output>
      BlobKind: EnumTypeDefinition
      BlobLocation: MessageTypeDefinition<_imprint_v1_BlobLocation, _imprint_v1_BlobLocation__Output>
      BlobLocations: MessageTypeDefinition<_imprint_v1_BlobLocations, _imprint_v1_BlobLocations__Output>
      CancelRolloutRequest: MessageTypeDefinition<_imprint_v1_CancelRolloutRequest, _imprint_v1_CancelRolloutRequest__Output>
      CancelRolloutResponse: MessageTypeDefinition<_imprint_v1_CancelRolloutResponse, _imprint_v1_CancelRolloutResponse__Output>
      Change: MessageTypeDefinition<_imprint_v1_Change, _imprint_v1_Change__Output>
      ChangeKind: EnumTypeDefinition
      ConsumerGroup: MessageTypeDefinition<_imprint_v1_ConsumerGroup, _imprint_v1_ConsumerGroup__Output>
      ConsumerIdentity: MessageTypeDefinition<_imprint_v1_ConsumerIdentity, _imprint_v1_ConsumerIdentity__Output>
      ConsumerMove: MessageTypeDefinition<_imprint_v1_ConsumerMove, _imprint_v1_ConsumerMove__Output>
      ConsumerNode: MessageTypeDefinition<_imprint_v1_ConsumerNode, _imprint_v1_ConsumerNode__Output>
      DataPointer: MessageTypeDefinition<_imprint_v1_DataPointer, _imprint_v1_DataPointer__Output>
      Denial: MessageTypeDefinition<_imprint_v1_Denial, _imprint_v1_Denial__Output>
      DescribeTopicRequest: MessageTypeDefinition<_imprint_v1_DescribeTopicRequest, _imprint_v1_DescribeTopicRequest__Output>
      DescribeTopicResponse: MessageTypeDefinition<_imprint_v1_DescribeTopicResponse, _imprint_v1_DescribeTopicResponse__Output>
      GetAccessRequest: MessageTypeDefinition<_imprint_v1_GetAccessRequest, _imprint_v1_GetAccessRequest__Output>
      GetAccessResponse: MessageTypeDefinition<_imprint_v1_GetAccessResponse, _imprint_v1_GetAccessResponse__Output>
      GetCallerAccessRequest: MessageTypeDefinition<_imprint_v1_GetCallerAccessRequest, _imprint_v1_GetCallerAccessRequest__Output>
      GetCallerAccessResponse: MessageTypeDefinition<_imprint_v1_GetCallerAccessResponse, _imprint_v1_GetCallerAccessResponse__Output>
      GetRolloutRequest: MessageTypeDefinition<_imprint_v1_GetRolloutRequest, _imprint_v1_GetRolloutRequest__Output>
      GetRolloutResponse: MessageTypeDefinition<_imprint_v1_GetRolloutResponse, _imprint_v1_GetRolloutResponse__Output>
      GrantAccessRequest: MessageTypeDefinition<_imprint_v1_GrantAccessRequest, _imprint_v1_GrantAccessRequest__Output>
      GrantAccessResponse: MessageTypeDefinition<_imprint_v1_GrantAccessResponse, _imprint_v1_GrantAccessResponse__Output>
      ListDenialsRequest: MessageTypeDefinition<_imprint_v1_ListDenialsRequest, _imprint_v1_ListDenialsRequest__Output>
      ListDenialsResponse: MessageTypeDefinition<_imprint_v1_ListDenialsResponse, _imprint_v1_ListDenialsResponse__Output>
      ListHistoryRequest: MessageTypeDefinition<_imprint_v1_ListHistoryRequest, _imprint_v1_ListHistoryRequest__Output>
      ListHistoryResponse: MessageTypeDefinition<_imprint_v1_ListHistoryResponse, _imprint_v1_ListHistoryResponse__Output>
      ListMovesRequest: MessageTypeDefinition<_imprint_v1_ListMovesRequest, _imprint_v1_ListMovesRequest__Output>
      ListMovesResponse: MessageTypeDefinition<_imprint_v1_ListMovesResponse, _imprint_v1_ListMovesResponse__Output>
      ListPinsRequest: MessageTypeDefinition<_imprint_v1_ListPinsRequest, _imprint_v1_ListPinsRequest__Output>
      ListPinsResponse: MessageTypeDefinition<_imprint_v1_ListPinsResponse, _imprint_v1_ListPinsResponse__Output>
      ListRolloutsRequest: MessageTypeDefinition<_imprint_v1_ListRolloutsRequest, _imprint_v1_ListRolloutsRequest__Output>
      ListRolloutsResponse: MessageTypeDefinition<_imprint_v1_ListRolloutsResponse, _imprint_v1_ListRolloutsResponse__Output>
      OperatorService: SubtypeConstructor<typeof grpc.Client, _imprint_v1_OperatorServiceClient> & { service: _imprint_v1_OperatorServiceDefinition }
      PauseRolloutRequest: MessageTypeDefinition<_imprint_v1_PauseRolloutRequest, _imprint_v1_PauseRolloutRequest__Output>
      PauseRolloutResponse: MessageTypeDefinition<_imprint_v1_PauseRolloutResponse, _imprint_v1_PauseRolloutResponse__Output>
      Pin: MessageTypeDefinition<_imprint_v1_Pin, _imprint_v1_Pin__Output>
      PinRequest: MessageTypeDefinition<_imprint_v1_PinRequest, _imprint_v1_PinRequest__Output>
      PinResponse: MessageTypeDefinition<_imprint_v1_PinResponse, _imprint_v1_PinResponse__Output>
      PromoteRolloutRequest: MessageTypeDefinition<_imprint_v1_PromoteRolloutRequest, _imprint_v1_PromoteRolloutRequest__Output>
      PromoteRolloutResponse: MessageTypeDefinition<_imprint_v1_PromoteRolloutResponse, _imprint_v1_PromoteRolloutResponse__Output>
      PublishStatus: MessageTypeDefinition<_imprint_v1_PublishStatus, _imprint_v1_PublishStatus__Output>
      RejectStage: EnumTypeDefinition
      Rejection: MessageTypeDefinition<_imprint_v1_Rejection, _imprint_v1_Rejection__Output>
      ResumeRolloutRequest: MessageTypeDefinition<_imprint_v1_ResumeRolloutRequest, _imprint_v1_ResumeRolloutRequest__Output>
      ResumeRolloutResponse: MessageTypeDefinition<_imprint_v1_ResumeRolloutResponse, _imprint_v1_ResumeRolloutResponse__Output>
      Retention: MessageTypeDefinition<_imprint_v1_Retention, _imprint_v1_Retention__Output>
      RevokeAccessRequest: MessageTypeDefinition<_imprint_v1_RevokeAccessRequest, _imprint_v1_RevokeAccessRequest__Output>
      RevokeAccessResponse: MessageTypeDefinition<_imprint_v1_RevokeAccessResponse, _imprint_v1_RevokeAccessResponse__Output>
      Role: EnumTypeDefinition
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
      TopicConsumers: MessageTypeDefinition<_imprint_v1_TopicConsumers, _imprint_v1_TopicConsumers__Output>
      TopicGrant: MessageTypeDefinition<_imprint_v1_TopicGrant, _imprint_v1_TopicGrant__Output>
      UnpinRequest: MessageTypeDefinition<_imprint_v1_UnpinRequest, _imprint_v1_UnpinRequest__Output>
      UnpinResponse: MessageTypeDefinition<_imprint_v1_UnpinResponse, _imprint_v1_UnpinResponse__Output>
      VersionHeld: MessageTypeDefinition<_imprint_v1_VersionHeld, _imprint_v1_VersionHeld__Output>
      VersionRecord: MessageTypeDefinition<_imprint_v1_VersionRecord, _imprint_v1_VersionRecord__Output>
    }
  }
}

