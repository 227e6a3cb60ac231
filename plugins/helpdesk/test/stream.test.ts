import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { helpdeskHarness, sse, waitFor, waitForInbound, BIZ, type Agent, type HelpdeskHarness } from './support.js';

describe.each(STORAGE_MODES)('the live stream (%s)', (mode) => {
  let h: HelpdeskHarness;
  let agent: Agent;
  let queue: string, elsewhere: string;

  beforeAll(async () => {
    h = await helpdeskHarness({ mode });
    agent = await h.agent('Lia');
    queue = (await h.owner.post('/api/helpdesk/queues', { name: 'Suporte', memberIds: [agent.id] })).body.id;
    elsewhere = (await h.owner.post('/api/helpdesk/queues', { name: 'Financeiro' })).body.id;
    await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: queue });
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const url = () => `${h.app.url}/api/helpdesk/stream`;
  const hasNote = (events: { data: any }[], text: string) => events.some((e) => e.data?.data?.kind === 'note' && e.data.data.text === text);

  it('resumes with Last-Event-ID: every change made while away arrives, exactly once, and only what the agent may see', async () => {
    // A witness stays connected the whole time; the other stream drops and comes back.
    const witness = sse(url(), agent.client.cookie);
    const flaky = sse(url(), agent.client.cookie);
    await Promise.all([witness.ready, flaky.ready]);
    await waitFor(async () => flaky.events.some((e) => e.event === 'ready') && witness.events.some((e) => e.event === 'ready'), 5_000, 'both streams ready');

    await h.phone('5521955000001', 'Rui').send(BIZ, { text: 'primeira' });
    const { att } = await waitForInbound(h, '5521955000001', 1);
    await waitFor(async () => flaky.events.some((e) => e.event === 'timeline' && e.data.attendanceId === att.id), 10_000, 'the first message on the stream');
    await flaky.close();
    const lastId = flaky.lastId()!;

    // Meanwhile: more messages, an accept, a note, a label, a transfer out of the agent's queue and back,
    // and an attendance in another queue that the agent must not see.
    await h.phone('5521955000001').send(BIZ, { text: 'segunda' });
    await h.phone('5521955000001').send(BIZ, { text: 'terceira' });
    await waitForInbound(h, '5521955000001', 3);
    expect((await agent.client.post(`/api/helpdesk/attendances/${att.id}/accept`)).status).toBe(200);
    expect((await agent.client.post(`/api/helpdesk/attendances/${att.id}/notes`, { text: 'cliente antigo' })).status).toBe(201);
    const label = (await h.owner.post('/api/helpdesk/labels', { name: 'VIP', color: '#aa0000' })).body.id;
    expect((await agent.client.put(`/api/helpdesk/attendances/${att.id}/labels`, { labelIds: [label] })).status).toBe(200);
    expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { queueId: elsewhere })).status).toBe(200);
    expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { queueId: queue, assigneeId: agent.id })).status).toBe(200);
    await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: elsewhere });
    await h.phone('5521955000002', 'Sigilo').send(BIZ, { text: 'assunto do financeiro' });
    const hidden = (await waitForInbound(h, '5521955000002', 1)).att;
    expect((await agent.client.post(`/api/helpdesk/attendances/${att.id}/notes`, { text: 'fim' })).status).toBe(201);
    await waitFor(async () => hasNote(witness.events, 'fim'), 10_000, 'the last change on the witness');

    const back = sse(url(), agent.client.cookie, lastId);
    await back.ready;
    await waitFor(async () => hasNote(back.events, 'fim'), 10_000, 'the last change after resuming');
    await Promise.all([witness.close(), back.close()]);

    const after = (events: { id?: string; event: string }[]) => events.filter((e) => e.event !== 'ready' && e.id && Number(e.id) > Number(lastId)).map((e) => e.id);
    const resumed = after(back.events);
    expect(resumed.length).toBeGreaterThan(8);
    expect(new Set(resumed).size).toBe(resumed.length);
    expect(resumed).toEqual(after(witness.events));
    const kinds = back.events.filter((e) => e.event === 'timeline').map((e) => e.data.data);
    expect(kinds.filter((k) => k.kind === 'message' && k.direction === 'in').map((k) => k.content?.text)).toEqual(['segunda', 'terceira']);
    expect(kinds.filter((k) => k.kind === 'activity').map((k) => k.activity.type)).toEqual(expect.arrayContaining(['assigned', 'label_added', 'transferred']));
    // The attendance of a queue the agent is not in never reached their streams.
    expect([...back.events, ...witness.events].some((e) => e.data?.attendanceId === hidden.id)).toBe(false);
    // The supervisor's view has it.
    const sup = sse(url(), h.owner.cookie, lastId);
    await sup.ready;
    await waitFor(async () => sup.events.some((e) => e.data?.attendanceId === hidden.id), 10_000, 'the hidden attendance for the owner');
    await sup.close();
  });

  it('refuses a Last-Event-ID that is not one of its ids', async () => {
    const res = await fetch(url(), { headers: { cookie: agent.client.cookie!, 'last-event-id': 'abc' } });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('validation_failed');
  });
});
