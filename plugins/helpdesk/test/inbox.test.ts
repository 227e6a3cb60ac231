import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hasChromium, launchChromium, seriousViolations } from '../../../core/test/support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baileys, proto } from '../../whatsapp-sandbox/src/network/baileys.js';
import { REPO } from '../../../core/test/support/app.js';
import { helpdeskHarness, waitFor, BIZ, type Agent, type HelpdeskHarness } from './support.js';

const SHOTS = path.join(REPO, 'artifacts/screenshots');
const CUSTOMER = '5521958000001';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe.skipIf(!hasChromium)('the inbox in Chromium, two agents at once', () => {
  let h: HelpdeskHarness;
  let browser: Browser;
  let ana: Agent, beto: Agent;
  let pa: Page, pb: Page;
  let betoEmail: string;
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  const signIn = async (locale: string, email: string, beforeInbox?: (page: Page) => Promise<unknown>, inbox = '/inbox') => {
    const context = await browser.newContext({ locale, viewport: { width: 1440, height: 860 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${h.app.url}/login`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', 'agent password 123');
    await page.click('button[type=submit]');
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await beforeInbox?.(page);
    await page.goto(`${h.app.url}${inbox}`);
    await page.locator('[data-test=count-unassigned]').waitFor();
    return page;
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await helpdeskHarness();
    ana = await h.agent('Ana Lima');
    beto = await h.agent('Beto Reis');
    const emails = (await h.owner.get('/api/users')).body.users as { id: string; email: string }[];
    const queue = (await h.owner.post('/api/helpdesk/queues', { name: 'Suporte', memberIds: [ana.id, beto.id], greeting: null })).body.id;
    await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: queue });
    await h.owner.post('/api/helpdesk/quick-replies', { shortcut: 'ola', text: 'Olá {{contact.firstName}}, aqui é {{agent.firstName}}!' });
    await h.owner.post('/api/helpdesk/labels', { name: 'VIP', color: '#b5179e' });
    browser = await launchChromium();
    pa = await signIn('pt-BR', emails.find((u) => u.id === ana.id)!.email);
    betoEmail = emails.find((u) => u.id === beto.id)!.email;
    pb = await signIn('en-US', betoEmail);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    await h?.ws.cleanup();
  });

  const count = (page: Page, tab: string) => page.locator(`[data-test=count-${tab}]`).textContent();
  const phoneGot = (pred: (m: { kind: string; text?: string }) => boolean, what: string) =>
    waitFor(async () => h.phone(CUSTOMER).messages().find((m) => m.direction === 'in' && pred(m)), 20_000, what);

  it('shows a new customer to both agents live; one accepts and answers with text, a quick reply, an image, a quote and a reaction', async () => {
    const empty = await seriousViolations(pa);
    expect(empty).toEqual([]);
    await h.phone(CUSTOMER, 'Carla Souza').send(BIZ, { text: 'Preciso de ajuda com meu pedido' });
    // Once the attendance exists, both browsers show the waiting counter without reloading (how fast is the bench's business).
    await waitFor(async () => h.attendanceOf(CUSTOMER), 20_000, 'the attendance');
    await Promise.all([expect.poll(() => count(pa, 'unassigned'), { timeout: 10_000 }).toBe('1'), expect.poll(() => count(pb, 'unassigned'), { timeout: 10_000 }).toBe('1')]);
    await shot(pa, 'helpdesk-01-inbox-pt');
    await pb.locator(`[data-test=row-${CUSTOMER}]`).waitFor();
    await shot(pb, 'helpdesk-01-inbox-en');
    expect(await seriousViolations(pb)).toEqual([]);

    await pa.click(`[data-test=row-${CUSTOMER}]`);
    await pa.click('[data-test=accept]');
    await expect.poll(() => pa.locator('[data-test=conv-status]').textContent()).toBe('Em atendimento');
    // Beto's waiting list empties live.
    await expect.poll(() => count(pb, 'unassigned'), { timeout: 5_000 }).toBe('0');
    await pb.locator(`[data-test=row-${CUSTOMER}]`).waitFor({ state: 'detached' });

    await pa.fill('textarea[name=composer]', 'Oi Carla! Vou verificar.');
    await pa.click('[data-test=send]');
    await phoneGot((m) => m.text === 'Oi Carla! Vou verificar.', 'the text');

    await pa.fill('textarea[name=composer]', '/ola');
    await pa.click('[data-test=quick-ola]', { timeout: 5_000 });
    expect(await pa.inputValue('textarea[name=composer]')).toBe('Olá Carla, aqui é Ana!');
    await pa.click('[data-test=send]');
    await phoneGot((m) => m.text === 'Olá Carla, aqui é Ana!', 'the quick reply');

    await pa.setInputFiles('[data-test=file]', { name: 'foto.png', mimeType: 'image/png', buffer: PNG });
    await phoneGot((m) => m.kind === 'image', 'the image');

    const question = pa.locator('[data-test=bubble]:not(.mine)', { hasText: 'Preciso de ajuda' });
    await question.hover();
    await question.locator('[data-test=reply]').click();
    await pa.locator('[data-test=replying]').waitFor();
    await pa.fill('textarea[name=composer]', 'Sobre o pedido 123');
    await pa.click('[data-test=send]');
    const quoted = await phoneGot((m) => m.text === 'Sobre o pedido 123', 'the quoted reply');
    const raw = h.phone(CUSTOMER).messages().find((m) => m.id === (quoted as any).id)!.raw;
    const original = h.phone(CUSTOMER).messages().find((m) => m.direction === 'out' && m.text === 'Preciso de ajuda com meu pedido')!;
    expect(Baileys.normalizeMessageContent(proto.Message.decode(raw))?.extendedTextMessage?.contextInfo?.stanzaId).toBe(original.id);

    await question.hover();
    await question.locator('[data-test="react-👍"]').click();
    await phoneGot((m) => m.kind === 'reaction' && m.text === '👍', 'the reaction');
    await question.locator('[data-test=reactions]', { hasText: '👍' }).waitFor();

    // The customer answers, sends a location, a contact and a document: all appear live.
    const phone = h.phone(CUSTOMER);
    await phone.send(BIZ, { text: 'Obrigada!' });
    await phone.send(BIZ, { location: { degreesLatitude: -22.97, degreesLongitude: -43.18, name: 'Copacabana' } });
    await phone.send(BIZ, { contacts: { displayName: 'Marido', contacts: [{ displayName: 'Marido', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Marido\nTEL;waid=5521999990000:+5521999990000\nEND:VCARD' }] } });
    await phone.send(BIZ, { document: Buffer.from('%PDF-1.4 nota'), mimetype: 'application/pdf', fileName: 'nota.pdf' });
    await phone.send(BIZ, { audio: Buffer.alloc(2_000, 3), mimetype: 'audio/ogg; codecs=opus', ptt: true });
    await pa.locator('[data-test=bubble]', { hasText: 'Obrigada!' }).waitFor({ timeout: 10_000 });
    await pa.locator('[data-test=bubble][data-kind=location]').waitFor({ timeout: 10_000 });
    await pa.locator('[data-test=bubble][data-kind=contact]').waitFor({ timeout: 10_000 });
    await pa.locator('[data-test=bubble][data-kind=document]', { hasText: 'nota.pdf' }).waitFor({ timeout: 10_000 });
    await pa.locator('[data-test=bubble][data-kind=voice] audio').waitFor({ timeout: 10_000 });

    // A video from the agent, and one of her messages deleted for everyone.
    await pa.setInputFiles('[data-test=file]', { name: 'demo.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(3_000, 5) });
    await phoneGot((m) => m.kind === 'video', 'the video');
    await pa.locator('[data-test=bubble][data-kind=video] video').waitFor({ timeout: 10_000 });
    const oops = pa.locator('[data-test=bubble][data-kind=video]');
    await oops.hover();
    await oops.locator('[data-test=delete]').click();
    await pa.locator('[data-test=bubble].mine', { hasText: 'Mensagem apagada' }).waitFor({ timeout: 10_000 });
    await pa.locator('[data-test=activity]', { hasText: 'Uma mensagem foi apagada' }).waitFor();

    // Another customer writes meanwhile: the row and the waiting counter rise on both screens.
    await h.phone('5521958000002', 'Diego').send(BIZ, { text: 'Alguém pode me ajudar?' });
    await pa.locator('[data-test=row-5521958000002]').waitFor({ state: 'attached', timeout: 20_000 }).catch(() => undefined);
    await expect.poll(() => count(pa, 'unassigned'), { timeout: 20_000 }).toBe('1');
    await expect.poll(() => count(pb, 'unassigned'), { timeout: 5_000 }).toBe('1');
    await pb.locator('[data-test=row-5521958000002]').waitFor();

    // Read ticks turn blue when the phone reads.
    phone.markRead({ chat: `${BIZ}@s.whatsapp.net` });
    const lastTicks = pa.locator('[data-test=bubble]', { hasText: 'Sobre o pedido 123' }).locator('[data-test=ticks]');
    await expect.poll(() => lastTicks.getAttribute('data-status'), { timeout: 10_000 }).toBe('READ');
    await pa.fill('textarea[name=composer]', 'Uma nota para o time');
    await pa.check('[data-test=note-mode]');
    await pa.click('[data-test=send]');
    await pa.locator('[data-test=note]', { hasText: 'Uma nota para o time' }).waitFor();
    await shot(pa, 'helpdesk-02-conversation-pt');
    expect(await seriousViolations(pa)).toEqual([]);
  });

  it('transfers to the other agent: it leaves Mine on one screen and appears in Mine on the other, with an activity line', async () => {
    await pb.click('[data-test=tab-mine]');
    await pa.click('[data-test=tab-mine]');
    await pa.locator(`[data-test=row-${CUSTOMER}]`).waitFor();
    await pa.click('[data-test=transfer]');
    await pa.locator('[data-test=transfer-agent]').click();
    await pa.locator('.n-base-select-option', { hasText: 'Beto Reis' }).click();
    await shot(pa, 'helpdesk-03-transfer-pt');
    await pa.click('[data-test=transfer-confirm]');
    await pa.locator(`[data-test=row-${CUSTOMER}]`).waitFor({ state: 'detached', timeout: 5_000 });
    await pb.locator(`[data-test=row-${CUSTOMER}]`).waitFor({ timeout: 5_000 });
    await pb.click(`[data-test=row-${CUSTOMER}]`);
    await pb.locator('[data-test=activity]', { hasText: 'Transferred' }).waitFor();
    await shot(pb, 'helpdesk-04-after-transfer-en');
  });

  it('shows what customers wrote while the page was reading its list and conversation and its live stream was still connecting', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let read!: Promise<unknown>;
    const diego = await h.attendanceOf('5521958000002');
    const pc = await signIn('en-US', betoEmail, async (page) => {
      await page.route('**/api/helpdesk/stream**', async (route) => (await held, route.continue()));
      read = Promise.all(['/attendances?', '/attendances/counts', `/attendances/${diego.id}/timeline`].map((p) => page.waitForResponse((r) => r.url().includes(`/api/helpdesk${p}`))));
    }, `/inbox/${diego.id}`);
    await read;
    await h.phone('5521958000003', 'Elisa').send(BIZ, { text: 'Oi, tudo bem?' });
    await h.phone('5521958000002').send(BIZ, { text: 'Ainda estou aqui' });
    await waitFor(async () => h.attendanceOf('5521958000003'), 20_000, 'the attendance');
    await waitFor(async () => (await h.attendanceOf('5521958000002'))?.lastPreview === 'Ainda estou aqui' || undefined, 20_000, 'the second message');
    release();
    await pc.locator('[data-test=row-5521958000003]').waitFor({ timeout: 10_000 });
    await pc.locator('[data-test=bubble]', { hasText: 'Ainda estou aqui' }).waitFor({ timeout: 10_000 });
    await pc.context().close();
  });

  it('lets an admin set up queues, labels and quick replies, in both languages', async () => {
    const context = await browser.newContext({ locale: 'pt-BR', viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${h.app.url}/login`);
    await page.fill('input[name=email]', 'ann@acme.test');
    await page.fill('input[name=password]', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await page.goto(`${h.app.url}/helpdesk/setup`);
    await page.locator('[data-test=queues]', { hasText: 'Suporte' }).waitFor();
    await page.fill('input[name=queue-name]', 'Financeiro');
    await page.click('[data-test=save-queue]');
    await page.locator('[data-test=queues]', { hasText: 'Financeiro' }).waitFor();
    expect((await h.owner.get('/api/helpdesk/queues')).body.queues.map((q: any) => q.name)).toContain('Financeiro');
    await shot(page, 'helpdesk-05-setup-pt');
    expect(await seriousViolations(page)).toEqual([]);
    await page.evaluate(() => localStorage.setItem('plugchat.locale', 'en'));
    await page.reload();
    await page.locator('.n-tabs-tab', { hasText: 'Quick replies' }).click();
    await page.locator('[data-test=quick-list]', { hasText: '/ola' }).waitFor();
    await shot(page, 'helpdesk-06-setup-quick-replies-en');
    await context.close();
  });

  it('opens a conversation of 2,000 messages with only a window of it in the page, and scrolls back to the first', async () => {
    const accountId = (await h.owner.get('/api/auth/me')).body.account.id;
    const em = h.app.db.em.fork();
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000);
    const contact = { id: randomUUID(), accountId, phone: '5521958000999', name: 'Conversa Longa', pushName: null, avatarUrl: null, attributes: {}, blocked: false, createdAt: at(0), updatedAt: at(0) };
    const att = {
      id: randomUUID(), number: 9_999, accountId, instanceId: h.inst.id, contactId: contact.id, queueId: null, assigneeId: null, status: 'pending', priority: 'normal',
      openKey: `${h.inst.id}:${contact.id}`, menuPending: false, closedPeriodNotified: null, version: 1, unread: 0, lastPreview: 'linha 1999', snoozedUntil: null,
      createdAt: at(0), reopenedAt: null, assignedAt: null, firstReplyAt: null, waitingSince: null, resolvedAt: null, lastMessageAt: at(2000),
    };
    await em.insert('HelpdeskContact', contact);
    await em.insert('HelpdeskAttendance', att);
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      id: randomUUID().replace(/-/g, '').toUpperCase(), account_id: accountId, instance_id: h.inst.id, wa_id: `LONG${i}`, chat: `${contact.phone}@s.whatsapp.net`, direction: i % 2 ? 'out' : 'in',
      type: 'text', content: JSON.stringify(i % 2 ? { kind: 'text', text: `linha ${i}` } : { type: 'text', text: `linha ${i}`, hasMedia: false }), status: i % 2 ? 'READ' : 'RECEIVED', error: null,
      seq: 1_700_000_000_000_000 + i, from_me: !!(i % 2), waiting: false, media_path: null, delay_ms: null, attempts: 0, created_at: at(i), updated_at: at(i), sent_at: null,
    }));
    for (let i = 0; i < rows.length; i += 200) await h.app.db.knex('whatsapp_session_messages').insert(rows.slice(i, i + 200));
    const items = rows.map((m, i) => ({ id: randomUUID(), accountId, attendanceId: att.id, seq: String(1_700_000_000_000_000 + i), kind: 'message', instanceId: h.inst.id, sessionMessageId: m.id, waId: m.wa_id, direction: m.direction, authorId: null, body: null, data: { type: 'text' }, createdAt: at(i) }));
    for (let i = 0; i < items.length; i += 500) await em.insertMany('HelpdeskTimelineItem', items.slice(i, i + 500));

    await pa.goto(`${h.app.url}/inbox/${att.id}`);
    await pa.locator('[data-test=bubble]', { hasText: 'linha 1999' }).waitFor();
    const inPage = () => pa.locator('[data-test=bubble]').count();
    expect(await inPage()).toBeLessThan(60);
    const first = pa.locator('[data-test=bubble] p.text', { hasText: /^linha 0$/ });
    const toTop = () => pa.locator('[data-test=timeline] .v-vl').evaluate((el) => (el.scrollTop = 0));
    // A page of older messages that fails says why, and the button above the messages asks for it again.
    const olderPage = /\/timeline\?.*before=/;
    await pa.route(olderPage, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'O servidor está reiniciando; tente de novo.' } }) }));
    await toTop();
    await pa.locator('.n-message', { hasText: 'O servidor está reiniciando' }).waitFor();
    await pa.unroute(olderPage);
    await Promise.all([pa.waitForResponse((r) => olderPage.test(r.url()) && r.ok()), pa.locator('[data-test=older]').press('Enter')]);
    // A page a scroll: a budget of time, not of scrolls, so a slow machine only takes longer.
    for (const until = Date.now() + 80_000; !(await first.count()) && Date.now() < until; ) {
      await toTop();
      await pa.waitForTimeout(60);
      expect(await inPage()).toBeLessThan(120);
    }
    await first.first().waitFor({ timeout: 5_000 });
    await shot(pa, 'helpdesk-07-long-conversation-pt');
  }, 120_000);
});
