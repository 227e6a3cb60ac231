import type { Migration } from '../services/migrations.js';

/** The core's own schema. Append only. */
export const coreMigrations: Migration[] = [
  {
    name: '0001_identity',
    async up({ knex }) {
      await knex.schema.createTable('core_accounts', (t) => {
        t.string('id', 36).primary();
        t.string('name', 200).notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
      });
      await knex.schema.createTable('core_users', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable().references('id').inTable('core_accounts');
        t.string('email', 320).notNullable().unique();
        t.string('name', 200).notNullable();
        t.string('password_hash', 300).notNullable();
        t.string('role', 20).notNullable();
        t.boolean('operator').notNullable().defaultTo(false);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('disabled_at', { useTz: true }).nullable();
        t.index(['account_id']);
      });
      await knex.schema.createTable('core_sessions', (t) => {
        t.string('id', 36).primary();
        t.string('token_hash', 64).notNullable().unique();
        t.string('user_id', 36).notNullable().references('id').inTable('core_users').onDelete('CASCADE');
        t.string('account_id', 36).notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('expires_at', { useTz: true }).notNullable();
      });
      await knex.schema.createTable('core_api_keys', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable().references('id').inTable('core_accounts');
        t.string('name', 200).notNullable();
        t.string('prefix', 20).notNullable();
        t.string('key_hash', 64).notNullable().unique();
        t.string('role', 20).notNullable();
        t.string('created_by', 36).nullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('last_used_at', { useTz: true }).nullable();
        t.timestamp('revoked_at', { useTz: true }).nullable();
        t.index(['account_id']);
      });
    },
  },
  {
    name: '0002_settings_and_secrets',
    async up({ knex }) {
      await knex.schema.createTable('core_settings', (t) => {
        t.string('plugin', 100).notNullable();
        t.string('key', 200).notNullable();
        t.text('value').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.string('updated_by', 36).nullable();
        t.primary(['plugin', 'key']);
      });
      await knex.schema.createTable('core_secrets', (t) => {
        t.string('plugin', 100).notNullable();
        t.string('name', 200).notNullable();
        t.text('value').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['plugin', 'name']);
      });
      // A single row that makes first-run setup happen once, even with concurrent requests.
      await knex.schema.createTable('core_installation', (t) => {
        t.integer('id').primary();
        t.timestamp('set_up_at', { useTz: true }).notNullable();
      });
    },
  },
  {
    name: '0003_cluster',
    async up({ knex }) {
      // The processes sharing a PostgreSQL database (unused in embedded mode, which is one process).
      await knex.schema.createTable('core_nodes', (t) => {
        t.string('id', 36).primary();
        t.string('host', 255).notNullable();
        t.integer('pid').notNullable();
        t.timestamp('started_at', { useTz: true }).notNullable();
        t.timestamp('heartbeat_at', { useTz: true }).notNullable();
        t.boolean('stopping').notNullable().defaultTo(false);
      });
      // Cluster messages too large for a notification.
      await knex.schema.createTable('core_cluster_payloads', (t) => {
        t.string('id', 36).primary();
        t.text('payload').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
      });
    },
  },
  {
    name: '0004_sessions_by_user',
    async up({ knex }) {
      // A user's sessions are looked up at each sign-in (to drop the expired ones) and when the user
      // is disabled or their password changes.
      await knex.schema.alterTable('core_sessions', (t) => {
        t.index(['user_id']);
      });
    },
  },
];
