import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, signIn } from '../../core/test/support/browser.js';
import { createWorkspace, OWNER, setupOwner, startApp, type Client, type Workspace } from '../../core/test/support/app.js';

/** A plugin installed from npm (core/test/fixtures/plugchat-plugin-hello) ships a prebuilt UI module. */
describe.skipIf(!hasChromium)('a third-party plugin’s pages and panels, loaded at run time (Chromium)', () => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  let browser: Browser;

  beforeAll(async () => {
    ws = await createWorkspace({ config: { packages: ['@plugchat/whatsapp-session', 'plugchat-plugin-hello'], plugins: { hello: { settings: { 'hello.greeting': 'Olá' } } } } });
    app = await startApp(ws);
    owner = await setupOwner(app.url);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await ws?.cleanup();
  });

  it('shows the example plugin’s page and its panel in the instance page, with the shell’s Vue and components', async () => {
    const hello = (await owner.get('/api/plugins')).body.plugins.find((p: { id: string }) => p.id === 'hello');
    expect(hello.ui.module).toBe('/api/plugins/hello/ui/index.js');
    // Only files of the module's folder are served.
    expect((await owner.get('/api/plugins/hello/ui/package.json')).status).toBe(400);
    expect((await owner.get('/api/plugins/hello/ui/other.js')).status).toBe(404);
    const id = (await owner.post('/api/whatsapp-session/instances', { name: 'Loja' })).body.id;

    const page = await (await browser.newContext({ locale: 'pt-BR' })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await signIn(page, app.url, OWNER.email, OWNER.password);
    await page.locator('[data-test=nav] a', { hasText: 'Hello' }).click();
    await page.locator('[data-test=hello-page] .greeting', { hasText: 'Olá' }).waitFor();

    await page.goto(`${app.url}/instances/${id}`);
    await page.locator('.n-tabs-tab', { hasText: 'Hello' }).click();
    const panel = page.locator('[data-test=hello-panel]');
    await panel.locator('text=Olá, Loja!').waitFor();
    // A Naive UI button of the shell's, rendered by the plugin's code.
    await panel.locator('button.n-button', { hasText: 'Clicked 0' }).click();
    await panel.locator('button', { hasText: 'Clicked 1' }).waitFor();
    expect(errors).toEqual([]);
  });
});
