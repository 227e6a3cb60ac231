import { timestampColumn, type Migration } from '@plugchat/core';

export const migrations: Migration[] = [
  {
    name: '0001_billing',
    async up({ knex }) {
      const ts = timestampColumn;
      await knex.schema.createTable('billing_instances', (t) => {
        t.string('instance_id', 40).primary();
        t.string('account_id', 36).notNullable().index();
        t.string('name', 200).notNullable();
        t.string('status', 20).notNullable();
        ts(t, 'trial_ends_at');
        ts(t, 'subscribed_at', true);
        ts(t, 'cancelled_at', true);
        ts(t, 'ends_at', true);
        ts(t, 'deleted_at', true);
        t.boolean('suspended').notNullable().defaultTo(false);
        ts(t, 'created_at');
        ts(t, 'updated_at');
        t.index(['status', 'trial_ends_at']);
      });
      await knex.schema.createTable('billing_spans', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('instance_id', 40).notNullable().index();
        ts(t, 'start_at');
        ts(t, 'end_at', true);
        t.index(['account_id', 'start_at']);
      });
      await knex.schema.createTable('billing_invoices', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        // Sequential across the installation; the database refuses a second use.
        t.integer('number').notNullable().unique();
        t.string('period', 7).notNullable();
        t.string('status', 10).notNullable();
        t.string('currency', 3).notNullable();
        t.integer('total_cents').notNullable();
        ts(t, 'issued_at');
        ts(t, 'due_at');
        ts(t, 'paid_at', true);
        t.string('provider', 30).notNullable();
        t.string('provider_ref', 200).nullable();
        t.string('pay_url', 1000).nullable();
        // One invoice per account and month, however often the close runs.
        t.unique(['account_id', 'period']);
        t.index(['status', 'due_at']);
      });
      await knex.schema.createTable('billing_invoice_lines', (t) => {
        t.string('invoice_id', 36).notNullable();
        t.string('instance_id', 40).notNullable();
        t.string('account_id', 36).notNullable();
        t.string('description', 300).notNullable();
        t.integer('days').notNullable();
        t.integer('days_in_month').notNullable();
        t.integer('unit_cents').notNullable();
        t.integer('amount_cents').notNullable();
        t.primary(['invoice_id', 'instance_id']);
      });
    },
  },
];
