// Original file: imprint/v1/operator.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CancelRolloutRequest as _imprint_v1_CancelRolloutRequest, CancelRolloutRequest__Output as _imprint_v1_CancelRolloutRequest__Output } from '../../imprint/v1/CancelRolloutRequest.js';
import type { CancelRolloutResponse as _imprint_v1_CancelRolloutResponse, CancelRolloutResponse__Output as _imprint_v1_CancelRolloutResponse__Output } from '../../imprint/v1/CancelRolloutResponse.js';
import type { DescribeTopicRequest as _imprint_v1_DescribeTopicRequest, DescribeTopicRequest__Output as _imprint_v1_DescribeTopicRequest__Output } from '../../imprint/v1/DescribeTopicRequest.js';
import type { DescribeTopicResponse as _imprint_v1_DescribeTopicResponse, DescribeTopicResponse__Output as _imprint_v1_DescribeTopicResponse__Output } from '../../imprint/v1/DescribeTopicResponse.js';
import type { GetAccessRequest as _imprint_v1_GetAccessRequest, GetAccessRequest__Output as _imprint_v1_GetAccessRequest__Output } from '../../imprint/v1/GetAccessRequest.js';
import type { GetAccessResponse as _imprint_v1_GetAccessResponse, GetAccessResponse__Output as _imprint_v1_GetAccessResponse__Output } from '../../imprint/v1/GetAccessResponse.js';
import type { GetCallerAccessRequest as _imprint_v1_GetCallerAccessRequest, GetCallerAccessRequest__Output as _imprint_v1_GetCallerAccessRequest__Output } from '../../imprint/v1/GetCallerAccessRequest.js';
import type { GetCallerAccessResponse as _imprint_v1_GetCallerAccessResponse, GetCallerAccessResponse__Output as _imprint_v1_GetCallerAccessResponse__Output } from '../../imprint/v1/GetCallerAccessResponse.js';
import type { GetRolloutRequest as _imprint_v1_GetRolloutRequest, GetRolloutRequest__Output as _imprint_v1_GetRolloutRequest__Output } from '../../imprint/v1/GetRolloutRequest.js';
import type { GetRolloutResponse as _imprint_v1_GetRolloutResponse, GetRolloutResponse__Output as _imprint_v1_GetRolloutResponse__Output } from '../../imprint/v1/GetRolloutResponse.js';
import type { GrantAccessRequest as _imprint_v1_GrantAccessRequest, GrantAccessRequest__Output as _imprint_v1_GrantAccessRequest__Output } from '../../imprint/v1/GrantAccessRequest.js';
import type { GrantAccessResponse as _imprint_v1_GrantAccessResponse, GrantAccessResponse__Output as _imprint_v1_GrantAccessResponse__Output } from '../../imprint/v1/GrantAccessResponse.js';
import type { ListDenialsRequest as _imprint_v1_ListDenialsRequest, ListDenialsRequest__Output as _imprint_v1_ListDenialsRequest__Output } from '../../imprint/v1/ListDenialsRequest.js';
import type { ListDenialsResponse as _imprint_v1_ListDenialsResponse, ListDenialsResponse__Output as _imprint_v1_ListDenialsResponse__Output } from '../../imprint/v1/ListDenialsResponse.js';
import type { ListHistoryRequest as _imprint_v1_ListHistoryRequest, ListHistoryRequest__Output as _imprint_v1_ListHistoryRequest__Output } from '../../imprint/v1/ListHistoryRequest.js';
import type { ListHistoryResponse as _imprint_v1_ListHistoryResponse, ListHistoryResponse__Output as _imprint_v1_ListHistoryResponse__Output } from '../../imprint/v1/ListHistoryResponse.js';
import type { ListMovesRequest as _imprint_v1_ListMovesRequest, ListMovesRequest__Output as _imprint_v1_ListMovesRequest__Output } from '../../imprint/v1/ListMovesRequest.js';
import type { ListMovesResponse as _imprint_v1_ListMovesResponse, ListMovesResponse__Output as _imprint_v1_ListMovesResponse__Output } from '../../imprint/v1/ListMovesResponse.js';
import type { ListPinsRequest as _imprint_v1_ListPinsRequest, ListPinsRequest__Output as _imprint_v1_ListPinsRequest__Output } from '../../imprint/v1/ListPinsRequest.js';
import type { ListPinsResponse as _imprint_v1_ListPinsResponse, ListPinsResponse__Output as _imprint_v1_ListPinsResponse__Output } from '../../imprint/v1/ListPinsResponse.js';
import type { ListRolloutsRequest as _imprint_v1_ListRolloutsRequest, ListRolloutsRequest__Output as _imprint_v1_ListRolloutsRequest__Output } from '../../imprint/v1/ListRolloutsRequest.js';
import type { ListRolloutsResponse as _imprint_v1_ListRolloutsResponse, ListRolloutsResponse__Output as _imprint_v1_ListRolloutsResponse__Output } from '../../imprint/v1/ListRolloutsResponse.js';
import type { PauseRolloutRequest as _imprint_v1_PauseRolloutRequest, PauseRolloutRequest__Output as _imprint_v1_PauseRolloutRequest__Output } from '../../imprint/v1/PauseRolloutRequest.js';
import type { PauseRolloutResponse as _imprint_v1_PauseRolloutResponse, PauseRolloutResponse__Output as _imprint_v1_PauseRolloutResponse__Output } from '../../imprint/v1/PauseRolloutResponse.js';
import type { PinRequest as _imprint_v1_PinRequest, PinRequest__Output as _imprint_v1_PinRequest__Output } from '../../imprint/v1/PinRequest.js';
import type { PinResponse as _imprint_v1_PinResponse, PinResponse__Output as _imprint_v1_PinResponse__Output } from '../../imprint/v1/PinResponse.js';
import type { PromoteRolloutRequest as _imprint_v1_PromoteRolloutRequest, PromoteRolloutRequest__Output as _imprint_v1_PromoteRolloutRequest__Output } from '../../imprint/v1/PromoteRolloutRequest.js';
import type { PromoteRolloutResponse as _imprint_v1_PromoteRolloutResponse, PromoteRolloutResponse__Output as _imprint_v1_PromoteRolloutResponse__Output } from '../../imprint/v1/PromoteRolloutResponse.js';
import type { ResumeRolloutRequest as _imprint_v1_ResumeRolloutRequest, ResumeRolloutRequest__Output as _imprint_v1_ResumeRolloutRequest__Output } from '../../imprint/v1/ResumeRolloutRequest.js';
import type { ResumeRolloutResponse as _imprint_v1_ResumeRolloutResponse, ResumeRolloutResponse__Output as _imprint_v1_ResumeRolloutResponse__Output } from '../../imprint/v1/ResumeRolloutResponse.js';
import type { RevokeAccessRequest as _imprint_v1_RevokeAccessRequest, RevokeAccessRequest__Output as _imprint_v1_RevokeAccessRequest__Output } from '../../imprint/v1/RevokeAccessRequest.js';
import type { RevokeAccessResponse as _imprint_v1_RevokeAccessResponse, RevokeAccessResponse__Output as _imprint_v1_RevokeAccessResponse__Output } from '../../imprint/v1/RevokeAccessResponse.js';
import type { UnpinRequest as _imprint_v1_UnpinRequest, UnpinRequest__Output as _imprint_v1_UnpinRequest__Output } from '../../imprint/v1/UnpinRequest.js';
import type { UnpinResponse as _imprint_v1_UnpinResponse, UnpinResponse__Output as _imprint_v1_UnpinResponse__Output } from '../../imprint/v1/UnpinResponse.js';

