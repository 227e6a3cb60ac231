import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hasChromium, launchChromium, signIn, seriousViolations } from '../../../core/test/support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, REPO } from '../../../core/test/support/app.js';
import { helpdeskHarness, waitFor, BIZ, type Agent, type HelpdeskHarness } from '../../helpdesk/test/support.js';

const SHOTS = path.join(REPO, 'artifacts/screenshots');

describe.skipIf(!hasChromium)('surveys in the web app (Chromium)', () => {
  let h: HelpdeskHarness;
  let browser: Browser;
  let ana: Agent;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await helpdeskHarness({ packages: ['@plugchat/surveys'] });
    ana = await h.agent('Ana Lima');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    await h?.ws.cleanup();
  });

  const ownerPage = async (): Promise<Page> => {
    const context = await browser.newContext({ locale: 'pt-BR', timezoneId: 'America/Sao_Paulo', viewport: { width: 1400, height: 1200 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await signIn(page, h.app.url, OWNER.email, OWNER.password);
    return page;
  };

  /** A customer served by Ana; answers the question with each reply in turn. */
  async function served(phone: string, replies: string[]) {
    await h.phone(phone, `Cliente ${phone.slice(-2)}`).send(BIZ, { text: 'Oi' });
    const att = await waitFor(async () => (await h.owner.get(`/api/helpdesk/attendances?q=${phone}`)).body.attendances?.[0], 20_000, 'attendance');
    await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { assigneeId: ana.id });
    expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    const inbox = () => h.phone(phone).messages().filter((m) => m.direction === 'in').length;
    for (const reply of replies) {
      const before = inbox();
      await waitFor(async () => inbox() > 0, 20_000, 'the question');
      await h.phone(phone).send(BIZ, { text: reply });
      await waitFor(async () => inbox() > before, 20_000, `the answer to ${reply}`);
    }
    return att.id as string;
  }

  it('turns surveys on, shows the rating in the attendance, the scores, the responses and the reports card, in Portuguese', async () => {
    const page = await ownerPage();
    await page.locator('[data-test=nav] a', { hasText: 'Pesquisas' }).click();
    await page.waitForURL((u) => u.pathname === '/surveys');
    await page.locator('[data-test=surveys-empty]').waitFor();
    await page.locator('.n-tabs-tab', { hasText: 'Configurações' }).click();
    await page.locator('[data-test=survey-enabled]').click();
    await page.click('[data-test=survey-save]');
    await page.locator('text=Salvo').waitFor();
    expect((await h.owner.get('/api/surveys/definition')).body).toMatchObject({ enabled: true, kind: 'csat', question: 'De 1 a 5, como você avalia o atendimento?' });

    await served('5521958200001', ['5']);
    const low = await served('5521958200002', ['2', 'Demorou muito']);

    // The attendance shows the rating and the comment, and its log says so.
    await page.goto(`${h.app.url}/inbox/${low}`);
    const panel = page.locator('[data-test=survey-panel]');
    await expect.poll(() => panel.locator('[data-test=survey-rating]').textContent(), { timeout: 10_000 }).toBe('2/5');
    expect(await panel.locator('[data-test=survey-comment]').textContent()).toContain('Demorou muito');
    await page.locator('[data-test=activity]', { hasText: 'Pesquisa respondida: 2' }).waitFor();

    // Scores: one 5 and one 2 → CSAT 50%, both answered.
    await page.goto(`${h.app.url}/surveys`);
    await expect.poll(() => page.locator('[data-test=score-csat]').textContent(), { timeout: 10_000 }).toBe('50%');
    expect(await page.locator('[data-test=rate-csat]').textContent()).toBe('100%');
    await page.locator('[data-test=survey-agents]', { hasText: 'Ana Lima' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'surveys-01-results-pt.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    await page.locator('.n-tabs-tab', { hasText: 'Respostas' }).click();
    const table = page.locator('[data-test=survey-responses]');
    await table.locator('text=Demorou muito').waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    const [file] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=responses-csv]')]);
    const lines = readFileSync((await file.path())!, 'utf8').replace(/^\uFEFF/, '').trim().split('\n');
    expect(lines[0]).toBe('attendanceNumber,phone,agentName,agentId,queueId,kind,status,reason,rating,comment,resolvedAt,sentAt,ratedAt');
    expect(lines.slice(1).map((l) => l.split(',')[8]).sort()).toEqual(['2', '5']);
    await page.screenshot({ path: path.join(SHOTS, 'surveys-02-responses-pt.png'), fullPage: true });

    // The reports page shows the survey card in the app's language.
    await page.goto(`${h.app.url}/reports`);
    const card = page.locator('[data-test="contributed-surveys.scores"]');
    await card.locator('text=Pesquisas de satisfação').waitFor();
    expect(await card.textContent()).toContain('CSAT: 50.0%');
    await page.context().close();
  });
});
