import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { animationsDone, hasChromium, launchChromium, signIn, seriousViolations } from '../../../core/test/support/browser.js';
import { OWNER, REPO } from '../../../core/test/support/app.js';
import { helpdeskHarness, waitForInbound, BIZ, type HelpdeskHarness } from '../../helpdesk/test/support.js';
import { FakeTrello } from './fakeTrello.js';

const SHOTS = path.join(REPO, 'artifacts/screenshots');

describe.skipIf(!hasChromium)('Trello in the web app (Chromium)', () => {
  let h: HelpdeskHarness;
  let trello: FakeTrello;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    trello = new FakeTrello();
    await trello.start();
    h = await helpdeskHarness({ packages: ['@plugchat/trello'], pluginSettings: { trello: { apiBaseUrl: trello.url, retryDelaySeconds: 1 } } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    await h?.ws.cleanup();
    await trello?.stop();
  });

  it('connects Trello, creates a card from the attendance panel and shows its move, in Portuguese', async () => {
    const context = await browser.newContext({ locale: 'pt-BR', timezoneId: 'America/Sao_Paulo', viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await signIn(page, h.app.url, OWNER.email, OWNER.password);

    await page.locator('[data-test=nav] a', { hasText: 'Trello' }).click();
    await page.fill('input[name=apiKey]', trello.key);
    await page.fill('input[name=token]', trello.token);
    await page.fill('input[name=appSecret]', trello.secret);
    await page.locator('[data-test=trello-connect] button[type=submit]').click();
    await page.locator('[data-test=trello-member]', { hasText: 'Ana Integração' }).waitFor();
    await animationsDone(page);
    await page.screenshot({ path: path.join(SHOTS, 'trello-01-settings-pt.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    // The default board and list, picked from what Trello has.
    const defaults = page.locator('[data-test=trello-defaults]');
    await defaults.locator('.n-select').nth(1).click();
    await page.locator('.n-base-select-option', { hasText: 'Suporte N2' }).click();
    await defaults.locator('.n-select').nth(2).click();
    await page.locator('.n-base-select-option', { hasText: 'A fazer' }).click();
    await page.click('[data-test=trello-save]');
    await expect.poll(async () => (await h.owner.get('/api/trello/connection')).body.defaults, { timeout: 10_000 }).toEqual({ boardId: 'board1', listId: 'list1', labelIds: [], memberIds: [] });

    const CUSTOMER = '5521959300001';
    await h.phone(CUSTOMER, 'Carla Souza').send(BIZ, { text: 'Meu boleto veio errado' });
    const { att } = await waitForInbound(h, CUSTOMER, 1);
    await page.goto(`${h.app.url}/inbox/${att.id}`);
    await page.locator('[data-test=trello-create]').click();
    const form = page.locator('[data-test=trello-form]');
    await expect.poll(() => form.locator('input[name=card-name]').inputValue(), { timeout: 10_000 }).toBe(`[#${att.number}] Carla Souza – Meu boleto veio errado`);
    expect(await form.locator('textarea[name=card-desc]').inputValue()).toContain('**Cliente:** Meu boleto veio errado');
    await page.click('[data-test=trello-submit]');
    const card = page.locator('[data-test=trello-card]');
    await card.locator('text=A fazer').waitFor({ timeout: 20_000 });
    await page.locator('[data-test=activity]', { hasText: 'Cartão do Trello criado' }).waitFor();

    const created = [...trello.cards.values()][0];
    expect((await trello.deliver({ type: 'updateCard', data: { card: { id: created.id, name: created.name }, listBefore: { id: 'list1', name: 'A fazer' }, listAfter: { id: 'list2', name: 'Feito' }, old: { idList: 'list1' } }, memberCreator: { fullName: 'Davi Dev' } })).status).toBe(200);
    await page.locator('[data-test=activity]', { hasText: 'movido para Feito' }).waitFor({ timeout: 10_000 });
    await card.locator('text=Feito').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(SHOTS, 'trello-02-panel-pt.png') });
    await context.close();
  });
});
