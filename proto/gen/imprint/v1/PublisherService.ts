// Original file: imprint/v1/publisher.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddScopesRequest as _imprint_v1_AddScopesRequest, AddScopesRequest__Output as _imprint_v1_AddScopesRequest__Output } from '../../imprint/v1/AddScopesRequest.js';
import type { AddScopesResponse as _imprint_v1_AddScopesResponse, AddScopesResponse__Output as _imprint_v1_AddScopesResponse__Output } from '../../imprint/v1/AddScopesResponse.js';
import type { BeginUploadRequest as _imprint_v1_BeginUploadRequest, BeginUploadRequest__Output as _imprint_v1_BeginUploadRequest__Output } from '../../imprint/v1/BeginUploadRequest.js';
import type { BeginUploadResponse as _imprint_v1_BeginUploadResponse, BeginUploadResponse__Output as _imprint_v1_BeginUploadResponse__Output } from '../../imprint/v1/BeginUploadResponse.js';
import type { CompleteUploadRequest as _imprint_v1_CompleteUploadRequest, CompleteUploadRequest__Output as _imprint_v1_CompleteUploadRequest__Output } from '../../imprint/v1/CompleteUploadRequest.js';
import type { CompleteUploadResponse as _imprint_v1_CompleteUploadResponse, CompleteUploadResponse__Output as _imprint_v1_CompleteUploadResponse__Output } from '../../imprint/v1/CompleteUploadResponse.js';
import type { CreateTopicRequest as _imprint_v1_CreateTopicRequest, CreateTopicRequest__Output as _imprint_v1_CreateTopicRequest__Output } from '../../imprint/v1/CreateTopicRequest.js';
import type { CreateTopicResponse as _imprint_v1_CreateTopicResponse, CreateTopicResponse__Output as _imprint_v1_CreateTopicResponse__Output } from '../../imprint/v1/CreateTopicResponse.js';
import type { DeleteTopicRequest as _imprint_v1_DeleteTopicRequest, DeleteTopicRequest__Output as _imprint_v1_DeleteTopicRequest__Output } from '../../imprint/v1/DeleteTopicRequest.js';
import type { DeleteTopicResponse as _imprint_v1_DeleteTopicResponse, DeleteTopicResponse__Output as _imprint_v1_DeleteTopicResponse__Output } from '../../imprint/v1/DeleteTopicResponse.js';
import type { PublishRequest as _imprint_v1_PublishRequest, PublishRequest__Output as _imprint_v1_PublishRequest__Output } from '../../imprint/v1/PublishRequest.js';
import type { PublishResponse as _imprint_v1_PublishResponse, PublishResponse__Output as _imprint_v1_PublishResponse__Output } from '../../imprint/v1/PublishResponse.js';
import type { UpdateTopicRequest as _imprint_v1_UpdateTopicRequest, UpdateTopicRequest__Output as _imprint_v1_UpdateTopicRequest__Output } from '../../imprint/v1/UpdateTopicRequest.js';
import type { UpdateTopicResponse as _imprint_v1_UpdateTopicResponse, UpdateTopicResponse__Output as _imprint_v1_UpdateTopicResponse__Output } from '../../imprint/v1/UpdateTopicResponse.js';

