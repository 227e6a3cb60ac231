import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createAccount, createWorkspace, setupOwner, startApp, OWNER, type Workspace } from './support/app.js';
import { STORAGE_MODES } from './support/db.js';

describe.each(STORAGE_MODES)('identity and tenancy (%s)', (mode) => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;

  beforeAll(async () => {
    ws = await createWorkspace({ mode, config: { packages: ['plugchat-plugin-hello'] } });
    app = await startApp(ws);
    owner = await setupOwner(app.url);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('runs first-run setup once and never again', async () => {
    const anon = new Client(app.url);
    expect((await anon.get('/api/setup')).body).toEqual({ needed: false });
    const again = await anon.post('/api/setup', { ...OWNER, email: 'other@acme.test' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_set_up');
  });

  it('answers 401 without credentials and with a bad API key', async () => {
    const anon = new Client(app.url);
    const res = await anon.get('/api/users');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
    anon.apiKey = 'pck_not-a-real-key';
    expect((await anon.get('/api/users')).status).toBe(401);
  });

  it('rejects a wrong password with 401 and then rate-limits with 429 and Retry-After', async () => {
    const c = new Client(app.url);
    const email = 'ratelimited@acme.test';
    await owner.post('/api/users', { email, name: 'R', password: 'the right password', role: 'agent' });
    for (let i = 0; i < 10; i++) expect((await c.post('/api/auth/login', { email, password: 'wrong password!' })).status).toBe(401);
    const limited = await c.post('/api/auth/login', { email, password: 'the right password' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body.error.code).toBe('rate_limited');
  });

  it('enforces roles with 403: an agent cannot manage users or create an owner', async () => {
    const created = await owner.post('/api/users', { email: 'agent@acme.test', name: 'Agent', password: 'agent password 1', role: 'agent' });
    expect(created.status).toBe(201);
    const agent = new Client(app.url);
    expect((await agent.post('/api/auth/login', { email: 'AGENT@acme.test', password: 'agent password 1' })).status).toBe(200);
    const res = await agent.get('/api/users');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    // An agent can still use agent-level plugin routes.
    expect((await agent.post('/api/hello/items', { text: 'from agent' })).status).toBe(201);
    // An admin cannot grant owner.
    await owner.post('/api/users', { email: 'admin@acme.test', name: 'Admin', password: 'admin password 1', role: 'admin' });
    const admin = new Client(app.url);
    await admin.post('/api/auth/login', { email: 'admin@acme.test', password: 'admin password 1' });
    const escalate = await admin.post('/api/users', { email: 'x@acme.test', name: 'X', password: 'xxxxxxxxxxxx', role: 'owner' });
    expect(escalate.status).toBe(403);
    // Only operators manage accounts.
    expect((await admin.get('/api/accounts')).status).toBe(403);
  });

  it('keeps the email fixed once created', async () => {
    const list = await owner.get('/api/users');
    const agent = list.body.users.find((u: { email: string }) => u.email === 'agent@acme.test');
    const res = await owner.patch(`/api/users/${agent.id}`, { email: 'new@acme.test' });
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues[0].path).toBe('body');
    expect(res.body.error.details.issues[0].message).toContain('email');
    expect((await owner.get(`/api/users/${agent.id}`)).body.email).toBe('agent@acme.test');
  });

  it('shows an API key once, stores it hashed, and stops accepting it when revoked', async () => {
    const created = await owner.post('/api/api-keys', { name: 'CI', role: 'admin' });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^pck_/);
    const list = await owner.get('/api/api-keys');
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    const raw = await app.db.knex('core_api_keys').where({ id: created.body.id }).first();
    expect(raw.key_hash).not.toContain(created.body.key);
    const bot = new Client(app.url);
    bot.apiKey = created.body.key;
    expect((await bot.get('/api/auth/me')).body.via).toBe('apiKey');
    expect((await owner.delete(`/api/api-keys/${created.body.id}`)).body.revoked).toBe(true);
    expect((await bot.get('/api/auth/me')).status).toBe(401);
  });

  it("gives account B 404 on account A's resources", async () => {
    const b = await createAccount(owner, 'Beta', 'bea@beta.test');
    const item = await owner.post('/api/hello/items', { text: 'secret of A' });
    expect(item.status).toBe(201);
    const users = await owner.get('/api/users');
    const aUser = users.body.users[0].id;
    const aKey = (await owner.post('/api/api-keys', { name: 'A key' })).body.id;

    expect((await b.client.get(`/api/hello/items/${item.body.id}`)).status).toBe(404);
    expect((await b.client.get('/api/hello/items')).body.items).toEqual([]);
    expect((await b.client.get(`/api/users/${aUser}`)).status).toBe(404);
    expect((await b.client.patch(`/api/users/${aUser}`, { name: 'pwned' })).status).toBe(404);
    expect((await b.client.delete(`/api/api-keys/${aKey}`)).status).toBe(404);
    expect((await b.client.get('/api/users')).body.users.map((u: { email: string }) => u.email)).toEqual(['bea@beta.test']);
    // And A still sees its own item, untouched.
    expect((await owner.get(`/api/hello/items/${item.body.id}`)).body.text).toBe('secret of A');
    expect((await owner.get(`/api/users/${aUser}`)).body.name).toBe('Ann Owner');
  });

  it('logs out: the cookie no longer works', async () => {
    const c = new Client(app.url);
    await c.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    const cookie = c.cookie;
    expect((await c.get('/api/auth/me')).status).toBe(200);
    expect((await c.post('/api/auth/logout')).status).toBe(204);
    const replay = new Client(app.url);
    replay.cookie = cookie;
    expect((await replay.get('/api/auth/me')).status).toBe(401);
  });

  it('drops a user\'s expired sessions when they sign in again, and only theirs', async () => {
    const signIn = async () => {
      const c = new Client(app.url);
      expect((await c.post('/api/auth/login', { email: OWNER.email, password: OWNER.password })).status).toBe(200);
      return c;
    };
    const user = await app.db.knex('core_users').where({ email: OWNER.email }).first('id');
    const sessions = async () => (await app.db.knex('core_sessions').where({ user_id: user.id }).pluck('id')) as string[];
    const earlier = await sessions();
    await signIn();
    const [old] = (await sessions()).filter((id) => !earlier.includes(id));
    await signIn();
    const before = await sessions();
    // That sign-in's session ran out a day ago; a session of someone else ran out too.
    await app.db.knex('core_sessions').where({ id: old }).update({ expires_at: new Date(Date.now() - 86_400_000) });
    const other = await createAccount(owner, 'Expiry', 'expiry@example.com');
    const otherUser = await app.db.knex('core_users').where({ email: 'expiry@example.com' }).first('id');
    await app.db.knex('core_sessions').where({ user_id: otherUser.id }).update({ expires_at: new Date(Date.now() - 86_400_000) });
    const latest = await signIn();
    const after = await sessions();
    expect(after).not.toContain(old);
    // The others stay, the new one joins: one in, one out.
    expect(after).toEqual(expect.arrayContaining(before.filter((id) => id !== old)));
    expect(after).toHaveLength(before.length);
    expect(Number((await app.db.knex('core_sessions').where({ user_id: otherUser.id }).count({ n: '*' }).first())?.n)).toBe(1);
    expect((await latest.get('/api/auth/me')).status).toBe(200);
    expect((await other.client.get('/api/auth/me')).status).toBe(401);
  });

  it('never stores or logs a password in clear', async () => {
    const row = await app.db.knex('core_users').where({ email: OWNER.email }).first();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(app.logs)).not.toContain(OWNER.password);
  });
});
