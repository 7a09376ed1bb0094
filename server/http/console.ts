/**
 * The web console's assets (console/, bundled by scripts/build-console.mjs into dist/console),
 * served on the HTTP port:
 *  - GET /console: a redirect to /console/ (the page's asset and API URLs are relative to it);
 *  - GET /console/ (and /console/index.html): the page, never cached (a new build is seen at once);
 *  - GET /console/assets/NAME: a bundled file, its name carrying its content's hash, cached for good;
 *  - anything else under /console/: 404.
 * The page reads everything through the REST API (/v1/...), with the caller's own
 * authentication; nothing here reads the service or the poll path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRoutes } from './server.js';

export const CONSOLE_ROUTE = '/console';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * Where the built console is: dist/console beside the compiled server (dist/server/http/ in
 * the checkout and in the @imprint/server package), or the checkout's dist/console when the
 * server runs from its TypeScript sources (tsx, tests). Undefined when it was not built.
 */
export function builtConsoleDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.resolve(here, '..', '..', 'console'), path.resolve(here, '..', '..', 'dist', 'console')]) {
    if (fs.existsSync(path.join(dir, 'index.html')) && fs.existsSync(path.join(dir, 'assets'))) return dir;
  }
  return undefined;
}

/** The console's routes over the built assets in `dir` (builtConsoleDir(); every file read once, at start); undefined (not built): /console/ says how to build it. */
export function consoleRoutes(dir: string | undefined): HttpRoutes {
  const files = new Map<string, { body: Buffer; type: string }>();
  if (dir) {
    for (const name of fs.readdirSync(path.join(dir, 'assets'))) {
      files.set(`${CONSOLE_ROUTE}/assets/${name}`, { body: fs.readFileSync(path.join(dir, 'assets', name)), type: TYPES[path.extname(name)] ?? 'application/octet-stream' });
    }
  }
  const index = dir ? fs.readFileSync(path.join(dir, 'index.html')) : undefined;
  return (app) => {
    app.get(CONSOLE_ROUTE, (_req, reply) => reply.redirect(`${CONSOLE_ROUTE}/`, 301));
    app.get(`${CONSOLE_ROUTE}/*`, (req, reply) => {
      const p = req.url.split('?')[0] ?? '';
      if (p === `${CONSOLE_ROUTE}/` || p === `${CONSOLE_ROUTE}/index.html`) {
        if (!index) return reply.code(404).type('text/plain; charset=utf-8').send('the web console is not built: run `npm run build` (scripts/build-console.mjs)\n');
        return reply.header('cache-control', 'no-cache').type(TYPES['.html'] ?? '').send(index);
      }
      const f = files.get(p);
      if (!f) return reply.code(404).type('text/plain; charset=utf-8').send(`no console file ${p}\n`);
      return reply.header('cache-control', 'public, max-age=31536000, immutable').type(f.type).send(f.body);
    });
  };
}