export interface PublisherServiceClient extends grpc.Client {
  AddScopes(argument: _imprint_v1_AddScopesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  AddScopes(argument: _imprint_v1_AddScopesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  AddScopes(argument: _imprint_v1_AddScopesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  AddScopes(argument: _imprint_v1_AddScopesRequest, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  addScopes(argument: _imprint_v1_AddScopesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  addScopes(argument: _imprint_v1_AddScopesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  addScopes(argument: _imprint_v1_AddScopesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  addScopes(argument: _imprint_v1_AddScopesRequest, callback: grpc.requestCallback<_imprint_v1_AddScopesResponse__Output>): grpc.ClientUnaryCall;
  
  BeginUpload(argument: _imprint_v1_BeginUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  BeginUpload(argument: _imprint_v1_BeginUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  BeginUpload(argument: _imprint_v1_BeginUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  BeginUpload(argument: _imprint_v1_BeginUploadRequest, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _imprint_v1_BeginUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _imprint_v1_BeginUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _imprint_v1_BeginUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  beginUpload(argument: _imprint_v1_BeginUploadRequest, callback: grpc.requestCallback<_imprint_v1_BeginUploadResponse__Output>): grpc.ClientUnaryCall;
  
  CompleteUpload(argument: _imprint_v1_CompleteUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  CompleteUpload(argument: _imprint_v1_CompleteUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  CompleteUpload(argument: _imprint_v1_CompleteUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  CompleteUpload(argument: _imprint_v1_CompleteUploadRequest, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  completeUpload(argument: _imprint_v1_CompleteUploadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  completeUpload(argument: _imprint_v1_CompleteUploadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  completeUpload(argument: _imprint_v1_CompleteUploadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  completeUpload(argument: _imprint_v1_CompleteUploadRequest, callback: grpc.requestCallback<_imprint_v1_CompleteUploadResponse__Output>): grpc.ClientUnaryCall;
  
  CreateTopic(argument: _imprint_v1_CreateTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  CreateTopic(argument: _imprint_v1_CreateTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  CreateTopic(argument: _imprint_v1_CreateTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  CreateTopic(argument: _imprint_v1_CreateTopicRequest, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _imprint_v1_CreateTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _imprint_v1_CreateTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _imprint_v1_CreateTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  createTopic(argument: _imprint_v1_CreateTopicRequest, callback: grpc.requestCallback<_imprint_v1_CreateTopicResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteTopic(argument: _imprint_v1_DeleteTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  DeleteTopic(argument: _imprint_v1_DeleteTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  DeleteTopic(argument: _imprint_v1_DeleteTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  DeleteTopic(argument: _imprint_v1_DeleteTopicRequest, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _imprint_v1_DeleteTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _imprint_v1_DeleteTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _imprint_v1_DeleteTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  deleteTopic(argument: _imprint_v1_DeleteTopicRequest, callback: grpc.requestCallback<_imprint_v1_DeleteTopicResponse__Output>): grpc.ClientUnaryCall;
  
  Publish(argument: _imprint_v1_PublishRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  Publish(argument: _imprint_v1_PublishRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  Publish(argument: _imprint_v1_PublishRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  Publish(argument: _imprint_v1_PublishRequest, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  publish(argument: _imprint_v1_PublishRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  publish(argument: _imprint_v1_PublishRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  publish(argument: _imprint_v1_PublishRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  publish(argument: _imprint_v1_PublishRequest, callback: grpc.requestCallback<_imprint_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateTopic(argument: _imprint_v1_UpdateTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  UpdateTopic(argument: _imprint_v1_UpdateTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  UpdateTopic(argument: _imprint_v1_UpdateTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  UpdateTopic(argument: _imprint_v1_UpdateTopicRequest, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  updateTopic(argument: _imprint_v1_UpdateTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  updateTopic(argument: _imprint_v1_UpdateTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  updateTopic(argument: _imprint_v1_UpdateTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  updateTopic(argument: _imprint_v1_UpdateTopicRequest, callback: grpc.requestCallback<_imprint_v1_UpdateTopicResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface PublisherServiceHandlers extends grpc.UntypedServiceImplementation {
  AddScopes: grpc.handleUnaryCall<_imprint_v1_AddScopesRequest__Output, _imprint_v1_AddScopesResponse>;
  
  BeginUpload: grpc.handleUnaryCall<_imprint_v1_BeginUploadRequest__Output, _imprint_v1_BeginUploadResponse>;
  
  CompleteUpload: grpc.handleUnaryCall<_imprint_v1_CompleteUploadRequest__Output, _imprint_v1_CompleteUploadResponse>;
  
  CreateTopic: grpc.handleUnaryCall<_imprint_v1_CreateTopicRequest__Output, _imprint_v1_CreateTopicResponse>;
  
  DeleteTopic: grpc.handleUnaryCall<_imprint_v1_DeleteTopicRequest__Output, _imprint_v1_DeleteTopicResponse>;
  
  Publish: grpc.handleUnaryCall<_imprint_v1_PublishRequest__Output, _imprint_v1_PublishResponse>;
  
  UpdateTopic: grpc.handleUnaryCall<_imprint_v1_UpdateTopicRequest__Output, _imprint_v1_UpdateTopicResponse>;
  
}

export interface PublisherServiceDefinition extends grpc.ServiceDefinition {
  AddScopes: MethodDefinition<_imprint_v1_AddScopesRequest, _imprint_v1_AddScopesResponse, _imprint_v1_AddScopesRequest__Output, _imprint_v1_AddScopesResponse__Output>
  BeginUpload: MethodDefinition<_imprint_v1_BeginUploadRequest, _imprint_v1_BeginUploadResponse, _imprint_v1_BeginUploadRequest__Output, _imprint_v1_BeginUploadResponse__Output>
  CompleteUpload: MethodDefinition<_imprint_v1_CompleteUploadRequest, _imprint_v1_CompleteUploadResponse, _imprint_v1_CompleteUploadRequest__Output, _imprint_v1_CompleteUploadResponse__Output>
  CreateTopic: MethodDefinition<_imprint_v1_CreateTopicRequest, _imprint_v1_CreateTopicResponse, _imprint_v1_CreateTopicRequest__Output, _imprint_v1_CreateTopicResponse__Output>
  DeleteTopic: MethodDefinition<_imprint_v1_DeleteTopicRequest, _imprint_v1_DeleteTopicResponse, _imprint_v1_DeleteTopicRequest__Output, _imprint_v1_DeleteTopicResponse__Output>
  Publish: MethodDefinition<_imprint_v1_PublishRequest, _imprint_v1_PublishResponse, _imprint_v1_PublishRequest__Output, _imprint_v1_PublishResponse__Output>
  UpdateTopic: MethodDefinition<_imprint_v1_UpdateTopicRequest, _imprint_v1_UpdateTopicResponse, _imprint_v1_UpdateTopicRequest__Output, _imprint_v1_UpdateTopicResponse__Output>
}
