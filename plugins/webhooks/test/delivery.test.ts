import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createWorkspace, OWNER, startApp } from '../../../core/test/support/app.js';
import { harness, makeHarness, waitFor, type Harness } from '../../whatsapp-session/test/support.js';
import { isPrivate, postJson } from '../src/safeRequest.js';
import { config, Receiver } from './receiver.js';

describe('delivery: retries, the log, redelivery, outages and restarts', () => {
  let h: Harness;
  let instanceId: string;
  const receiver = new Receiver();
  const dead: unknown[] = [];
  const failing: unknown[] = [];

  beforeAll(async () => {
    await receiver.start();
    h = await harness(undefined, await createWorkspace({ config: config({ maxAttempts: 4, timeoutMs: 400, failingAfter: 3 }) }));
    h.app.events.on('test', 'webhooks.delivery.dead', (e) => void dead.push(e));
    h.app.events.on('test', 'webhooks.endpoint.failing', (e) => void failing.push(e));
    instanceId = (await h.owner.post('/api/whatsapp-session/instances', { name: 'Hooks' })).body.id;
  });
  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  const endpoint = async (url = receiver.url) => (await h.owner.post('/api/webhooks/endpoints', { instanceId, url, events: ['delivery'] })).body;
  const fire = async (id: string) => expect((await h.owner.post(`/api/webhooks/endpoints/${id}/test`)).status).toBe(202);
  const deliveries = async (endpointId: string) => (await h.owner.get(`/api/webhooks/deliveries?endpointId=${endpointId}`)).body.deliveries as { id: string; status: string; attempts: number }[];
  const detail = async (id: string) => (await h.owner.get(`/api/webhooks/deliveries/${id}`)).body;

  it('retries a 500 with backoff until the last attempt, then dead-letters it; every attempt is logged', async () => {
    receiver.respond = () => ({ status: 500 });
    const e = await endpoint();
    await fire(e.id);
    const [d] = await waitFor(async () => {
      const list = await deliveries(e.id);
      return list[0]?.status === 'dead' && list;
    }, 20_000, 'the dead letter');
    const full = await detail(d!.id);
    expect(full.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500, 500]);
    expect(full.attempts[0].responseExcerpt).toBe('answered 500');
    const times = full.attempts.map((a: { at: string }) => new Date(a.at).getTime());
    expect(times[3] - times[2]).toBeGreaterThanOrEqual(times[1] - times[0]);
    expect(dead).toContainEqual(expect.objectContaining({ deliveryId: d!.id, attempts: 4 }));
    expect(failing).toContainEqual(expect.objectContaining({ endpointId: e.id }));
    expect((await h.owner.get(`/api/webhooks/endpoints/${e.id}`)).body.failing).toBe(true);

    // Redeliver by hand once the receiver is fixed.
    receiver.respond = () => ({ status: 200 });
    expect((await h.owner.post(`/api/webhooks/deliveries/${d!.id}/redeliver`)).status).toBe(202);
    await waitFor(async () => (await deliveries(e.id))[0]?.status === 'delivered', 20_000, 'the redelivery');
    expect((await h.owner.get(`/api/webhooks/endpoints/${e.id}`)).body.failing).toBe(false);
  });

  it('does not retry a 410, retries a timeout and a slow receiver, and honours Retry-After on 429', async () => {
    receiver.respond = () => ({ status: 410 });
    const gone = await endpoint();
    await fire(gone.id);
    await waitFor(async () => (await deliveries(gone.id))[0]?.status === 'failed', 20_000, '410 failed');
    expect((await deliveries(gone.id))[0]!.attempts).toBe(1);

    let calls = 0;
    receiver.respond = () => (++calls === 1 ? { status: 200, delayMs: 1_500 } : { status: 200 });
    const slow = await endpoint();
    await fire(slow.id);
    await waitFor(async () => (await deliveries(slow.id))[0]?.status === 'delivered', 20_000, 'delivered after a timeout');
    const attempts = (await detail((await deliveries(slow.id))[0]!.id)).attempts;
    expect(attempts[0].error).toMatch(/no answer within 400 ms/);
    expect(attempts[1].statusCode).toBe(200);

    let limited = 0;
    receiver.respond = () => (++limited === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
    const rl = await endpoint();
    await fire(rl.id);
    await waitFor(async () => (await deliveries(rl.id))[0]?.status === 'delivered', 20_000, 'delivered after 429');
    const [first, second] = (await detail((await deliveries(rl.id))[0]!.id)).attempts;
    expect(new Date(second.at).getTime() - new Date(first.at).getTime()).toBeGreaterThanOrEqual(1_900);
  });

  it('loses nothing while the receiver is down, across a PlugChat restart; duplicates keep their event id', async () => {
    receiver.respond = () => ({ status: 200 });
    const e = await endpoint();
    const port = receiver.port;
    await receiver.stop();
    for (let i = 0; i < 5; i++) await fire(e.id);
    await waitFor(async () => (await deliveries(e.id)).every((d) => d.attempts >= 1), 20_000, 'failed first attempts');

    // Restart PlugChat while everything is still pending.
    await h.stop();
    const app = await startApp(h.ws);
    const owner = new Client(app.url);
    await owner.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    h = makeHarness(h.ws, app, owner, h.key);
    await receiver.start(port);
    const ids = (await deliveries(e.id)).map((d) => d.id).sort();
    await waitFor(async () => (await deliveries(e.id)).every((d) => d.status === 'delivered'), 30_000, 'all delivered');
    const got = receiver.requests.filter((r) => ids.includes(r.eventId));
    expect([...new Set(got.map((r) => r.eventId))].sort()).toEqual(ids);
  });

  it('delivers, once, an event that was committed but not dispatched when the process died', async () => {
    receiver.respond = () => ({ status: 200 });
    const e = (await h.owner.post('/api/webhooks/endpoints', { instanceId, url: receiver.url, events: ['message-status'] })).body;
    const payload = { eventId: 'evt-crash-1', instanceId, accountId: (await h.owner.get('/api/auth/me')).body.account.id, zaapId: 'Z1', messageId: 'WAMSG1', phone: '5511999990001', status: 'READ' };
    // As if the status change committed and the process died before emitting: two rows, one event.
    for (const id of ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']) {
      await h.app.db.knex('whatsapp_session_outbox').insert({ id, seq: Date.now() * 1000, name: 'whatsapp-session.message.status', payload: JSON.stringify(payload), created_at: new Date() });
    }
    await h.stop();
    const app = await startApp(h.ws);
    const owner = new Client(app.url);
    await owner.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    h = makeHarness(h.ws, app, owner, h.key);
    await waitFor(async () => receiver.requests.some((r) => r.json.ids?.includes('WAMSG1')), 20_000, 'the recovered event');
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests.filter((r) => r.json.ids?.includes('WAMSG1'))).toHaveLength(1);
    expect(await h.app.db.knex('whatsapp_session_outbox').count({ n: '*' }).first()).toMatchObject({ n: 0 });
    expect((await deliveries(e.id))).toHaveLength(1);
  });

  it('pauses and resumes an endpoint', async () => {
    receiver.respond = () => ({ status: 200 });
    const e = await endpoint();
    await h.owner.patch(`/api/webhooks/endpoints/${e.id}`, { paused: true });
    await fire(e.id);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await deliveries(e.id))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    await h.owner.patch(`/api/webhooks/endpoints/${e.id}`, { paused: false });
    await waitFor(async () => (await deliveries(e.id))[0]?.status === 'delivered', 20_000, 'delivered after resume');
  });

  it('does not follow redirects', async () => {
    receiver.respond = () => ({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    const e = await endpoint();
    await fire(e.id);
    await waitFor(async () => (await deliveries(e.id))[0]?.status === 'failed', 20_000, 'failed');
    const before = receiver.requests.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.requests.length).toBe(before);
  });
});

