/**
 * The pins in effect at a past moment, replayed from a topic's durable history (its pin and
 * unpin entries): what `imprint history --at` hands the poll decision together with the scope
 * heads of that moment. A pin replaces the pin of the same scope; an unpin removes it; a topic
 * created or deleted starts with none (a name created again after a purge is a new topic).
 */
import { scopeKey } from './scope.js';
import type { Change, Pin } from './types.js';

/** The pins in effect at `atMs`, from `changes` (any order; entries after `atMs` are ignored), oldest first. */
export function pinsAt(changes: readonly Change[], atMs: number): Pin[] {
  const inEffect = new Map<string, Pin>();
  const upTo = changes.filter((c) => c.atMs <= atMs).sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  for (const c of upTo) {
    const scope = c.scopes[0] ?? {};
    if (c.kind === 'pin') inEffect.set(scopeKey(scope), { topic: c.topic, scope, version: c.version, createdAtMs: c.atMs, reason: c.reason, createdBy: c.by.principal });
    else if (c.kind === 'unpin') inEffect.delete(scopeKey(scope));
    else if (c.kind === 'create-topic' || c.kind === 'delete-topic') inEffect.clear();
  }
  return [...inEffect.values()];
}
