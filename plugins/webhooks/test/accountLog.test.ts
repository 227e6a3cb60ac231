import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, createWorkspace, type Client } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { harness, waitFor, type Harness } from '../../whatsapp-session/test/support.js';
import { config, Receiver } from './receiver.js';

type Delivery = { id: string; instanceId: string; endpointId: string; seq: number };

describe.each(STORAGE_MODES)("the account's delivery log across its instances (%s)", (mode) => {
  let h: Harness;
  let other: Client;
  const receiver = new Receiver();
  const instances: string[] = [];
  const endpoints: string[] = [];
  let theirEndpoint: string;

  beforeAll(async () => {
    await receiver.start();
    h = await harness(mode, await createWorkspace({ mode, config: config() }));
    for (const name of ['Loja', 'Suporte', 'Vendas']) {
      const id = (await h.owner.post('/api/whatsapp-session/instances', { name })).body.id as string;
      instances.push(id);
      endpoints.push((await h.owner.post('/api/webhooks/endpoints', { instanceId: id, url: receiver.url, events: ['delivery'] })).body.id);
    }
    other = (await createAccount(h.owner, 'Outra', `outra-log-${mode}@acme.test`)).client;
    const theirs = (await other.post('/api/whatsapp-session/instances', { name: 'Deles' })).body.id as string;
    theirEndpoint = (await other.post('/api/webhooks/endpoints', { instanceId: theirs, url: receiver.url, events: ['delivery'] })).body.id;
  });
  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  const list = async (client: Client, query: string) => {
    const res = await client.get(`/api/webhooks/deliveries?${query}`);
    expect(res.status).toBe(200);
    return res.body.deliveries as Delivery[];
  };
  const fire = async (client: Client, endpointId: string) => expect((await client.post(`/api/webhooks/endpoints/${endpointId}/test`)).status).toBe(202);

  it("lists every instance's deliveries newest first, pages back with before, keeps a deleted endpoint's, and shows none of another account's", async () => {
    for (let i = 0; i < 9; i++) await fire(h.owner, endpoints[i % 3]!);
    await fire(other, theirEndpoint);
    const all = await waitFor(async () => {
      const l = await list(h.owner, 'limit=100');
      return l.length === 9 && l;
    }, 20_000, 'nine deliveries');

    // The same rows, in the same order, as each instance's own page merged by seq.
    const merged = (await Promise.all(instances.map((id) => list(h.owner, `instanceId=${id}&limit=100`)))).flat().sort((a, b) => b.seq - a.seq);
    expect(all.map((d) => d.id)).toEqual(merged.map((d) => d.id));
    expect(new Set(all.map((d) => d.instanceId))).toEqual(new Set(instances));
    expect(all.every((d, i) => i === 0 || d.seq < all[i - 1]!.seq)).toBe(true);

    // Pages of four, each starting after the previous one's last row.
    const paged: Delivery[] = [];
    for (let before: number | undefined; ; ) {
      const page = await list(h.owner, `limit=4${before ? `&before=${before}` : ''}`);
      paged.push(...page);
      if (page.length < 4) break;
      before = page.at(-1)!.seq;
    }
    expect(paged.map((d) => d.id)).toEqual(all.map((d) => d.id));

    // Filters still apply to the account's page.
    expect((await list(h.owner, 'status=dead&limit=100'))).toEqual([]);
    expect((await list(h.owner, 'eventType=delivery&limit=100')).map((d) => d.id).sort()).toEqual(all.map((d) => d.id).sort());

    // A deleted endpoint's deliveries stay in the account's log, by themselves too.
    expect((await h.owner.delete(`/api/webhooks/endpoints/${endpoints[0]}`)).status).toBe(204);
    expect((await list(h.owner, 'limit=100')).map((d) => d.id)).toEqual(all.map((d) => d.id));
    expect((await list(h.owner, `endpointId=${endpoints[0]}&limit=100`)).map((d) => d.id)).toEqual(all.filter((d) => d.endpointId === endpoints[0]).map((d) => d.id));

    // The other account sees its one delivery, and none of these.
    const theirs = await list(other, 'limit=100');
    expect(theirs.map((d) => d.endpointId)).toEqual([theirEndpoint]);
    expect(await list(other, `instanceId=${instances[1]}&limit=100`)).toEqual([]);
  });

  it('merges the pages of an account with more instances than one query reads', async () => {
    const accountId = (await h.owner.get('/api/auth/me')).body.account.id as string;
    const knex = h.app.db.knex;
    const base = 5_000_000_000_000_000; // above the seqs of the deliveries written now
    // 250 instances, each with three deliveries whose seqs interleave across instances.
    const many = Array.from({ length: 250 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    await knex('webhooks_log_instances').insert(many.map((instance_id) => ({ account_id: accountId, instance_id })));
    const rows = many.flatMap((instance_id, i) => [0, 1, 2].map((k) => ({
      id: randomUUID(), account_id: accountId, instance_id, endpoint_id: randomUUID(), event_type: 'delivery', payload: '{}', seq: base + k * 1_000 + i, status: 'delivered', attempts: 1, created_at: new Date(), next_attempt_at: null,
    })));
    for (let i = 0; i < rows.length; i += 150) await knex('webhooks_deliveries').insert(rows.slice(i, i + 150));
    const newest = [...rows].sort((a, b) => b.seq - a.seq);
    const page = await list(h.owner, 'limit=300');
    expect(page.map((d) => d.id)).toEqual(newest.slice(0, 300).map((r) => r.id));
    const next = await list(h.owner, `limit=300&before=${page.at(-1)!.seq}`);
    expect(next.map((d) => d.id)).toEqual(newest.slice(300, 600).map((r) => r.id));
  });
});
