/** @plugchat/core: the only module plugins import. */
export { definePlugin } from './plugin.js';
export type { PluginContext, PluginDefinition, PluginSettings, PluginSecrets, PluginDb } from './plugin.js';
export { defineJob } from './jobs.js';
export type { JobDefinition, JobHandle, JobInfo, SendOptions } from './jobs.js';
export { createRouter, PluginRouter } from './routes.js';
export type { AuthMode, Caller, RouteContext, RouteSpec, RouteHandler, HttpMethod } from './routes.js';
export type { EventMap, EventName, EventListener } from './events.js';
export { ROLES, roleAtLeast } from './roles.js';
export type { Role } from './roles.js';
export { tenantScoped, scopeToAccount, scopeToSystem, TENANT_FILTER } from './tenant.js';
export * from './errors.js';
export { TOKENS } from './tokens.js';
export type { Disposable } from '../host/disposable.js';
export { toDisposable, DisposableStore } from '../host/disposable.js';
export type { PluginManifest } from '../host/manifest.js';
export type { Migration, MigrationContext } from '../services/migrations.js';
export { EntitySchema } from '@mikro-orm/core';
export { z } from 'zod';
