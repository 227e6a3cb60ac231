import { timestampColumn, type Migration } from '@plugchat/core';
import { buildBucketRollups } from './services/reports/rollups.js';

/** The events that carry a duration; partial indexes and the queries that use them name them alike. */
export const TIME_METRICS_SQL = "name in ('assignment_wait', 'first_response', 'reply_time', 'resolution')";

export const migrations: Migration[] = [
  {
    name: '0001_helpdesk',
    async up({ knex }) {
      const ts = timestampColumn;
      await knex.schema.createTable('helpdesk_contacts', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('phone', 30).notNullable();
        t.string('name', 200).nullable();
        t.string('push_name', 200).nullable();
        t.string('avatar_url', 1000).nullable();
        t.json('attributes').notNullable().defaultTo('{}');
        t.boolean('blocked').notNullable().defaultTo(false);
        ts(t, 'created_at');
        ts(t, 'updated_at');
        // One contact per number and account, whatever form WhatsApp used: the database refuses a duplicate.
        t.unique(['account_id', 'phone']);
      });
      await knex.schema.createTable('helpdesk_queues', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable().index();
        t.string('name', 100).notNullable();
        t.string('color', 20).notNullable();
        t.text('greeting').nullable();
        t.string('assignment', 20).notNullable();
        t.json('business_hours').nullable();
        t.text('out_of_hours_message').nullable();
        ts(t, 'created_at');
        t.unique(['account_id', 'name']);
      });
      await knex.schema.createTable('helpdesk_queue_members', (t) => {
        t.string('queue_id', 36).notNullable();
        t.string('user_id', 36).notNullable().index();
        t.string('account_id', 36).notNullable();
        t.primary(['queue_id', 'user_id']);
      });
      await knex.schema.createTable('helpdesk_routing', (t) => {
        t.string('instance_id', 40).primary();
        t.string('account_id', 36).notNullable();
        t.boolean('enabled').notNullable().defaultTo(true);
        t.string('default_queue_id', 36).nullable();
        t.json('menu').nullable();
      });
      await knex.schema.createTable('helpdesk_agents', (t) => {
        t.string('user_id', 36).primary();
        t.string('account_id', 36).notNullable().index();
        t.string('status', 10).notNullable();
        t.integer('capacity').nullable();
        t.bigInteger('last_assigned_seq').nullable();
        ts(t, 'disconnected_at', true);
        ts(t, 'updated_at');
      });
      await knex.schema.createTable('helpdesk_attendances', (t) => {
        t.string('id', 36).primary();
        t.integer('number').notNullable();
        t.string('account_id', 36).notNullable();
        t.string('instance_id', 40).notNullable();
        t.string('contact_id', 36).notNullable();
        t.string('queue_id', 36).nullable();
        t.string('assignee_id', 36).nullable();
        t.string('status', 10).notNullable();
        t.string('priority', 10).notNullable();
        // "<instance>:<contact>" while not resolved, null after: a unique index keeps one open attendance per contact and number.
        t.string('open_key', 80).nullable().unique();
        t.boolean('menu_pending').notNullable().defaultTo(false);
        t.string('closed_period_notified', 40).nullable();
        t.integer('version').notNullable();
        t.integer('unread').notNullable();
        t.text('last_preview').nullable();
        ts(t, 'snoozed_until', true);
        ts(t, 'created_at');
        ts(t, 'reopened_at', true);
        ts(t, 'assigned_at', true);
        ts(t, 'first_reply_at', true);
        ts(t, 'waiting_since', true);
        ts(t, 'resolved_at', true);
        ts(t, 'last_message_at');
        t.unique(['account_id', 'number']);
        t.index(['account_id', 'status', 'last_message_at']);
        t.index(['account_id', 'assignee_id', 'status']);
        t.index(['account_id', 'queue_id', 'status']);
        t.index(['account_id', 'contact_id']);
        t.index(['status', 'snoozed_until']);
      });
      await knex.schema.createTable('helpdesk_timeline', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('attendance_id', 36).notNullable();
        t.bigInteger('seq').notNullable();
        t.string('kind', 10).notNullable();
        t.string('instance_id', 40).nullable();
        t.string('session_message_id', 40).nullable();
        t.string('wa_id', 80).nullable();
        t.string('direction', 3).nullable();
        t.string('author_id', 36).nullable();
        t.text('body').nullable();
        t.json('data').nullable();
        ts(t, 'created_at');
        t.index(['attendance_id', 'seq']);
        t.index(['account_id', 'session_message_id']);
        // A message joins its attendance once, however often its event is replayed.
        t.unique(['instance_id', 'wa_id', 'direction']);
      });
      await knex.schema.createTable('helpdesk_labels', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('name', 60).notNullable();
        t.string('color', 20).notNullable();
        t.unique(['account_id', 'name']);
      });
      await knex.schema.createTable('helpdesk_attendance_labels', (t) => {
        t.string('attendance_id', 36).notNullable();
        t.string('label_id', 36).notNullable().index();
        t.string('account_id', 36).notNullable();
        t.primary(['attendance_id', 'label_id']);
      });
      await knex.schema.createTable('helpdesk_contact_labels', (t) => {
        t.string('contact_id', 36).notNullable();
        t.string('label_id', 36).notNullable().index();
        t.string('account_id', 36).notNullable();
        t.primary(['contact_id', 'label_id']);
      });
      await knex.schema.createTable('helpdesk_quick_replies', (t) => {
        t.string('id', 36).primary();
        t.string('account_id', 36).notNullable();
        t.string('owner_id', 36).nullable();
        t.string('shortcut', 40).notNullable();
        t.text('text').notNullable();
        t.json('media').nullable();
        ts(t, 'created_at');
        t.index(['account_id', 'shortcut']);
      });
      await knex.schema.createTable('helpdesk_changes', (t) => {
        t.increments('seq');
        t.string('account_id', 36).notNullable();
        t.string('attendance_id', 36).notNullable();
        t.string('type', 40).notNullable();
        t.string('queue_id', 36).nullable();
        t.string('assignee_id', 36).nullable();
        t.string('prev_queue_id', 36).nullable();
        t.string('prev_assignee_id', 36).nullable();
        t.json('audience').nullable();
        t.json('data').notNullable();
        ts(t, 'at');
        t.index(['account_id', 'seq']);
      });
    },
  },
  {
    name: '0002_reports',
    async up({ knex, dialect }) {
      await knex.schema.createTable('helpdesk_report_events', (t) => {
        t.bigIncrements('id');
        t.string('account_id', 36).notNullable();
        t.string('name', 20).notNullable();
        t.timestamp('at', { useTz: true }).notNullable();
        t.double('value').notNullable().defaultTo(0);
        t.double('business_value').notNullable().defaultTo(0);
        t.string('attendance_id', 36).notNullable();
        t.string('contact_id', 36).notNullable();
        t.string('instance_id', 40).notNullable();
        t.string('queue_id', 36).nullable();
        t.string('agent_id', 36).nullable();
        t.string('from_queue_id', 36).nullable();
        t.string('from_agent_id', 36).nullable();
        // Top clients: a contact's messages in the period.
        t.index(['account_id', 'contact_id', 'name', 'at']);
        t.index(['attendance_id']);
      });
      // Every report reads one account's events of some names in a period: an index that covers
      // what the queries read, so the table itself is not visited.
      if (dialect === 'postgresql') {
        await knex.raw('create index helpdesk_report_events_scan on helpdesk_report_events (account_id, name, at) include (value, business_value, agent_id, queue_id, instance_id, contact_id)');
      } else {
        await knex.raw('create index helpdesk_report_events_scan on helpdesk_report_events (account_id, name, at, value, business_value, agent_id, queue_id, instance_id, contact_id)');
      }
      // Quantiles are read by walking the time metrics in order of their value, per grouping, up
      // to the rank wanted (ORDER BY value LIMIT 2 OFFSET rank): no sort of the whole period.
      for (const column of ['value', 'business_value']) {
        for (const dim of ['', 'agent_id', 'queue_id']) {
          const name = `helpdesk_report_rank${dim ? `_${dim.replace('_id', '')}` : ''}_${column === 'value' ? 'wall' : 'business'}`;
          const keys = ['account_id', 'name', ...(dim ? [dim] : []), column, 'at'];
          const rest = ['agent_id', 'queue_id', 'instance_id'].filter((c) => c !== dim);
          const cols = dialect === 'postgresql' ? `(${keys.join(', ')}) include (${rest.join(', ')})` : `(${[...keys, ...rest].join(', ')})`;
          await knex.raw(`create index ${name} on helpdesk_report_events ${cols} where ${TIME_METRICS_SQL}`);
        }
      }
      // Counts and sums per UTC day and per UTC month: what a long period reads instead of every
      // event ('' for no queue or agent).
      for (const [table, column] of [
        ['helpdesk_report_daily', 'day'],
        ['helpdesk_report_monthly', 'month'],
      ]) {
        await knex.schema.createTable(table!, (t) => {
          t.string('account_id', 36).notNullable();
          t.timestamp(column!, { useTz: true }).notNullable();
          t.string('name', 20).notNullable();
          t.string('instance_id', 40).notNullable();
          t.string('queue_id', 36).notNullable();
          t.string('agent_id', 36).notNullable();
          t.bigInteger('n').notNullable();
          t.double('s').notNullable();
          t.double('sb').notNullable();
          t.primary(['account_id', column!, 'name', 'instance_id', 'queue_id', 'agent_id']);
        });
      }
      // How many durations of each whole second a month had, for all, per agent and per queue
      // (kind: wall clock or business hours): the quantiles of whole months without a sort of every event.
      await knex.schema.createTable('helpdesk_report_durations', (t) => {
        t.string('account_id', 36).notNullable();
        t.string('dim', 8).notNullable();
        t.string('name', 20).notNullable();
        t.string('kind', 8).notNullable();
        t.timestamp('month', { useTz: true }).notNullable();
        t.string('dim_id', 36).notNullable();
        t.bigInteger('seconds').notNullable();
        t.bigInteger('n').notNullable();
        t.primary(['account_id', 'dim', 'name', 'kind', 'month', 'dim_id', 'seconds']);
      });
      // Messages each contact sent per UTC day, for the top clients.
      await knex.schema.createTable('helpdesk_report_contact_daily', (t) => {
        t.string('account_id', 36).notNullable();
        t.timestamp('day', { useTz: true }).notNullable();
        t.string('contact_id', 36).notNullable();
        t.bigInteger('n').notNullable();
        t.timestamp('last_at', { useTz: true }).notNullable();
        t.primary(['account_id', 'day', 'contact_id']);
      });
      await knex.schema.createTable('helpdesk_preferences', (t) => {
        t.string('account_id', 36).primary();
        t.string('time_zone', 64).notNullable();
      });
    },
  },
  {
    name: '0003_report_buckets',
    async up({ knex, dialect }) {
      // Per agent and per queue, a month's durations counted per coarse bucket: the quantiles
      // find their bucket from these and walk only its events. They replace the per-second
      // histograms of agents and queues, which fold too little to be worth reading.
      await knex.schema.createTable('helpdesk_report_buckets', (t) => {
        t.string('account_id', 36).notNullable();
        t.string('dim', 8).notNullable();
        t.string('dim_id', 36).notNullable();
        t.string('name', 20).notNullable();
        t.string('kind', 8).notNullable();
        t.timestamp('month', { useTz: true }).notNullable();
        t.bigInteger('bucket').notNullable();
        t.bigInteger('n').notNullable();
        t.primary(['account_id', 'dim', 'name', 'kind', 'month', 'dim_id', 'bucket']);
      });
      await buildBucketRollups(knex, dialect);
      await knex('helpdesk_report_durations').whereNot('dim', 'all').delete();
    },
  },
];
