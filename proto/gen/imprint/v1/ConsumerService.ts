// Original file: imprint/v1/consumer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchPollRequest as _imprint_v1_BatchPollRequest, BatchPollRequest__Output as _imprint_v1_BatchPollRequest__Output } from '../../imprint/v1/BatchPollRequest.js';
import type { BatchPollResponse as _imprint_v1_BatchPollResponse, BatchPollResponse__Output as _imprint_v1_BatchPollResponse__Output } from '../../imprint/v1/BatchPollResponse.js';
import type { GetDownloadRequest as _imprint_v1_GetDownloadRequest, GetDownloadRequest__Output as _imprint_v1_GetDownloadRequest__Output } from '../../imprint/v1/GetDownloadRequest.js';
import type { GetDownloadResponse as _imprint_v1_GetDownloadResponse, GetDownloadResponse__Output as _imprint_v1_GetDownloadResponse__Output } from '../../imprint/v1/GetDownloadResponse.js';
import type { GetLatestAtRequest as _imprint_v1_GetLatestAtRequest, GetLatestAtRequest__Output as _imprint_v1_GetLatestAtRequest__Output } from '../../imprint/v1/GetLatestAtRequest.js';
import type { GetLatestAtResponse as _imprint_v1_GetLatestAtResponse, GetLatestAtResponse__Output as _imprint_v1_GetLatestAtResponse__Output } from '../../imprint/v1/GetLatestAtResponse.js';
import type { GetTopicRequest as _imprint_v1_GetTopicRequest, GetTopicRequest__Output as _imprint_v1_GetTopicRequest__Output } from '../../imprint/v1/GetTopicRequest.js';
import type { GetTopicResponse as _imprint_v1_GetTopicResponse, GetTopicResponse__Output as _imprint_v1_GetTopicResponse__Output } from '../../imprint/v1/GetTopicResponse.js';
import type { GetVersionRequest as _imprint_v1_GetVersionRequest, GetVersionRequest__Output as _imprint_v1_GetVersionRequest__Output } from '../../imprint/v1/GetVersionRequest.js';
import type { GetVersionResponse as _imprint_v1_GetVersionResponse, GetVersionResponse__Output as _imprint_v1_GetVersionResponse__Output } from '../../imprint/v1/GetVersionResponse.js';
import type { ListTopicsRequest as _imprint_v1_ListTopicsRequest, ListTopicsRequest__Output as _imprint_v1_ListTopicsRequest__Output } from '../../imprint/v1/ListTopicsRequest.js';
import type { ListTopicsResponse as _imprint_v1_ListTopicsResponse, ListTopicsResponse__Output as _imprint_v1_ListTopicsResponse__Output } from '../../imprint/v1/ListTopicsResponse.js';
import type { ListVersionsRequest as _imprint_v1_ListVersionsRequest, ListVersionsRequest__Output as _imprint_v1_ListVersionsRequest__Output } from '../../imprint/v1/ListVersionsRequest.js';
import type { ListVersionsResponse as _imprint_v1_ListVersionsResponse, ListVersionsResponse__Output as _imprint_v1_ListVersionsResponse__Output } from '../../imprint/v1/ListVersionsResponse.js';
import type { PollRequest as _imprint_v1_PollRequest, PollRequest__Output as _imprint_v1_PollRequest__Output } from '../../imprint/v1/PollRequest.js';
import type { PollResponse as _imprint_v1_PollResponse, PollResponse__Output as _imprint_v1_PollResponse__Output } from '../../imprint/v1/PollResponse.js';
import type { ReportRequest as _imprint_v1_ReportRequest, ReportRequest__Output as _imprint_v1_ReportRequest__Output } from '../../imprint/v1/ReportRequest.js';
import type { ReportResponse as _imprint_v1_ReportResponse, ReportResponse__Output as _imprint_v1_ReportResponse__Output } from '../../imprint/v1/ReportResponse.js';
import type { WatchRequest as _imprint_v1_WatchRequest, WatchRequest__Output as _imprint_v1_WatchRequest__Output } from '../../imprint/v1/WatchRequest.js';
import type { WatchResponse as _imprint_v1_WatchResponse, WatchResponse__Output as _imprint_v1_WatchResponse__Output } from '../../imprint/v1/WatchResponse.js';

