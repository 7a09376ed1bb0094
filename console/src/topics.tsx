/**
 * The topic list: ListTopics (with each topic's publish status), searchable by name, owner and
 * description, 25 a page; the consumer count of the topics on the page from DescribeTopic,
 * where GetCallerAccess says the caller may inspect them ("—" otherwise, with why in its title).
 */
import { useEffect, useState } from 'preact/hooks';
import { call, errorText } from './api.js';
import { time } from './format.js';
import type { CallerAccess, DescribeTopic, PublishStatus, Topic } from './wire.js';
import { ErrorLine, Table } from './parts.js';

const PAGE = 25;

type Count = { n: number } | { why: string };

export function TopicList() {
  const [topics, setTopics] = useState<Topic[] | null>(null);
  const [status, setStatus] = useState<Map<string, PublishStatus>>(new Map());
  const [error, setError] = useState('');
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(0);
  const [counts, setCounts] = useState<Map<string, Count>>(new Map());

  useEffect(() => {
    call<{ topics: Topic[]; publishStatus: PublishStatus[] }>('consumer', 'ListTopics', {})
      .then((r) => {
        setTopics([...r.topics].sort((a, b) => a.name.localeCompare(b.name)));
        setStatus(new Map(r.publishStatus.map((s) => [s.topic, s])));
      })
      .catch((err: unknown) => setError(errorText(err)));
  }, []);

  const q = query.trim().toLowerCase();
  const matching = (topics ?? []).filter((t) => !q || t.name.toLowerCase().includes(q) || t.owner.toLowerCase().includes(q) || t.description.toLowerCase().includes(q));
  const pages = Math.max(1, Math.ceil(matching.length / PAGE));
  const shown = matching.slice(page * PAGE, page * PAGE + PAGE);
  const shownKey = shown.map((t) => t.name).join('\n');

  useEffect(() => {
    let stop = false;
    const names = shown.map((t) => t.name).filter((n) => !counts.has(n));
    // A few at a time: one DescribeTopic per topic on the page.
    const next = async (): Promise<void> => {
      const name = names.shift();
      if (name === undefined || stop) return;
      let c: Count;
      try {
        // Asked only where the caller may inspect the topic: a refused call is not an answer.
        const a = await call<CallerAccess>('operator', 'GetCallerAccess', { topic: name });
        if (!a.actions.includes('ACCESS_ACTION_INSPECT')) {
          c = { why: 'consumers are shown to the operator, publisher or owner roles' };
        } else {
          const d = await call<DescribeTopic>('operator', 'DescribeTopic', { name, consumersNodeLimit: 0 });
          c = d.consumers ? { n: d.consumers.nodeCount } : { why: d.consumersError || 'the audit sink cannot say' };
        }
      } catch (err) {
        c = { why: errorText(err) };
      }
      if (!stop) setCounts((m) => new Map(m).set(name, c));
      return next();
    };
    void Promise.all([next(), next(), next(), next()]);
    return () => {
      stop = true;
    };
  }, [shownKey]);

  return (
    <main>
      <h1>Topics</h1>
      <p>
        <label for="topic-search">Search topics</label>{' '}
        <input id="topic-search" type="search" value={query} onInput={(e) => (setQuery(e.currentTarget.value), setPage(0))} placeholder="name, owner or description" />
      </p>
      <ErrorLine error={error} />
      {topics === null && !error && <p>Loading…</p>}
      {topics !== null && (
        <>
          <Table head={['Topic', 'Owner', 'Latest version', 'Last publish', 'Overdue', 'Consumers (24 h)']} caption={<>{matching.length} of {topics.length} topics</>}>
            {shown.map((t) => {
              const s = status.get(t.name);
              const c = counts.get(t.name);
              return (
                <tr key={t.name}>
                  <td>
                    <a href={`#/topics/${encodeURIComponent(t.name)}`}>{t.name}</a>
                    {Number(t.deletedAtMs) > 0 && <span class="badge">deleted</span>}
                  </td>
                  <td>{t.owner}</td>
                  <td>{Number(t.latestVersion) > 0 ? `v${t.latestVersion}` : 'none'}</td>
                  <td>{s ? time(s.lastPublishMs) : <span title="shown for topics with a publish contract (expect_every_ms)">—</span>}</td>
                  <td>{s ? Number(s.overdueSinceMs) > 0 ? <span class="bad">since {time(s.overdueSinceMs)}</span> : 'on time' : <span title="no publish contract">—</span>}</td>
                  <td>{c === undefined ? '…' : 'n' in c ? c.n : <span title={c.why}>—</span>}</td>
                </tr>
              );
            })}
          </Table>
          <Pager page={page} pages={pages} onPage={setPage} label="Topic pages" />
        </>
      )}
    </main>
  );
}

export function Pager({ page, pages, onPage, label }: { page: number; pages: number; onPage: (p: number) => void; label: string }) {
  if (pages <= 1) return null;
  return (
    <nav aria-label={label} class="pager">
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>
        Previous
      </button>{' '}
      <span>
        page {page + 1} of {pages}
      </span>{' '}
      <button type="button" disabled={page >= pages - 1} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
