import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baileys, proto } from '../../whatsapp-sandbox/src/network/baileys.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { helpdeskHarness, waitFor, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from './support.js';

const C1 = '5521951000001';
const C2 = '5521951000002';
const C3 = '5521951000003';

describe.each(STORAGE_MODES)('helpdesk: many agents on one number (%s)', (mode) => {
  let h: HelpdeskHarness;
  let sup1: Agent, sup2: Agent, sales: Agent;
  let suporte: string, vendas: string;

  beforeAll(async () => {
    h = await helpdeskHarness({ mode });
    sup1 = await h.agent('Sofia Suporte');
    sup2 = await h.agent('Saulo Suporte');
    sales = await h.agent('Vera Vendas');
    suporte = (await h.owner.post('/api/helpdesk/queues', { name: 'Suporte', assignment: 'round_robin', memberIds: [sup1.id, sup2.id], greeting: 'Você está na fila do Suporte.' })).body.id;
    vendas = (await h.owner.post('/api/helpdesk/queues', { name: 'Vendas', assignment: 'round_robin', memberIds: [sales.id] })).body.id;
    const routing = await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { menu: { text: 'Olá! Escolha uma opção:', options: [{ key: '1', queueId: vendas }, { key: '2', queueId: suporte }] } });
    expect(routing.status).toBe(200);
    for (const a of [sup1, sup2, sales]) expect((await a.client.put('/api/helpdesk/me/presence', { status: 'online' })).status).toBe(200);
    // One open attendance each in Suporte, so a third customer must wait for capacity.
    for (const a of [sup1, sup2]) expect((await h.owner.patch(`/api/helpdesk/agents/${a.id}`, { capacity: 1 })).status).toBe(200);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const texts = (phone: string) => h.phone(phone).messages().filter((m) => m.direction === 'in').map((m) => m.text);
  const onPhone = (phone: string, pred: (t: string | undefined) => boolean, what: string) => waitFor(async () => texts(phone).find(pred), 20_000, what);

  it('routes by the menu, assigns round robin within capacity, transfers with a log, and the customer sees replies, quotes, reactions and read ticks', async () => {
    const p1 = h.phone(C1, 'Carla');
    const p2 = h.phone(C2, 'Caio');
    const p3 = h.phone(C3, 'Cintia');

    // Both customers write at once; each gets the menu and picks Suporte.
    await Promise.all([p1.send(BIZ, { text: 'Oi, preciso de ajuda' }), p2.send(BIZ, { text: 'Bom dia' })]);
    await onPhone(C1, (t) => !!t?.includes('2 - Suporte'), 'the menu on phone 1');
    await onPhone(C2, (t) => !!t?.includes('1 - Vendas'), 'the menu on phone 2');
    const pending = await waitForInbound(h, C1, 1);
    expect(pending.att).toMatchObject({ status: 'pending', queueId: null, menuPending: true, assigneeId: null });

    await p1.send(BIZ, { text: '2' });
    const a1 = await waitFor(async () => ((await h.attendanceOf(C1))?.assigneeId ? h.attendanceOf(C1) : undefined), 20_000, 'assignment of customer 1');
    await onPhone(C1, (t) => t === 'Você está na fila do Suporte.', 'the queue greeting');
    await p2.send(BIZ, { text: 'suporte' });
    const a2 = await waitFor(async () => ((await h.attendanceOf(C2))?.assigneeId ? h.attendanceOf(C2) : undefined), 20_000, 'assignment of customer 2');
    expect(a1).toMatchObject({ status: 'open', queueId: suporte });
    expect(a2).toMatchObject({ status: 'open', queueId: suporte });
    // Round robin: each Suporte agent got one.
    expect(new Set([a1.assigneeId, a2.assigneeId])).toEqual(new Set([sup1.id, sup2.id]));

    // Capacity 1 each: a third Suporte customer waits in the queue.
    await p3.send(BIZ, { text: 'Olá' });
    await onPhone(C3, (t) => !!t?.includes('2 - Suporte'), 'the menu on phone 3');
    await p3.send(BIZ, { text: '2' });
    await waitFor(async () => (await h.attendanceOf(C3))?.queueId === suporte, 20_000, 'customer 3 in Suporte');
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.attendanceOf(C3)).toMatchObject({ status: 'pending', assigneeId: null });

    // The agent of customer 1 answers: a text, a quote of the customer's message, a reaction, and reads it.
    const agent1 = a1.assigneeId === sup1.id ? sup1 : sup2;
    const other = agent1 === sup1 ? sup2 : sup1;
    const tl = (await agent1.client.get(`/api/helpdesk/attendances/${a1.id}/timeline`)).body.items as any[];
    const question = tl.find((i) => i.kind === 'message' && i.direction === 'in' && i.content?.text === 'Oi, preciso de ajuda');
    expect(question).toBeDefined();
    const reply = await agent1.client.post(`/api/helpdesk/attendances/${a1.id}/messages`, { text: 'Claro! Qual o problema?' });
    expect(reply.status).toBe(201);
    const quote = await agent1.client.post(`/api/helpdesk/attendances/${a1.id}/messages`, { text: 'Sobre isto aqui', replyTo: question.waId });
    expect(quote.status).toBe(201);
    const react = await agent1.client.post(`/api/helpdesk/attendances/${a1.id}/reactions`, { messageId: question.waId, emoji: '👍' });
    expect(react.status).toBe(201);
    const read = await agent1.client.post(`/api/helpdesk/attendances/${a1.id}/read`);
    expect(read.status).toBe(200);
    expect(read.body.unread).toBe(0);

    await onPhone(C1, (t) => t === 'Claro! Qual o problema?', 'the reply');
    const quoted = await waitFor(async () => h.phone(C1).messages().find((m) => m.id === quote.body.messageId), 20_000, 'the quote');
    const decoded = Baileys.normalizeMessageContent(proto.Message.decode(quoted.raw));
    expect(decoded?.extendedTextMessage?.contextInfo?.stanzaId).toBe(question.waId);
    const reaction = await waitFor(async () => h.phone(C1).messages().find((m) => m.id === react.body.messageId), 20_000, 'the reaction');
    expect(reaction).toMatchObject({ kind: 'reaction', text: '👍' });
    // Blue ticks: the customer's own message shows read on their phone.
    await waitFor(async () => h.phone(C1).messages().find((m) => m.id === question.waId)?.status === 'read', 20_000, 'read ticks on the phone');

    // Another agent of the same queue cannot write in an attendance that is not theirs.
    const intrusion = await other.client.post(`/api/helpdesk/attendances/${a1.id}/messages`, { text: 'oi' });
    expect(intrusion.status).toBe(403);

    // Transfer customer 2 to Vendas with a message: Vera gets it, the log records it, the customer is told.
    const before = a2.assigneeId;
    const moved = await h.owner.post(`/api/helpdesk/attendances/${a2.id}/transfer`, { queueId: vendas, message: 'Vou te passar para Vendas.' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ queueId: vendas, assigneeId: sales.id, status: 'open' });
    await onPhone(C2, (t) => t === 'Vou te passar para Vendas.', 'the transfer message');
    const log = ((await h.owner.get(`/api/helpdesk/attendances/${a2.id}/timeline`)).body.items as any[]).filter((i) => i.kind === 'activity').map((i) => i.activity);
    expect(log.find((a) => a.type === 'transferred')).toMatchObject({ fromQueueId: suporte, toQueueId: vendas, fromAssigneeId: before, toAssigneeId: null });
    expect(log.filter((a) => a.type === 'assigned').map((a) => a.to)).toEqual([before, sales.id]);

    // The freed Suporte agent gets the waiting customer 3 (capacity freed by the transfer).
    const a3 = await waitFor(async () => ((await h.attendanceOf(C3))?.assigneeId ? h.attendanceOf(C3) : undefined), 20_000, 'customer 3 assigned');
    expect(a3.assigneeId).toBe(before);

    // Resolving customer 1 frees its agent; counts per tab follow.
    const counts = (await agent1.client.get('/api/helpdesk/attendances/counts')).body;
    expect(counts).toMatchObject({ mine: 1, unassigned: 0 });
    expect((await agent1.client.post(`/api/helpdesk/attendances/${a1.id}/resolve`)).status).toBe(200);
    expect((await agent1.client.get('/api/helpdesk/attendances/counts')).body.mine).toBe(0);
  });

  it('opens a new attendance when a resolved customer writes again, leaving the old one untouched', async () => {
    const first = await h.attendanceOf(C1);
    expect(first.status).toBe('resolved');
    const oldItems = (await h.owner.get(`/api/helpdesk/attendances/${first.id}/timeline?limit=200`)).body.items;
    await h.phone(C1).send(BIZ, { text: 'Voltei com outra dúvida' });
    const second = await waitFor(async () => {
      const a = await h.attendanceOf(C1);
      return a && a.id !== first.id ? a : undefined;
    }, 20_000, 'a new attendance');
    expect(second.number).toBeGreaterThan(first.number);
    expect(second.status).toBe('pending');
    const again = (await h.owner.get(`/api/helpdesk/attendances/${first.id}`)).body;
    expect(again).toMatchObject({ status: 'resolved', version: first.version });
    expect((await h.owner.get(`/api/helpdesk/attendances/${first.id}/timeline?limit=200`)).body.items).toEqual(oldItems);
  });
});
