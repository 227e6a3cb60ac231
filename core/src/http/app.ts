import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Koa from 'koa';
import { createRequire } from 'node:module';
import { accessLogger, requestContext, type Logger } from '../services/logger.js';
import { errorMiddleware } from './errors.js';
import type { RouteTable } from './routeTable.js';

export interface AppDeps {
  log: Logger;
  /** The built web app (ui/dist), served at / with a fallback to index.html for its routes. */
  uiDir?: string;
  routes: RouteTable;
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  openapi: () => Record<string, unknown>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PlugChat API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="docs"></div><script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#docs', deepLinking: true });`;

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: process.env.TRUST_PROXY === '1' });
  const log = deps.log;
  // Locate the docs assets without importing swagger-ui-dist (its index loads the whole UI bundle).
  // Koa reports stream errors here (its default prints to stderr): a client that goes away
  // from a stream (SSE, downloads) is routine, anything else is logged as an error.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET' || err.code === 'EPIPE') log.debug({ err: err.message }, 'client went away');
    else log.error({ err }, 'http server error');
  });
  const uiIndexFile = deps.uiDir && path.join(deps.uiDir, 'index.html');
  const uiIndex = uiIndexFile && existsSync(uiIndexFile) ? readFileSync(uiIndexFile, 'utf8') : undefined;
  const swaggerDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

  // Request id, context for log lines, and an access log line per request.
  const access = accessLogger(log);
  app.use(async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await requestContext.run({ requestId }, next);
    } finally {
      access({ reqId: requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  });
  app.use(errorMiddleware(log, (p) => deps.routes.methodsFor(p)));
  // The core's own fixed pages, matched once on the path; everything else goes on to the routes.
  // (The pass-through stays a plain function: every async function a request passes through is a
  // promise, and each promise pays for the async context hooks.)
  app.use((ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    const p = ctx.path;
    if (ctx.method !== 'GET' || !(p === '/' || p === '/health' || p === '/ready' || p.startsWith('/api/openapi') || p.startsWith('/api/docs'))) return next();
    return fixedPage(ctx, next);
  });
  const fixedPage = async (ctx: Koa.Context, next: Koa.Next) => {
    const p = ctx.path;
    if (p === '/health') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (p === '/ready') {
      const r = await deps.ready();
      ctx.status = r.ok ? 200 : 503;
      ctx.body = { status: r.ok ? 'ready' : 'not_ready', checks: r.checks };
      return;
    }
    if (p === '/' && !uiIndex) {
      // Without a built web app, send people to the browsable API.
      ctx.redirect('/api/docs');
      return;
    }
    if (p === '/api/openapi.json') {
      ctx.body = deps.openapi();
      return;
    }
    if (p === '/api/docs' || p === '/api/docs/') {
      ctx.type = 'html';
      ctx.body = DOCS_HTML;
      return;
    }
    if (p === '/api/docs/init.js') {
      ctx.type = 'application/javascript';
      ctx.body = DOCS_INIT;
      return;
    }
    const asset = /^\/api\/docs\/(swagger-ui\.css|swagger-ui-bundle\.js)$/.exec(p);
    if (asset) {
      ctx.type = path.extname(asset[1]!);
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = readFileSync(path.join(swaggerDir, asset[1]!));
      return;
    }
    await next();
  };
  if (uiIndex) {
    // A browser opening one of the web app's pages gets the page even where an API answers the same
    // path to API clients (GET /instances is also the integrator API's list): a GET that prefers
    // HTML and carries no Client-Token is a page view. The instance API's paths are never pages.
    app.use((ctx, next) => {
      if (ctx.method !== 'GET' || ctx.get('client-token') || ctx.path.startsWith('/api/') || /^\/instances\/[^/]+\/token\//.test(ctx.path) || path.extname(ctx.path)) return next();
      if (ctx.accepts('json', 'html') !== 'html' || !deps.routes.methodsFor(ctx.path).length) return next();
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = uiIndex;
    });
  }
  app.use(deps.routes.middleware());
  if (uiIndex) {
    const root = path.resolve(deps.uiDir!);
    app.use(async (ctx, next) => {
      // The API's paths (and the instance API's, under /instances/{id}/token/) never get the web app's page.
      if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/') || /^\/instances\/[^/]+\/token\//.test(ctx.path)) return next();
      const file = path.resolve(root, '.' + decodeURIComponent(ctx.path));
      if (file.startsWith(root + path.sep) && existsSync(file) && statSync(file).isFile()) {
        ctx.type = path.extname(file);
        // Hashed assets never change; index.html must always be fresh.
        ctx.set('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
        ctx.body = createReadStream(file);
        return;
      }
      if (ctx.accepts('html') === 'html' && !path.extname(ctx.path)) {
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-cache');
        ctx.body = uiIndex;
        return;
      }
      return next();
    });
  }
  return app;
}
