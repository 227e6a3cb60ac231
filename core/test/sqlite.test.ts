import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/services/database.js';
import { createLogger } from '../src/services/logger.js';

// The embedded database's own plumbing: statements kept prepared, and the log checkpointed beside the writer.
describe('embedded database', () => {
  let dir: string;
  let db: Database;
  /** This process's open files in the data directory. */
  const openFiles = () =>
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith(dir) ? [target] : [];
      } catch {
        return [];
      }
    });
  const open = () => openDatabase({ dataDir: dir, entities: [], logger: createLogger('silent') });

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-sqlite-'));
    db = await open();
    await db.knex.schema.createTable('t', (t) => {
      t.string('id', 10).primary();
      t.integer('n').notNullable();
      t.text('blob');
    });
  });
  afterEach(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers right from statements it reuses, and a failed one does not spoil the next', async () => {
    const k = db.knex;
    for (const id of ['a', 'b', 'c']) await k('t').insert({ id, n: 1 });
    // The same update, twice over one prepared statement: each reports its own count.
    expect(await k('t').where('id', 'a').update({ n: 2 })).toBe(1);
    expect(await k('t').where('n', 1).update({ n: 3 })).toBe(2);
    expect(await k('t').where('n', 9).update({ n: 3 })).toBe(0);
    expect(await k('t').where('n', 3).orderBy('id').pluck('id')).toEqual(['b', 'c']);
    expect(await k('t').where('n', 2).pluck('id')).toEqual(['a']);

    // A duplicate fails alone; the same statement then inserts, and a transaction that failed leaves nothing.
    await expect(k('t').insert({ id: 'a', n: 5 })).rejects.toThrow(/UNIQUE/);
    await k('t').insert({ id: 'd', n: 5 });
    await expect(
      k.transaction(async (trx) => {
        await trx('t').insert({ id: 'e', n: 6 });
        await trx('t').insert({ id: 'a', n: 6 });
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(await k('t').orderBy('id').pluck('id')).toEqual(['a', 'b', 'c', 'd']);
    expect(await k('t').where('id', 'x').delete()).toBe(0);
    expect(await k('t').where('id', 'd').delete()).toBe(1);

    // Closing with statements prepared lets go of the file, and what was committed is there after reopening.
    await db.close();
    expect(openFiles()).toEqual([]);
    db = await open();
    expect(await db.knex('t').count({ n: '*' }).first()).toEqual({ n: 3 });
  });

  it('gives a connection the pool opens anew the same settings as the first', async () => {
    const settings = async () => ({
      journal: await db.knex.raw('PRAGMA journal_mode'),
      synchronous: await db.knex.raw('PRAGMA synchronous'),
      busy: await db.knex.raw('PRAGMA busy_timeout'),
      foreignKeys: await db.knex.raw('PRAGMA foreign_keys'),
    });
    const expected = { journal: [{ journal_mode: 'wal' }], synchronous: [{ synchronous: 1 }], busy: [{ timeout: 5000 }], foreignKeys: [{ foreign_keys: 1 }] };
    expect(await settings()).toEqual(expected);
    // The pool's connection is gone (as after an error) and a new one takes its place.
    const client = db.knex.client as unknown as { destroy(): Promise<void>; initializePool(): void };
    await client.destroy();
    client.initializePool();
    expect(await settings()).toEqual(expected);
    expect(await db.knex.raw('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 10_000 }]);
  });

  it('checkpoints the log from its own connection, and the writer starts the log over after it', async () => {
    // The writer leaves checkpoints to the background connection until the log is far larger than SQLite's default.
    expect(await db.knex.raw('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 10_000 }]);
    const blob = 'x'.repeat(3_000);
    for (let i = 0; i < 300; i++) await db.knex('t').insert({ id: `r${i}`, n: i, blob });
    const first = await db.checkpointer!.run();
    expect(first.log).toBeGreaterThan(0);
    expect(first.checkpointed).toBe(first.log);
    // The next write finds the log copied and writes from its start (a log never started over would hold all 300 rows' pages).
    await db.knex('t').insert({ id: 'after', n: 0, blob });
    const second = await db.checkpointer!.run();
    expect(second.log).toBeLessThan(20);
    expect(second.checkpointed).toBe(second.log);
  });
});
