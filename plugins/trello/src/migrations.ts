import { timestampColumn, type Migration } from '@plugchat/core';

export const migrations: Migration[] = [
  {
    name: '0001_trello',
    async up({ knex }) {
      const ts = timestampColumn;
      await knex.schema.createTable('trello_connections', (t) => {
        t.string('account_id', 36).primary();
        t.text('api_key_sealed').notNullable();
        t.text('token_sealed').notNullable();
        t.text('secret_sealed').nullable();
        t.string('member_id', 64).notNullable();
        t.string('member_name', 200).notNullable();
        t.string('member_username', 200).notNullable();
        t.string('status', 20).notNullable();
        t.string('base_url', 500).notNullable();
        t.json('defaults').notNullable();
        t.json('queue_defaults').notNullable();
        t.json('automation').notNullable();
        t.json('webhooks').notNullable();
        ts(t, 'created_at');
        ts(t, 'updated_at');
      });
      await knex.schema.createTable('trello_cards', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('attendance_id', 36).notNullable();
        t.string('trello_id', 64).nullable();
        t.string('short_link', 32).nullable();
        t.string('url', 500).nullable();
        t.text('name').notNullable();
        t.string('board_id', 64).nullable();
        t.string('list_id', 64).nullable();
        t.string('list_name', 300).nullable();
        ts(t, 'due', true);
        t.json('labels').notNullable();
        t.json('member_ids').notNullable();
        t.boolean('closed').notNullable().defaultTo(false);
        t.string('status', 20).notNullable();
        t.text('error').nullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.json('request').notNullable();
        t.string('created_by', 36).nullable();
        ts(t, 'created_at');
        ts(t, 'updated_at');
        t.index(['account_id', 'attendance_id']);
        // A webhook names the card by Trello's id.
        t.index(['account_id', 'trello_id']);
      });
    },
  },
];
