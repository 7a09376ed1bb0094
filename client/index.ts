/** client: what publishers and consumers link. */
export {
  ImprintClient,
  DEFAULT_ADDRESS,
  type ClientOptions,
  type PollResult,
  type BatchPollResult,
  type WatchEvent,
  type WatchResult,
  type WatchHeartbeatEvent,
  type WatchCallOptions,
  type TopicCursor,
  type RolloutStatus,
  type PublishedVersion,
  type TopicChange,
  type TopicDescription,
} from './imprint-client.js';
export { Publisher, PublishOutcomeUnknownError, UploadError, PUBLISHER_DEFAULTS, publisherWithDefaults, type PublishData, type PublishOptions, type PublisherOptions } from './publisher.js';
export { fromGrpcError, NotServedError, ProtocolError, RemoteInvalidArgumentError } from './errors.js';
export { bearerTokenInterceptor, type TokenSource } from './token.js';
export { appMetadataInterceptor, retryAfterMsOf, retryDelayFromHint, waitForRetryHint, type RetryHintOptions } from './retry-hint.js';
export { BlobNotFoundError, checkRange, storeFor, type BlobStat, type BlobStore, type ByteRange, type GetOptions, type PutOptions } from './blob-store/blob-store.js';
export { LocalBlobStore, type LocalBlobStoreOptions } from './blob-store/local.js';
export { fetchPayload, downloadPayload, HASH_OFF_THREAD_FROM, PayloadUnavailableError, type FetchOptions } from './fetch.js';
export { READ_DEFAULTS, RegionTimeoutError, type ReadOptions, type SlowRegionEvent } from './hedge.js';
export { PART_DEFAULTS, type PartOptions } from './parts.js';
export { HashWorkerError } from './hash-worker.js';
export {
  Subscriber,
  Subscription,
  type ConsumerApi,
  type SubscriberOptions,
  type WatchSettings,
  type WatchFallbackEvent,
  WATCH_SETTINGS_DEFAULTS,
  type SubscribeOptions,
  type UpdatedEvent,
  type RejectedEvent,
  type RejectionEvent,
  type RolledBackEvent,
  VALIDATE_TIMEOUT_MS,
  type SlowRegionSubscriberEvent,
  type Step,
} from './subscriber.js';
export { TlsFiles, channelCredentials, type ClientTlsOptions } from './tls.js';
export { clientMetrics, type ClientMetrics } from './metrics.js';
export { SnapshotReader, SnapshotUnavailableError, DEFAULT_SNAPSHOT_PREFIX, type SnapshotReaderOptions } from './fallback.js';
export type { KeyedBlobStore } from './blob-store/blob-store.js';
