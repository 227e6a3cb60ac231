import type { Migration } from '@plugchat/core';

export const migrations: Migration[] = [
  {
    name: '0001_instances_messages',
    async up({ knex }) {
      await knex.schema.createTable('whatsapp_session_instances', (t) => {
        t.string('id', 40).primary();
        t.string('account_id', 36).notNullable().index();
        t.string('name', 200).notNullable();
        t.string('token_hash', 64).notNullable().unique();
        t.text('token_sealed').notNullable();
        t.string('state', 20).notNullable();
        t.string('state_reason', 300).nullable();
        t.boolean('wanted').notNullable().defaultTo(false);
        t.string('phone', 30).nullable();
        t.string('push_name', 200).nullable();
        t.string('platform', 30).nullable();
        t.integer('delay_min_ms').nullable();
        t.integer('delay_max_ms').nullable();
        t.integer('queue_limit').nullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
      });
      await knex.schema.createTable('whatsapp_session_instance_events', (t) => {
        t.increments('id');
        t.string('instance_id', 40).notNullable().index();
        t.string('account_id', 36).notNullable();
        t.string('state', 20).notNullable();
        t.string('reason', 300).nullable();
        t.timestamp('at', { useTz: true }).notNullable();
      });
      await knex.schema.createTable('whatsapp_session_auth', (t) => {
        t.string('instance_id', 40).notNullable();
        t.string('key', 300).notNullable();
        t.text('value').notNullable();
        t.primary(['instance_id', 'key']);
      });
      await knex.schema.createTable('whatsapp_session_messages', (t) => {
        t.string('id', 40).primary();
        t.string('account_id', 36).notNullable();
        t.string('instance_id', 40).notNullable();
        t.string('wa_id', 80).notNullable();
        t.string('chat', 80).notNullable();
        t.string('direction', 3).notNullable();
        t.string('type', 30).notNullable();
        t.text('content').notNullable();
        t.string('status', 10).notNullable();
        t.string('error', 500).nullable();
        t.bigInteger('seq').notNullable();
        t.boolean('from_me').notNullable();
        t.boolean('waiting').nullable();
        t.string('media_path', 500).nullable();
        t.integer('delay_ms').nullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.timestamp('sent_at', { useTz: true }).nullable();
        t.index(['instance_id', 'status', 'seq']);
        t.index(['instance_id', 'wa_id']);
        t.index(['instance_id', 'chat', 'seq']);
      });
      await knex.schema.createTable('whatsapp_session_optouts', (t) => {
        t.string('account_id', 36).notNullable();
        t.string('phone', 30).notNullable();
        t.string('source', 20).notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['account_id', 'phone']);
      });
    },
  },
  {
    name: '0002_event_outbox',
    async up({ knex }) {
      // Events are written in the same transaction as the change they describe, then dispatched:
      // a crash in between cannot lose a webhook.
      await knex.schema.createTable('whatsapp_session_outbox', (t) => {
        t.string('id', 36).primary();
        t.bigInteger('seq').notNullable().index();
        t.string('name', 80).notNullable();
        t.text('payload').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
      });
    },
  },
  {
    name: '0003_instance_leases',
    async up({ knex }) {
      // Which process runs each instance's socket when several share PostgreSQL (see services/leases.ts).
      await knex.schema.createTable('whatsapp_session_leases', (t) => {
        t.string('instance_id', 40).primary();
        t.string('owner', 36).notNullable().index();
        t.timestamp('expires_at', { useTz: true }).notNullable();
        // Bumped on every change of owner: a fencing number for logs and diagnostics.
        t.integer('epoch').notNullable();
      });
    },
  },
  {
    name: '0004_outbox_attempts',
    async up({ knex }) {
      // An event whose listener failed stays in the outbox and is tried again; this counts the tries.
      await knex.schema.alterTable('whatsapp_session_outbox', (t) => {
        t.integer('attempts').notNullable().defaultTo(0);
      });
    },
  },
  {
    name: '0005_message_keys',
    async up({ knex }) {
      // A plugin's own key for a send (a survey's thank-you, say): the same key never queues a second message.
      await knex.schema.alterTable('whatsapp_session_messages', (t) => {
        t.string('client_key', 120).nullable();
        t.unique(['instance_id', 'client_key']);
      });
    },
  },
  {
    name: '0006_auto_read',
    async up({ knex }) {
      // Z-API's update-auto-read-message: incoming messages are marked read as they arrive.
      await knex.schema.alterTable('whatsapp_session_instances', (t) => {
        t.boolean('auto_read_message').notNullable().defaultTo(false);
      });
    },
  },
  {
    name: '0007_send_ramp',
    async up({ knex }) {
      // A new number's warm-up: daily limits per week (JSON) from the day it started.
      await knex.schema.alterTable('whatsapp_session_instances', (t) => {
        t.text('ramp_limits').nullable();
        t.timestamp('ramp_started_at', { useTz: true }).nullable();
      });
      // The local day a send to a contact who never wrote first counted against, and when a
      // message held over the day's limit may go.
      await knex.schema.alterTable('whatsapp_session_messages', (t) => {
        t.string('ramp_day', 10).nullable();
        t.timestamp('hold_until', { useTz: true }).nullable();
        t.index(['instance_id', 'ramp_day']);
      });
    },
  },
  {
    name: '0008_call_reject',
    async up({ knex }) {
      // Z-API's update-call-reject-auto and update-call-reject-message: calls are turned down, and the caller told why.
      await knex.schema.alterTable('whatsapp_session_instances', (t) => {
        t.boolean('call_reject_auto').notNullable().defaultTo(false);
        t.text('call_reject_message').nullable();
      });
    },
  },
  {
    name: '0009_chat_settings',
    async up({ knex }) {
      // What the instance (or its phone, through app state) set on a chat: archived, pinned, muted, marked unread.
      await knex.schema.createTable('whatsapp_session_chats', (t) => {
        t.string('instance_id', 40).notNullable();
        t.string('account_id', 36).notNullable();
        t.string('chat', 120).notNullable();
        t.boolean('archived').notNullable().defaultTo(false);
        t.boolean('pinned').notNullable().defaultTo(false);
        // When the mute ends (ms since the epoch), -1 for always; null when not muted.
        t.bigInteger('mute_until').nullable();
        t.boolean('marked_unread').notNullable().defaultTo(false);
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['instance_id', 'chat']);
      });
    },
  },
  {
    name: '0010_message_raw',
    async up({ knex }) {
      // The message as WhatsApp carried it (proto.Message, base64): what forwarding one and voting in a received poll need.
      await knex.schema.alterTable('whatsapp_session_messages', (t) => {
        t.text('raw').nullable();
      });
    },
  },
  {
    name: '0011_chat_history',
    async up({ knex }) {
      // A chat the phone already had when the instance was linked (history sync): its name, when its
      // last message was, and how many were unread; the messages themselves are not imported.
      await knex.schema.alterTable('whatsapp_session_chats', (t) => {
        t.text('name').nullable();
        t.bigInteger('last_at').nullable();
        t.integer('unread').notNullable().defaultTo(0);
      });
    },
  },
  {
    name: '0012_partial_message_indexes',
    async up({ knex }) {
      // Most messages have neither a client key nor a ramp day: indexes over the rows that do, so
      // each message written updates two b-trees fewer (both databases plan `col = ?` with them).
      await knex.schema.alterTable('whatsapp_session_messages', (t) => {
        t.dropUnique(['instance_id', 'client_key']);
        t.dropIndex(['instance_id', 'ramp_day']);
      });
      await knex.raw('create unique index whatsapp_session_messages_client_key on whatsapp_session_messages (instance_id, client_key) where client_key is not null');
      await knex.raw('create index whatsapp_session_messages_ramp_day on whatsapp_session_messages (instance_id, ramp_day) where ramp_day is not null');
    },
  },
  {
    name: '0013_chat_list_indexes',
    async up({ knex }) {
      // The chat list reads each chat's latest message from the customer (its name) and counts the
      // unread ones by seeks in these, not by a pass over every message; what we send is in neither.
      await knex.raw("create index whatsapp_session_messages_chat_in on whatsapp_session_messages (instance_id, chat, seq) where direction = 'in'");
      await knex.raw("create index whatsapp_session_messages_chat_unread on whatsapp_session_messages (instance_id, chat) where direction = 'in' and status = 'RECEIVED'");
    },
  },
  {
    name: '0014_send_queue_index',
    async up({ knex }) {
      // The sender's next messages and the queue's length, read by seeks over the few rows waiting to
      // be sent. Without it PostgreSQL, its statistics not yet gathered on a young table, read every
      // message of the instance for each claim (780 rows a claim in the end-to-end bench).
      // The predicate is store.ts's WAITING, as the queries write it.
      await knex.raw("create index whatsapp_session_messages_waiting on whatsapp_session_messages (instance_id, seq) where direction = 'out' and status in ('QUEUED', 'SENDING')");
    },
  },
  {
    name: '0015_history_pages',
    async up({ knex }) {
      // An instance's history is read newest first, a page at a time, and each state change reads
      // the last one: by (instance, id), without sorting everything the instance ever went through.
      await knex.schema.alterTable('whatsapp_session_instance_events', (t) => {
        t.index(['instance_id', 'id']);
        t.dropIndex(['instance_id']);
      });
    },
  },
];
