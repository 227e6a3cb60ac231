import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createWorkspace, setupOwner, startApp, waitFor, type Workspace } from './support/app.js';
import { STORAGE_MODES } from './support/db.js';

/**
 * The example plugin lives outside plugins/ as its own npm package
 * (core/test/fixtures/plugchat-plugin-hello), installed by path and listed
 * under "packages" in plugins.config.json, exactly as a third party's would be.
 */
describe.each(STORAGE_MODES)('a third-party plugin installed from npm (%s)', (mode) => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;

  beforeAll(async () => {
    ws = await createWorkspace({ mode, config: { packages: ['plugchat-plugin-hello'], plugins: { hello: { settings: { greeting: 'Olá' } } } } });
    app = await startApp(ws);
    owner = await setupOwner(app.url);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('is discovered as a package and active, with its UI page declared', async () => {
    const hello = (await owner.get('/api/plugins')).body.plugins.find((p: { id: string }) => p.id === 'hello');
    expect(hello).toMatchObject({ source: 'package', packageName: 'plugchat-plugin-hello', state: 'active' });
    expect(hello.ui.pages).toEqual([{ id: 'hello.page', path: '/hello', title: 'Hello' }]);
  });

  it('answers its route with the configured setting', async () => {
    expect((await owner.get('/api/hello/greeting')).body).toEqual({ greeting: 'Olá' });
  });

  it('runs its job', async () => {
    const res = await owner.post('/api/hello/jobs', { text: 'queued work' });
    expect(res.status).toBe(202);
    await waitFor(async () => (await owner.get('/api/hello/log')).body.log.some((e: { text: string }) => e.text === 'queued work'), 20_000, 'the job');
  });

  it('receives an event from the core', async () => {
    await owner.post('/api/accounts', { name: 'Delta', owner: { name: 'D', email: 'd@delta.test', password: 'delta password 1' } });
    const log = (await owner.get('/api/hello/log')).body.log;
    expect(log).toContainEqual({ kind: 'event', text: 'account created: Delta' });
  });

  it('has its settings validated on change, all or nothing, and kept across restarts', async () => {
    const bad = await owner.put('/api/plugins/hello/settings', { greeting: 'Hi', maxItems: 0, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['colour', 'maxItems']);
    expect((await owner.get('/api/hello/greeting')).body.greeting).toBe('Olá');

    const good = await owner.put('/api/plugins/hello/settings', { greeting: 'Hi there' });
    expect(good.status).toBe(200);
    expect(good.body.settings.find((s: { key: string }) => s.key === 'hello.greeting')).toMatchObject({ value: 'Hi there', source: 'changed' });
    expect((await owner.get('/api/hello/greeting')).body.greeting).toBe('Hi there');

    await app.stop();
    app = await startApp(ws);
    const again = new Client(app.url);
    await again.post('/api/auth/login', { email: 'ann@acme.test', password: 'correct horse battery' });
    expect((await again.get('/api/hello/greeting')).body.greeting).toBe('Hi there');
    owner = again;
  });

  it('lets only operators change settings', async () => {
    await owner.post('/api/users', { email: 'adm@acme.test', name: 'Adm', password: 'admin password 2', role: 'admin' });
    const admin = new Client(app.url);
    await admin.post('/api/auth/login', { email: 'adm@acme.test', password: 'admin password 2' });
    expect((await admin.get('/api/plugins/hello/settings')).status).toBe(200);
    expect((await admin.put('/api/plugins/hello/settings', { greeting: 'nope' })).status).toBe(403);
  });
});
