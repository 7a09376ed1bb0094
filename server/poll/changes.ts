/**
 * PollChanges: word that a topic's poll state may have changed (a publish, new scopes, a pin or
 * an unpin), given only after the change is visible to the PollSource that answers polls, so a
 * listener that asks the Poller again gets the new answer. A word may come for a change that
 * does not change anyone's answer, and more than once for one change: listeners re-decide and
 * act only on a different answer. Who gives the word: whatever keeps the PollSource current (the
 * consume role's table as it applies the change feed; the all role's feed follower). Who
 * listens: Watch streams.
 */
export interface PollChanges {
  /** Calls `listener(topic)` for every change from now on; returns what stops it. */
  subscribe(listener: (topic: string) => void): () => void;
}

/** The one PollChanges of a server: whoever keeps its PollSource current calls notify(). */
export class PollChangeHub implements PollChanges {
  private readonly listeners = new Set<(topic: string) => void>();

  subscribe(listener: (topic: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Tells every listener that `topic` may have changed. A listener that throws does not stop the others. */
  notify(topic: string): void {
    for (const listener of this.listeners) {
      try {
        listener(topic);
      } catch {
        // A listener's own failure is its own to log; the word still reaches the rest.
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
