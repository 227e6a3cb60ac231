import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextSeq } from '@plugchat/core';
import { createAccount } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { helpdeskHarness, waitFor, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from '../../helpdesk/test/support.js';
import { FakeTrello } from './fakeTrello.js';

describe.each(STORAGE_MODES)('Trello cards from attendances (%s)', (mode) => {
  let h: HelpdeskHarness;
  let trello: FakeTrello;
  let ana: Agent;
  let accountId: string;
  let seq = 0;

  beforeAll(async () => {
    trello = new FakeTrello();
    await trello.start();
    h = await helpdeskHarness({ mode, packages: ['@plugchat/trello'], pluginSettings: { trello: { apiBaseUrl: trello.url, retryDelaySeconds: 1, maxAttempts: 6 } } });
    ana = await h.agent('Ana Atende');
    accountId = (await h.owner.get('/api/auth/me')).body.account.id;
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
    await trello?.stop();
  });

  /** A customer's attendance, taken by Ana, with a few messages each way. */
  async function attendance(texts = ['Oi, meu pedido 123 chegou quebrado', 'A caixa estava amassada']) {
    const phone = `55219590${String(++seq).padStart(5, '0')}`;
    for (const text of texts) await h.phone(phone, 'Carla Souza').send(BIZ, { text });
    const { att } = await waitForInbound(h, phone, texts.length);
    expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { assigneeId: ana.id })).status).toBe(200);
    expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 'Sinto muito! Vou abrir um chamado.' })).status).toBe(201);
    return att as { id: string; number: number };
  }
  const cardsOf = async (attendanceId: string, who = ana) => (await who.client.get(`/api/trello/attendances/${attendanceId}/cards`)).body.cards as any[];
  const created = (attendanceId: string) => waitFor(async () => (await cardsOf(attendanceId)).find((c) => c.status === 'created'), 30_000, 'the card created');
  const activity = async (attendanceId: string) =>
    ((await h.owner.get(`/api/helpdesk/attendances/${attendanceId}/timeline?limit=200`)).body.items as any[]).filter((i) => i.kind === 'activity').map((i) => i.activity);

  it('connects with a key and token checked by Trello, keeps them sealed and never shows them', async () => {
    const bad = await h.owner.put('/api/trello/connection', { apiKey: trello.key, token: 'wrongtoken0123456789' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'trello_unauthorized', details: { issues: [{ path: 'body.token' }] } });
    expect((await ana.client.put('/api/trello/connection', { apiKey: trello.key, token: trello.token })).status).toBe(403);
    const ok = await h.owner.put('/api/trello/connection', { apiKey: trello.key, token: trello.token, appSecret: trello.secret });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ connected: true, status: 'connected', member: { fullName: 'Ana Integração', username: 'anaintegra' }, webhookSecretSet: true });
    const settings = await h.owner.put('/api/trello/settings', { defaults: { boardId: 'board1', listId: 'list1', labelIds: ['label1'], memberIds: ['member1'] }, automation: { onResolve: 'comment' } });
    expect(settings.status).toBe(200);
    // Pickers for the form come from Trello.
    expect((await ana.client.get('/api/trello/boards')).body.boards).toEqual([{ id: 'board1', name: 'Suporte N2', url: 'https://trello.com/b/abc/suporte-n2' }]);
    expect((await ana.client.get('/api/trello/boards/board1/lists')).body.lists.map((l: any) => l.name)).toEqual(['A fazer', 'Feito']);
    // The credentials never leave: not in any answer, not in the database in clear, not in the log.
    const everything = JSON.stringify([ok.body, settings.body, (await h.owner.get('/api/trello/connection')).body]);
    const rows = JSON.stringify(await h.app.db.knex('trello_connections').select());
    for (const secret of [trello.token, trello.secret, trello.key]) {
      expect(everything).not.toContain(secret);
      expect(rows).not.toContain(secret);
      expect(JSON.stringify(h.app.logs)).not.toContain(secret);
    }
  });

  it('creates a card with the transcript, link back, labels and members, shows it, and watches the board', async () => {
    const att = await attendance();
    // Through the helpdesk's action ("Criar cartão no Trello"), with the defaults.
    const actions = (await ana.client.get(`/api/helpdesk/attendances/${att.id}/actions`)).body;
    expect(JSON.stringify(actions)).toContain('Criar cartão no Trello');
    const run = await ana.client.post(`/api/helpdesk/attendances/${att.id}/actions/trello.createCard`, { due: '2026-12-10T18:00:00-03:00' });
    expect(run.status).toBeLessThan(300);
    const card = await created(att.id);
    const post = trello.calls('POST', '/cards').at(-1)!.form;
    expect(post).toMatchObject({ idList: 'list1', idLabels: 'label1', idMembers: 'member1', due: '2026-12-10T18:00:00-03:00', pos: 'top' });
    expect(post.name).toBe(`[#${att.number}] Carla Souza – Oi, meu pedido 123 chegou quebrado`);
    expect(post.urlSource).toBe(`${h.app.url}/inbox/${att.id}?trelloCard=${card.id}`);
    expect(post.desc).toContain('**Contato:** Carla Souza (+');
    expect(post.desc).toContain(`(${post.urlSource})`);
    expect(post.desc).toMatch(/\*\*Cliente:\*\* Oi, meu pedido 123 chegou quebrado\n.*\*\*Cliente:\*\* A caixa estava amassada\n.*\*\*Ana Atende:\*\* Sinto muito! Vou abrir um chamado\./);
    expect(card).toMatchObject({ name: post.name, listName: 'A fazer', boardId: 'board1', url: expect.stringMatching(/^https:\/\/trello\.com\/c\//), labels: [{ id: 'label1', name: 'Bug', color: 'red' }], memberIds: ['member1'], attempts: 1 });
    expect(await activity(att.id)).toContainEqual(expect.objectContaining({ type: 'trello_card_created', name: post.name, list: 'A fazer' }));
    // The board is watched: Trello checked the callback with HEAD and registered it.
    expect(trello.webhooks).toEqual([expect.objectContaining({ idModel: 'board1', callbackURL: `${h.app.url}/api/trello/webhook/${accountId}` })]);
  });

  it('updates the card and the log from signed webhooks, and refuses unsigned or tampered ones', async () => {
    const att = await attendance(['Preciso de segunda via']);
    expect((await ana.client.post(`/api/trello/attendances/${att.id}/cards`, { name: 'Segunda via', listId: 'list1' })).status).toBe(202);
    const card = await created(att.id);
    const move = { type: 'updateCard', data: { card: { id: card.trelloId, name: 'Segunda via' }, listBefore: { id: 'list1', name: 'A fazer' }, listAfter: { id: 'list2', name: 'Feito' }, old: { idList: 'list1' } }, memberCreator: { fullName: 'Davi Dev' } };
    for (const how of ['unsigned', 'tampered'] as const) expect((await trello.deliver(move, how)).status).toBe(401);
    expect((await cardsOf(att.id))[0].listName).toBe('A fazer');
    expect((await activity(att.id)).some((a) => a.type === 'trello_card_moved')).toBe(false);
    expect((await trello.deliver(move)).status).toBe(200);
    expect((await cardsOf(att.id))[0]).toMatchObject({ listId: 'list2', listName: 'Feito' });
    expect((await trello.deliver({ type: 'commentCard', data: { card: { id: card.trelloId }, text: 'Enviado pelos Correios' }, memberCreator: { fullName: 'Davi Dev' } })).status).toBe(200);
    const log = await activity(att.id);
    expect(log).toContainEqual(expect.objectContaining({ type: 'trello_card_moved', from: 'A fazer', to: 'Feito', by: 'Davi Dev' }));
    expect(log).toContainEqual(expect.objectContaining({ type: 'trello_card_comment', text: 'Enviado pelos Correios', by: 'Davi Dev' }));
    // Resolving comments the resolution on the card (the account's automation).
    expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    await waitFor(async () => trello.calls('POST', `/cards/${card.trelloId}/actions/comments`).length === 1, 20_000, 'the resolution comment');
    expect(trello.calls('POST', `/cards/${card.trelloId}/actions/comments`)[0]!.form.text).toBe(`Atendimento #${att.number} resolvido por Ana Atende.`);
  });

  it('creates the card once through 429s with backoff, and keeps it pending while Trello is down', async () => {
    const att = await attendance(['Limite de taxa']);
    const before = trello.calls('POST', '/cards').length;
    trello.failNext('POST /cards', [429, 429, 429]);
    expect((await ana.client.post(`/api/trello/attendances/${att.id}/cards`, {})).status).toBe(202);
    const card = await created(att.id);
    expect(card.attempts).toBe(4);
    expect(trello.calls('POST', '/cards').length - before).toBe(4);
    expect([...trello.cards.values()].filter((c) => c.urlSource?.includes(card.id))).toHaveLength(1);

    const down = await attendance(['Trello fora do ar']);
    trello.down = true;
    try {
      expect((await ana.client.post(`/api/trello/attendances/${down.id}/cards`, {})).status).toBe(202);
      const pending = await waitFor(async () => (await cardsOf(down.id)).find((c) => c.attempts >= 2), 30_000, 'two failed attempts');
      expect(pending).toMatchObject({ status: 'pending', trelloId: null, error: expect.stringContaining('503') });
    } finally {
      trello.down = false;
    }
    const done = await created(down.id);
    expect([...trello.cards.values()].filter((c) => c.urlSource?.includes(done.id))).toHaveLength(1);
  });

  it('tells the admin to reconnect when Trello revokes the token', async () => {
    const att = await attendance(['Token revogado']);
    const good = trello.token;
    trello.token = 'revoked-token-0123456789';
    try {
      expect((await ana.client.post(`/api/trello/attendances/${att.id}/cards`, {})).status).toBe(202);
      const failed = await waitFor(async () => (await cardsOf(att.id)).find((c) => c.status === 'failed'), 20_000, 'the card failed');
      expect(failed.error).toContain('reconnect');
      expect((await h.owner.get('/api/trello/connection')).body.status).toBe('revoked');
      const refused = await ana.client.post(`/api/trello/attendances/${att.id}/cards`, {});
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'trello_revoked', message: expect.stringContaining('reconnect') });
    } finally {
      trello.token = good;
    }
    // Reconnecting brings it back; the failed card can be tried again.
    expect((await h.owner.put('/api/trello/connection', { apiKey: trello.key, token: trello.token })).body.status).toBe('connected');
    const failed = (await cardsOf(att.id))[0];
    expect((await ana.client.post(`/api/trello/cards/${failed.id}/retry`, {})).status).toBe(202);
    await created(att.id);
  });

  it("uses the queue's defaults and moves the cards when the attendance is resolved", async () => {
    const fin = (await h.owner.post('/api/helpdesk/queues', { name: `Financeiro ${mode}`, memberIds: [ana.id] })).body.id as string;
    const saved = await h.owner.put('/api/trello/settings', {
      defaults: { boardId: 'board1', listId: 'list1', labelIds: ['label1'], memberIds: ['member1'] },
      queueDefaults: { [fin]: { boardId: 'board1', listId: 'list2', labelIds: ['label2'], memberIds: [] } },
      automation: { onResolve: 'move', listId: 'list1' },
    });
    expect(saved.status).toBe(200);
    const bad = await h.owner.put('/api/trello/settings', { defaults: { boardId: 'board1', listId: 'list1' }, automation: { onResolve: 'move' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.automation.listId');
    try {
      const att = await attendance(['Cobrança em dobro']);
      expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { queueId: fin, assigneeId: ana.id })).status).toBe(200);
      expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/actions/trello.createCard`, {})).status).toBeLessThan(300);
      const card = await created(att.id);
      expect(trello.calls('POST', '/cards').at(-1)!.form).toMatchObject({ idList: 'list2', idLabels: 'label2' });
      expect(card.listName).toBe('Feito');
      expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
      await waitFor(async () => (await cardsOf(att.id))[0].listName === 'A fazer', 20_000, 'the card moved on resolve');
      expect(trello.calls('PUT', `/cards/${card.trelloId}`).at(-1)!.form).toEqual({ idList: 'list1' });
    } finally {
      await h.owner.put('/api/trello/settings', { defaults: { boardId: 'board1', listId: 'list1', labelIds: ['label1'], memberIds: ['member1'] }, automation: { onResolve: 'comment' } });
    }
  });

  // Once (the storage does not change what is written). The attendance starts with a real message;
  // the other 2,999 are written as the session and the helpdesk write them (sending them through
  // the sandbox one by one takes minutes on a loaded machine).
  it.runIf(mode === 'embedded')('sends Trello the head and the newest messages of a 3,000-message attendance within 16,384 characters', async () => {
    expect((await h.owner.put('/api/trello/connection', { apiKey: trello.key, token: trello.token })).status).toBe(200);
    const phone = `55219591${String(++seq).padStart(5, '0')}`;
    await h.phone(phone, 'Carla Souza').send(BIZ, { text: 'mensagem 0001' });
    const { att } = await waitForInbound(h, phone, 1);
    const knex = h.app.db.knex;
    const sessionRows = [];
    const timelineRows = [];
    const start = Date.now();
    for (let i = 2; i <= 3000; i++) {
      const id = randomUUID().replace(/-/g, '').toUpperCase();
      const at = start + i;
      const waId = `BULK${phone.slice(-4)}${String(i).padStart(4, '0')}`;
      sessionRows.push({
        id, account_id: accountId, instance_id: h.inst.id, wa_id: waId, chat: `${phone}@s.whatsapp.net`, direction: 'in', type: 'text',
        content: JSON.stringify({ type: 'text', text: `mensagem ${String(i).padStart(4, '0')}`, hasMedia: false }), status: 'RECEIVED', error: null,
        seq: nextSeq(), from_me: false, waiting: false, media_path: null, delay_ms: null, attempts: 0, created_at: at, updated_at: at, sent_at: null,
      });
      timelineRows.push({
        id: randomUUID(), account_id: accountId, attendance_id: att.id, seq: String(nextSeq()), kind: 'message', instance_id: h.inst.id, session_message_id: id,
        wa_id: waId, direction: 'in', author_id: null, body: null, data: JSON.stringify({ type: 'text' }), created_at: at,
      });
    }
    for (let i = 0; i < sessionRows.length; i += 200) {
      await knex('whatsapp_session_messages').insert(sessionRows.slice(i, i + 200));
      await knex('helpdesk_timeline').insert(timelineRows.slice(i, i + 200));
    }
    expect((await ana.client.post(`/api/trello/attendances/${att.id}/cards`, { listId: 'list1' })).status).toBe(202);
    const card = await created(att.id);
    const desc = [...trello.cards.values()].find((c) => c.urlSource?.includes(card.id))!.desc as string;
    expect(desc.length).toBeLessThanOrEqual(16_384);
    const numbers = desc.split('\n').filter((l) => l.startsWith('`')).map((l) => Number(/mensagem (\d{4})/.exec(l)![1]));
    expect(numbers.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(numbers.at(-1)).toBe(3000);
    expect(numbers.slice(10)).toEqual(Array.from({ length: numbers.length - 10 }, (_, k) => 3000 - (numbers.length - 10) + 1 + k));
    expect(desc).toContain(`_… ${(3000 - numbers.length).toLocaleString('pt-BR')} mensagens omitidas …_`);
  }, 120_000);

  it('keeps one account out of another account’s Trello', async () => {
    const att = await attendance(['Conta A']);
    await ana.client.post(`/api/trello/attendances/${att.id}/cards`, {});
    await created(att.id);
    const other = await createAccount(h.owner, `Outra ${mode}`, `outra-trello-${mode}@acme.test`);
    expect((await other.client.get('/api/trello/connection')).body).toEqual({ connected: false });
    expect((await other.client.get(`/api/trello/attendances/${att.id}/cards`)).status).toBe(404);
    expect((await other.client.post(`/api/trello/attendances/${att.id}/cards`, {})).status).toBe(404);
    expect((await other.client.get('/api/trello/boards')).status).toBe(409);
    const card = (await cardsOf(att.id))[0];
    expect((await other.client.post(`/api/trello/cards/${card.id}/retry`, {})).status).toBe(404);
  });
});