export interface ConsumerServiceClient extends grpc.Client {
  BatchPoll(argument: _imprint_v1_BatchPollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  BatchPoll(argument: _imprint_v1_BatchPollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  BatchPoll(argument: _imprint_v1_BatchPollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  BatchPoll(argument: _imprint_v1_BatchPollRequest, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  batchPoll(argument: _imprint_v1_BatchPollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  batchPoll(argument: _imprint_v1_BatchPollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  batchPoll(argument: _imprint_v1_BatchPollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  batchPoll(argument: _imprint_v1_BatchPollRequest, callback: grpc.requestCallback<_imprint_v1_BatchPollResponse__Output>): grpc.ClientUnaryCall;
  
  GetDownload(argument: _imprint_v1_GetDownloadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  GetDownload(argument: _imprint_v1_GetDownloadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  GetDownload(argument: _imprint_v1_GetDownloadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  GetDownload(argument: _imprint_v1_GetDownloadRequest, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  getDownload(argument: _imprint_v1_GetDownloadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  getDownload(argument: _imprint_v1_GetDownloadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  getDownload(argument: _imprint_v1_GetDownloadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  getDownload(argument: _imprint_v1_GetDownloadRequest, callback: grpc.requestCallback<_imprint_v1_GetDownloadResponse__Output>): grpc.ClientUnaryCall;
  
  GetLatestAt(argument: _imprint_v1_GetLatestAtRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  GetLatestAt(argument: _imprint_v1_GetLatestAtRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  GetLatestAt(argument: _imprint_v1_GetLatestAtRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  GetLatestAt(argument: _imprint_v1_GetLatestAtRequest, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  getLatestAt(argument: _imprint_v1_GetLatestAtRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  getLatestAt(argument: _imprint_v1_GetLatestAtRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  getLatestAt(argument: _imprint_v1_GetLatestAtRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  getLatestAt(argument: _imprint_v1_GetLatestAtRequest, callback: grpc.requestCallback<_imprint_v1_GetLatestAtResponse__Output>): grpc.ClientUnaryCall;
  
  GetTopic(argument: _imprint_v1_GetTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  GetTopic(argument: _imprint_v1_GetTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  GetTopic(argument: _imprint_v1_GetTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  GetTopic(argument: _imprint_v1_GetTopicRequest, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  getTopic(argument: _imprint_v1_GetTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  getTopic(argument: _imprint_v1_GetTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  getTopic(argument: _imprint_v1_GetTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  getTopic(argument: _imprint_v1_GetTopicRequest, callback: grpc.requestCallback<_imprint_v1_GetTopicResponse__Output>): grpc.ClientUnaryCall;
  
  GetVersion(argument: _imprint_v1_GetVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _imprint_v1_GetVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _imprint_v1_GetVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _imprint_v1_GetVersionRequest, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _imprint_v1_GetVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _imprint_v1_GetVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _imprint_v1_GetVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _imprint_v1_GetVersionRequest, callback: grpc.requestCallback<_imprint_v1_GetVersionResponse__Output>): grpc.ClientUnaryCall;
  
  ListTopics(argument: _imprint_v1_ListTopicsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  ListTopics(argument: _imprint_v1_ListTopicsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  ListTopics(argument: _imprint_v1_ListTopicsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  ListTopics(argument: _imprint_v1_ListTopicsRequest, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _imprint_v1_ListTopicsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _imprint_v1_ListTopicsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _imprint_v1_ListTopicsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  listTopics(argument: _imprint_v1_ListTopicsRequest, callback: grpc.requestCallback<_imprint_v1_ListTopicsResponse__Output>): grpc.ClientUnaryCall;
  
  ListVersions(argument: _imprint_v1_ListVersionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListVersions(argument: _imprint_v1_ListVersionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListVersions(argument: _imprint_v1_ListVersionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListVersions(argument: _imprint_v1_ListVersionsRequest, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  listVersions(argument: _imprint_v1_ListVersionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  listVersions(argument: _imprint_v1_ListVersionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  listVersions(argument: _imprint_v1_ListVersionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  listVersions(argument: _imprint_v1_ListVersionsRequest, callback: grpc.requestCallback<_imprint_v1_ListVersionsResponse__Output>): grpc.ClientUnaryCall;
  
  Poll(argument: _imprint_v1_PollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  Poll(argument: _imprint_v1_PollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  Poll(argument: _imprint_v1_PollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  Poll(argument: _imprint_v1_PollRequest, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  poll(argument: _imprint_v1_PollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  poll(argument: _imprint_v1_PollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  poll(argument: _imprint_v1_PollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  poll(argument: _imprint_v1_PollRequest, callback: grpc.requestCallback<_imprint_v1_PollResponse__Output>): grpc.ClientUnaryCall;
  
  Report(argument: _imprint_v1_ReportRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  Report(argument: _imprint_v1_ReportRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  Report(argument: _imprint_v1_ReportRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  Report(argument: _imprint_v1_ReportRequest, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  report(argument: _imprint_v1_ReportRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  report(argument: _imprint_v1_ReportRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  report(argument: _imprint_v1_ReportRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  report(argument: _imprint_v1_ReportRequest, callback: grpc.requestCallback<_imprint_v1_ReportResponse__Output>): grpc.ClientUnaryCall;
  
  Watch(argument: _imprint_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_imprint_v1_WatchResponse__Output>;
  Watch(argument: _imprint_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_imprint_v1_WatchResponse__Output>;
  watch(argument: _imprint_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_imprint_v1_WatchResponse__Output>;
  watch(argument: _imprint_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_imprint_v1_WatchResponse__Output>;
  
}

export interface ConsumerServiceHandlers extends grpc.UntypedServiceImplementation {
  BatchPoll: grpc.handleUnaryCall<_imprint_v1_BatchPollRequest__Output, _imprint_v1_BatchPollResponse>;
  
  GetDownload: grpc.handleUnaryCall<_imprint_v1_GetDownloadRequest__Output, _imprint_v1_GetDownloadResponse>;
  
  GetLatestAt: grpc.handleUnaryCall<_imprint_v1_GetLatestAtRequest__Output, _imprint_v1_GetLatestAtResponse>;
  
  GetTopic: grpc.handleUnaryCall<_imprint_v1_GetTopicRequest__Output, _imprint_v1_GetTopicResponse>;
  
  GetVersion: grpc.handleUnaryCall<_imprint_v1_GetVersionRequest__Output, _imprint_v1_GetVersionResponse>;
  
  ListTopics: grpc.handleUnaryCall<_imprint_v1_ListTopicsRequest__Output, _imprint_v1_ListTopicsResponse>;
  
  ListVersions: grpc.handleUnaryCall<_imprint_v1_ListVersionsRequest__Output, _imprint_v1_ListVersionsResponse>;
  
  Poll: grpc.handleUnaryCall<_imprint_v1_PollRequest__Output, _imprint_v1_PollResponse>;
  
  Report: grpc.handleUnaryCall<_imprint_v1_ReportRequest__Output, _imprint_v1_ReportResponse>;
  
  Watch: grpc.handleServerStreamingCall<_imprint_v1_WatchRequest__Output, _imprint_v1_WatchResponse>;
  
}

export interface ConsumerServiceDefinition extends grpc.ServiceDefinition {
  BatchPoll: MethodDefinition<_imprint_v1_BatchPollRequest, _imprint_v1_BatchPollResponse, _imprint_v1_BatchPollRequest__Output, _imprint_v1_BatchPollResponse__Output>
  GetDownload: MethodDefinition<_imprint_v1_GetDownloadRequest, _imprint_v1_GetDownloadResponse, _imprint_v1_GetDownloadRequest__Output, _imprint_v1_GetDownloadResponse__Output>
  GetLatestAt: MethodDefinition<_imprint_v1_GetLatestAtRequest, _imprint_v1_GetLatestAtResponse, _imprint_v1_GetLatestAtRequest__Output, _imprint_v1_GetLatestAtResponse__Output>
  GetTopic: MethodDefinition<_imprint_v1_GetTopicRequest, _imprint_v1_GetTopicResponse, _imprint_v1_GetTopicRequest__Output, _imprint_v1_GetTopicResponse__Output>
  GetVersion: MethodDefinition<_imprint_v1_GetVersionRequest, _imprint_v1_GetVersionResponse, _imprint_v1_GetVersionRequest__Output, _imprint_v1_GetVersionResponse__Output>
  ListTopics: MethodDefinition<_imprint_v1_ListTopicsRequest, _imprint_v1_ListTopicsResponse, _imprint_v1_ListTopicsRequest__Output, _imprint_v1_ListTopicsResponse__Output>
  ListVersions: MethodDefinition<_imprint_v1_ListVersionsRequest, _imprint_v1_ListVersionsResponse, _imprint_v1_ListVersionsRequest__Output, _imprint_v1_ListVersionsResponse__Output>
  Poll: MethodDefinition<_imprint_v1_PollRequest, _imprint_v1_PollResponse, _imprint_v1_PollRequest__Output, _imprint_v1_PollResponse__Output>
  Report: MethodDefinition<_imprint_v1_ReportRequest, _imprint_v1_ReportResponse, _imprint_v1_ReportRequest__Output, _imprint_v1_ReportResponse__Output>
  Watch: MethodDefinition<_imprint_v1_WatchRequest, _imprint_v1_WatchResponse, _imprint_v1_WatchRequest__Output, _imprint_v1_WatchResponse__Output>
}
