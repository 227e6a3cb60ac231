import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { createWorkspace, setupOwner, startApp, type Client, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { waitFor } from '../../whatsapp-session/test/support.js';
import { config, Receiver } from './receiver.js';

const DAY = 86_400_000;

/**
 * The delivery log keeps finished deliveries `webhooks.logDays` (30) days, counted by the injected
 * clock; the daily job drops older ones with their attempts and never a pending one.
 */
describe.each(STORAGE_MODES)('the webhook log\'s retention (%s)', (mode) => {
  const clock = new ManualClock(Date.now());
  const ok = new Receiver();
  const gone = new Receiver();
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  const ids = { delivered: [] as string[], failed: [] as string[], pending: [] as string[], redelivered: '' };

  beforeAll(async () => {
    await ok.start();
    await gone.start();
    gone.respond = () => ({ status: 410 });
    ws = await createWorkspace({ mode, config: config() });
    app = await startApp(ws, {}, { clock });
    owner = await setupOwner(app.url);
  });
  afterAll(async () => {
    await ok.stop();
    await gone.stop();
    await app?.stop();
    await ws?.cleanup();
  });

  const deliveries = async (endpointId: string) => (await owner.get(`/api/webhooks/deliveries?endpointId=${endpointId}`)).body.deliveries as { id: string; status: string }[];
  const endpoint = async (instanceId: string, url: string) => (await owner.post('/api/webhooks/endpoints', { instanceId, url, events: ['delivery'] })).body.id as string;
  const fire = async (id: string, times: number) => {
    for (let i = 0; i < times; i++) expect((await owner.post(`/api/webhooks/endpoints/${id}/test`)).status).toBe(202);
  };
  const prune = async () => {
    const job = await app.queue.boss.send('webhooks.prune', {});
    await waitFor(async () => (await app.queue.boss.getJobById('webhooks.prune', job!, { includeArchive: true }))?.state === 'completed', 20_000, 'the prune job');
  };
  const attemptsOf = async (id: string) => (await owner.get(`/api/webhooks/deliveries/${id}`)).body.attempts as unknown[];
  const left = async () => (await app.db.knex('webhooks_deliveries').pluck('id')).sort();

  it('keeps finished deliveries for 30 days, then drops them with their attempts; pending ones stay', async () => {
    const instanceId = (await owner.post('/api/whatsapp-session/instances', { name: 'Log' })).body.id;
    const accountId = (await owner.get('/api/auth/me')).body.account.id;
    const [toOk, toGone, held] = [await endpoint(instanceId, ok.url), await endpoint(instanceId, gone.url), await endpoint(instanceId, ok.url)];
    await owner.patch(`/api/webhooks/endpoints/${held}`, { paused: true });
    await fire(toOk, 3);
    await fire(toGone, 2);
    await fire(held, 1);
    ids.delivered = (await waitFor(async () => {
      const list = await deliveries(toOk);
      return list.length === 3 && list.every((d) => d.status === 'delivered') && list;
    }, 20_000, 'three delivered')).map((d) => d.id);
    ids.failed = (await waitFor(async () => {
      const list = await deliveries(toGone);
      return list.length === 2 && list.every((d) => d.status === 'failed') && list;
    }, 20_000, 'two failed')).map((d) => d.id);
    ids.pending = (await deliveries(held)).map((d) => d.id);
    expect(ids.pending).toHaveLength(1);
    // One delivery written 40 days ago and delivered just now (sent again by hand): its age counts from the success.
    ids.redelivered = ids.delivered[0]!;
    await app.db.knex('webhooks_deliveries').where({ id: ids.redelivered }).update({ created_at: new Date(Date.now() - 40 * DAY) });
    // The pending one is as old: it stays however old it is.
    await app.db.knex('webhooks_deliveries').where({ id: ids.pending[0] }).update({ created_at: new Date(Date.now() - 40 * DAY) });
    // And a long-standing log: 2,345 deliveries delivered 40 days ago, each with its attempt, more than one chunk of the prune.
    const long = Array.from({ length: 2_345 }, (_, i) => ({
      id: randomUUID(), account_id: accountId, instance_id: instanceId, endpoint_id: toOk, event_type: 'delivery', payload: '{}', seq: i + 1, status: 'delivered', attempts: 1,
      created_at: new Date(Date.now() - 40 * DAY), delivered_at: new Date(Date.now() - 40 * DAY), next_attempt_at: new Date(Date.now() - 40 * DAY),
    }));
    for (let i = 0; i < long.length; i += 200) {
      await app.db.knex('webhooks_deliveries').insert(long.slice(i, i + 200));
      await app.db.knex('webhooks_attempts').insert(long.slice(i, i + 200).map((d) => ({ delivery_id: d.id, attempt: 1, at: d.delivered_at, status_code: 200, latency_ms: 3 })));
    }
    const all = [...ids.delivered, ...ids.failed, ...ids.pending].sort();
    expect(await left()).toHaveLength(all.length + long.length);
    expect(await attemptsOf(ids.failed[0]!)).toHaveLength(1);

    clock.set(Date.now() + 29 * DAY);
    await prune();
    expect(await left()).toEqual(all);
    const longAttempts = await app.db.knex('webhooks_attempts').whereIn('delivery_id', long.slice(0, 500).map((d) => d.id)).count({ n: '*' }).first();
    expect(Number(longAttempts?.n)).toBe(0);

    clock.set(Date.now() + 31 * DAY);
    await prune();
    expect(await left()).toEqual(ids.pending);
    const attempts = await app.db.knex('webhooks_attempts').whereIn('delivery_id', [...ids.delivered, ...ids.failed]).count({ n: '*' }).first();
    expect(Number(attempts?.n)).toBe(0);
    expect((await owner.get(`/api/webhooks/deliveries/${ids.failed[0]}`)).status).toBe(404);
    expect((await deliveries(held)).map((d) => d.status)).toEqual(['pending']);
  });

  it("forgets an instance in the account's log once it has no endpoint and no delivery left, and keeps the others", async () => {
    const remembered = async () => (await app.db.knex('webhooks_log_instances').pluck('instance_id')).sort();
    // Back to today: the deliveries below are fresh.
    clock.set(Date.now());
    const [gone1, kept] = [(await owner.post('/api/whatsapp-session/instances', { name: 'Antiga' })).body.id, (await owner.post('/api/whatsapp-session/instances', { name: 'Atual' })).body.id];
    const [oldEndpoint, keptEndpoint] = [await endpoint(gone1, ok.url), await endpoint(kept, ok.url)];
    await fire(oldEndpoint, 1);
    const [old] = await waitFor(async () => {
      const list = await deliveries(oldEndpoint);
      return list[0]?.status === 'delivered' && list;
    }, 20_000, 'the delivery');
    const before = await remembered();
    expect(before).toEqual(expect.arrayContaining([gone1, kept]));
    // Its endpoint deleted, the instance's delivery is still in the account's log, so it is still read.
    expect((await owner.delete(`/api/webhooks/endpoints/${oldEndpoint}`)).status).toBe(204);
    await prune();
    expect(await remembered()).toEqual(before);
    expect((await owner.get('/api/webhooks/deliveries?limit=500')).body.deliveries.map((d: { id: string }) => d.id)).toContain(old!.id);

    clock.set(Date.now() + 100 * DAY);
    await prune();
    expect(await remembered()).toEqual(before.filter((id) => id !== gone1));
    expect((await owner.get('/api/webhooks/deliveries?limit=500')).body.deliveries.map((d: { id: string }) => d.id)).toEqual(ids.pending);
    // The kept instance is still read: a new delivery to it shows in the account's page.
    await fire(keptEndpoint, 1);
    await waitFor(async () => (await owner.get('/api/webhooks/deliveries?limit=500')).body.deliveries.length === 2, 20_000, 'the new delivery in the account page');
  });
});
