/**
 * A list the API pages with tokens (ListVersions, ListHistory): the current page, its error,
 * and Newer / Older buttons that walk the tokens back and forth. Reloaded when `deps` change
 * (the topic, the page's refresh tick).
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { errorText } from './api.js';

/** One page of a token-paged answer. */
export interface TokenPage {
  readonly nextPageToken: string;
}

export interface TokenPages<P extends TokenPage> {
  /** The page shown (null until the first answer). */
  readonly page: P | null;
  /** Why the last load failed ('' when it did not). */
  readonly error: string;
  /** The Newer / Older buttons. */
  readonly pager: JSX.Element | null;
}

export function useTokenPages<P extends TokenPage>(load: (pageToken: string) => Promise<P>, label: string, deps: readonly unknown[]): TokenPages<P> {
  // The tokens of the pages walked so far: the last is the one shown ('' is the newest page).
  const [tokens, setTokens] = useState<string[]>(['']);
  const [page, setPage] = useState<P | null>(null);
  const [error, setError] = useState('');
  const token = tokens[tokens.length - 1] ?? '';
  useEffect(() => {
    load(token)
      .then((p) => (setPage(p), setError('')))
      .catch((err: unknown) => setError(errorText(err)));
  }, [...deps, token]);
  const pager = page && (
    <nav aria-label={label} class="pager">
      <button type="button" disabled={tokens.length <= 1} onClick={() => setTokens((t) => t.slice(0, -1))}>
        Newer
      </button>{' '}
      <button type="button" disabled={!page.nextPageToken} onClick={() => setTokens((t) => [...t, page.nextPageToken])}>
        Older
      </button>
    </nav>
  );
  return { page, error, pager };
}
