import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { knex as makeKnex } from '@mikro-orm/knex';
import { afterAll, describe, expect, it } from 'vitest';
import { createIndex, withMigrationLock } from '../src/services/migrations.js';
import { createWorkspace, startApp, type Workspace } from './support/app.js';
import { freshPostgres, STORAGE_MODES, TEST_DATABASE_URL } from './support/db.js';

const v1 = `export default { migrations: [
  { name: '0001_notes', async up({ knex }) { await knex.schema.createTable('notes_notes', (t) => { t.string('id', 36).primary(); t.string('body', 200).notNullable(); }); } },
], activate() {} };`;
const v2 = `export default { migrations: [
  { name: '0001_notes', async up({ knex }) { await knex.schema.createTable('notes_notes', (t) => { t.string('id', 36).primary(); t.string('body', 200).notNullable(); }); } },
  { name: '0002_pinned', async up({ knex }) { await knex.schema.alterTable('notes_notes', (t) => { t.boolean('pinned').notNullable().defaultTo(false); }); } },
], activate() {} };`;
const broken = `export default { migrations: [{ name: '0001_fail', async up() { throw new Error('cannot migrate'); } }], activate() {} };`;

const table = `export default { migrations: [
  { name: '0001_items', async up({ knex }) { await knex.schema.createTable('items_items', (t) => { t.string('id', 36).primary(); t.string('state', 10).notNullable(); t.integer('n').notNullable(); }); } },
], activate() {} };`;
// PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction: this only applies outside one.
const indexed = `import { createIndex, dropIndex } from '@plugchat/core';
export default { migrations: [
  { name: '0001_items', async up({ knex }) { await knex.schema.createTable('items_items', (t) => { t.string('id', 36).primary(); t.string('state', 10).notNullable(); t.integer('n').notNullable(); }); } },
  { name: '0002_open_items', transaction: false, async up({ knex, dialect }) {
    await createIndex(knex, dialect, { name: 'items_open', table: 'items_items', on: 'n', where: "state = 'open'" });
    await dropIndex(knex, dialect, 'items_gone');
  } },
], activate() {} };`;

