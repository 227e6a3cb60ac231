import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { EntityManager } from '@mikro-orm/knex';
import type { Caller, PluginRouter, RouteContext, RouteDefinition } from '../api/routes.js';
import { scopeToAccount } from '../api/tenant.js';
import { toDisposable, type Disposable } from '../host/disposable.js';
import type { IdentityService } from '../identity/service.js';
import type { Logger } from '../services/logger.js';
import { authorize } from './auth.js';
import { readJsonBody } from './body.js';
import { parseOrThrow } from './validation.js';

export interface MountedRouter {
  owner: string;
  router: PluginRouter;
  middleware: Middleware;
  koaRouter: Router;
}

export interface RouteDeps {
  identity: IdentityService;
  em: EntityManager;
  bodyLimit: string;
  log: Logger;
}

/**
 * Every router the core and the plugins registered. A single Koa middleware
 * walks the current list, so a plugin's routes disappear the moment its
 * registration is disposed (Koa itself cannot remove middleware).
 */
export class RouteTable {
  private mounted: MountedRouter[] = [];
  private composed: Middleware = (_ctx, next) => next();

  constructor(private readonly deps: RouteDeps) {}

  mount(owner: string, router: PluginRouter): Disposable {
    const koaRouter = new Router({ prefix: router.prefix });
    for (const def of router.routes) koaRouter[def.method](def.path || '/', this.handler(owner, def));
    const entry: MountedRouter = { owner, router, middleware: koaRouter.routes() as unknown as Middleware, koaRouter };
    this.mounted.push(entry);
    this.recompose();
    return toDisposable(() => {
      this.mounted = this.mounted.filter((m) => m !== entry);
      this.recompose();
    });
  }

  all(): readonly MountedRouter[] {
    return this.mounted;
  }

  /** The methods some route answers on this path (for a 405 that names them). */
  methodsFor(path: string): string[] {
    const methods = new Set<string>();
    for (const m of this.mounted) for (const layer of m.koaRouter.match(path, 'GET').path) for (const method of layer.methods) methods.add(method);
    return [...methods];
  }

  middleware(): Middleware {
    return (ctx, next) => this.composed(ctx, next);
  }

  /**
   * One dispatcher over the routers, entering only those whose prefix the path starts with (a
   * router matches every request against each of its routes, so walking all of them cost a
   * tenth of a request). Lower case both: routes match without regard to case.
   */
  private recompose() {
    const entries = this.mounted.map((m) => ({ prefix: m.router.prefix.toLowerCase(), middleware: m.middleware }));
    this.composed = (ctx, next) => {
      const path = ctx.path.toLowerCase();
      const dispatch = (i: number): Promise<unknown> => {
        for (; i < entries.length; i++) {
          const entry = entries[i]!;
          if (path.startsWith(entry.prefix)) return Promise.resolve(entry.middleware(ctx, () => dispatch(i + 1)));
        }
        return next();
      };
      return dispatch(0);
    };
  }

  private handler(owner: string, def: RouteDefinition) {
    const { identity, bodyLimit } = this.deps;
    const log = this.deps.log.child({ plugin: owner });
    return async (ctx: Context, _next: Next) => {
      const authorized = authorize(ctx, identity, def.spec);
      const caller = authorized instanceof Promise ? await authorized : authorized;
      const params = parseOrThrow(def.spec.params, ctx.params ?? {}, 'params');
      const query = parseOrThrow(def.spec.query, ctx.querystring ? { ...ctx.query } : {}, 'query');
      const body = def.spec.body ? parseOrThrow(def.spec.body, await readJsonBody(ctx, bodyLimit), 'body') : undefined;
      const result = await def.handler(new HandlerContext(params, query, body, caller as Caller, this.deps.em, log, ctx));
      // Through ctx.response, not ctx's delegated accessors, which V8 calls through its runtime.
      const res = ctx.response;
      if (res.body !== undefined && res.body !== null) return; // the handler wrote its own response
      if (result === undefined) res.status = def.spec.status ?? 204;
      else {
        res.status = def.spec.status ?? 200;
        res.body = result;
      }
    };
  }
}

/**
 * What a handler gets. A class, not an object literal with a getter: V8 builds the literal's
 * getter property by property, which on a busy route cost a twentieth of the request.
 */
class HandlerContext implements RouteContext<unknown, unknown, unknown> {
  private forked?: EntityManager;
  readonly requestId: string;

  constructor(
    readonly params: unknown,
    readonly query: unknown,
    readonly body: unknown,
    readonly auth: Caller,
    private readonly rootEm: EntityManager,
    readonly log: Logger,
    readonly koa: Context,
  ) {
    this.requestId = koa.state.requestId;
  }

  /** Forking a unit of work is not free: only handlers that use one get one. */
  get em(): EntityManager {
    if (!this.forked) {
      this.forked = this.rootEm.fork();
      if (this.auth) scopeToAccount(this.forked, this.auth.accountId);
    }
    return this.forked;
  }
}
