import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { helpdeskHarness, sse, waitFor, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from './support.js';

/** A third-party plugin that adds an action to attendances through the helpdesk's extension point. */
const echoPlugin = {
  manifest: { id: 'echo', displayName: 'Echo', engines: { plugchat: '^1.0.0' }, dependencies: ['helpdesk'], contributes: { extends: ['helpdesk.attendanceActions'] } },
  code: `export default { activate(ctx) {
    const helpdesk = ctx.getApi('helpdesk');
    ctx.subscriptions.push(ctx.extensions.contribute('helpdesk.attendanceActions', {
      id: 'echo.note', title: 'Anotar eco',
      async run({ caller, attendance, body }) {
        await helpdesk.recordActivity(caller.accountId, attendance.attendanceId, 'echo', { said: body.say }, caller.userId);
        return { number: attendance.number, phone: attendance.phone, said: body.say };
      },
    }));
  } };`,
};

describe('agents, presence, snoozes and what other plugins get', () => {
  const clock = new ManualClock('2026-12-02T15:00:00Z');
  let h: HelpdeskHarness;
  let ana: Agent, bia: Agent;
  let queue: string;
  const events: { name: string; payload: any }[] = [];

  beforeAll(async () => {
    h = await helpdeskHarness({ clock, settings: { presenceGraceSeconds: 60, reopenWindowMinutes: 10 }, plugins: { echo: echoPlugin } });
    for (const name of ['helpdesk.attendance.created', 'helpdesk.attendance.assigned', 'helpdesk.attendance.resolved', 'helpdesk.message.created'] as const) {
      h.app.events.on('test', name, (payload) => void events.push({ name, payload }));
    }
    ana = await h.agent('Ana');
    bia = await h.agent('Bia');
    queue = (await h.owner.post('/api/helpdesk/queues', { name: 'Suporte', assignment: 'round_robin', memberIds: [ana.id, bia.id] })).body.id;
    await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: queue });
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('counts an agent whose last live connection closed more than the grace period ago as offline, by the clock', async () => {
    for (const a of [ana, bia]) await a.client.put('/api/helpdesk/me/presence', { status: 'online' });
    const stream = sse(`${h.app.url}/api/helpdesk/stream`, bia.client.cookie);
    await stream.ready;
    await waitFor(async () => stream.events.some((e) => e.event === 'ready'), 5_000, 'the stream');
    await stream.close();
    const presence = async (id: string) => (await h.owner.get('/api/helpdesk/agents')).body.agents.find((a: any) => a.id === id).presence;
    await waitFor(async () => (await h.owner.get('/api/helpdesk/agents')).status === 200, 5_000, 'agents');
    // Within the grace period Bia is still online; past it, offline, without anyone sleeping.
    clock.advance(30_000);
    expect(await presence(bia.id)).toBe('online');
    clock.advance(31_000);
    await waitFor(async () => (await presence(bia.id)) === 'offline', 5_000, 'Bia offline');
    expect(await presence(ana.id)).toBe('online');
    // So round robin skips her: every new customer goes to Ana.
    for (const phone of ['5521957000001', '5521957000002']) {
      await h.phone(phone).send(BIZ, { text: 'oi' });
      const { att } = await waitForInbound(h, phone, 1);
      const assigned = await waitFor(async () => (await h.owner.get(`/api/helpdesk/attendances/${att.id}`)).body.assigneeId, 10_000, 'assignment');
      expect(assigned).toBe(ana.id);
    }
    // Reconnecting brings her back.
    const again = sse(`${h.app.url}/api/helpdesk/stream`, bia.client.cookie);
    await again.ready;
    await waitFor(async () => (await presence(bia.id)) === 'online', 5_000, 'Bia online again');
    await again.close();
  });

  it('wakes a snoozed attendance when the customer writes, and tells other plugins who resolved it', async () => {
    const phone = '5521957000001';
    const att = (await waitForInbound(h, phone, 1)).att;
    const snoozed = await ana.client.post(`/api/helpdesk/attendances/${att.id}/snooze`, { until: '2026-12-03T12:00:00Z' });
    expect(snoozed.body).toMatchObject({ status: 'snoozed', snoozedUntil: '2026-12-03T12:00:00.000Z' });
    await h.phone(phone).send(BIZ, { text: 'voltei' });
    await waitFor(async () => (await h.owner.get(`/api/helpdesk/attendances/${att.id}`)).body.status === 'open', 10_000, 'the wake-up');
    expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 'Pode falar!' })).status).toBe(201);
    expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    const resolved = events.find((e) => e.name === 'helpdesk.attendance.resolved' && e.payload.attendanceId === att.id)!;
    expect(resolved.payload).toMatchObject({ assigneeId: ana.id, queueId: queue, instanceId: h.inst.id, phone, byUserId: ana.id, resolvedAt: clock.now().toISOString() });
    expect(events.filter((e) => e.name === 'helpdesk.attendance.created' && e.payload.attendanceId === att.id)).toHaveLength(1);
    const messages = events.filter((e) => e.name === 'helpdesk.message.created' && e.payload.attendanceId === att.id).map((e) => [e.payload.direction, e.payload.text, e.payload.authorId]);
    expect(messages).toEqual([
      ['in', 'oi', null],
      ['in', 'voltei', null],
      ['out', 'Pode falar!', ana.id],
    ]);
    const first = (await h.owner.get(`/api/helpdesk/attendances/${att.id}`)).body;
    expect(first.firstReplyAt).toBe(clock.now().toISOString());
  });

  it("runs another plugin's action on an attendance, with the attendance the agent may see", async () => {
    const att = (await waitForInbound(h, '5521957000002', 1)).att;
    const list = await ana.client.get(`/api/helpdesk/attendances/${att.id}/actions`);
    expect(list.body.actions).toEqual([{ id: 'echo.note', title: 'Anotar eco' }]);
    const run = await ana.client.post(`/api/helpdesk/attendances/${att.id}/actions/echo.note`, { say: 'olá' });
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ number: att.number, phone: '5521957000002', said: 'olá' });
    const log = (await h.owner.get(`/api/helpdesk/attendances/${att.id}/timeline`)).body.items.filter((i: any) => i.kind === 'activity').map((i: any) => i.activity);
    expect(log).toContainEqual({ type: 'echo', said: 'olá' });
    expect((await ana.client.post(`/api/helpdesk/attendances/${att.id}/actions/nope`, {})).status).toBe(404);
  });

  it('reopens the last attendance when the customer writes within the reopen window, and opens a new one after it', async () => {
    const phone = '5521957000003';
    await h.phone(phone).send(BIZ, { text: 'primeira vez' });
    const first = (await waitForInbound(h, phone, 1)).att;
    expect((await h.owner.post(`/api/helpdesk/attendances/${first.id}/resolve`)).status).toBe(200);
    clock.advance(5 * 60_000);
    await h.phone(phone).send(BIZ, { text: 'esqueci de perguntar' });
    await waitFor(async () => (await h.owner.get(`/api/helpdesk/attendances/${first.id}`)).body.status !== 'resolved', 10_000, 'the reopening');
    const reopened = (await h.owner.get(`/api/helpdesk/attendances/${first.id}`)).body;
    expect(reopened).toMatchObject({ reopenedAt: clock.now().toISOString(), resolvedAt: null });
    expect(events.filter((e) => e.name === 'helpdesk.attendance.created' && e.payload.contactId === first.contact.id)).toHaveLength(1);
    expect((await h.owner.post(`/api/helpdesk/attendances/${first.id}/resolve`)).status).toBe(200);
    clock.advance(11 * 60_000);
    await h.phone(phone).send(BIZ, { text: 'outro assunto' });
    const second = await waitFor(async () => {
      const a = await h.attendanceOf(phone);
      return a && a.id !== first.id ? a : undefined;
    }, 10_000, 'a new attendance after the window');
    expect(second.number).toBeGreaterThan(first.number);
    expect((await h.owner.get(`/api/helpdesk/attendances/${first.id}`)).body.status).toBe('resolved');
  });

  it('opens no attendance on a number switched to API only', async () => {
    expect((await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { enabled: false })).status).toBe(200);
    await h.phone('5521957000009').send(BIZ, { text: 'só API' });
    const stored = async () => (await h.api(h.inst).get('/chat-messages/5521957000009')).body.length;
    await waitFor(async () => (await stored()) >= 1, 10_000, 'the session to store it');
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.attendanceOf('5521957000009')).toBeUndefined();
  });
});
