import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../../core/test/support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createWorkspace, OWNER, REPO, startApp, waitFor, type Workspace } from '../../core/test/support/app.js';
import { Receiver } from '../../plugins/webhooks/test/receiver.js';

/** Screenshots of each main screen, written for people to look at (see the README). */
export const SHOTS = path.join(REPO, 'artifacts/screenshots');
if (!hasChromium) console.warn(`UI tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const config = (sandbox = true) => ({
  bundled: false,
  packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox', '@plugchat/webhooks'],
  plugins: {
    'whatsapp-sandbox': { enabled: sandbox },
    webhooks: { settings: { allowHttp: true, allowPrivateNetworks: true, retryBaseSeconds: 0.2 } },
  },
});

describe.skipIf(!hasChromium)('the web app in Chromium', () => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let browser: Browser;
  let page: Page;
  const receiver = new Receiver();
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await receiver.start();
    ws = await createWorkspace({ config: config() });
    app = await startApp(ws);
    browser = await launchChromium();
    const context = await browser.newContext({ locale: 'pt-BR', viewport: { width: 1366, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await receiver.stop();
    await app?.stop();
    await ws?.cleanup();
  });

  it('sets up the owner on first run and signs in', async () => {
    await page.goto(app.url);
    await page.waitForURL('**/setup');
    await shot('01-setup');
    await page.fill('input[name=accountName]', OWNER.accountName);
    await page.fill('input[name=name]', OWNER.name);
    await page.fill('input[name=email]', OWNER.email);
    await page.fill('input[name=password]', OWNER.password);
    await page.click('button[type=submit]');
    await page.waitForURL('**/instances');
    await page.getByText('Instâncias').first().waitFor();
    // An empty list says what to do, not the table's default "Não há dados".
    await page.locator('[data-test=instances-empty]', { hasText: 'Clique em Adicionar' }).waitFor();
    expect(await page.getByText('Não há dados').count()).toBe(0);
    // Signing out and in again works too.
    await page.getByRole('button', { name: 'Sair' }).click();
    await page.waitForURL('**/login**');
    await shot('02-login');
    await page.fill('input[name=email]', OWNER.email);
    await page.fill('input[name=password]', OWNER.password);
    await page.click('button[type=submit]');
    await page.waitForURL('**/instances');
  });

  it('creates an instance and pairs it through a sandbox phone with one click until "Conectado"', async () => {
    await page.click('[data-test=add-instance]');
    await page.fill('input[name=instance-name]', 'Loja Centro');
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.waitForURL(/\/instances\/[A-Z0-9]+$/);
    await page.click('[data-test=connect]');
    await page.locator('[data-test=qr]').waitFor({ timeout: 20_000 });
    await shot('03-instance-qr');
    // The one-click scan says which business number the instance gets.
    const shown = (await page.locator('[data-test=sandbox-scan-phone]').textContent())!.replace('conecta como ', '');
    expect(shown).toMatch(/^\+55 11 \d/);
    await page.click('[data-test=sandbox-scan]');
    await expect.poll(() => page.locator('[data-test=instance-state]').textContent(), { timeout: 30_000 }).toBe('Conectado');
    await shot('04-instance-connected');
    expect(await page.locator('[data-test=instance-id]').textContent()).toMatch(/^[A-F0-9]{32}$/);
    const instanceUrl = page.url();

    // The list: the name is a link styled like the app's (not the browser's underline), the number formatted.
    await page.goto(`${app.url}/instances`);
    const link = page.locator('[data-test=instance-link]', { hasText: 'Loja Centro' });
    await link.waitFor();
    expect(await link.evaluate((el) => getComputedStyle(el).textDecorationLine)).not.toContain('underline');
    expect(await page.locator('[data-test=instance-phone]').first().textContent()).toBe(shown);
    await shot('04b-instance-list');
    await link.click();
    await page.waitForURL(instanceUrl);
  });

  it('sends from the instance page, sees it on the sandbox phone, and sees the reply', async () => {
    const instanceUrl = page.url();
    const owner = new Client(app.url);
    await owner.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    const bizPhone = (await owner.get('/api/whatsapp-session/instances')).body.instances[0].phone as string;

    await page.goto(`${app.url}/sandbox`);
    await page.fill('input[name=phone]', '5521977776666');
    await page.fill('input[name=phone-name]', 'Cliente Teste');
    await page.getByRole('button', { name: 'Criar telefone' }).click();
    await page.locator('[data-test=phone]').waitFor();

    await page.goto(instanceUrl);
    await page.fill('input[name=to]', '5521977776666');
    await page.fill('input[name=message]', 'Olá! Seu pedido saiu.');
    await page.getByRole('button', { name: 'Enviar', exact: true }).click();

    await page.goto(`${app.url}/sandbox`);
    await page.locator('[data-test=phone-message]', { hasText: 'Olá! Seu pedido saiu.' }).waitFor({ timeout: 20_000 });
    // The customer's phone offers the connected business number: nothing to look up and type.
    await expect.poll(() => page.inputValue('input[name=to]')).toBe(bizPhone);
    await page.fill('input[name=text]', 'Oba, obrigado!');
    await page.getByRole('button', { name: 'Enviar', exact: true }).click();
    await page.locator('[data-test=phone-message]', { hasText: 'Oba, obrigado!' }).waitFor();
    await shot('05-sandbox-phone');

    await page.goto(instanceUrl);
    await page.locator('[data-test=message]', { hasText: 'Oba, obrigado!' }).waitFor({ timeout: 20_000 });
    // People's words, not codes: statuses translated, numbers formatted; what a Z-API client needs, on the page.
    const statuses = await page.locator('[data-test=message-status]').allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    for (const st of statuses) expect(['Na fila', 'Enviando', 'Enviada', 'Entregue', 'Lida', 'Reproduzida', 'Falhou']).toContain(st);
    expect(await page.locator('[data-test=message]').first().textContent()).toContain('+55 21 97777 6666');
    expect(await page.locator('[data-test=base-url]').textContent()).toMatch(new RegExp(`^${app.url}/instances/[A-F0-9]{32}/token/\\S+$`));
    expect(await page.locator('[data-test=client-token-hint]').textContent()).toContain('Chaves de API');
    await page.locator('[data-test=restart]').waitFor();
    await page.locator('[data-test=disconnect]').waitFor();
    await shot('06-instance-messages');
  });

  it('configures a webhook to a local receiver and shows the delivery in the log', async () => {
    await page.locator('.n-tabs-tab', { hasText: 'Webhooks' }).click();
    await page.fill('input[name=webhook-delivery]', receiver.url);
    await page.click('[data-test=save-delivery]');
    await page.locator('.n-tabs-tab', { hasText: 'Mensagens recentes' }).click();
    await page.fill('input[name=to]', '5521977776666');
    await page.fill('input[name=message]', 'Com webhook');
    await page.getByRole('button', { name: 'Enviar', exact: true }).click();
    await waitFor(async () => receiver.requests.some((r) => r.json.type === 'DeliveryCallback'), 20_000, 'the webhook');
    await page.locator('.n-tabs-tab', { hasText: 'Webhooks' }).click();
    await page.locator('[data-test=deliveries]').getByText('Entregue').first().waitFor({ timeout: 20_000 });
    // The signing secret on demand, and the notify-sent-by-me switch once a receive URL is set.
    await page.click('[data-test=secret-delivery]');
    expect((await page.locator('[data-test=secret-value-delivery]').textContent())?.length).toBeGreaterThanOrEqual(16);
    await page.fill('input[name=webhook-received]', receiver.url);
    await page.click('[data-test=save-received]');
    await page.locator('[data-test=sent-by-me]:not(.n-switch--disabled)').waitFor({ timeout: 10_000 });
    await page.click('[data-test=sent-by-me]');
    const api = new Client(app.url);
    await api.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    const key = (await api.post('/api/api-keys', { name: 'e2e' })).body.key;
    const baseUrl = (await page.locator('[data-test=base-url]').textContent())!;
    await expect.poll(async () => (await (await fetch(`${baseUrl}/me`, { headers: { 'client-token': key } })).json()).receiveCallbackSentByMe, { timeout: 10_000 }).toBe(true);
    await shot('07-webhooks-log');
    // The same screens in English.
    await page.evaluate(() => localStorage.setItem('plugchat.locale', 'en'));
    await page.reload();
    await page.locator('[data-test=client-token-hint]', { hasText: 'API keys' }).waitFor();
    for (const st of await page.locator('[data-test=message-status]').allTextContents()) expect(['Queued', 'Sending', 'Sent', 'Delivered', 'Read', 'Played', 'Failed']).toContain(st);
    await shot('06-instance-messages-en');
    await page.locator('.n-tabs-tab', { hasText: 'Webhooks' }).click();
    await page.locator('[data-test=deliveries]').getByText('Delivered').first().waitFor({ timeout: 20_000 });
    await shot('07-webhooks-log-en');
    await page.evaluate(() => localStorage.setItem('plugchat.locale', 'pt-BR'));
    await page.reload();
  });

  it('sets a send ramp on the instance page and shows where the number stands', async () => {
    await page.locator('.n-tabs-tab', { hasText: 'Maturação' }).click();
    await page.locator('[data-test=ramp-none]').waitFor();
    await page.fill('input[name=ramp-limits]', '0, 10');
    await page.click('[data-test=ramp-save]');
    // Refused with the reason in the interface's language, and nothing set.
    await page.locator('.n-message', { hasText: 'Escreva um número inteiro de 1 ou mais por semana' }).waitFor();
    await page.locator('[data-test=ramp-none]').waitFor();
    await page.fill('input[name=ramp-limits]', '3, 10');
    await page.click('[data-test=ramp-save]');
    await page.locator('[data-test=ramp-standing]').waitFor();
    expect(await page.locator('[data-test=ramp-limit]').textContent()).toBe('3');
    expect(await page.locator('[data-test=ramp-sent]').textContent()).toBe('0');
    expect(await page.locator('[data-test=ramp-standing]').textContent()).toContain('Dia 1');
    await shot('08-send-ramp');
    // The same tab in English, its refusal included.
    await page.evaluate(() => localStorage.setItem('plugchat.locale', 'en'));
    await page.reload();
    await page.locator('.n-tabs-tab', { hasText: 'Send ramp' }).click();
    await page.locator('[data-test=ramp-standing]', { hasText: 'Day 1' }).waitFor();
    await page.fill('input[name=ramp-limits]', '3, x');
    await page.click('[data-test=ramp-save]');
    await page.locator('.n-message', { hasText: 'Write one whole number of 1 or more per week' }).waitFor();
    expect(await page.locator('[data-test=ramp-limit]').textContent()).toBe('3');
    await shot('08-send-ramp-en');
    await page.evaluate(() => localStorage.setItem('plugchat.locale', 'pt-BR'));
    await page.reload();
    await page.locator('.n-tabs-tab', { hasText: 'Maturação' }).click();
    await page.click('[data-test=ramp-off]');
    await page.locator('[data-test=ramp-none]').waitFor();
  });

  it('says what is wrong with a form in the interface language, per field', async () => {
    await page.goto(`${app.url}/users`);
    await page.getByPlaceholder('Nome').fill('Bia');
    await page.getByPlaceholder('E-mail').fill('nao-e-email');
    await page.getByPlaceholder(/^Senha/).fill('curta');
    await page.getByRole('button', { name: 'Adicionar usuário' }).click();
    const alert = page.locator('.n-alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('A senha precisa ter no mínimo 10 caracteres.');
    expect(await alert.textContent()).toContain('E-mail: formato inválido.');
    expect(await alert.textContent()).not.toMatch(/Invalid request|body\./);
  });

  it('lists plugins and switches language; a plugin disabled in the config leaves the navigation', async () => {
    await page.goto(`${app.url}/plugins`);
    await page.locator('[data-test=plugins]').getByText('active').first().waitFor();
    await shot('08-plugins');
    expect(await page.locator('[data-test=nav]').textContent()).toContain('Telefones sandbox');

    await app.stop();
    writeFileSync(path.join(ws.dir, 'plugins.config.json'), JSON.stringify(config(false)));
    app = await startApp(ws, { PORT: String(new URL(app.url).port) });
    await page.reload();
    await page.locator('[data-test=nav]').waitFor();
    const nav = await page.locator('[data-test=nav]').textContent();
    expect(nav).toContain('Instâncias');
    expect(nav).not.toContain('Telefones sandbox');
  });
});
