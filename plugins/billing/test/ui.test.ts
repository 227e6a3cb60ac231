import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { hasChromium, launchChromium, signIn } from '../../../core/test/support/browser.js';
import { createWorkspace, OWNER, setupOwner, startApp, type Client, type Workspace } from '../../../core/test/support/app.js';

describe.skipIf(!hasChromium)('billing in the web app (Chromium)', () => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  let browser: Browser;
  const clock = new ManualClock('2027-01-10T15:00:00Z');

  beforeAll(async () => {
    ws = await createWorkspace({ config: { packages: ['@plugchat/whatsapp-session', '@plugchat/billing'] } });
    app = await startApp(ws, {}, { clock });
    owner = await setupOwner(app.url);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await ws?.cleanup();
  });

  it('subscribes from the instance page and shows the invoice with its lines, in Portuguese', async () => {
    const id = (await owner.post('/api/whatsapp-session/instances', { name: 'Loja Centro' })).body.id;
    const page = await (await browser.newContext({ locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' })).newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await signIn(page, app.url, OWNER.email, OWNER.password);
    await page.goto(`${app.url}/instances/${id}`);
    await page.locator('.n-tabs-tab', { hasText: 'Assinatura' }).click();
    const tab = page.locator('[data-test=billing-tab]');
    await tab.locator('text=Em teste').waitFor();
    expect(await tab.textContent()).toContain('faltam 48 h 0 min');
    expect(await tab.textContent()).toMatch(/R\$\s99,00 por mês por instância/);
    await tab.locator('[data-test=billing-subscribe]').click();
    await tab.locator('text=Assinada').first().waitFor();

    clock.set('2027-02-01T06:30:00Z');
    expect((await owner.post('/api/billing/admin/close', { period: '2027-01' })).body).toEqual({ created: 1, skipped: 0 });
    await page.locator('[data-test=nav] a', { hasText: 'Faturas' }).click();
    const row = page.locator('[data-test=invoices] tbody tr').first();
    await row.locator('text=janeiro de 2027').waitFor();
    // 10 to 31 January: 22 days of R$ 99,00 ÷ 31 = R$ 70,26.
    expect(await row.textContent()).toMatch(/R\$\s70,26/);
    await row.locator('button').click();
    const detail = page.locator('[data-test=invoice-detail]');
    await detail.locator('text=22/31').waitFor();
    expect(await detail.textContent()).toContain('Loja Centro');
    expect(await row.locator('a', { hasText: 'PDF' }).getAttribute('href')).toMatch(/\/api\/billing\/invoices\/.+\/pdf$/);
    // The operator records the payment from the every-account table.
    const all = page.locator('[data-test=all-invoices]');
    await all.locator('button', { hasText: 'Registrar pagamento' }).click();
    // The status cell, exactly: a bare `text=Paga` also matches the button's own "Registrar pagamento".
    await all.getByText('Paga', { exact: true }).waitFor();
    expect((await owner.get('/api/billing/invoices')).body.invoices[0].status).toBe('paid');
  });
});
