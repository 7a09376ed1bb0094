/** core: Imprint's rules as pure functions over plain data. Imports nothing of ours. */
export * from './types.js';
export * from './errors.js';
export * from './scope.js';
export * from './validate.js';
export * from './blob-keys.js';
export * from './digest.js';
export * from './signing.js';
export * from './resolve.js';
export * from './poll.js';
export * from './retention.js';
export * from './staleness.js';
export * from './snapshot.js';
export * from './holdings.js';
export * from './denials.js';
export * from './pins-at.js';
export * from './access.js';
export * from './rollout.js';
