import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Actor as _imprint_v1_Actor, Actor__Output as _imprint_v1_Actor__Output } from './imprint/v1/Actor.js';
import type { AddScopesRequest as _imprint_v1_AddScopesRequest, AddScopesRequest__Output as _imprint_v1_AddScopesRequest__Output } from './imprint/v1/AddScopesRequest.js';
import type { AddScopesResponse as _imprint_v1_AddScopesResponse, AddScopesResponse__Output as _imprint_v1_AddScopesResponse__Output } from './imprint/v1/AddScopesResponse.js';
import type { BeginUploadRequest as _imprint_v1_BeginUploadRequest, BeginUploadRequest__Output as _imprint_v1_BeginUploadRequest__Output } from './imprint/v1/BeginUploadRequest.js';
import type { BeginUploadResponse as _imprint_v1_BeginUploadResponse, BeginUploadResponse__Output as _imprint_v1_BeginUploadResponse__Output } from './imprint/v1/BeginUploadResponse.js';
import type { BlobLocation as _imprint_v1_BlobLocation, BlobLocation__Output as _imprint_v1_BlobLocation__Output } from './imprint/v1/BlobLocation.js';
import type { BlobLocations as _imprint_v1_BlobLocations, BlobLocations__Output as _imprint_v1_BlobLocations__Output } from './imprint/v1/BlobLocations.js';
import type { Change as _imprint_v1_Change, Change__Output as _imprint_v1_Change__Output } from './imprint/v1/Change.js';
import type { CompleteUploadRequest as _imprint_v1_CompleteUploadRequest, CompleteUploadRequest__Output as _imprint_v1_CompleteUploadRequest__Output } from './imprint/v1/CompleteUploadRequest.js';
import type { CompleteUploadResponse as _imprint_v1_CompleteUploadResponse, CompleteUploadResponse__Output as _imprint_v1_CompleteUploadResponse__Output } from './imprint/v1/CompleteUploadResponse.js';
import type { CompletedPart as _imprint_v1_CompletedPart, CompletedPart__Output as _imprint_v1_CompletedPart__Output } from './imprint/v1/CompletedPart.js';
import type { CompletedUpload as _imprint_v1_CompletedUpload, CompletedUpload__Output as _imprint_v1_CompletedUpload__Output } from './imprint/v1/CompletedUpload.js';
import type { ConsumerIdentity as _imprint_v1_ConsumerIdentity, ConsumerIdentity__Output as _imprint_v1_ConsumerIdentity__Output } from './imprint/v1/ConsumerIdentity.js';
import type { CreateTopicRequest as _imprint_v1_CreateTopicRequest, CreateTopicRequest__Output as _imprint_v1_CreateTopicRequest__Output } from './imprint/v1/CreateTopicRequest.js';
import type { CreateTopicResponse as _imprint_v1_CreateTopicResponse, CreateTopicResponse__Output as _imprint_v1_CreateTopicResponse__Output } from './imprint/v1/CreateTopicResponse.js';
import type { DataPointer as _imprint_v1_DataPointer, DataPointer__Output as _imprint_v1_DataPointer__Output } from './imprint/v1/DataPointer.js';
import type { DeleteTopicRequest as _imprint_v1_DeleteTopicRequest, DeleteTopicRequest__Output as _imprint_v1_DeleteTopicRequest__Output } from './imprint/v1/DeleteTopicRequest.js';
import type { DeleteTopicResponse as _imprint_v1_DeleteTopicResponse, DeleteTopicResponse__Output as _imprint_v1_DeleteTopicResponse__Output } from './imprint/v1/DeleteTopicResponse.js';
import type { Pin as _imprint_v1_Pin, Pin__Output as _imprint_v1_Pin__Output } from './imprint/v1/Pin.js';
import type { PublishRequest as _imprint_v1_PublishRequest, PublishRequest__Output as _imprint_v1_PublishRequest__Output } from './imprint/v1/PublishRequest.js';
import type { PublishResponse as _imprint_v1_PublishResponse, PublishResponse__Output as _imprint_v1_PublishResponse__Output } from './imprint/v1/PublishResponse.js';
import type { PublishStatus as _imprint_v1_PublishStatus, PublishStatus__Output as _imprint_v1_PublishStatus__Output } from './imprint/v1/PublishStatus.js';
import type { PublisherServiceClient as _imprint_v1_PublisherServiceClient, PublisherServiceDefinition as _imprint_v1_PublisherServiceDefinition } from './imprint/v1/PublisherService.js';
import type { Rejection as _imprint_v1_Rejection, Rejection__Output as _imprint_v1_Rejection__Output } from './imprint/v1/Rejection.js';
import type { Retention as _imprint_v1_Retention, Retention__Output as _imprint_v1_Retention__Output } from './imprint/v1/Retention.js';
import type { Rollout as _imprint_v1_Rollout, Rollout__Output as _imprint_v1_Rollout__Output } from './imprint/v1/Rollout.js';
import type { RolloutPolicy as _imprint_v1_RolloutPolicy, RolloutPolicy__Output as _imprint_v1_RolloutPolicy__Output } from './imprint/v1/RolloutPolicy.js';
import type { RolloutProgress as _imprint_v1_RolloutProgress, RolloutProgress__Output as _imprint_v1_RolloutProgress__Output } from './imprint/v1/RolloutProgress.js';
import type { RolloutStep as _imprint_v1_RolloutStep, RolloutStep__Output as _imprint_v1_RolloutStep__Output } from './imprint/v1/RolloutStep.js';
import type { Scope as _imprint_v1_Scope, Scope__Output as _imprint_v1_Scope__Output } from './imprint/v1/Scope.js';
import type { ScopeHead as _imprint_v1_ScopeHead, ScopeHead__Output as _imprint_v1_ScopeHead__Output } from './imprint/v1/ScopeHead.js';
import type { Signature as _imprint_v1_Signature, Signature__Output as _imprint_v1_Signature__Output } from './imprint/v1/Signature.js';
import type { Topic as _imprint_v1_Topic, Topic__Output as _imprint_v1_Topic__Output } from './imprint/v1/Topic.js';
import type { TrustedKeys as _imprint_v1_TrustedKeys, TrustedKeys__Output as _imprint_v1_TrustedKeys__Output } from './imprint/v1/TrustedKeys.js';
import type { UpdateTopicRequest as _imprint_v1_UpdateTopicRequest, UpdateTopicRequest__Output as _imprint_v1_UpdateTopicRequest__Output } from './imprint/v1/UpdateTopicRequest.js';
import type { UpdateTopicResponse as _imprint_v1_UpdateTopicResponse, UpdateTopicResponse__Output as _imprint_v1_UpdateTopicResponse__Output } from './imprint/v1/UpdateTopicResponse.js';
import type { UploadPart as _imprint_v1_UploadPart, UploadPart__Output as _imprint_v1_UploadPart__Output } from './imprint/v1/UploadPart.js';
import type { UploadTarget as _imprint_v1_UploadTarget, UploadTarget__Output as _imprint_v1_UploadTarget__Output } from './imprint/v1/UploadTarget.js';
import type { VersionRecord as _imprint_v1_VersionRecord, VersionRecord__Output as _imprint_v1_VersionRecord__Output } from './imprint/v1/VersionRecord.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  imprint: {
    v1: {
      Actor: MessageTypeDefinition<_imprint_v1_Actor, _imprint_v1_Actor__Output>
      AddScopesRequest: MessageTypeDefinition<_imprint_v1_AddScopesRequest, _imprint_v1_AddScopesRequest__Output>
      AddScopesResponse: MessageTypeDefinition<_imprint_v1_AddScopesResponse, _imprint_v1_AddScopesResponse__Output>
      BeginUploadRequest: MessageTypeDefinition<_imprint_v1_BeginUploadRequest, _imprint_v1_BeginUploadRequest__Output>
      BeginUploadResponse: MessageTypeDefinition<_imprint_v1_BeginUploadResponse, _imprint_v1_BeginUploadResponse__Output>
      BlobKind: EnumTypeDefinition
      BlobLocation: MessageTypeDefinition<_imprint_v1_BlobLocation, _imprint_v1_BlobLocation__Output>
      BlobLocations: MessageTypeDefinition<_imprint_v1_BlobLocations, _imprint_v1_BlobLocations__Output>
      Change: MessageTypeDefinition<_imprint_v1_Change, _imprint_v1_Change__Output>
      ChangeKind: EnumTypeDefinition
      CompleteUploadRequest: MessageTypeDefinition<_imprint_v1_CompleteUploadRequest, _imprint_v1_CompleteUploadRequest__Output>
      CompleteUploadResponse: MessageTypeDefinition<_imprint_v1_CompleteUploadResponse, _imprint_v1_CompleteUploadResponse__Output>
      CompletedPart: MessageTypeDefinition<_imprint_v1_CompletedPart, _imprint_v1_CompletedPart__Output>
      CompletedUpload: MessageTypeDefinition<_imprint_v1_CompletedUpload, _imprint_v1_CompletedUpload__Output>
      ConsumerIdentity: MessageTypeDefinition<_imprint_v1_ConsumerIdentity, _imprint_v1_ConsumerIdentity__Output>
      CreateTopicRequest: MessageTypeDefinition<_imprint_v1_CreateTopicRequest, _imprint_v1_CreateTopicRequest__Output>
      CreateTopicResponse: MessageTypeDefinition<_imprint_v1_CreateTopicResponse, _imprint_v1_CreateTopicResponse__Output>
      DataPointer: MessageTypeDefinition<_imprint_v1_DataPointer, _imprint_v1_DataPointer__Output>
      DeleteTopicRequest: MessageTypeDefinition<_imprint_v1_DeleteTopicRequest, _imprint_v1_DeleteTopicRequest__Output>
      DeleteTopicResponse: MessageTypeDefinition<_imprint_v1_DeleteTopicResponse, _imprint_v1_DeleteTopicResponse__Output>
      Pin: MessageTypeDefinition<_imprint_v1_Pin, _imprint_v1_Pin__Output>
      PublishRequest: MessageTypeDefinition<_imprint_v1_PublishRequest, _imprint_v1_PublishRequest__Output>
      PublishResponse: MessageTypeDefinition<_imprint_v1_PublishResponse, _imprint_v1_PublishResponse__Output>
      PublishStatus: MessageTypeDefinition<_imprint_v1_PublishStatus, _imprint_v1_PublishStatus__Output>
      PublisherService: SubtypeConstructor<typeof grpc.Client, _imprint_v1_PublisherServiceClient> & { service: _imprint_v1_PublisherServiceDefinition }
      RejectStage: EnumTypeDefinition
      Rejection: MessageTypeDefinition<_imprint_v1_Rejection, _imprint_v1_Rejection__Output>
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
      TrustedKeys: MessageTypeDefinition<_imprint_v1_TrustedKeys, _imprint_v1_TrustedKeys__Output>
      UpdateTopicRequest: MessageTypeDefinition<_imprint_v1_UpdateTopicRequest, _imprint_v1_UpdateTopicRequest__Output>
      UpdateTopicResponse: MessageTypeDefinition<_imprint_v1_UpdateTopicResponse, _imprint_v1_UpdateTopicResponse__Output>
      UploadPart: MessageTypeDefinition<_imprint_v1_UploadPart, _imprint_v1_UploadPart__Output>
      UploadTarget: MessageTypeDefinition<_imprint_v1_UploadTarget, _imprint_v1_UploadTarget__Output>
      VersionRecord: MessageTypeDefinition<_imprint_v1_VersionRecord, _imprint_v1_VersionRecord__Output>
    }
  }
}

