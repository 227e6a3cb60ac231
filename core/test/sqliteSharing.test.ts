import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { knex, SqliteKnexDialect, type Knex } from '@mikro-orm/knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shareSqliteConnection } from '../src/services/sqliteSharing.js';
import { cacheSqliteStatements } from '../src/services/sqliteStatements.js';

// The embedded database's one connection, shared by statements and held by a transaction alone.
describe('embedded database, shared connection', () => {
  let dir: string;
  let k: Knex;
  /** A transaction that holds the connection until `end` is called (it then commits, or rolls back with `fail`). */
  const heldTransaction = (work: (trx: Knex.Transaction) => Promise<unknown>) => {
    let end!: (fail?: Error) => void;
    let begun!: () => void;
    const ended = new Promise<Error | undefined>((r) => (end = r));
    const started = new Promise<void>((r) => (begun = r));
    const done = k.transaction(async (trx) => {
      await work(trx);
      begun();
      const fail = await ended;
      // A few more trips to the database before the end: statements sent meanwhile would have
      // reached it by then if nothing held them back.
      for (let i = 0; i < 5; i++) await trx.raw('select 1');
      if (fail) throw fail;
    });
    return { started, end, done };
  };

  /** Knex on the embedded database as the core opens it (MikroORM's dialect of node-sqlite3). */
  const open = (opts: Partial<Knex.Config> = {}) => {
    const opened = knex({ client: SqliteKnexDialect as unknown as Knex.Config['client'], connection: { filename: path.join(dir, 'db.sqlite') }, useNullAsDefault: true, ...opts });
    cacheSqliteStatements(opened);
    shareSqliteConnection(opened);
    return opened;
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-sqlite-share-'));
    k = open();
    await k.raw('PRAGMA journal_mode = WAL');
    await k.schema.createTable('t', (t) => {
      t.string('id', 10).primary();
      t.integer('n').notNullable();
    });
  });
  afterEach(async () => {
    await k.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands a statement to the database without waiting for the answer to the one before', async () => {
    const events: string[] = [];
    const named = (q: { sql: string }) => (q.sql.startsWith('insert') ? 'insert' : 'select');
    k.on('query', (q) => events.push(`${named(q)} sent`));
    k.on('query-response', (_r, q) => events.push(`${named(q)} answered`));
    await Promise.all([k('t').insert({ id: 'a', n: 1 }), k('t').where({ id: 'b' }).first()]);
    // Through a pool that lends the connection to one query at a time, the select went only after the insert's answer.
    expect(events.slice(0, 2)).toEqual(['insert sent', 'select sent']);
    expect(events.slice(2).sort()).toEqual(['insert answered', 'select answered']);
  });

  it('runs many statements at once, each answering with its own result', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `r${i}`);
    await Promise.all(ids.map((id, i) => k('t').insert({ id, n: i })));
    // The same statement shape, 200 times at once: each update counts its own row, each read finds its own.
    expect(await Promise.all(ids.map((id, i) => k('t').where({ id }).update({ n: i + 1000 })))).toEqual(ids.map(() => 1));
    expect(await Promise.all(ids.map((id) => k('t').where({ id, n: 5 }).update({ n: 0 })))).toEqual(ids.map(() => 0));
    const rows = await Promise.all(ids.map((id) => k('t').where({ id }).first()));
    expect(rows.map((r) => r.n)).toEqual(ids.map((_, i) => i + 1000));
    // A failure among them fails alone.
    const mixed = await Promise.allSettled([k('t').insert({ id: 'new', n: 1 }), k('t').insert({ id: 'r1', n: 1 }), k('t').where({ id: 'r2' }).update({ n: 2 })]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await k('t').count({ n: '*' }).first()).toEqual({ n: 201 });
  });

  it('keeps statements sent during a transaction out of it: they run after it, and a rollback does not take them', async () => {
    const tx = heldTransaction((trx) => trx('t').insert({ id: 'in-tx', n: 1 }));
    await tx.started;
    // On the same connection these would see the transaction's row, and be rolled back with it.
    const outside = k('t').insert({ id: 'outside', n: 2 }).then(() => 'inserted');
    const seen = k('t').pluck('id').then((ids) => ids);
    tx.end(new Error('rolled back'));
    await expect(tx.done).rejects.toThrow('rolled back');
    expect(await outside).toBe('inserted');
    expect(await seen).not.toContain('in-tx');
    expect(await k('t').pluck('id')).toEqual(['outside']);
  });

  it('starts a transaction once the statements already sent are done, so it sees all of them', async () => {
    const inserts = Array.from({ length: 100 }, (_, i) => k('t').insert({ id: `p${i}`, n: i }).then(() => undefined));
    const counted = k.transaction(async (trx) => (await trx('t').count({ n: '*' }).first())!.n);
    expect(await counted).toBe(100);
    await Promise.all(inserts);
    // Two transactions at once take turns.
    const [a, b] = await Promise.all([
      k.transaction(async (trx) => {
        await trx('t').insert({ id: 'a', n: 1 });
        return (await trx('t').count({ n: '*' }).first())!.n;
      }),
      k.transaction(async (trx) => {
        await trx('t').insert({ id: 'b', n: 1 });
        return (await trx('t').count({ n: '*' }).first())!.n;
      }),
    ]);
    expect([a, b]).toEqual([101, 102]);
  });

  it('fails a statement that waited too long for a transaction with what to do, and serves the next ones', async () => {
    await k.destroy();
    k = open({ acquireConnectionTimeout: 300 });
    const tx = heldTransaction((trx) => trx('t').insert({ id: 'slow', n: 1 }));
    await tx.started;
    await expect(k('t').insert({ id: 'late', n: 1 })).rejects.toThrow(/Timeout acquiring the database connection.*stuck transaction/);
    tx.end();
    await tx.done;
    await k('t').insert({ id: 'next', n: 1 });
    expect(await k('t').orderBy('id').pluck('id')).toEqual(['next', 'slow']);
  });

  it('prepares a new query shape once when it comes twice at once, and closes letting go of the file', async () => {
    const db = path.join(dir, 'db.sqlite');
    const holdsFile = () =>
      readdirSync('/proc/self/fd').some((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === db;
        } catch {
          return false;
        }
      });
    await k('t').insert([{ id: 'x', n: 1 }, { id: 'y', n: 2 }]);
    const [x, y] = await Promise.all([k('t').where({ id: 'x' }).first(), k('t').where({ id: 'y' }).first()]);
    expect([x.n, y.n]).toEqual([1, 2]);
    expect(holdsFile()).toBe(true);
    // A second statement prepared for the same shape and left out of the cache would stay open, and keep the file.
    await k.destroy();
    expect(holdsFile()).toBe(false);
    k = open();
  });

  it('closes after the statements still running, which all complete', async () => {
    const inserts = Array.from({ length: 50 }, (_, i) => k('t').insert({ id: `c${i}`, n: i }).then(() => 1));
    const closed = k.destroy();
    expect((await Promise.all(inserts)).length).toBe(50);
    await closed;
    k = open();
    expect(await k('t').count({ n: '*' }).first()).toEqual({ n: 50 });
  });
});