describe('safety and configuration errors (default settings)', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  beforeAll(async () => {
    h = await harness(undefined, await createWorkspace({ config: { packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox', '@plugchat/webhooks'] } }));
    const created = (await h.owner.post('/api/whatsapp-session/instances', { name: 'Safe' })).body;
    inst = { id: created.id, token: created.token };
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  it.each([
    ['http://example.com/hook', /must use https/],
    ['https://127.0.0.1/hook', /private, loopback or link-local/],
    ['https://10.1.2.3/hook', /private/],
    ['https://169.254.169.254/latest', /private/],
    ['https://[::1]/hook', /private/],
    ['https://[fd00::1]/hook', /private/],
    // IPv4 inside IPv6, and the rest of the special ranges, in every spelling the URL parser accepts.
    ['https://[::ffff:127.0.0.1]/hook', /private/],
    ['https://[::ffff:7f00:1]/hook', /private/],
    ['https://[0:0:0:0:0:ffff:a01:203]/hook', /private/],
    ['https://[64:ff9b::7f00:1]/hook', /private/],
    ['https://[2002:7f00:1::]/hook', /private/],
    ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook', /private/],
    ['https://[2001:db8::1]/hook', /private/],
    ['https://[fe80::1]/hook', /private/],
    ['https://[ff02::1]/hook', /private/],
    ['https://[::]/hook', /private/],
    ['https://2130706433/hook', /private/],
    ['https://0x7f.1/hook', /private/],
    ['https://017700000001/hook', /private/],
    ['https://0.0.0.0/hook', /private/],
    ['https://255.255.255.255/hook', /private/],
    ['https://100.64.0.1/hook', /private/],
    ['https://198.18.0.1/hook', /private/],
    ['https://192.0.2.10/hook', /private/],
    ['https://203.0.113.5/hook', /private/],
    ['https://240.0.0.1/hook', /private/],
    ['https://224.0.0.1/hook', /private/],
    ['https://localhost:8443/hook', /local host name/],
    ['https://user:pw@example.com/hook', /credentials/],
    ['ftp://example.com', /http\(s\)/],
    ['not a url', /not a valid URL/],
  ])('refuses %s', async (url, why) => {
    const native = await h.owner.post('/api/webhooks/endpoints', { instanceId: inst.id, url, events: ['received'] });
    expect(native.status).toBe(400);
    expect(native.body.error.code).toBe('invalid_webhook_url');
    expect(native.body.error.message).toMatch(why);
    expect(native.body.error.details.issues[0].path).toBe('body.url');
    const zapi = await h.api(inst).put('/update-webhook-received', { value: url });
    expect(zapi.status).toBe(400);
    expect(zapi.body.error.details.issues[0].path).toBe('body.value');
  });

  it('never connects to a loopback listener through an IPv4-mapped IPv6 address', async () => {
    const listener = createServer((_req, res) => {
      reached++;
      res.end('ok');
    });
    let reached = 0;
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    const port = (listener.address() as AddressInfo).port;
    try {
      for (const host of ['[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '127.0.0.1', '2130706433']) {
        const r = await postJson(`http://${host}:${port}/hook`, '{}', {}, { allowHttp: true, allowPrivateNetworks: false, timeoutMs: 2_000 });
        expect(r.status).toBeUndefined();
        expect(r.error).toMatch(/private/);
      }
      expect(reached).toBe(0);
      // Allowed on purpose (webhooks.allowPrivateNetworks), the same listener answers.
      expect((await postJson(`http://127.0.0.1:${port}/hook`, '{}', {}, { allowHttp: true, allowPrivateNetworks: true, timeoutMs: 2_000 })).status).toBe(200);
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });

  it('keeps the first kilobyte of a long answer and says why a connection failed', async () => {
    const listener = createServer((_req, res) => res.end('x'.repeat(100_000)));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    const port = (listener.address() as AddressInfo).port;
    const opts = { allowHttp: true, allowPrivateNetworks: true, timeoutMs: 2_000 };
    try {
      const long = await postJson(`http://127.0.0.1:${port}/hook`, '{}', { 'X-Team': 'a' }, opts);
      expect(long.status).toBe(200);
      expect(long.excerpt).toHaveLength(1024);
    } finally {
      await new Promise((r) => listener.close(r));
    }
    const closed = await postJson(`http://127.0.0.1:${port}/hook`, '{}', {}, opts);
    expect(closed.status).toBeUndefined();
    expect(closed.error).toMatch(/ECONNREFUSED/);
  });

  it('classifies only public unicast addresses as public', () => {
    for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2800:3f0:4001:80f::200e']) expect(isPrivate(ip)).toBe(false);
    for (const ip of ['127.0.0.1', '10.0.0.1', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', '::ffff:8.8.8.8', '64:ff9b::808:808', 'fe80::1%eth0', 'not an ip']) expect(isPrivate(ip)).toBe(true);
  });

  it('refuses at connect time a host name that resolves to a private address', async () => {
    const host = os.hostname();
    const addresses = await lookup(host, { all: true }).catch(() => []);
    if (!addresses.length || !addresses.every((a) => isPrivate(a.address))) return; // this machine's name is public: nothing to show
    const r = await postJson(`https://${host}:1/hook`, '{}', {}, { allowHttp: false, allowPrivateNetworks: false, timeoutMs: 2_000 });
    expect(r.error).toMatch(/resolves to a private address/);
  });

  it('explains invalid configuration', async () => {
    const badEvents = await h.owner.post('/api/webhooks/endpoints', { instanceId: inst.id, url: 'https://example.com/h', events: ['everything'] });
    expect(badEvents.status).toBe(400);
    expect(badEvents.body.error.details.issues[0].path).toMatch(/^body\.events/);
    const badHeader = await h.owner.post('/api/webhooks/endpoints', { instanceId: inst.id, url: 'https://example.com/h', events: ['received'], headers: { 'X-PlugChat-Signature': 'forged' } });
    expect(badHeader.status).toBe(400);
    // The client manages the connection: a header of the connection's own is refused, not sent.
    const hopByHop = await h.owner.post('/api/webhooks/endpoints', { instanceId: inst.id, url: 'https://example.com/h', events: ['received'], headers: { Connection: 'close' } });
    expect(hopByHop.status).toBe(400);
    expect(hopByHop.body.error.details.issues[0].path).toBe('body.headers');
    const otherInstance = await h.owner.post('/api/webhooks/endpoints', { instanceId: 'ABCDEF0123456789', url: 'https://example.com/h', events: ['received'] });
    expect(otherInstance.status).toBe(404);
    const wrongToken = await h.api({ id: inst.id, token: 'WRONGTOKEN1' }).put('/update-webhook-received', { value: 'https://example.com/h' });
    expect(wrongToken.status).toBe(403);
    expect((await new Client(h.app.url).get('/api/webhooks/endpoints')).status).toBe(401);
  });
});