describe.each(STORAGE_MODES)('schema migrations (%s)', (mode) => {
  let ws: Workspace;
  afterAll(async () => ws?.cleanup());

  it('applies new migrations on upgrade, once, keeping the data', async () => {
    ws = await createWorkspace({
      mode,
      plugins: {
        notes: { manifest: { id: 'notes', displayName: 'Notes', engines: { plugchat: '^1.0.0' } }, code: v1 },
        bad: { manifest: { id: 'bad', displayName: 'Bad', engines: { plugchat: '^1.0.0' } }, code: broken },
      },
    });
    let app = await startApp(ws);
    expect(app.host.records.get('bad')).toMatchObject({ state: 'failed', reason: 'migration failed: cannot migrate' });
    expect(app.host.records.get('notes')!.state).toBe('active');
    await app.db.knex('notes_notes').insert({ id: 'n1', body: 'keep me' });
    await app.stop();

    // Ship version 2 of the plugin (a new entry file, as an upgrade would).
    const dir = path.join(ws.dir, 'plugins/notes');
    writeFileSync(path.join(dir, 'index2.js'), v2);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, main: 'index2.js' }));
    app = await startApp(ws);
    expect(await app.db.knex('notes_notes').select('id', 'body', 'pinned')).toEqual([{ id: 'n1', body: 'keep me', pinned: mode === 'embedded' ? 0 : false }]);
    const applied = await app.db.knex('core_migrations').where({ owner: 'notes' }).orderBy('name').pluck('name');
    expect(applied).toEqual(['0001_notes', '0002_pinned']);
    await app.stop();

    // A third boot applies nothing new.
    app = await startApp(ws);
    expect(app.logs.filter((l) => l.msg === 'migration applied')).toEqual([]);
    await app.stop();
  });

  it('runs a migration outside a transaction when it asks: an index built concurrently on PostgreSQL, replacing an invalid leftover', async () => {
    const w = await createWorkspace({ mode, plugins: { items: { manifest: { id: 'items', displayName: 'Items', engines: { plugchat: '^1.0.0' } }, code: table } } });
    try {
      let app = await startApp(w);
      await app.db.knex('items_items').insert(Array.from({ length: 50 }, (_, i) => ({ id: `i${i}`, state: i % 5 ? 'done' : 'open', n: i })));
      if (mode === 'postgresql') {
        // What a build interrupted by a crash leaves: an index of that name, marked invalid.
        await app.db.knex.raw(`create index items_open on items_items (n) where state = 'open'`);
        await app.db.knex.raw(`update pg_index set indisvalid = false where indexrelid = 'items_open'::regclass`);
      }
      await app.db.knex.raw('create index items_gone on items_items (state)');
      await app.stop();

      const dir = path.join(w.dir, 'plugins/items');
      writeFileSync(path.join(dir, 'index2.js'), indexed);
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, main: 'index2.js' }));
      app = await startApp(w);
      expect(app.host.records.get('items')!.state).toBe('active');
      expect(await app.db.knex('core_migrations').where({ owner: 'items' }).orderBy('name').pluck('name')).toEqual(['0001_items', '0002_open_items']);
      if (mode === 'postgresql') {
        const rows = (await app.db.knex.raw(`select c.relname, i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'items_items'::regclass order by 1`)).rows;
        expect(rows).toEqual([{ relname: 'items_items_pkey', indisvalid: true }, { relname: 'items_open', indisvalid: true }]);
      } else {
        const rows = await app.db.knex.raw(`select name from sqlite_master where type = 'index' and tbl_name = 'items_items' and sql is not null order by 1`);
        expect(rows.map((r: { name: string }) => r.name)).toEqual(['items_open']);
        const plan = await app.db.knex.raw(`explain query plan select id from items_items where state = 'open' and n < 10`);
        expect(plan.map((r: { detail: string }) => r.detail).join(' ')).toContain('items_open');
      }
      expect(await app.db.knex('items_items').where({ state: 'open' }).andWhere('n', '<', 10).orderBy('n').pluck('id')).toEqual(['i0', 'i5']);
      await app.stop();
    } finally {
      await w.cleanup();
    }
  });
});

describe.runIf(TEST_DATABASE_URL)('the migration lock (postgresql)', () => {
  it('lets the holder build an index concurrently while another process waits for the lock', async () => {
    const pg = await freshPostgres();
    const knex = makeKnex({ client: 'pg', connection: pg.url, pool: { min: 0, max: 2 } });
    try {
      await knex.schema.createTable('items_items', (t) => { t.string('id', 36).primary(); t.integer('n').notNullable(); });
      await knex('items_items').insert(Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, n: i })));
      const order: string[] = [];
      let second: Promise<void> | undefined;
      const first = withMigrationLock(pg.url, async () => {
        // A second process starts while this one migrates; it waits for the lock before the build starts.
        let waiting!: () => void;
        const isWaiting = new Promise<void>((r) => (waiting = r));
        second = withMigrationLock(pg.url, async () => { order.push('second'); }, waiting);
        await isWaiting;
        await createIndex(knex, 'postgresql', { name: 'items_n', table: 'items_items', on: 'n' });
        order.push('first');
      });
      // A build that waited on the waiting process would never end: fail with a reason instead.
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('the index build waits on the process waiting for the lock')), 20_000); });
      try {
        await Promise.race([first.then(() => second), stuck]);
      } finally {
        clearTimeout(timer);
        // On failure both are stuck: end them (their rejections are the failure's, already reported).
        first.catch(() => {});
        second?.catch(() => {});
        await knex.raw(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
      }
      expect(order).toEqual(['first', 'second']);
      const valid = await knex.raw(`select indisvalid from pg_index where indexrelid = 'items_n'::regclass`);
      expect(valid.rows).toEqual([{ indisvalid: true }]);
    } finally {
      await knex.destroy();
      await pg.drop();
    }
  }, 40_000);
});
