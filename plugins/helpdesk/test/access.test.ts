import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createAccount } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { helpdeskHarness, waitFor, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from './support.js';

const CUSTOMER = '5521954000001';

describe.each(STORAGE_MODES)('helpdesk roles, tenancy and bad input (%s)', (mode) => {
  let h: HelpdeskHarness;
  let agentA: Agent, agentB: Agent, supervisor: Agent;
  let queueA: string, queueB: string;
  let att: any;
  let other: Client;

  beforeAll(async () => {
    h = await helpdeskHarness({ mode, sessionSettings: { maxMediaBytes: 4096 } });
    agentA = await h.agent('Alice');
    agentB = await h.agent('Bruno');
    supervisor = await h.agent('Sara', 'supervisor');
    queueA = (await h.owner.post('/api/helpdesk/queues', { name: 'Fila A', memberIds: [agentA.id] })).body.id;
    queueB = (await h.owner.post('/api/helpdesk/queues', { name: 'Fila B', memberIds: [agentB.id] })).body.id;
    await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: queueB });
    await h.phone(CUSTOMER, 'Gabi').send(BIZ, { text: 'preciso de ajuda' });
    att = (await waitForInbound(h, CUSTOMER, 1)).att;
    other = (await createAccount(h.owner, 'Outra', 'dona@outra.test')).client;
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  /** Every route that names one of account A's things, with a body it would accept. */
  const routes = () => {
    const a = `/api/helpdesk/attendances/${att.id}`;
    return [
      ['GET', a],
      ['GET', `${a}/timeline`],
      ['POST', `${a}/accept`],
      ['POST', `${a}/transfer`, { queueId: queueA }],
      ['POST', `${a}/resolve`],
      ['POST', `${a}/reopen`],
      ['POST', `${a}/snooze`, { until: null }],
      ['PATCH', a, { priority: 'high' }],
      ['PUT', `${a}/labels`, { labelIds: [] }],
      ['POST', `${a}/messages`, { text: 'intruso' }],
      ['POST', `${a}/reactions`, { messageId: 'X', emoji: '👍' }],
      ['DELETE', `${a}/messages/X`],
      ['POST', `${a}/read`],
      ['POST', `${a}/typing`, { on: true }],
      ['POST', `${a}/notes`, { text: 'nota' }],
      ['GET', `${a}/media/X`],
      ['GET', `${a}/actions`],
      ['POST', `${a}/actions/x`],
    ] as [string, string, unknown?][];
  };
  const adminRoutes = () => [
    ['GET', `/api/helpdesk/contacts/${att.contact.id}`],
    ['PATCH', `/api/helpdesk/contacts/${att.contact.id}`, { name: 'x' }],
    ['PUT', `/api/helpdesk/contacts/${att.contact.id}/labels`, { labelIds: [] }],
    ['PATCH', `/api/helpdesk/queues/${queueA}`, { name: 'roubada' }],
    ['DELETE', `/api/helpdesk/queues/${queueA}`],
    ['GET', `/api/helpdesk/instances/${h.inst.id}/routing`],
    ['PUT', `/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: null }],
    ['PATCH', `/api/helpdesk/agents/${agentA.id}`, { capacity: 3 }],
  ] as [string, string, unknown?][];

  it('keeps an agent of queue A out of an attendance of queue B', async () => {
    const list = (await agentA.client.get('/api/helpdesk/attendances?tab=all')).body.attendances;
    expect(list.map((a: any) => a.id)).not.toContain(att.id);
    expect((await agentA.client.get('/api/helpdesk/attendances/counts')).body).toEqual({ mine: 0, unassigned: 0, all: 0 });
    for (const [method, url, body] of routes()) {
      const res = await agentA.client.req(method, url, body);
      expect([method, url, res.status]).toEqual([method, url, 404]);
    }
    // Bruno, of queue B, sees it; the supervisor sees everything.
    expect((await agentB.client.get(`/api/helpdesk/attendances/${att.id}`)).status).toBe(200);
    expect((await supervisor.client.get('/api/helpdesk/attendances?tab=all')).body.attendances.map((a: any) => a.id)).toContain(att.id);
    // Agents do not manage the account's setup.
    expect((await agentB.client.post('/api/helpdesk/queues', { name: 'Minha' })).status).toBe(403);
    expect((await agentB.client.post('/api/helpdesk/labels', { name: 'VIP' })).status).toBe(403);
    expect((await agentB.client.post('/api/helpdesk/quick-replies', { shortcut: 'oi', text: 'Oi' })).status).toBe(403);
    expect((await agentB.client.post('/api/helpdesk/quick-replies', { shortcut: 'oi', text: 'Oi', personal: true })).status).toBe(201);
    expect((await agentB.client.patch(`/api/helpdesk/contacts/${att.contact.id}`, { blocked: true })).status).toBe(403);
  });

  it('shows another account nothing of this one, on every route', async () => {
    expect((await other.get('/api/helpdesk/attendances?tab=all')).body.attendances).toEqual([]);
    expect((await other.get('/api/helpdesk/attendances?status=pending,open,snoozed,resolved')).body.attendances).toEqual([]);
    expect((await other.get('/api/helpdesk/contacts')).body.contacts).toEqual([]);
    expect((await other.get('/api/helpdesk/queues')).body.queues).toEqual([]);
    expect((await other.get('/api/helpdesk/labels')).body.labels).toEqual([]);
    expect((await other.get('/api/helpdesk/agents')).body.agents.map((a: any) => a.id)).not.toContain(agentA.id);
    for (const [method, url, body] of [...routes(), ...adminRoutes()]) {
      const res = await other.req(method, url, body);
      expect([method, url, res.status]).toEqual([method, url, 404]);
    }
    // Nothing changed on this side.
    expect((await h.owner.get(`/api/helpdesk/attendances/${att.id}`)).body).toMatchObject({ status: 'pending', version: att.version, queueId: queueB });
    expect((await h.owner.get('/api/helpdesk/queues')).body.queues.map((q: any) => q.name).sort()).toEqual(['Fila A', 'Fila B']);
    // And without credentials, nothing at all.
    const anon = new Client(h.app.url);
    for (const [method, url, body] of routes().slice(0, 4)) expect((await anon.req(method, url, body)).status).toBe(401);
  });

  it('answers bad input with a clear error and writes nothing', async () => {
    const before = (await h.owner.get(`/api/helpdesk/attendances/${att.id}/timeline?limit=200`)).body.items.length;
    const expectError = async (res: any, status: number, code: string, path?: string) => {
      expect([res.status, res.body.error?.code]).toEqual([status, code]);
      if (path) expect(res.body.error.details.issues.map((i: any) => i.path)).toContain(path);
    };
    await expectError(await h.owner.get('/api/helpdesk/attendances/00000000-0000-0000-0000-000000000000'), 404, 'not_found');
    await expectError(await h.owner.post('/api/helpdesk/attendances/00000000-0000-0000-0000-000000000000/accept'), 404, 'not_found');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 5 }), 400, 'validation_failed', 'body.text');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 'oi', extra: true }), 400, 'validation_failed');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: '   ' }), 400, 'validation_failed', 'body.text');
    await expectError(await h.owner.get('/api/helpdesk/attendances?limit=abc'), 400, 'validation_failed', 'query.limit');
    await expectError(await h.owner.get('/api/helpdesk/attendances?cursor=garbage'), 400, 'invalid_cursor', 'query.cursor');
    await expectError(await h.owner.post('/api/helpdesk/quick-replies', { shortcut: 'saudacao', text: 'Olá {{cliente.nome}}!' }), 400, 'unknown_variable', 'body.text');
    await expectError(await h.owner.post('/api/helpdesk/quick-replies', { shortcut: 'com espaço', text: 'x' }), 400, 'validation_failed', 'body.shortcut');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/messages`, { quickReply: 'naoexiste' }), 400, 'unknown_quick_reply', 'body.quickReply');
    const big = `data:image/png;base64,${Buffer.alloc(8192, 1).toString('base64')}`;
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/messages`, { media: { kind: 'image', file: big } }), 413, 'media_too_large');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { queueId: 'nope' }), 400, 'validation_failed', 'body.queueId');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { assigneeId: 'nope' }), 400, 'validation_failed', 'body.assigneeId');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/snooze`, { until: '2001-01-01T00:00:00Z' }), 400, 'validation_failed', 'body.until');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/notes`, { text: 'oi', mentions: ['ninguem'] }), 400, 'validation_failed', 'body.mentions.0');
    await expectError(await h.owner.put(`/api/helpdesk/attendances/${att.id}/labels`, { labelIds: ['nope'] }), 400, 'validation_failed', 'body.labelIds.0');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/resolve`, { version: att.version + 5 }), 409, 'stale_attendance');
    await expectError(await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { menu: { text: 'x', options: [{ key: '1', queueId: queueA }, { key: '1', queueId: queueB }] } }), 400, 'validation_failed', 'body.menu.options.1.key');
    await expectError(await h.owner.post('/api/helpdesk/queues', { name: 'Fila A' }), 409, 'duplicate');
    await expectError(await h.owner.post('/api/helpdesk/queues', { name: 'Noite', businessHours: { schedule: [{ day: 1, open: '18:00', close: '09:00' }] } }), 400, 'validation_failed');
    await expectError(await h.owner.post('/api/helpdesk/queues', { name: 'Fuso', businessHours: { timeZone: 'Marte/Base', schedule: [] } }), 400, 'validation_failed', 'body.businessHours.timeZone');
    // None of that touched the attendance.
    const now = (await h.owner.get(`/api/helpdesk/attendances/${att.id}`)).body;
    expect(now).toMatchObject({ status: 'pending', assigneeId: null, version: att.version, labels: [] });
    expect((await h.owner.get(`/api/helpdesk/attendances/${att.id}/timeline?limit=200`)).body.items).toHaveLength(before);

    // A resolved attendance takes no messages until reopened.
    expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 'oi' }), 409, 'attendance_resolved');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/resolve`), 409, 'attendance_resolved');
    expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/reopen`)).status).toBe(200);

    // A contact who opted out cannot be messaged from the helpdesk.
    await h.phone(CUSTOMER).send(BIZ, { text: 'SAIR' });
    await waitFor(async () => (await h.owner.get(`/api/helpdesk/attendances/${att.id}`)).body.optedOut, 20_000, 'the opt-out');
    await expectError(await h.owner.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 'promoção!' }), 422, 'opted_out');
    expect((await h.owner.get(`/api/helpdesk/contacts/${att.contact.id}`)).body.optedOut).toBe(true);
  });
});
