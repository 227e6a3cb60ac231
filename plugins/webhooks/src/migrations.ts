import { createIndex, dropIndex, type Migration } from '@plugchat/core';

export const migrations: Migration[] = [
  {
    name: '0001_endpoints_deliveries',
    async up({ knex }) {
      await knex.schema.createTable('webhooks_endpoints', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable().index();
        t.string('instance_id', 40).notNullable().index();
        t.text('url').notNullable();
        t.text('events').notNullable();
        t.text('headers_sealed').nullable();
        t.text('secret_sealed').notNullable();
        t.string('source', 10).notNullable();
        t.string('zapi_kind', 30).nullable();
        t.boolean('notify_sent_by_me').notNullable().defaultTo(false);
        t.boolean('paused').notNullable().defaultTo(false);
        t.boolean('failing').notNullable().defaultTo(false);
        t.integer('consecutive_failures').notNullable().defaultTo(0);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
      });
      await knex.schema.createTable('webhooks_deliveries', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('instance_id', 40).notNullable();
        t.string('endpoint_id', 36).notNullable();
        t.string('event_type', 40).notNullable();
        t.text('payload').notNullable();
        t.string('ordering_key', 100).nullable();
        t.bigInteger('seq').notNullable();
        t.string('status', 12).notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.integer('last_status_code').nullable();
        t.string('last_error', 500).nullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('delivered_at', { useTz: true }).nullable();
        t.index(['endpoint_id', 'status', 'seq']);
        t.index(['endpoint_id', 'ordering_key', 'seq']);
      });
      await knex.schema.createTable('webhooks_attempts', (t) => {
        t.increments('id');
        t.string('delivery_id', 36).notNullable().index();
        t.integer('attempt').notNullable();
        t.timestamp('at', { useTz: true }).notNullable();
        t.integer('status_code').nullable();
        t.integer('latency_ms').notNullable();
        t.string('response_excerpt', 1100).nullable();
        t.string('error', 500).nullable();
      });
    },
  },
  {
    name: '0002_next_attempt',
    async up({ knex }) {
      // When a pending delivery's next attempt is due: after a crash, the ones already due are
      // attempted at once instead of waiting for the queue to expire the dead process's job.
      await knex.schema.alterTable('webhooks_deliveries', (t) => {
        t.timestamp('next_attempt_at', { useTz: true }).nullable();
        // Held while an attempt runs, so two jobs for one delivery never post it twice at once.
        t.timestamp('lease_until', { useTz: true }).nullable();
        // The queue's job for the next attempt, to tell at start whether it survived.
        t.string('job_id', 40).nullable();
        t.index(['status', 'next_attempt_at']);
      });
    },
  },
  {
    name: '0003_dispatcher',
    async up({ knex }) {
      // The pending rows are the queue: a lease says which process is posting one, and every
      // pending row has a due time. Queue job ids are gone with the job per delivery.
      await knex.schema.alterTable('webhooks_deliveries', (t) => {
        t.string('lease_owner', 64).nullable();
      });
      await knex.schema.alterTable('webhooks_deliveries', (t) => {
        t.dropColumn('job_id');
      });
      await knex('webhooks_deliveries').where({ status: 'pending' }).whereNull('next_attempt_at').update({ next_attempt_at: knex.ref('created_at') });
    },
  },
  {
    name: '0004_room_for_leases',
    async up({ knex, dialect }) {
      // A claim sets only the lease columns, which no index holds: with room left on its page, the
      // new row version stays there and PostgreSQL writes no index entry for it (a HOT update).
      // On packed pages 1-2 % of the updates were HOT; at 60, 20-40 % (a third to two thirds of the
      // claims), and +8-10 % deliveries a second on the bench. New pages only: existing rows stay.
      if (dialect === 'postgresql') await knex.raw('alter table webhooks_deliveries set (fillfactor = 60)');
    },
  },
  {
    name: '0005_log_pages',
    // Outside a transaction: on PostgreSQL the indexes are built while deliveries go on being
    // written (this table can be large: until 0005's release the log was never pruned).
    transaction: false,
    async up({ knex, dialect }) {
      // The log lists an instance's newest deliveries (an endpoint's too, by its instance), reloaded
      // live as they change: without an index for it each page read and sorted the whole table
      // (PostgreSQL, a million rows: 428 ms a page; 0.1 ms with it).
      await createIndex(knex, dialect, { name: 'webhooks_deliveries_instance_id_seq_index', table: 'webhooks_deliveries', on: 'instance_id, seq' });
      // Each index costs every delivery an entry at its insert and again at its outcome (the status
      // changes, so that row version is never a HOT update). The two indexes only the queue reads
      // (what is due, and what waits for an earlier callback) now hold pending rows alone: a
      // delivered row's version gets no entry in them, which pays for the log's index. The queries
      // name the predicate as a literal so both planners can use them (dispatcher.ts).
      await createIndex(knex, dialect, { name: 'webhooks_deliveries_due', table: 'webhooks_deliveries', on: 'next_attempt_at', where: "status = 'pending'" });
      await createIndex(knex, dialect, { name: 'webhooks_deliveries_waiting', table: 'webhooks_deliveries', on: 'endpoint_id, ordering_key, seq', where: "status = 'pending'" });
      await dropIndex(knex, dialect, 'webhooks_deliveries_status_next_attempt_at_index');
      await dropIndex(knex, dialect, 'webhooks_deliveries_endpoint_id_ordering_key_seq_index');
    },
  },
  {
    name: '0006_log_instances',
    async up({ knex }) {
      // The instances whose deliveries an account's log may hold (logPages.ts): the account-wide
      // page merges each one's newest instead of reading and sorting every account's rows.
      await knex.schema.createTable('webhooks_log_instances', (t) => {
        t.string('account_id', 36).notNullable();
        t.string('instance_id', 40).notNullable();
        t.primary(['account_id', 'instance_id']);
      });
      await knex.raw(
        'insert into webhooks_log_instances (account_id, instance_id) select account_id, instance_id from webhooks_endpoints union select distinct account_id, instance_id from webhooks_deliveries',
      );
    },
  },
];
