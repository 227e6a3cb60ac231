import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createWorkspace, setupOwner, startApp, type PluginFixture, type Workspace } from './support/app.js';

const ok = (id: string, extra: Record<string, unknown> = {}) => ({ id, displayName: id, engines: { plugchat: '^1.0.0' }, ...extra });
const noop = 'export default { activate() {} };';
/** A plugin that records its activation and deactivation in a shared array. */
const recorder = (id: string) => `export default {
  activate() { (globalThis.__lifecycle ??= []).push('activate:${id}'); },
  deactivate() { globalThis.__lifecycle.push('deactivate:${id}'); },
};`;

const plugins: Record<string, PluginFixture> = {
  good: { manifest: ok('good'), code: noop },
  'bad-json': { raw: {} as Record<string, unknown>, code: noop },
  'no-block': { raw: { name: 'no-block', version: '1.0.0', main: 'index.js', type: 'module' }, code: noop },
  'bad-id': { manifest: ok('Bad_Id'), code: noop },
  'unknown-key': { manifest: ok('unknown-key', { contributes: { widgets: [] } }), code: noop },
  'outside-namespace': { manifest: ok('outside-namespace', { contributes: { jobs: [{ name: 'other.job' }] } }), code: noop },
  'old-engine': { manifest: ok('old-engine', { engines: { plugchat: '^0.9.0' } }), code: noop },
  'missing-dep': { manifest: ok('missing-dep', { dependencies: ['does-not-exist'] }), code: noop },
  'cycle-a': { manifest: ok('cycle-a', { dependencies: ['cycle-b'] }), code: noop },
  'cycle-b': { manifest: ok('cycle-b', { dependencies: ['cycle-a'] }), code: noop },
  'needs-disabled': { manifest: ok('needs-disabled', { dependencies: ['switched-off'] }), code: noop },
  'switched-off': { manifest: ok('switched-off'), code: noop },
  'no-activate': { manifest: ok('no-activate'), code: 'export default { hello: 1 };' },
  'bad-table': {
    manifest: ok('bad-table'),
    code: `import { EntitySchema } from '@plugchat/core';
export default { entities: [new EntitySchema({ name: 'Stolen', tableName: 'core_users_copy', properties: { id: { type: 'string', primary: true } } })], activate() {} };`,
  },
  'bad-route': { manifest: ok('bad-route', { contributes: { routes: [{ prefix: '/api/users' }] } }), code: noop },
  'dup-one': { manifest: ok('dup'), code: noop },
  'dup-two': { manifest: ok('dup'), code: noop },
  'throws-on-load': { manifest: ok('throws-on-load'), code: 'throw new Error("boom at import");' },
  // Lifecycle: c depends on b depends on a.
  'life-c': { manifest: ok('life-c', { dependencies: ['life-b'] }), code: recorder('life-c') },
  'life-a': { manifest: ok('life-a'), code: recorder('life-a') },
  'life-b': { manifest: ok('life-b', { dependencies: ['life-a'] }), code: recorder('life-b') },
  // Registers a route, a job and a listener, then throws: all of it must be rolled back.
  broken: {
    manifest: ok('broken', {
      contributes: { routes: [{ prefix: '/api/broken' }], jobs: [{ name: 'broken.work' }], events: { listens: ['core.account.created'] } },
    }),
    code: `import { createRouter, defineJob } from '@plugchat/core';
export default { async activate(ctx) {
  ctx.http.register(createRouter('/api/broken').get('/ping', { summary: 'ping', auth: 'public' }, () => ({ pong: true })));
  await ctx.jobs.register(defineJob({ name: 'broken.work', handler: async () => {} }));
  ctx.events.on('core.account.created', () => { globalThis.__brokenHeard = true; });
  throw new Error('activation exploded');
} };`,
  },
  'after-broken': { manifest: ok('after-broken', { dependencies: ['broken'] }), code: noop },
  undeclared: {
    manifest: ok('undeclared'),
    code: `import { createRouter } from '@plugchat/core';
export default { activate(ctx) { ctx.http.register(createRouter('/api/undeclared').get('/x', { summary: 'x' }, () => 1)); } };`,
  },
  // A listener that throws must not hurt the emitter or other listeners.
  'bad-listener': {
    manifest: ok('bad-listener', { contributes: { events: { listens: ['core.account.created'] } } }),
    code: `export default { activate(ctx) { ctx.subscriptions.push(ctx.events.on('core.account.created', () => { throw new Error('listener blew up'); })); } };`,
  },
  'good-listener': {
    manifest: ok('good-listener', { contributes: { events: { listens: ['core.account.created'] } } }),
    code: `export default { activate(ctx) { ctx.subscriptions.push(ctx.events.on('core.account.created', (e) => { (globalThis.__heard ??= []).push(e.name); })); } };`,
  },
};

