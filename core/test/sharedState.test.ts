import { afterAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../src/api/cluster.js';
import { ClusterCache } from '../src/api/clusterCache.js';
import { insertAll } from '../src/api/insertAll.js';
import { LocalCluster } from '../src/cluster/local.js';
import { createLogger } from '../src/services/logger.js';
import { createWorkspace, startApp, type Workspace } from './support/app.js';
import { STORAGE_MODES } from './support/db.js';

const log = createLogger('silent');

/** Two processes' clusters on one bus: a broadcast reaches both, as NOTIFY does on PostgreSQL. */
function twoNodes(): [Cluster, Cluster] {
  const a = new LocalCluster(log);
  const b = new LocalCluster(log);
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    Object.assign(self, {
      mode: 'cluster',
      broadcast: async (channel: string, payload: unknown) => {
        for (const c of [self, other]) (c as unknown as { deliver(ch: string, p: unknown, from: string): void }).deliver(channel, payload, self.nodeId);
      },
    });
  }
  return [a, b];
}

describe('ClusterCache', () => {
  it('reads a key once, reads it again after a drop in any process, and never keeps a failed read', async () => {
    const [a, b] = twoNodes();
    let stored = ['5511900000001'];
    let reads = 0;
    let fail = false;
    const load = async () => {
      reads++;
      if (fail) throw new Error('database down');
      return new Set(stored);
    };
    const inA = new ClusterCache(a, 'test.changed', load);
    const inB = new ClusterCache(b, 'test.changed', load);
    expect((await inA.get('acc')).has('5511900000001')).toBe(true);
    await inA.get('acc');
    expect(reads).toBe(1);
    await inB.get('acc');
    expect(reads).toBe(2);

    stored = ['5511900000001', '5511900000002'];
    await inB.drop('acc');
    // Both processes read the change on their next use.
    expect((await inA.get('acc')).has('5511900000002')).toBe(true);
    expect((await inB.get('acc')).has('5511900000002')).toBe(true);
    expect(reads).toBe(4);

    fail = true;
    await inA.drop('acc');
    await expect(inA.get('acc')).rejects.toThrow('database down');
    fail = false;
    expect((await inA.get('acc')).size).toBe(2);
    inA.dispose();
    inB.dispose();
  });

  it('runs a lazy loader (a query builder, a thenable that runs on each await) once per read', async () => {
    let runs = 0;
    const builder = () => ({ then: (ok: (v: string) => unknown, ko?: (e: unknown) => unknown) => Promise.resolve(`row ${++runs}`).then(ok, ko) }) as unknown as Promise<string>;
    const cache = new ClusterCache(new LocalCluster(log), 'test.lazy', builder);
    expect(await cache.get('k')).toBe('row 1');
    expect(await cache.get('k')).toBe('row 1');
    expect(await cache.get('k')).toBe('row 1');
    expect(runs).toBe(1);
    cache.dispose();
  });

  it('trusts a copy only so long', async () => {
    let reads = 0;
    const cache = new ClusterCache(new LocalCluster(log), 'test.short', async () => ++reads, 20);
    expect(await cache.get('k')).toBe(1);
    expect(await cache.get('k')).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(await cache.get('k')).toBe(2);
    cache.dispose();
  });
});

describe.each(STORAGE_MODES)('insertAll (%s)', (mode) => {
  let ws: Workspace;
  afterAll(async () => ws?.cleanup());

  it('writes every row or none, in one statement or in chunks', async () => {
    ws = await createWorkspace({ mode });
    const app = await startApp(ws);
    try {
      const knex = app.db.knex;
      await knex.schema.createTable('test_rows', (t) => {
        t.string('id', 10).primary();
      });
      const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${from + i}` }));
      await insertAll(knex, 'test_rows', rows(0, 50));
      await insertAll(knex, 'test_rows', rows(50, 250), { chunk: 100 });
      expect(Number((await knex('test_rows').count({ n: '*' }).first())!.n)).toBe(300);
      // A batch whose last chunk collides leaves none of its rows.
      await expect(insertAll(knex, 'test_rows', [...rows(300, 150), { id: 'r0' }], { chunk: 100 })).rejects.toThrow();
      expect(Number((await knex('test_rows').count({ n: '*' }).first())!.n)).toBe(300);
      // A replay of rows already there is skipped when asked.
      await insertAll(knex, 'test_rows', [...rows(290, 20)], { chunk: 5, ignoreConflictOn: 'id' });
      expect(Number((await knex('test_rows').count({ n: '*' }).first())!.n)).toBe(310);
    } finally {
      await app.stop();
    }
  });
});
