/**
 * The console's assets on the HTTP port (server/http/console.ts) over a real socket: /console
 * redirects to /console/, the page is HTML sent uncached, the hashed assets have their content
 * types and are cached for good, anything else under /console/ is 404, and the REST API beside
 * them is untouched. A console that was not built says how to build it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtConsoleDir, consoleRoutes } from '../../server/http/console.js';
import { startTestServer, type TestServer } from '../helpers.js';

describe('the console on the HTTP port', () => {
  let t: TestServer;
  let base: string;
  beforeAll(async () => {
    t = await startTestServer({ httpPort: 0 });
    base = `http://127.0.0.1:${t.server.http?.port}`;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('is built (npm run build) into dist/console, where the server finds it', () => {
    expect(builtConsoleDir()).toBe(path.resolve('dist/console'));
  });

  it('redirects /console to /console/, and sends the page uncached', async () => {
    const r = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('/console/');
    const page = await fetch(`${base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    expect(html).toContain('<div id="app"></div>');
    // Everything it loads is its own: no CDN, no web fonts.
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves the hashed assets the page names with their content types, cached for good; 404 otherwise', async () => {
    const html = await (await fetch(`${base}/console/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.map((a) => path.extname(a ?? '')).sort()).toEqual(['.css', '.js']);
    for (const a of assets) {
      const r = await fetch(`${base}/console/${a}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(a?.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(Buffer.from(await r.arrayBuffer()).equals(fs.readFileSync(path.join('dist/console', a ?? '')))).toBe(true);
    }
    for (const p of ['/console/assets/nope.js', '/console/../package.json', '/console/assets/', '/console/src/main.tsx']) {
      expect((await fetch(`${base}${p}`)).status, p).toBe(404);
    }
    // The REST API beside it answers as before.
    expect((await fetch(`${base}/v1/consumer/ListTopics`, { method: 'POST' })).status).toBe(200);
  });

  it('without a build, /console/ answers 404 saying how to build it', async () => {
    const app = Fastify();
    await consoleRoutes(undefined)(app);
    const r = await app.inject({ method: 'GET', url: '/console/' });
    expect(r.statusCode).toBe(404);
    expect(r.body).toContain('the web console is not built: run `npm run build`');
    await app.close();
  });
});