describe('extension host', () => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  let list: Record<string, { state: string; reason: string | null }>;

  beforeAll(async () => {
    (globalThis as Record<string, unknown>).__lifecycle = [];
    ws = await createWorkspace({ plugins, config: { plugins: { 'switched-off': { enabled: false } } } });
    // bad-json gets a package.json that does not parse.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${ws.dir}/plugins/bad-json/package.json`, '{ "name": ');
    app = await startApp(ws);
    owner = await setupOwner(app.url);
    const res = await owner.get('/api/plugins');
    list = Object.fromEntries(res.body.plugins.map((p: { id: string; state: string; reason: string | null }) => [p.id, p]));
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('keeps the host and the healthy plugins running', async () => {
    expect((await new Client(app.url).get('/health')).status).toBe(200);
    expect(list.good!.state).toBe('active');
  });

  it.each([
    ['bad-json', /cannot read package\.json/],
    ['no-block', /no "plugchat" block/],
    ['Bad_Id', /plugchat\.id: must match/],
    ['unknown-key', /unknown key\(s\): widgets/],
    ['outside-namespace', /job "other\.job" is outside the plugin's namespace/],
    ['old-engine', /requires PlugChat \^0\.9\.0, this is 1\.0\.0/],
    ['missing-dep', /dependency "does-not-exist" is not installed/],
    ['cycle-a', /dependency cycle: cycle-a → cycle-b → cycle-a|dependency cycle: cycle-b → cycle-a → cycle-b/],
    ['cycle-b', /dependency cycle/],
    ['needs-disabled', /dependency "switched-off" is disabled/],
    ['no-activate', /must export default definePlugin/],
    ['bad-table', /tables named "bad_table_<name>": core_users_copy/],
    ['bad-route', /"\/api\/users" overlaps a core route/],
    ['dup', /id "dup" is also used by/],
    ['throws-on-load', /cannot load: boom at import/],
  ])('disables %s with its reason', (id, reason) => {
    expect(list[id], `plugin ${id} is listed`).toBeDefined();
    expect(list[id]!.state).toBe('failed');
    expect(list[id]!.reason).toMatch(reason);
  });

  it('reports a plugin switched off in the config as disabled', () => {
    expect(list['switched-off']).toMatchObject({ state: 'disabled', reason: 'disabled in plugins.config.json' });
  });

  it('activates in dependency order', () => {
    const order = ((globalThis as Record<string, unknown>).__lifecycle as string[]).filter((e) => e.startsWith('activate:life'));
    expect(order).toEqual(['activate:life-a', 'activate:life-b', 'activate:life-c']);
    expect(app.host.activationOrder().indexOf('life-a')).toBeLessThan(app.host.activationOrder().indexOf('life-c'));
  });

  it('rolls back a failed activation and disables its dependents', async () => {
    expect(list.broken).toMatchObject({ state: 'failed', reason: 'activate() threw: activation exploded' });
    expect(list['after-broken']!.state).toBe('failed');
    expect(list['after-broken']!.reason).toMatch(/dependency "broken"/);
    expect((await new Client(app.url).get('/api/broken/ping')).status).toBe(404);
    expect(app.host.records.get('broken')!.store.size).toBe(0);
    const doc = (await new Client(app.url).get('/api/openapi.json')).body;
    expect(doc.paths['/api/broken/ping']).toBeUndefined();
  });

  it('refuses registrations the manifest does not declare', () => {
    expect(list.undeclared!.state).toBe('failed');
    expect(list.undeclared!.reason).toMatch(/routes under "\/api\/undeclared".*add \{ "prefix": "\/api\/undeclared" \} to plugchat\.contributes\.routes/);
  });

  it('isolates a throwing listener: others still hear the event, the request succeeds', async () => {
    const res = await owner.post('/api/accounts', { name: 'Gamma', owner: { name: 'G', email: 'g@gamma.test', password: 'gamma password 1' } });
    expect(res.status).toBe(201);
    expect((globalThis as Record<string, unknown>).__heard).toEqual(['Acme', 'Gamma']);
    expect((globalThis as Record<string, unknown>).__brokenHeard).toBeUndefined();
    expect(app.logs.some((l) => l.plugin === 'bad-listener' && l.contribution === 'event' && l.msg === 'event listener failed')).toBe(true);
  });

  it('deactivates in reverse order on shutdown', async () => {
    await app.stop();
    const events = ((globalThis as Record<string, unknown>).__lifecycle as string[]).filter((e) => e.startsWith('deactivate:life'));
    expect(events).toEqual(['deactivate:life-c', 'deactivate:life-b', 'deactivate:life-a']);
  });
});
