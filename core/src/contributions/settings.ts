import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Knex } from '@mikro-orm/knex';
import { ConfigError } from '../services/config.js';
import { badRequest, notFound } from '../api/errors.js';
import { toDisposable, type Disposable } from '../host/disposable.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface SettingDescriptor {
  key: string;
  schema: Record<string, unknown>;
  value: unknown;
  source: 'default' | 'config' | 'changed';
}

interface PluginSettingsState {
  schemas: Record<string, Record<string, unknown>>;
  validators: Map<string, ValidateFunction>;
  values: Map<string, unknown>;
  sources: Map<string, SettingDescriptor['source']>;
  listeners: Set<(key: string, value: unknown) => void>;
}

const TABLE = 'core_settings';

/**
 * Settings declared by plugins as JSON Schema per key. Values come from the
 * schema default, then plugins.config.json, then changes made through the API
 * (kept in the database). Every value is validated when it is set.
 */
export class SettingsRegistry {
  private readonly ajv = addFormats(new Ajv({ allErrors: true, useDefaults: false, strict: false }));
  private readonly plugins = new Map<string, PluginSettingsState>();

  constructor(private readonly configFile: string) {}

  /**
   * Registers a plugin's schemas and applies config values. Config problems throw
   * ConfigError (the process stops: a typo in the config file must not go unnoticed).
   */
  declare(pluginId: string, schemas: Record<string, Record<string, unknown>>, fromConfig: Record<string, unknown> = {}): void {
    const state: PluginSettingsState = { schemas, validators: new Map(), values: new Map(), sources: new Map(), listeners: new Set() };
    for (const [fullKey, schema] of Object.entries(schemas)) {
      let validate: ValidateFunction;
      try {
        validate = this.ajv.compile(schema);
      } catch (err) {
        throw new ConfigError(`plugin ${pluginId} manifest`, `plugchat.contributes.settings.${fullKey}`, `is not a valid JSON Schema: ${(err as Error).message}`);
      }
      state.validators.set(fullKey, validate);
      if ('default' in schema) {
        state.values.set(fullKey, structuredClone(schema.default));
        state.sources.set(fullKey, 'default');
      }
    }
    const short = (k: string) => k.slice(pluginId.length + 1);
    for (const [key, value] of Object.entries(fromConfig)) {
      const fullKey = key.startsWith(`${pluginId}.`) ? key : `${pluginId}.${key}`;
      const validate = state.validators.get(fullKey);
      const where = `plugins.${pluginId}.settings.${key}`;
      if (!validate) {
        const known = Object.keys(schemas).map(short);
        throw new ConfigError(this.configFile, where, `is not a setting of ${pluginId}; known settings: ${known.join(', ') || '(none)'}`);
      }
      if (!validate(value)) throw new ConfigError(this.configFile, where, describeErrors(validate, schemas[fullKey]!));
      state.values.set(fullKey, value);
      state.sources.set(fullKey, 'config');
    }
    for (const fullKey of Object.keys(schemas)) {
      if (!state.values.has(fullKey) && !state.validators.get(fullKey)!(undefined)) {
        throw new ConfigError(this.configFile, `plugins.${pluginId}.settings.${short(fullKey)}`, 'is required (it has no default)');
      }
    }
    this.plugins.set(pluginId, state);
  }

  /** Applies changes saved through the API on an earlier run; values that no longer validate are skipped. */
  async loadOverrides(knex: Knex, onInvalid: (plugin: string, key: string, reason: string) => void): Promise<void> {
    const rows: { plugin: string; key: string; value: string }[] = await knex(TABLE).select('plugin', 'key', 'value');
    for (const row of rows) {
      const state = this.plugins.get(row.plugin);
      const validate = state?.validators.get(row.key);
      if (!state || !validate) continue;
      const value = JSON.parse(row.value);
      if (!validate(value)) {
        onInvalid(row.plugin, row.key, describeErrors(validate, state.schemas[row.key]!));
        continue;
      }
      state.values.set(row.key, value);
      state.sources.set(row.key, 'changed');
    }
  }

  forget(pluginId: string): void {
    this.plugins.delete(pluginId);
  }

  has(pluginId: string): boolean {
    return this.plugins.has(pluginId);
  }

  get(pluginId: string, key: string): unknown {
    const state = this.plugins.get(pluginId);
    const fullKey = key.startsWith(`${pluginId}.`) ? key : `${pluginId}.${key}`;
    if (!state?.validators.has(fullKey)) throw new Error(`Setting "${fullKey}" is not declared in the manifest of ${pluginId}`);
    return state.values.get(fullKey);
  }

  list(pluginId: string): SettingDescriptor[] {
    const state = this.plugins.get(pluginId);
    if (!state) throw notFound('Plugin');
    return Object.entries(state.schemas).map(([key, schema]) => ({
      key,
      schema,
      value: state.values.get(key),
      source: state.sources.get(key) ?? 'default',
    }));
  }

  /** Validates and persists a batch of changes; all or nothing. */
  async change(knex: Knex, pluginId: string, changes: Record<string, unknown>, userId?: string): Promise<string[]> {
    const state = this.plugins.get(pluginId);
    if (!state) throw notFound('Plugin');
    const issues: { path: string; message: string }[] = [];
    const normalized: [string, unknown][] = [];
    for (const [key, value] of Object.entries(changes)) {
      const fullKey = key.startsWith(`${pluginId}.`) ? key : `${pluginId}.${key}`;
      const validate = state.validators.get(fullKey);
      if (!validate) issues.push({ path: key, message: `is not a setting of ${pluginId}` });
      else if (!validate(value)) issues.push({ path: key, message: describeErrors(validate, state.schemas[fullKey]!) });
      else normalized.push([fullKey, value]);
    }
    if (issues.length) throw badRequest(`Invalid settings: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
    await knex.transaction(async (trx) => {
      for (const [key, value] of normalized) {
        await trx(TABLE)
          .insert({ plugin: pluginId, key, value: JSON.stringify(value), updated_at: new Date(), updated_by: userId ?? null })
          .onConflict(['plugin', 'key'])
          .merge();
      }
    });
    for (const [key, value] of normalized) {
      state.values.set(key, value);
      state.sources.set(key, 'changed');
      for (const l of state.listeners) l(key, value);
    }
    return normalized.map(([k]) => k);
  }

  /** A change another process saved: validated again, then applied like a local one. */
  applyRemote(pluginId: string, fullKey: string, value: unknown): boolean {
    const state = this.plugins.get(pluginId);
    const validate = state?.validators.get(fullKey);
    if (!state || !validate || !validate(value)) return false;
    state.values.set(fullKey, value);
    state.sources.set(fullKey, 'changed');
    for (const l of state.listeners) l(fullKey, value);
    return true;
  }

  onDidChange(pluginId: string, listener: (key: string, value: unknown) => void): Disposable {
    const state = this.plugins.get(pluginId);
    state?.listeners.add(listener);
    return toDisposable(() => void state?.listeners.delete(listener));
  }
}

function describeErrors(validate: ValidateFunction, schema: Record<string, unknown>): string {
  const e = validate.errors?.[0];
  if (!e) return 'is invalid';
  const at = e.instancePath ? ` at ${e.instancePath}` : '';
  return `${e.message}${at} (expected ${JSON.stringify(schema)})`;
}
