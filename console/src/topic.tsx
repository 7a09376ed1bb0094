/**
 * One topic's page. What the caller may do comes first (GetCallerAccess); then, for a caller
 * who may inspect the topic, DescribeTopic (pins, publish status, the newest rollout, the
 * consumers aggregated by app, cluster and region: never a row per node) and GetRollout's gate
 * counts, refreshed every 5 s; ListMoves for the chart once the page is drawn (and after the
 * caller's own actions: it reads the audit data, the costliest call); a caller who may only consume gets GetTopic and
 * ListPins, and the page says what it leaves out. Versions (ListVersions) and the history
 * (ListHistory) are paged by the API. Every action opens a confirmation naming what will
 * change; an action the caller may not do is shown disabled, saying which role it needs.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, errorText } from './api.js';
import { ConsumersChart, seriesOf, type Series } from './chart.js';
import { ConfirmDialog, type ConfirmSpec } from './dialog.js';
import { bytes, duration, scopeText, time } from './format.js';
import { useTokenPages } from './paged.js';
import { Pager } from './topics.js';
import type { AccessAction, CallerAccess, Change, ConsumerMove, DescribeTopic, Pin, Rollout, RolloutProgress, Topic, VersionRecord } from './wire.js';
import { ErrorLine, Table } from './parts.js';

const REFRESH_MS = 5000;
const NEEDS: Record<AccessAction, string> = {
  consume: 'needs a role on the topic',
  inspect: 'needs the operator, publisher or owner role on the topic',
  publish: 'needs the publisher or owner role on the topic',
  operate: 'needs the operator or owner role on the topic',
  own: 'needs the owner role on the topic',
};

interface Access {
  readonly principal: string;
  readonly may: ReadonlySet<AccessAction>;
}

interface Loaded {
  readonly topic: Topic;
  readonly pins: Pin[];
  /** Absent for a caller who may not inspect the topic. */
  readonly describe?: DescribeTopic;
  readonly progress?: RolloutProgress;
}

async function load(name: string, may: ReadonlySet<AccessAction>): Promise<Loaded> {
  if (!may.has('inspect')) {
    const [{ topic }, { pins }] = await Promise.all([call<{ topic: Topic }>('consumer', 'GetTopic', { name }), call<{ pins: Pin[] }>('operator', 'ListPins', { topic: name })]);
    return { topic, pins };
  }
  const describe = await call<DescribeTopic>('operator', 'DescribeTopic', { name, consumersNodeLimit: 0 });
  const r = describe.rollout;
  const progress = r ? (await call<{ progress: RolloutProgress }>('operator', 'GetRollout', { topic: name, version: r.version })).progress : undefined;
  return { topic: describe.topic, pins: describe.pins, describe, ...(progress && { progress }) };
}

