import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createAccount, createWorkspace, setupOwner, startApp, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';

/** The integrator API as a Z-API partner's backend calls it: the account's API key in Client-Token. */
describe.each(STORAGE_MODES)('the integrator API: instances created with their callbacks, listed in pages, subscribed and cancelled (%s)', (mode) => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  let api: Client;
  let created: { id: string; token: string; due: number };
  const hook = 'https://hooks.example.com/zapi';

  beforeAll(async () => {
    ws = await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session', '@plugchat/webhooks', '@plugchat/billing'] } });
    app = await startApp(ws);
    owner = await setupOwner(app.url);
    const key = (await owner.post('/api/api-keys', { name: 'parceiro' })).body.key as string;
    api = new Client(app.url);
    const req = api.req.bind(api);
    api.req = (method, url, body, headers = {}) => req(method, url, body, { 'client-token': key, accept: 'application/json', ...headers });
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  const me = async (i: { id: string; token: string }) => (await api.get(`/instances/${i.id}/token/${i.token}/me`)).body;

  it('creates an instance with its callback URLs and settings in one call', async () => {
    const before = Date.now();
    // What the partner sets, and what GET /me must then show.
    const settings = {
      name: 'Loja Norte',
      receivedCallbackUrl: hook,
      deliveryCallbackUrl: `${hook}/delivery`,
      messageStatusCallbackUrl: `${hook}/status`,
      callRejectAuto: true,
      callRejectMessage: 'Só mensagens, por favor.',
      autoReadMessage: true,
    };
    const res = await api.post('/instances/integrator/on-demand', { ...settings, sessionName: 'loja-norte', isDevice: false, businessDevice: true });
    expect(res.status).toBe(200);
    created = res.body;
    expect(created).toMatchObject({ id: expect.any(String), token: expect.any(String) });
    // Billing's trial: two days from now.
    expect(created.due).toBeGreaterThanOrEqual(before + 2 * 86_400_000 - 5_000);
    expect(created.due).toBeLessThanOrEqual(Date.now() + 2 * 86_400_000 + 5_000);
    expect(await me(created)).toMatchObject({ ...settings, id: created.id, due: created.due, paymentStatus: 'trial' });
  });

  it('creates nothing when a field is refused, and names the field', async () => {
    const count = async () => (await api.get('/instances')).body.total as number;
    const n = await count();
    const badUrl = await api.post('/instances/integrator/on-demand', { name: 'Errada', receivedCallbackUrl: 'ftp://hooks.example.com/x' });
    expect([badUrl.status, badUrl.body.error.details.issues[0].path]).toEqual([400, 'body.receivedCallbackUrl']);
    const unsupported = await api.post('/instances/integrator/on-demand', { name: 'Errada', autoReadStatus: true });
    expect([unsupported.status, unsupported.body.error.details.issues[0].path]).toEqual([400, 'body.autoReadStatus']);
    const noName = await api.post('/instances/integrator/on-demand', {});
    expect([noName.status, noName.body.error.details.issues[0].path]).toEqual([400, 'body.name']);
    expect(await count()).toBe(n);
  });

  it("lists the account's instances in pages, with their callbacks, and finds them by name", async () => {
    await api.post('/instances/integrator/on-demand', { name: 'Loja Sul' });
    await api.post('/instances/integrator/on-demand', { name: 'Loja Leste' });
    const first = (await api.get('/instances?page=1&pageSize=2')).body;
    expect(first).toMatchObject({ total: 3, totalPage: 2, pageSize: 2, page: 1 });
    expect(first.content).toHaveLength(2);
    const second = (await api.get('/instances?page=2&pageSize=2')).body;
    expect(second.content).toHaveLength(1);
    const all = [...first.content, ...second.content];
    expect(all.map((i: { name: string }) => i.name).sort()).toEqual(['Loja Leste', 'Loja Norte', 'Loja Sul']);
    expect(all.find((i: { id: string }) => i.id === created.id)).toMatchObject({ token: created.token, receivedCallbackUrl: hook, phoneConnected: false, whatsappConnected: false, paymentStatus: 'trial', due: created.due });
    expect((await api.get('/instances?query=norte')).body.content.map((i: { id: string }) => i.id)).toEqual([created.id]);
    // Another account's key sees only its own instances.
    const other = (await createAccount(owner, 'Outra Loja', `dona-${mode}@outra-loja.test`)).client;
    const otherKey = (await other.post('/api/api-keys', { name: 'outra' })).body.key as string;
    const theirs = await fetch(`${app.url}/instances`, { headers: { 'client-token': otherKey, accept: 'application/json' } });
    expect((await theirs.json()).total).toBe(0);
    // A browser opening the web app's Instances page still gets the page.
    const page = await fetch(`${app.url}/instances`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', cookie: owner.cookie! } });
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('subscribes and cancels through billing', async () => {
    const base = `/instances/${created.id}/token/${created.token}/integrator/on-demand`;
    expect((await api.post(`${base}/subscription`, { withCalls: false })).body).toEqual({ value: true });
    expect(await me(created)).toMatchObject({ paymentStatus: 'subscribed', due: null });
    const again = await api.post(`${base}/subscription`, {});
    expect([again.status, again.body.error.code]).toEqual([409, 'already_subscribed']);
    expect((await api.post(`${base}/cancel`, {})).body).toEqual({ value: true });
    const after = await me(created);
    expect(after.paymentStatus).toBe('cancelled');
    expect(after.due).toBeGreaterThan(Date.now());
    const wrongToken = await api.post(`/instances/${created.id}/token/WRONGTOKEN1/integrator/on-demand/cancel`, {});
    expect(wrongToken.status).toBe(403);
  });
});
