import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hasChromium, launchChromium, seriousViolations } from '../../../core/test/support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../../../core/test/support/app.js';
import { helpdeskHarness, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from './support.js';

const SHOTS = path.join(REPO, 'artifacts/screenshots');

describe.skipIf(!hasChromium)('the reports page in Chromium', () => {
  let h: HelpdeskHarness;
  let browser: Browser;
  let ana: Agent;
  let sara: Agent;
  const customers = [
    { phone: '5521958100001', name: 'Carla Souza', messages: 3 },
    { phone: '5521958100002', name: 'Diego Alves', messages: 1 },
  ];

  const signIn = async (locale: string, email: string, password: string): Promise<Page> => {
    const context = await browser.newContext({ locale, timezoneId: 'America/Sao_Paulo', viewport: { width: 1440, height: 1400 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${h.app.url}/login`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    return page;
  };
  const download = async (page: Page, selector: string) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
    const lines = readFileSync((await file.path())!, 'utf8').replace(/^\uFEFF/, '').trim().split('\n');
    return { name: file.suggestedFilename(), header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await helpdeskHarness();
    ana = await h.agent('Ana Lima');
    sara = await h.agent('Sara Costa', 'supervisor');
    const queue = (await h.owner.post('/api/helpdesk/queues', { name: 'Suporte', memberIds: [ana.id] })).body.id;
    await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: queue });
    await h.owner.put('/api/helpdesk/preferences', { timeZone: 'America/Sao_Paulo' });
    for (const c of customers) {
      const phone = h.phone(c.phone, c.name);
      for (let i = 0; i < c.messages; i++) await phone.send(BIZ, { text: `mensagem ${i + 1}` });
      const { att } = await waitForInbound(h, c.phone, c.messages);
      expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 'Olá! Como posso ajudar?' })).status).toBe(201);
      expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/resolve`, {})).status).toBe(200);
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('renders figures and charts, drills down to the attendances and downloads every table as CSV with the right rows, in Portuguese and English', async () => {
    const users = (await h.owner.get('/api/users')).body.users as { id: string; email: string }[];
    const page = await signIn('pt-BR', users.find((u) => u.id === sara.id)!.email, 'agent password 123');
    // Supervisors see Reports in the navigation; agents do not (and the API refuses them).
    await page.locator('[data-test=nav] a', { hasText: 'Relatórios' }).click();
    await page.waitForURL((u) => u.pathname === '/reports');
    await expect.poll(() => page.locator('[data-test=fig-created]').textContent(), { timeout: 10_000 }).toBe('2');
    expect(await page.locator('[data-test=fig-messagesIn]').textContent()).toBe('4');
    expect(await page.locator('[data-test=fig-resolved]').textContent()).toBe('2');
    expect(await page.locator('[data-test=live-pending]').textContent()).toBe('0');
    // Both charts draw on their canvases (Chart.js loaded lazily with the page).
    await page.locator('[data-test=chart] canvas').nth(1).waitFor();
    await expect.poll(() => page.locator('[data-test=chart] canvas').evaluateAll((cs) => cs.map((c) => (c as HTMLCanvasElement).toDataURL().length))).toEqual([expect.any(Number), expect.any(Number)]);
    const blank = await page.evaluate(() => {
      const c = document.createElement('canvas');
      const first = document.querySelector('[data-test=chart] canvas') as HTMLCanvasElement;
      c.width = first.width;
      c.height = first.height;
      return c.toDataURL().length;
    });
    for (const length of await page.locator('[data-test=chart] canvas').evaluateAll((cs) => cs.map((c) => (c as HTMLCanvasElement).toDataURL().length))) expect(length).toBeGreaterThan(blank);
    await page.locator('[data-test=heatmap] td', { hasText: '4' }).waitFor();
    await page.locator('[data-test=top-clients]', { hasText: 'Carla Souza' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'reports-01-pt.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    // Top clients: Carla (3 messages) before Diego (1).
    const topCsv = await download(page, '[data-test=csv-top-clients]');
    expect(topCsv.name).toBe('top-clients.csv');
    expect(topCsv.header).toEqual(['rank', 'contactId', 'name', 'phone', 'messages', 'attendances', 'lastMessageAt']);
    expect(topCsv.rows.map((r) => [r[0], r[2], r[3], r[4], r[5]])).toEqual([
      ['1', 'Carla Souza', customers[0]!.phone, '3', '1'],
      ['2', 'Diego Alves', customers[1]!.phone, '1', '1'],
    ]);
    // Per agent: Ana resolved both and sent two messages.
    const agentsCsv = await download(page, '[data-test=csv-agents]');
    const anaRow = agentsCsv.rows.find((r) => r[agentsCsv.header.indexOf('agentId')] === ana.id)!;
    expect(anaRow[agentsCsv.header.indexOf('resolved')]).toBe('2');
    expect(anaRow[agentsCsv.header.indexOf('messagesOut')]).toBe('2');
    expect(anaRow[agentsCsv.header.indexOf('firstResponseCount')]).toBe('2');

    // Drill-down: the two new attendances, each linking to its conversation.
    await page.click('[data-test=fig-created]');
    const drill = page.locator('[data-test=drill]');
    await drill.locator('a', { hasText: '#' }).nth(1).waitFor();
    expect(await drill.locator('tbody tr').count()).toBe(2);
    const drillCsv = await download(page, '[data-test=csv-drill]');
    expect(drillCsv.rows).toHaveLength(2);
    await page.screenshot({ path: path.join(SHOTS, 'reports-02-drill-pt.png') });
    await drill.locator('a', { hasText: '#' }).first().click();
    await page.waitForURL((u) => u.pathname.startsWith('/inbox/'));

    // The same page in English.
    await page.evaluate(() => localStorage.setItem('plugchat.locale', 'en'));
    await page.goto(`${h.app.url}/reports`);
    await page.locator('h1', { hasText: 'Reports' }).waitFor();
    await expect.poll(() => page.locator('[data-test=fig-created]').textContent(), { timeout: 10_000 }).toBe('2');
    await page.locator('[data-test=chart] canvas').nth(1).waitFor();
    await page.locator('text=Top 10 clients').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'reports-03-en.png'), fullPage: true });
    await page.context().close();

    const agentPage = await signIn('pt-BR', users.find((u) => u.id === ana.id)!.email, 'agent password 123');
    await agentPage.locator('[data-test=nav]').waitFor();
    expect(await agentPage.locator('[data-test=nav] a', { hasText: 'Relatórios' }).count()).toBe(0);
    await agentPage.context().close();
  });
});