export function TopicPage({ name }: { name: string }) {
  const [access, setAccess] = useState<Access | null>(null);
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  /** Bumped by the caller's own actions only (the chart is not redrawn by the timer: its moves cost a read of the audit data). */
  const [acted, setActed] = useState(0);
  const [auto, setAuto] = useState(true);
  const [confirm, setConfirm] = useState<ConfirmSpec | null>(null);

  useEffect(() => {
    let stop = false;
    (async () => {
      const a = await call<CallerAccess>('operator', 'GetCallerAccess', { topic: name });
      const may = new Set(a.actions.map((x) => x.replace('ACCESS_ACTION_', '').toLowerCase() as AccessAction));
      const loaded = await load(name, may);
      if (stop) return;
      setAccess({ principal: a.principal, may });
      setData(loaded);
      setError('');
    })().catch((err: unknown) => !stop && setError(errorText(err)));
    return () => {
      stop = true;
    };
  }, [name, tick]);

  useEffect(() => {
    if (!auto || confirm) return;
    const t = setInterval(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearInterval(t);
  }, [auto, confirm]);

  const act: Act = (action, label, spec, extra) => {
    const denied = access && !access.may.has(action) ? NEEDS[action] : extra?.disabled;
    return (
      <button type="button" disabled={!access || denied !== undefined} title={denied} aria-label={label} data-testid={extra?.testid} onClick={() => setConfirm(spec())}>
        {extra?.text ?? label.split(' ')[0]}
      </button>
    );
  };
  const by = access?.principal || 'console';

  return (
    <main>
      <p>
        <a href="#/">All topics</a>
      </p>
      <h1>Topic {name}</h1>
      <ErrorLine error={error} />
      {!data && !error && <p>Loading…</p>}
      {data && access && (
        <>
          <section aria-labelledby="about">
            <h2 id="about">About</h2>
            <dl>
              <dt>Owner</dt>
              <dd>{data.topic.owner || '—'}</dd>
              <dt>Description</dt>
              <dd>{data.topic.description || '—'}</dd>
              <dt>Latest version</dt>
              <dd>{Number(data.topic.latestVersion) > 0 ? `v${data.topic.latestVersion}` : 'none'}</dd>
              {data.describe && (
                <>
                  <dt>Versions</dt>
                  <dd>{data.describe.versionCount}</dd>
                  <dt>Last publish</dt>
                  <dd>{time(data.describe.publishStatus?.lastPublishMs ?? 0)}</dd>
                  <dt>Publish contract</dt>
                  <dd>
                    {Number(data.topic.expectEveryMs) > 0 ? `every ${duration(data.topic.expectEveryMs)}` : 'none'}
                    {Number(data.describe.publishStatus?.overdueSinceMs ?? 0) > 0 && <span class="bad"> (overdue since {time(data.describe.publishStatus?.overdueSinceMs ?? 0)})</span>}
                  </dd>
                </>
              )}
              <dt>Your access</dt>
              <dd data-testid="access">
                {access.principal ? `${access.principal}: ` : 'this server does not authenticate: '}
                {[...access.may].join(', ') || 'none'}
              </dd>
            </dl>
            <p>
              <input id="auto-refresh" type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} /> <label for="auto-refresh">Refresh every {REFRESH_MS / 1000} s</label>
            </p>
            {!data.describe && (
              <p class="notice" role="note" data-testid="limited">
                You may read this topic's versions and pins. Its consumers, rollout and change history need the operator, publisher or owner role (the inspect action), so they are not shown.
              </p>
            )}
          </section>

          <PinsSection name={name} pins={data.pins} act={act} />
          {data.describe && <RolloutSection name={name} rollout={data.describe.rollout} progress={data.progress} act={act} />}
          {data.describe && <ConsumersSection d={data.describe} name={name} acted={acted} />}
          <VersionsSection name={name} tick={tick} act={act} by={by} />
          {data.describe && <HistorySection name={name} tick={tick} />}
        </>
      )}
      {confirm && (
        <ConfirmDialog
          spec={confirm}
          onClose={(done) => {
            setConfirm(null);
            if (done) {
              setTick((n) => n + 1);
              setActed((n) => n + 1);
            }
          }}
        />
      )}
    </main>
  );
}

/** A button for an action: disabled, saying why, when the caller may not do it (or `disabled` says why not now); else it opens the confirmation. Its text is `text`, or the label's first word. */
type Act = (action: AccessAction, label: string, spec: () => ConfirmSpec, extra?: { disabled?: string; testid?: string; text?: string }) => JSX.Element;

