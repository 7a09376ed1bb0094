/**
 * The store-backed PollSource (the all role): every answer is a read of the
 * MetadataStore, so a poll costs a store read for the topic's heads and pins and one for the
 * record it is given; nothing is kept between polls.
 */
import { verdictOf, type PollSource, type RecordVerdict, type Version, type VersionRecord } from '../../core/index.js';
import type { MetadataStore, PollState } from '../store/metadata-store.js';

export class StorePollSource implements PollSource<PollState> {
  constructor(private readonly store: MetadataStore) {}

  state(topic: string): Promise<PollState | undefined> {
    return this.store.pollState(topic);
  }

  async record(topic: string, _view: PollState, version: Version): Promise<RecordVerdict> {
    return verdictOf(topic, version, await this.store.getVersion(topic, version));
  }

  versionsBelow(topic: string, below: Version, limit: number): Promise<readonly VersionRecord[]> {
    return this.store.listVersions(topic, { below, limit });
  }
}