export interface OperatorServiceClient extends grpc.Client {
  CancelRollout(argument: _imprint_v1_CancelRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  CancelRollout(argument: _imprint_v1_CancelRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  CancelRollout(argument: _imprint_v1_CancelRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  CancelRollout(argument: _imprint_v1_CancelRolloutRequest, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  cancelRollout(argument: _imprint_v1_CancelRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  cancelRollout(argument: _imprint_v1_CancelRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  cancelRollout(argument: _imprint_v1_CancelRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  cancelRollout(argument: _imprint_v1_CancelRolloutRequest, callback: grpc.requestCallback<_imprint_v1_CancelRolloutResponse__Output>): grpc.ClientUnaryCall;
  
  DescribeTopic(argument: _imprint_v1_DescribeTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  DescribeTopic(argument: _imprint_v1_DescribeTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  DescribeTopic(argument: _imprint_v1_DescribeTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  DescribeTopic(argument: _imprint_v1_DescribeTopicRequest, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _imprint_v1_DescribeTopicRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _imprint_v1_DescribeTopicRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _imprint_v1_DescribeTopicRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  describeTopic(argument: _imprint_v1_DescribeTopicRequest, callback: grpc.requestCallback<_imprint_v1_DescribeTopicResponse__Output>): grpc.ClientUnaryCall;
  
  GetAccess(argument: _imprint_v1_GetAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  GetAccess(argument: _imprint_v1_GetAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  GetAccess(argument: _imprint_v1_GetAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  GetAccess(argument: _imprint_v1_GetAccessRequest, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  getAccess(argument: _imprint_v1_GetAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  getAccess(argument: _imprint_v1_GetAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  getAccess(argument: _imprint_v1_GetAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  getAccess(argument: _imprint_v1_GetAccessRequest, callback: grpc.requestCallback<_imprint_v1_GetAccessResponse__Output>): grpc.ClientUnaryCall;
  
  GetCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  GetCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  GetCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  GetCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  getCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  getCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  getCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  getCallerAccess(argument: _imprint_v1_GetCallerAccessRequest, callback: grpc.requestCallback<_imprint_v1_GetCallerAccessResponse__Output>): grpc.ClientUnaryCall;
  
  GetRollout(argument: _imprint_v1_GetRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  GetRollout(argument: _imprint_v1_GetRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  GetRollout(argument: _imprint_v1_GetRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  GetRollout(argument: _imprint_v1_GetRolloutRequest, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  getRollout(argument: _imprint_v1_GetRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  getRollout(argument: _imprint_v1_GetRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  getRollout(argument: _imprint_v1_GetRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  getRollout(argument: _imprint_v1_GetRolloutRequest, callback: grpc.requestCallback<_imprint_v1_GetRolloutResponse__Output>): grpc.ClientUnaryCall;
  
  GrantAccess(argument: _imprint_v1_GrantAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  GrantAccess(argument: _imprint_v1_GrantAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  GrantAccess(argument: _imprint_v1_GrantAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  GrantAccess(argument: _imprint_v1_GrantAccessRequest, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  grantAccess(argument: _imprint_v1_GrantAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  grantAccess(argument: _imprint_v1_GrantAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  grantAccess(argument: _imprint_v1_GrantAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  grantAccess(argument: _imprint_v1_GrantAccessRequest, callback: grpc.requestCallback<_imprint_v1_GrantAccessResponse__Output>): grpc.ClientUnaryCall;
  
  ListDenials(argument: _imprint_v1_ListDenialsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  ListDenials(argument: _imprint_v1_ListDenialsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  ListDenials(argument: _imprint_v1_ListDenialsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  ListDenials(argument: _imprint_v1_ListDenialsRequest, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  listDenials(argument: _imprint_v1_ListDenialsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  listDenials(argument: _imprint_v1_ListDenialsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  listDenials(argument: _imprint_v1_ListDenialsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  listDenials(argument: _imprint_v1_ListDenialsRequest, callback: grpc.requestCallback<_imprint_v1_ListDenialsResponse__Output>): grpc.ClientUnaryCall;
  
  ListHistory(argument: _imprint_v1_ListHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListHistory(argument: _imprint_v1_ListHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListHistory(argument: _imprint_v1_ListHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  ListHistory(argument: _imprint_v1_ListHistoryRequest, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  listHistory(argument: _imprint_v1_ListHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  listHistory(argument: _imprint_v1_ListHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  listHistory(argument: _imprint_v1_ListHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  listHistory(argument: _imprint_v1_ListHistoryRequest, callback: grpc.requestCallback<_imprint_v1_ListHistoryResponse__Output>): grpc.ClientUnaryCall;
  
  ListMoves(argument: _imprint_v1_ListMovesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  ListMoves(argument: _imprint_v1_ListMovesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  ListMoves(argument: _imprint_v1_ListMovesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  ListMoves(argument: _imprint_v1_ListMovesRequest, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  listMoves(argument: _imprint_v1_ListMovesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  listMoves(argument: _imprint_v1_ListMovesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  listMoves(argument: _imprint_v1_ListMovesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  listMoves(argument: _imprint_v1_ListMovesRequest, callback: grpc.requestCallback<_imprint_v1_ListMovesResponse__Output>): grpc.ClientUnaryCall;
  
  ListPins(argument: _imprint_v1_ListPinsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  ListPins(argument: _imprint_v1_ListPinsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  ListPins(argument: _imprint_v1_ListPinsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  ListPins(argument: _imprint_v1_ListPinsRequest, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  listPins(argument: _imprint_v1_ListPinsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  listPins(argument: _imprint_v1_ListPinsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  listPins(argument: _imprint_v1_ListPinsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  listPins(argument: _imprint_v1_ListPinsRequest, callback: grpc.requestCallback<_imprint_v1_ListPinsResponse__Output>): grpc.ClientUnaryCall;
  
  ListRollouts(argument: _imprint_v1_ListRolloutsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  ListRollouts(argument: _imprint_v1_ListRolloutsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  ListRollouts(argument: _imprint_v1_ListRolloutsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  ListRollouts(argument: _imprint_v1_ListRolloutsRequest, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  listRollouts(argument: _imprint_v1_ListRolloutsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  listRollouts(argument: _imprint_v1_ListRolloutsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  listRollouts(argument: _imprint_v1_ListRolloutsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  listRollouts(argument: _imprint_v1_ListRolloutsRequest, callback: grpc.requestCallback<_imprint_v1_ListRolloutsResponse__Output>): grpc.ClientUnaryCall;
  
  PauseRollout(argument: _imprint_v1_PauseRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  PauseRollout(argument: _imprint_v1_PauseRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  PauseRollout(argument: _imprint_v1_PauseRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  PauseRollout(argument: _imprint_v1_PauseRolloutRequest, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  pauseRollout(argument: _imprint_v1_PauseRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  pauseRollout(argument: _imprint_v1_PauseRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  pauseRollout(argument: _imprint_v1_PauseRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  pauseRollout(argument: _imprint_v1_PauseRolloutRequest, callback: grpc.requestCallback<_imprint_v1_PauseRolloutResponse__Output>): grpc.ClientUnaryCall;
  
  Pin(argument: _imprint_v1_PinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  Pin(argument: _imprint_v1_PinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  Pin(argument: _imprint_v1_PinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  Pin(argument: _imprint_v1_PinRequest, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  pin(argument: _imprint_v1_PinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  pin(argument: _imprint_v1_PinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  pin(argument: _imprint_v1_PinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  pin(argument: _imprint_v1_PinRequest, callback: grpc.requestCallback<_imprint_v1_PinResponse__Output>): grpc.ClientUnaryCall;
  
  PromoteRollout(argument: _imprint_v1_PromoteRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  PromoteRollout(argument: _imprint_v1_PromoteRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  PromoteRollout(argument: _imprint_v1_PromoteRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  PromoteRollout(argument: _imprint_v1_PromoteRolloutRequest, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  promoteRollout(argument: _imprint_v1_PromoteRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  promoteRollout(argument: _imprint_v1_PromoteRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  promoteRollout(argument: _imprint_v1_PromoteRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  promoteRollout(argument: _imprint_v1_PromoteRolloutRequest, callback: grpc.requestCallback<_imprint_v1_PromoteRolloutResponse__Output>): grpc.ClientUnaryCall;
  
  ResumeRollout(argument: _imprint_v1_ResumeRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  ResumeRollout(argument: _imprint_v1_ResumeRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  ResumeRollout(argument: _imprint_v1_ResumeRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  ResumeRollout(argument: _imprint_v1_ResumeRolloutRequest, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  resumeRollout(argument: _imprint_v1_ResumeRolloutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  resumeRollout(argument: _imprint_v1_ResumeRolloutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  resumeRollout(argument: _imprint_v1_ResumeRolloutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  resumeRollout(argument: _imprint_v1_ResumeRolloutRequest, callback: grpc.requestCallback<_imprint_v1_ResumeRolloutResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeAccess(argument: _imprint_v1_RevokeAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  RevokeAccess(argument: _imprint_v1_RevokeAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  RevokeAccess(argument: _imprint_v1_RevokeAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  RevokeAccess(argument: _imprint_v1_RevokeAccessRequest, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  revokeAccess(argument: _imprint_v1_RevokeAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  revokeAccess(argument: _imprint_v1_RevokeAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  revokeAccess(argument: _imprint_v1_RevokeAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  revokeAccess(argument: _imprint_v1_RevokeAccessRequest, callback: grpc.requestCallback<_imprint_v1_RevokeAccessResponse__Output>): grpc.ClientUnaryCall;
  
  Unpin(argument: _imprint_v1_UnpinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  Unpin(argument: _imprint_v1_UnpinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  Unpin(argument: _imprint_v1_UnpinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  Unpin(argument: _imprint_v1_UnpinRequest, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  unpin(argument: _imprint_v1_UnpinRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  unpin(argument: _imprint_v1_UnpinRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  unpin(argument: _imprint_v1_UnpinRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  unpin(argument: _imprint_v1_UnpinRequest, callback: grpc.requestCallback<_imprint_v1_UnpinResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface OperatorServiceHandlers extends grpc.UntypedServiceImplementation {
  CancelRollout: grpc.handleUnaryCall<_imprint_v1_CancelRolloutRequest__Output, _imprint_v1_CancelRolloutResponse>;
  
  DescribeTopic: grpc.handleUnaryCall<_imprint_v1_DescribeTopicRequest__Output, _imprint_v1_DescribeTopicResponse>;
  
  GetAccess: grpc.handleUnaryCall<_imprint_v1_GetAccessRequest__Output, _imprint_v1_GetAccessResponse>;
  
  GetCallerAccess: grpc.handleUnaryCall<_imprint_v1_GetCallerAccessRequest__Output, _imprint_v1_GetCallerAccessResponse>;
  
  GetRollout: grpc.handleUnaryCall<_imprint_v1_GetRolloutRequest__Output, _imprint_v1_GetRolloutResponse>;
  
  GrantAccess: grpc.handleUnaryCall<_imprint_v1_GrantAccessRequest__Output, _imprint_v1_GrantAccessResponse>;
  
  ListDenials: grpc.handleUnaryCall<_imprint_v1_ListDenialsRequest__Output, _imprint_v1_ListDenialsResponse>;
  
  ListHistory: grpc.handleUnaryCall<_imprint_v1_ListHistoryRequest__Output, _imprint_v1_ListHistoryResponse>;
  
  ListMoves: grpc.handleUnaryCall<_imprint_v1_ListMovesRequest__Output, _imprint_v1_ListMovesResponse>;
  
  ListPins: grpc.handleUnaryCall<_imprint_v1_ListPinsRequest__Output, _imprint_v1_ListPinsResponse>;
  
  ListRollouts: grpc.handleUnaryCall<_imprint_v1_ListRolloutsRequest__Output, _imprint_v1_ListRolloutsResponse>;
  
  PauseRollout: grpc.handleUnaryCall<_imprint_v1_PauseRolloutRequest__Output, _imprint_v1_PauseRolloutResponse>;
  
  Pin: grpc.handleUnaryCall<_imprint_v1_PinRequest__Output, _imprint_v1_PinResponse>;
  
  PromoteRollout: grpc.handleUnaryCall<_imprint_v1_PromoteRolloutRequest__Output, _imprint_v1_PromoteRolloutResponse>;
  
  ResumeRollout: grpc.handleUnaryCall<_imprint_v1_ResumeRolloutRequest__Output, _imprint_v1_ResumeRolloutResponse>;
  
  RevokeAccess: grpc.handleUnaryCall<_imprint_v1_RevokeAccessRequest__Output, _imprint_v1_RevokeAccessResponse>;
  
  Unpin: grpc.handleUnaryCall<_imprint_v1_UnpinRequest__Output, _imprint_v1_UnpinResponse>;
  
}

export interface OperatorServiceDefinition extends grpc.ServiceDefinition {
  CancelRollout: MethodDefinition<_imprint_v1_CancelRolloutRequest, _imprint_v1_CancelRolloutResponse, _imprint_v1_CancelRolloutRequest__Output, _imprint_v1_CancelRolloutResponse__Output>
  DescribeTopic: MethodDefinition<_imprint_v1_DescribeTopicRequest, _imprint_v1_DescribeTopicResponse, _imprint_v1_DescribeTopicRequest__Output, _imprint_v1_DescribeTopicResponse__Output>
  GetAccess: MethodDefinition<_imprint_v1_GetAccessRequest, _imprint_v1_GetAccessResponse, _imprint_v1_GetAccessRequest__Output, _imprint_v1_GetAccessResponse__Output>
  GetCallerAccess: MethodDefinition<_imprint_v1_GetCallerAccessRequest, _imprint_v1_GetCallerAccessResponse, _imprint_v1_GetCallerAccessRequest__Output, _imprint_v1_GetCallerAccessResponse__Output>
  GetRollout: MethodDefinition<_imprint_v1_GetRolloutRequest, _imprint_v1_GetRolloutResponse, _imprint_v1_GetRolloutRequest__Output, _imprint_v1_GetRolloutResponse__Output>
  GrantAccess: MethodDefinition<_imprint_v1_GrantAccessRequest, _imprint_v1_GrantAccessResponse, _imprint_v1_GrantAccessRequest__Output, _imprint_v1_GrantAccessResponse__Output>
  ListDenials: MethodDefinition<_imprint_v1_ListDenialsRequest, _imprint_v1_ListDenialsResponse, _imprint_v1_ListDenialsRequest__Output, _imprint_v1_ListDenialsResponse__Output>
  ListHistory: MethodDefinition<_imprint_v1_ListHistoryRequest, _imprint_v1_ListHistoryResponse, _imprint_v1_ListHistoryRequest__Output, _imprint_v1_ListHistoryResponse__Output>
  ListMoves: MethodDefinition<_imprint_v1_ListMovesRequest, _imprint_v1_ListMovesResponse, _imprint_v1_ListMovesRequest__Output, _imprint_v1_ListMovesResponse__Output>
  ListPins: MethodDefinition<_imprint_v1_ListPinsRequest, _imprint_v1_ListPinsResponse, _imprint_v1_ListPinsRequest__Output, _imprint_v1_ListPinsResponse__Output>
  ListRollouts: MethodDefinition<_imprint_v1_ListRolloutsRequest, _imprint_v1_ListRolloutsResponse, _imprint_v1_ListRolloutsRequest__Output, _imprint_v1_ListRolloutsResponse__Output>
  PauseRollout: MethodDefinition<_imprint_v1_PauseRolloutRequest, _imprint_v1_PauseRolloutResponse, _imprint_v1_PauseRolloutRequest__Output, _imprint_v1_PauseRolloutResponse__Output>
  Pin: MethodDefinition<_imprint_v1_PinRequest, _imprint_v1_PinResponse, _imprint_v1_PinRequest__Output, _imprint_v1_PinResponse__Output>
  PromoteRollout: MethodDefinition<_imprint_v1_PromoteRolloutRequest, _imprint_v1_PromoteRolloutResponse, _imprint_v1_PromoteRolloutRequest__Output, _imprint_v1_PromoteRolloutResponse__Output>
  ResumeRollout: MethodDefinition<_imprint_v1_ResumeRolloutRequest, _imprint_v1_ResumeRolloutResponse, _imprint_v1_ResumeRolloutRequest__Output, _imprint_v1_ResumeRolloutResponse__Output>
  RevokeAccess: MethodDefinition<_imprint_v1_RevokeAccessRequest, _imprint_v1_RevokeAccessResponse, _imprint_v1_RevokeAccessRequest__Output, _imprint_v1_RevokeAccessResponse__Output>
  Unpin: MethodDefinition<_imprint_v1_UnpinRequest, _imprint_v1_UnpinResponse, _imprint_v1_UnpinRequest__Output, _imprint_v1_UnpinResponse__Output>
}
