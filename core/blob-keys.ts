/**
 * Where objects live in a blob store, as one rule every side asks: a topic's payloads are
 * under `<topic>/`, the fallback snapshots under `imprint-snapshots/`, and nothing else is
 * Imprint's. The publisher writes keys with `topicKey`, the service refuses a pointer whose
 * key is not the topic's own (`validateTopicKey`), and the retention purge deletes only
 * objects that are (`isTopicKey`), so one topic's record can never name, and never get
 * deleted, another topic's objects or the snapshots.
 */
import { InvalidArgumentError } from './errors.js';

/**
 * Where the janitor writes the fallback snapshots in each region's store. A reserved topic
 * name (see validateTopicName), so no topic's prefix is the snapshots' prefix.
 */
export const SNAPSHOT_PREFIX = 'imprint-snapshots';

/** The prefix of every object of `topic`: `<topic>/`. */
export function topicKeyPrefix(topic: string): string {
  return `${topic}/`;
}

/** The key of a new object of `topic` (`name` is unique within the topic, e.g. a time and a UUID). */
export function topicKey(topic: string, name: string): string {
  return `${topicKeyPrefix(topic)}${name}`;
}

/**
 * The key of a new payload object of `topic`: the time (ISO 8601 without ":" and ".") and a
 * random id, so keys are unique and sort by when they were written. The Publisher and the
 * service's lent uploads both name their objects this way.
 */
export function newTopicKey(topic: string, at: Date, id: string): string {
  return topicKey(topic, `${at.toISOString().replace(/[:.]/g, '')}-${id}`);
}

/** Whether `key` names an object of `topic`: under `<topic>/`, with no empty, "." or ".." segment after it. */
export function isTopicKey(topic: string, key: string): boolean {
  const prefix = topicKeyPrefix(topic);
  if (!key.startsWith(prefix)) return false;
  return key
    .slice(prefix.length)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

export function validateTopicKey(topic: string, key: string, field: string): string {
  if (!isTopicKey(topic, key)) {
    throw new InvalidArgumentError(field, `must be a key under the topic's own prefix "${topicKeyPrefix(topic)}" (no empty, "." or ".." segments)`, key);
  }
  return key;
}
