import type { Context } from 'koa';
import type { EntityManager } from '@mikro-orm/knex';
import type { ZodType } from 'zod';
import type { Logger } from 'pino';
import type { Role } from './roles.js';

/**
 * Who may call a route. Default "any": a signed-in user (session cookie) or an
 * account API key. "public" must be chosen explicitly and is listed as such in OpenAPI.
 */
export type AuthMode = 'any' | 'user' | 'apiKey' | 'public';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  summary: string;
  description?: string;
  tags?: string[];
  auth?: AuthMode;
  /** Minimum role; implies authentication. */
  role?: Role;
  /** Only the installation's operators (who manage every account and global settings). */
  operator?: boolean;
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  /** Response body schema for the OpenAPI document. */
  response?: ZodType;
  /** Success status, default 200 (204 when the handler returns nothing). */
  status?: number;
}

/** The authenticated caller, always scoped to one account. */
export interface Caller {
  accountId: string;
  role: Role;
  via: 'session' | 'apiKey';
  userId?: string;
  apiKeyId?: string;
  operator: boolean;
}

export interface RouteContext<P = unknown, Q = unknown, B = unknown> {
  params: P;
  query: Q;
  body: B;
  /** Present on every non-public route. */
  auth: Caller;
  /**
   * An EntityManager for this request. Tenant-scoped entities are filtered to the
   * caller's account automatically; on public routes they cannot be read at all.
   */
  em: EntityManager;
  log: Logger;
  requestId: string;
  /** The raw Koa context, for streams, SSE and headers. Setting koa.body skips JSON encoding. */
  koa: Context;
}

export type RouteHandler<P, Q, B> = (c: RouteContext<P, Q, B>) => unknown | Promise<unknown>;

export interface RouteDefinition {
  method: HttpMethod;
  path: string;
  spec: RouteSpec<unknown, unknown, unknown>;
  handler: RouteHandler<unknown, unknown, unknown>;
}

/** A group of routes under one prefix; hand it to ctx.http.register(). */
export class PluginRouter {
  readonly routes: RouteDefinition[] = [];

  constructor(readonly prefix: string) {
    if (!/^(\/[a-z0-9][a-z0-9_-]*)+$/.test(prefix)) throw new Error(`Router prefix "${prefix}" must look like /api/my-plugin`);
  }

  private add<P, Q, B>(method: HttpMethod, path: string, spec: RouteSpec<P, Q, B>, handler: RouteHandler<P, Q, B>): this {
    if (path !== '' && !path.startsWith('/')) throw new Error(`Route path "${path}" must start with /`);
    this.routes.push({ method, path, spec: spec as RouteSpec, handler: handler as RouteHandler<unknown, unknown, unknown> });
    return this;
  }

  get<P = unknown, Q = unknown>(path: string, spec: RouteSpec<P, Q, never>, handler: RouteHandler<P, Q, undefined>) {
    return this.add('get', path, spec, handler);
  }
  post<P = unknown, Q = unknown, B = unknown>(path: string, spec: RouteSpec<P, Q, B>, handler: RouteHandler<P, Q, B>) {
    return this.add('post', path, spec, handler);
  }
  put<P = unknown, Q = unknown, B = unknown>(path: string, spec: RouteSpec<P, Q, B>, handler: RouteHandler<P, Q, B>) {
    return this.add('put', path, spec, handler);
  }
  patch<P = unknown, Q = unknown, B = unknown>(path: string, spec: RouteSpec<P, Q, B>, handler: RouteHandler<P, Q, B>) {
    return this.add('patch', path, spec, handler);
  }
  delete<P = unknown, Q = unknown>(path: string, spec: RouteSpec<P, Q, never>, handler: RouteHandler<P, Q, undefined>) {
    return this.add('delete', path, spec, handler);
  }
}

export function createRouter(prefix: string): PluginRouter {
  return new PluginRouter(prefix);
}