function PinsSection({ name, pins, act }: { name: string; pins: Pin[]; act: Act }) {
  return (
    <section aria-labelledby="pins">
      <h2 id="pins">Pins</h2>
      {pins.length === 0 ? (
        <p>No pins: every consumer gets the latest version its scope matches.</p>
      ) : (
        <Table head={['Scope', 'Version', 'Reason', 'By', 'At', 'Action']} testid="pins">
          {pins.map((p) => (
            <tr key={scopeText(p.scope)}>
              <td>{scopeText(p.scope)}</td>
              <td>v{p.version}</td>
              <td>{p.reason}</td>
              <td>{p.createdBy || '—'}</td>
              <td>{time(p.createdAtMs)}</td>
              <td>
                {act('operate', `Unpin ${scopeText(p.scope)}`, () => ({
                  title: `Unpin topic ${name}`,
                  change: () => `The pin of topic "${name}" on ${scopeText(p.scope)} (version ${p.version}) will be removed: those consumers get the latest version again.`,
                  confirmLabel: 'Unpin',
                  run: async () => void (await call('operator', 'Unpin', { topic: name, scope: p.scope ?? { match: {} } })),
                }))}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

const STATE_TEXT: Record<string, string> = {
  ROLLOUT_STATE_RUNNING: 'running',
  ROLLOUT_STATE_PAUSED: 'paused',
  ROLLOUT_STATE_COMPLETED: 'completed',
  ROLLOUT_STATE_CANCELLED: 'cancelled',
  ROLLOUT_STATE_SUPERSEDED: 'superseded',
};

function RolloutSection({ name, rollout: r, progress, act }: { name: string; rollout: Rollout | null; progress: RolloutProgress | undefined; act: Act }) {
  if (!r) {
    return (
      <section aria-labelledby="rollout">
        <h2 id="rollout">Rollout</h2>
        <p>This topic has had no rollout: its publishes reach every consumer at once.</p>
      </section>
    );
  }
  const state = STATE_TEXT[r.state] ?? r.state;
  const active = r.state === 'ROLLOUT_STATE_RUNNING' || r.state === 'ROLLOUT_STATE_PAUSED';
  const steps = r.policy?.steps ?? [];
  const minHolding = r.policy?.minHoldingPercent ?? 90;
  const maxRejections = r.policy?.maxRejections ?? 0;
  const verb = (v: 'Pause' | 'Resume' | 'Cancel' | 'Promote', method: string, change: string, opts: { reason?: boolean; full?: boolean; applies: boolean }) =>
    act(
      'operate',
      `${v}${opts.full ? ' to everyone' : ''}: the rollout of v${r.version}`,
      () => ({
        title: `${v} the rollout of v${r.version}`,
        change: () => change,
        confirmLabel: v,
        ...(opts.reason && { reason: 'optional' as const }),
        run: async ({ reason }) => void (await call('operator', method, { topic: name, ...(opts.reason && { reason }), ...(opts.full && { full: true }) })),
      }),
      { ...(!opts.applies && { disabled: `the rollout is ${state}` }), testid: `rollout-${v.toLowerCase()}${opts.full ? '-full' : ''}`, text: `${v}${opts.full ? ' to everyone' : ''}` },
    );
  const next = r.step + 1;
  return (
    <section aria-labelledby="rollout">
      <h2 id="rollout">Rollout of v{r.version}</h2>
      <p data-testid="rollout-state">
        State: <strong>{state}</strong>
        {r.rejected && ' (a gate rejected it)'}
        {r.reason && ` — ${r.reason}`}; started {time(r.startedAtMs)}
        {Number(r.endedAtMs) > 0 && `, ended ${time(r.endedAtMs)}`}
        {r.state === 'ROLLOUT_STATE_PAUSED' && `; ${duration(r.bakeLeftMs)} of bake left`}
      </p>
      <ol class="timeline" aria-label="Rollout steps">
        {steps.map((s, i) => {
          const done = i < r.step || r.state === 'ROLLOUT_STATE_COMPLETED';
          const current = i === r.step && active;
          const gates = s.gates.map((g) => {
            if (g === 'ROLLOUT_GATE_WEBHOOK') return `webhook: ${r.webhookPassedStep >= i ? 'passed' : done ? 'skipped' : 'waiting'}`;
            if (done) return 'consumers: passed';
            if (!current || !progress) return 'consumers: not yet';
            const pct = progress.reached > 0 ? Math.floor((progress.holding * 100) / progress.reached) : 0;
            const ok = progress.reached > 0 && pct >= minHolding && progress.rejections <= maxRejections;
            return `consumers: ${progress.holding} of ${progress.reached} holding (${pct}%, needs ${minHolding}%), ${progress.rejections} rejections (at most ${maxRejections}): ${ok ? 'met' : 'not met yet'}`;
          });
          return (
            <li key={i} class={done ? 'done' : current ? 'current' : 'pending'} aria-current={current ? 'step' : undefined}>
              <strong>
                Step {i + 1}: {s.percent || 100}% of {s.scopes.length ? s.scopes.map(scopeText).join(' or ') : 'everyone'}
              </strong>
              <span>
                {' '}
                — bake {duration(s.bakeMs)}; {done ? 'done' : current ? (r.state === 'ROLLOUT_STATE_PAUSED' ? 'paused here' : `baking since ${time(r.stepStartedAtMs)}`) : 'to come'}
              </span>
              {gates.length > 0 && <div class="gates">Gates: {gates.join('; ')}</div>}
            </li>
          );
        })}
      </ol>
      <div class="buttons">
        {verb('Pause', 'PauseRollout', `The rollout of v${r.version} of topic "${name}" will hold at step ${r.step + 1}: no step is applied and the bake clock stops until it is resumed.`, { reason: true, applies: r.state === 'ROLLOUT_STATE_RUNNING' })}
        {verb('Resume', 'ResumeRollout', `The rollout of v${r.version} of topic "${name}" will go on from step ${r.step + 1} with the bake it had left.`, { applies: r.state === 'ROLLOUT_STATE_PAUSED' })}
        {verb('Promote', 'PromoteRollout', next < steps.length ? `Step ${next + 1} of ${steps.length} of the rollout of v${r.version} of topic "${name}" will be applied now, skipping the bake and gates of step ${next}.` : `v${r.version} becomes the latest version of topic "${name}" for everyone now.`, { applies: active })}
        {verb('Promote', 'PromoteRollout', `v${r.version} becomes the latest version of topic "${name}" for everyone now, skipping the remaining steps.`, { full: true, applies: active })}
        {verb('Cancel', 'CancelRollout', `v${r.version} of topic "${name}" will be withdrawn: every consumer holding it moves back to what it had before. The record and its history stay.`, { reason: true, applies: active })}
      </div>
    </section>
  );
}

const GROUP_PAGE = 25;

function ConsumersSection({ d, name, acted }: { d: DescribeTopic; name: string; acted: number }) {
  const [page, setPage] = useState(0);
  const c = d.consumers;
  // The chart's moves come after the page is drawn, and again only after the caller acts; they
  // are walked back from the counts of the moment they were read.
  const counts = useRef(c?.versions ?? []);
  counts.current = c?.versions ?? [];
  const [chart, setChart] = useState<{ series: Series; truncated: boolean } | 'loading' | string>('loading');
  useEffect(() => {
    call<{ moves: ConsumerMove[]; truncated: boolean }>('operator', 'ListMoves', { topic: name, pageSize: 1000 })
      .then((m) => setChart({ series: seriesOf(m.moves, counts.current, Date.now()), truncated: m.truncated }))
      .catch((err: unknown) => setChart(errorText(err)));
  }, [name, acted]);
  if (!c) {
    return (
      <section aria-labelledby="consumers">
        <h2 id="consumers">Consumers</h2>
        <p>The audit sink cannot say who consumes this topic: {d.consumersError}</p>
      </section>
    );
  }
  const pages = Math.max(1, Math.ceil(c.groups.length / GROUP_PAGE));
  return (
    <section aria-labelledby="consumers">
      <h2 id="consumers">Consumers</h2>
      <p data-testid="consumers-summary">
        {c.nodeCount} nodes ({c.liveCount} still polling) since {time(c.sinceMs)}: {c.versions.map((v) => `v${v.version} on ${v.nodeCount}`).join(', ') || 'none'}
      </p>
      {c.groups.length > 0 && (
        <>
          <Table head={['App', 'Cluster', 'Region', 'Nodes', 'Versions held', 'Last seen']} testid="consumer-groups" caption="By app, cluster and region">
            {c.groups.slice(page * GROUP_PAGE, page * GROUP_PAGE + GROUP_PAGE).map((g) => (
              <tr key={`${g.app}/${g.cluster}/${g.region}`}>
                <td>{g.app || '—'}</td>
                <td>{g.cluster || '—'}</td>
                <td>{g.region || '—'}</td>
                <td>{g.nodeCount}</td>
                <td>{g.versions.map((v) => `v${v.version}: ${v.nodeCount}`).join(', ')}</td>
                <td>{time(g.lastSeenMs)}</td>
              </tr>
            ))}
          </Table>
          <Pager page={page} pages={pages} onPage={setPage} label="Consumer group pages" />
        </>
      )}
      {chart === 'loading' && <p>Loading the chart of consumers per version…</p>}
      {typeof chart === 'string' && chart !== 'loading' && <p>No chart: ListMoves answered {chart}</p>}
      {typeof chart === 'object' && chart.series.versions.length > 0 && (
        <figure>
          <ConsumersChart series={chart.series} />
          <figcaption>Nodes per version over time, from the consumers' moves (ListMoves){chart.truncated ? ': the newest 1000 moves only' : ' of the last 24 hours'}.</figcaption>
        </figure>
      )}
    </section>
  );
}

/** Rows a page of versions or history. */
const PAGE = 20;

function VersionsSection({ name, tick, act, by }: { name: string; tick: number; act: Act; by: string }) {
  const { page, error, pager } = useTokenPages(
    (pageToken) => call<{ versions: VersionRecord[]; nextPageToken: string }>('consumer', 'ListVersions', { topic: name, pageSize: PAGE, pageToken }),
    'Version pages',
    [name, tick],
  );
  return (
    <section aria-labelledby="versions">
      <h2 id="versions">Versions</h2>
      <ErrorLine error={error} />
      {page && (
        <>
          <Table head={['Version', 'Published', 'Size', 'sha256', 'Metadata', 'Scopes', 'Signer', 'Actions']} testid="versions">
            {page.versions.map((v) => (
              <tr key={v.version}>
                <td>v{v.version}</td>
                <td>{time(v.publishedAtMs)}</td>
                <td>{bytes(v.pointer?.size ?? 0)}</td>
                <td>
                  <code title={v.pointer?.sha256}>{v.pointer?.sha256.slice(0, 12)}…</code>
                </td>
                <td>{Object.entries(v.metadata).map(([k, x]) => `${k}=${x}`).join(', ') || '—'}</td>
                <td>{v.scopes.length ? v.scopes.map(scopeText).join('; ') : 'everyone'}</td>
                <td>{v.signature ? <code>{v.signature.keyId}</code> : 'unsigned'}</td>
                <td class="buttons">
                  {act(
                    'operate',
                    `Pin v${v.version}`,
                    () => ({
                      title: `Pin topic ${name} to v${v.version}`,
                      change: ({ scope }) =>
                        `${Object.keys(scope.match).length === 0 ? `Every consumer of topic "${name}"` : `Consumers of topic "${name}" matching ${scopeText(scope)}`} will be forced to version ${v.version} (even an older one), replacing any pin on that scope, until it is unpinned.`,
                      confirmLabel: 'Pin',
                      reason: 'required',
                      scope: 'optional',
                      run: async ({ scope, reason }) => void (await call('operator', 'Pin', { topic: name, version: v.version, scope, reason, createdBy: by })),
                    }),
                    { testid: `pin-${v.version}` },
                  )}
                  {act('publish', `Add scope to v${v.version}`, () => ({
                    title: `Add a scope to v${v.version} of ${name}`,
                    change: ({ scope }) => `Version ${v.version} of topic "${name}" will also be served to consumers matching ${scopeText(scope)} (scopes only grow).`,
                    confirmLabel: 'Add scope',
                    scope: 'required',
                    run: async ({ scope }) => void (await call('publisher', 'AddScopes', { topic: name, version: v.version, scopes: [scope] })),
                  }), { text: 'Add scope' })}
                </td>
              </tr>
            ))}
          </Table>
          {pager}
        </>
      )}
    </section>
  );
}

function HistorySection({ name, tick }: { name: string; tick: number }) {
  const { page, error, pager } = useTokenPages(
    (pageToken) => call<{ changes: Change[]; nextPageToken: string }>('operator', 'ListHistory', { topic: name, pageSize: PAGE, pageToken }),
    'History pages',
    [name, tick],
  );
  return (
    <section aria-labelledby="history">
      <h2 id="history">Change history</h2>
      <ErrorLine error={error} />
      {page && (
        <>
          <Table head={['At', 'Change', 'Version', 'By', 'Details']} testid="history">
            {page.changes.map((c, i) => (
              <tr key={`${c.atMs}-${i}`}>
                <td>{time(c.atMs)}</td>
                <td>{c.kind.replace('CHANGE_KIND_', '').toLowerCase().replace('_', ' ')}</td>
                <td>{Number(c.version) > 0 ? `v${c.version}` : ''}</td>
                <td>{c.by?.principal || c.by?.peer || '—'}</td>
                <td>{[c.scopes.length ? `scopes: ${c.scopes.map(scopeText).join('; ')}` : '', c.reason && `reason: ${c.reason}`, ...Object.entries(c.details).filter(([, v]) => v !== '').map(([k, v]) => `${k}: ${v}`)].filter(Boolean).join('; ')}</td>
              </tr>
            ))}
          </Table>
          {pager}
        </>
      )}
    </section>
  );
}
