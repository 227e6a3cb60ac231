import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, createWorkspace, setupOwner, startApp, type Client, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';

type Event = { id: number; state: string; reason: string; at: string };

/** An instance's history is read a page at a time, newest page first, however long it grew. */
describe.each(STORAGE_MODES)('instance history pages (%s)', (mode) => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;

  beforeAll(async () => {
    ws = await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session'] } });
    app = await startApp(ws);
    owner = await setupOwner(app.url);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('answers the newest 200 state changes oldest first, pages back with before, and refuses a page too large', async () => {
    const inst = (await owner.post('/api/whatsapp-session/instances', { name: 'Flappy' })).body;
    const accountId = (await owner.get('/api/auth/me')).body.account.id;
    // A number that reconnected 150 times: 450 changes after its creation.
    const start = Date.now() - 3_600_000;
    const cycle = ['connecting', 'connected', 'disconnected'];
    const rows = Array.from({ length: 450 }, (_, i) => ({ instance_id: inst.id, account_id: accountId, state: cycle[i % 3], reason: `cycle ${Math.floor(i / 3)}`, at: new Date(start + i * 1000) }));
    for (let i = 0; i < rows.length; i += 100) await app.db.knex('whatsapp_session_instance_events').insert(rows.slice(i, i + 100));
    const page = async (query = '') => {
      const res = await owner.get(`/api/whatsapp-session/instances/${inst.id}/history${query}`);
      expect(res.status).toBe(200);
      return res.body as { history: Event[]; more: boolean };
    };

    const newest = await page();
    expect(newest.history).toHaveLength(200);
    expect(newest.more).toBe(true);
    expect(newest.history.at(-1)).toMatchObject({ state: 'disconnected', reason: 'cycle 149' });
    const seen = [...newest.history];
    for (let p = newest; p.more; ) {
      p = await page(`?before=${p.history[0]!.id}`);
      seen.unshift(...p.history);
    }
    // Every change once, in order: the creation first, then the 450.
    expect(seen).toHaveLength(451);
    expect(seen[0]).toMatchObject({ state: 'disconnected', reason: 'created' });
    expect(seen.slice(1).map((e) => `${e.state} ${e.reason}`)).toEqual(rows.map((r) => `${r.state} ${r.reason}`));
    expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort((a, b) => a - b));

    expect((await page('?limit=3')).history.map((e) => e.reason)).toEqual(['cycle 149', 'cycle 149', 'cycle 149']);
    const tooMany = await owner.get(`/api/whatsapp-session/instances/${inst.id}/history?limit=1001`);
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toContain('limit');

    // Another account's people do not read it.
    const other = await createAccount(owner, 'Other', 'other@example.com');
    expect((await other.client.get(`/api/whatsapp-session/instances/${inst.id}/history`)).status).toBe(404);
  });
});
