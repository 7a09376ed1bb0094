/**
 * What the console's browser tests (and its screenshots) share: a real all-role server with an
 * HTTP port (the console and the REST API on it), topics published through a real client, real
 * polling Subscribers, and pages of a headless Chromium that remember every console error and
 * page error, with axe-core at hand.
 */
import axe from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { ImprintClient, Subscriber, type Subscription } from '../../client/index.js';
import { parseRolloutSteps, validateRolloutPolicy, type ConsumerIdentity, type Version } from '../../core/index.js';
import { silentLogger } from '../../log/index.js';
import { startImprintServer, type ImprintServer, type ServerOptions } from '../../server/index.js';
import { directPointer, tempDir } from '../helpers.js';

export interface Fleet {
  readonly server: ImprintServer;
  /** http://127.0.0.1:PORT/console/ */
  readonly consoleUrl: string;
  /** The REST API's root, http://127.0.0.1:PORT */
  readonly base: string;
  readonly admin: ImprintClient;
  /** Its subscribers by node id. */
  readonly subs: Map<string, Subscription<string>>;
  /** Starts polling subscribers (every 200 ms) of `topic` with these identities; resolves once each holds a version. */
  follow(topic: string, ids: readonly ConsumerIdentity[]): Promise<void>;
  stop(): Promise<void>;
}

export function scorer(nodeId: string, cluster = 'c1', region = 'eu-west-1'): ConsumerIdentity {
  return { app: 'scorer', cluster, region, nodeId, labels: {} };
}

/** A server (rollout driver ticking every 100 ms) and a client; `token` for a server that authenticates. */
export async function startFleet(opts: Partial<ServerOptions> = {}, token?: string): Promise<Fleet> {
  const server = await startImprintServer({ dataDir: tempDir(), port: 0, httpPort: 0, log: silentLogger, rolloutDriver: { tickMs: 100 }, ...opts });
  const address = `127.0.0.1:${server.port}`;
  const admin = new ImprintClient({ address, ...(token && { token }) });
  const subscribers: Subscriber[] = [];
  const subs = new Map<string, Subscription<string>>();
  const base = `http://127.0.0.1:${server.http?.port}`;
  return {
    server,
    base,
    consoleUrl: `${base}/console/`,
    admin,
    subs,
    async follow(topic, ids) {
      for (const identity of ids) {
        const s = new Subscriber({ client: new ImprintClient({ address, app: identity.app, ...(token && { token }) }), identity, mode: 'poll', intervalMs: 200, jitter: 0 });
        subscribers.push(s);
        subs.set(identity.nodeId, s.subscribe(topic, { decode: (b) => b.toString() }));
      }
      await Promise.all([...subs.values()].map((s) => s.ready()));
    },
    async stop() {
      await Promise.all(subscribers.map((s) => s.close()));
      admin.close();
      await server.stop({ drain: false });
    },
  };
}

/** Publishes `text` to `topic`; its version. */
export async function publish(admin: ImprintClient, topic: string, text: string): Promise<Version> {
  return (await admin.publishPointer(topic, directPointer(text))).version;
}

export const rolloutPolicy = (steps: string) => validateRolloutPolicy({ steps: parseRolloutSteps(steps) });

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught page errors so far. */
  readonly errors: string[];
}

/** A page of its own context (its own sessionStorage), with `token` saved as the console's bearer token. */
export async function openConsole(browser: Browser, url: string, token?: string): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // (Scripts that run in the page are strings: this project's TypeScript has no DOM types.)
  if (token) await context.addInitScript(`sessionStorage.setItem('imprint-console-token', ${JSON.stringify(token)})`);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return { page, errors };
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: string[];
}

/** axe-core's violations on the page as it is now (WCAG 2.x A and AA, and best practices). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axe.source });
  const run = `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.html) })))`;
  return (await page.evaluate(run)) as AxeViolation[];
}
