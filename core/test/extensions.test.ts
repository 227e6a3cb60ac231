import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, startApp, type Workspace } from './support/app.js';

const manifest = (id: string, extra: Record<string, unknown> = {}) => ({ id, displayName: id, engines: { plugchat: '^1.0.0' }, ...extra });

describe('plugin-to-plugin APIs, extension points and secrets', () => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    ws = await createWorkspace({
      plugins: {
        transport: {
          manifest: manifest('transport', { contributes: { extensionPoints: ['transport.endpoints'] } }),
          code: `export default { activate(ctx) {
            return {
              endpoints: () => ctx.extensions.get('transport.endpoints'),
              storeToken: (v) => ctx.secrets.set('token', v),
              readToken: () => ctx.secrets.get('token'),
            };
          } };`,
        },
        sandbox: {
          manifest: manifest('sandbox', { dependencies: ['transport'], contributes: { extends: ['transport.endpoints'] } }),
          code: `export default { activate(ctx) {
            ctx.subscriptions.push(ctx.extensions.contribute('transport.endpoints', { name: 'sandbox', url: 'ws://127.0.0.1:1' }));
            globalThis.__transportApi = ctx.getApi('transport');
          } };`,
        },
        nosy: {
          manifest: manifest('nosy'),
          code: `export default { activate(ctx) { ctx.getApi('transport'); } };`,
        },
        squatter: {
          manifest: manifest('squatter', { dependencies: ['transport'], contributes: { extends: ['transport.nothing'] } }),
          code: `export default { activate(ctx) { ctx.extensions.contribute('transport.nothing', 1); } };`,
        },
      },
    });
    app = await startApp(ws);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('hands a dependency its API and collects contributions to an extension point', () => {
    const api = (globalThis as Record<string, unknown>).__transportApi as { endpoints(): unknown[] };
    expect(api.endpoints()).toEqual([{ name: 'sandbox', url: 'ws://127.0.0.1:1' }]);
  });

  it('refuses getApi for an undeclared dependency and contributions to undeclared points', () => {
    expect(app.host.records.get('nosy')).toMatchObject({ state: 'failed' });
    expect(app.host.records.get('nosy')!.reason).toMatch(/add "transport" to plugchat.dependencies/);
    expect(app.host.records.get('squatter')!.reason).toMatch(/transport declares no extension point "transport.nothing"/);
  });

  it('keeps plugin secrets encrypted at rest', async () => {
    const api = (globalThis as Record<string, unknown>).__transportApi as { storeToken(v: string): Promise<void>; readToken(): Promise<string> };
    await api.storeToken('s3cr3t-value');
    expect(await api.readToken()).toBe('s3cr3t-value');
    const row = await app.db.knex('core_secrets').where({ plugin: 'transport', name: 'token' }).first();
    expect(row.value).not.toContain('s3cr3t');
    expect(row.value).toMatch(/^v1\./);
  });

  it('withdraws contributions when the contributing plugin is deactivated', async () => {
    const api = (globalThis as Record<string, unknown>).__transportApi as { endpoints(): unknown[] };
    await app.stop();
    expect(api.endpoints()).toEqual([]);
  });
});
