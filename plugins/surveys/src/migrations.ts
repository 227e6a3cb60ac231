import { timestampColumn, type Migration } from '@plugchat/core';

export const migrations: Migration[] = [
  {
    name: '0001_surveys',
    async up({ knex }) {
      const ts = timestampColumn;
      await knex.schema.createTable('surveys_definitions', (t) => {
        t.string('account_id', 36).primary();
        t.boolean('enabled').notNullable();
        t.string('kind', 10).notNullable();
        t.text('question').notNullable();
        t.text('thanks').notNullable();
        t.text('follow_up').nullable();
        t.integer('follow_up_at_or_below').notNullable();
        t.integer('window_hours').notNullable();
        t.json('queue_ids').notNullable();
        t.json('skip_label_ids').notNullable();
        t.integer('min_days_between').notNullable();
        ts(t, 'updated_at');
      });
      await knex.schema.createTable('surveys_surveys', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('instance_id', 40).notNullable();
        t.string('attendance_id', 36).notNullable();
        t.integer('attendance_number').notNullable();
        t.string('contact_id', 36).notNullable();
        t.string('phone', 30).notNullable();
        t.string('agent_id', 36).nullable();
        t.string('queue_id', 36).nullable();
        t.text('label_ids').notNullable();
        t.string('kind', 10).notNullable();
        t.string('status', 20).notNullable();
        t.string('reason', 30).nullable();
        ts(t, 'resolved_at');
        ts(t, 'sent_at', true);
        ts(t, 'expires_at', true);
        t.string('question_id', 40).nullable();
        t.integer('rating').nullable();
        t.string('rating_wa_id', 100).nullable();
        ts(t, 'rated_at', true);
        t.text('comment').nullable();
        t.string('comment_wa_id', 100).nullable();
        ts(t, 'created_at');
        // One survey per resolution, however often the resolved event is delivered.
        t.unique(['attendance_id', 'resolved_at']);
        // The open survey of a contact on a number (every incoming message asks), and the last one sent (the N-days rule).
        t.index(['account_id', 'phone', 'status']);
        t.index(['account_id', 'created_at']);
        t.index(['status', 'expires_at']);
        t.index(['attendance_id']);
      });
    },
  },
  {
    name: '0002_polls',
    async up({ knex }) {
      // The question may go as a WhatsApp poll; a vote names the poll by its WhatsApp id.
      await knex.schema.alterTable('surveys_definitions', (t) => {
        t.boolean('as_poll').notNullable().defaultTo(false);
      });
      await knex.schema.alterTable('surveys_surveys', (t) => {
        t.string('question_wa_id', 100).nullable();
      });
    },
  },
];
