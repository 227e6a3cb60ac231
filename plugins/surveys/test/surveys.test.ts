import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { helpdeskHarness, waitFor, BIZ, type Agent, type HelpdeskHarness } from '../../helpdesk/test/support.js';

const QUESTION = 'De 1 a 5, como você avalia o atendimento?';
const THANKS = 'Obrigado pela sua avaliação!';
const FOLLOW_UP = 'O que podemos melhorar?';
const HOUR = 3_600_000;

describe.each(STORAGE_MODES)('surveys asked in the chat (%s)', (mode) => {
  let h: HelpdeskHarness;
  let clock: ManualClock;
  let ana: Agent, bruno: Agent, sup: Agent;
  let suporte: string;
  let seq = 0;
  const nextPhone = () => `55219530${String(++seq).padStart(5, '0')}`;

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    h = await helpdeskHarness({ mode, clock, packages: ['@plugchat/surveys'] });
    ana = await h.agent('Ana Atende');
    bruno = await h.agent('Bruno Atende');
    sup = await h.agent('Sara Supervisora', 'supervisor');
    suporte = (await h.owner.post('/api/helpdesk/queues', { name: 'Suporte', memberIds: [ana.id, bruno.id] })).body.id;
    expect((await h.owner.put(`/api/helpdesk/instances/${h.inst.id}/routing`, { defaultQueueId: suporte })).status).toBe(200);
    const def = await h.owner.put('/api/surveys/definition', { enabled: true, kind: 'csat', followUp: FOLLOW_UP, minDaysBetween: 7 });
    expect(def.status).toBe(200);
    expect(def.body).toMatchObject({ enabled: true, kind: 'csat', question: QUESTION, thanks: THANKS, followUpAtOrBelow: 3, windowHours: 24, scale: { min: 1, max: 5 } });
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const inbox = (phone: string) => h.phone(phone).messages().filter((m) => m.direction === 'in').map((m) => m.text ?? '');
  const received = (phone: string, text: string, n = 1) => waitFor(async () => inbox(phone).filter((t) => t === text).length >= n, 20_000, `"${text}" on ${phone}`);
  const attendances = async (phone: string) => (await h.owner.get(`/api/helpdesk/attendances?status=pending,open,snoozed,resolved&q=${phone}`)).body.attendances as any[];
  const surveysOf = async (attendanceId: string, who: Agent | undefined = undefined) => (await (who?.client ?? h.owner).get(`/api/surveys/attendances/${attendanceId}`)).body.items as any[];

  /** A customer writes, an agent takes the attendance and resolves it: the survey is asked. */
  async function served(phone: string, agent: Agent = ana, opts: { expectQuestion?: boolean } = {}) {
    const before = (await attendances(phone)).length;
    await h.phone(phone, `Cliente ${phone.slice(-3)}`).send(BIZ, { text: 'Oi, preciso de ajuda' });
    const att = await waitFor(async () => {
      const list = await attendances(phone);
      return list.length > before ? list[0] : undefined;
    }, 20_000, `an attendance for ${phone}`);
    if (!att.assigneeId || att.assigneeId !== agent.id) expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { assigneeId: agent.id })).status).toBe(200);
    expect((await agent.client.post(`/api/helpdesk/attendances/${att.id}/messages`, { text: 'Resolvido!' })).status).toBe(201);
    const asked = inbox(phone).filter((t) => t === QUESTION).length;
    expect((await agent.client.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    if (opts.expectQuestion !== false) await received(phone, QUESTION, asked + 1);
    return att.id as string;
  }

  const rated = (attendanceId: string, status = 'answered') =>
    waitFor(async () => (await surveysOf(attendanceId)).find((s) => s.status === status), 20_000, `a survey ${status} on ${attendanceId}`);

  it.each([
    ['5', 5],
    [' 4 ', 4],
    ['nota 3', 3],
    ['5️⃣', 5],
    ['⭐⭐', 2],
    ['péssimo', 1],
  ])('reads %j as the rating %i, thanks the customer and opens no attendance', async (reply, rating) => {
    const phone = nextPhone();
    const id = await served(phone);
    await h.phone(phone).send(BIZ, { text: reply });
    const survey = await waitFor(async () => (await surveysOf(id)).find((s) => s.rating !== null), 20_000, 'the rating');
    expect(survey).toMatchObject({ rating, agentId: ana.id, queueId: suporte, kind: 'csat' });
    // A low score (3 or less) is asked what to improve; a good one is thanked.
    await received(phone, rating <= 3 ? FOLLOW_UP : THANKS);
    expect(await attendances(phone)).toHaveLength(1);
    expect((await attendances(phone))[0].status).toBe('resolved');
    // The attendance's log shows the rating.
    const tl = (await h.owner.get(`/api/helpdesk/attendances/${id}/timeline?limit=200`)).body.items as any[];
    expect(tl.some((i) => i.kind === 'activity' && i.activity.type === 'survey_rated' && i.activity.rating === rating)).toBe(true);
  });

  it('passes a reply that is not a rating to the helpdesk and keeps the survey open for a rating later', async () => {
    const phone = nextPhone();
    const id = await served(phone);
    await h.phone(phone).send(BIZ, { text: 'quero falar com alguém' });
    const fresh = await waitFor(async () => (await attendances(phone)).find((a) => a.id !== id), 20_000, 'a new attendance');
    expect(fresh.status).not.toBe('resolved');
    expect(await surveysOf(id)).toMatchObject([{ status: 'sent', rating: null }]);
    expect(inbox(phone)).not.toContain(THANKS);
    // Still within the window: a rating now counts, for the agent who resolved.
    await h.phone(phone).send(BIZ, { text: '4' });
    expect(await rated(id)).toMatchObject({ rating: 4, agentId: ana.id });
    await received(phone, THANKS);
    expect(await attendances(phone)).toHaveLength(2);
  });

  it('does not take a reply after the window as a rating, and a job closes the survey', async () => {
    const phone = nextPhone();
    const id = await served(phone);
    clock.advance(24 * HOUR + 1000);
    await h.phone(phone).send(BIZ, { text: '5' });
    await waitFor(async () => (await attendances(phone)).length === 2, 20_000, 'the late "5" in a new attendance');
    expect((await surveysOf(id))[0]).toMatchObject({ status: 'sent', rating: null });
    await h.app.queue.boss.send('surveys.expire', {});
    await waitFor(async () => (await surveysOf(id))[0].status === 'expired', 20_000, 'the survey expired by the job');
    expect(inbox(phone)).not.toContain(THANKS);
  });

  it('asks a contact at most once in N days', async () => {
    const phone = nextPhone();
    const first = await served(phone);
    await h.phone(phone).send(BIZ, { text: '5' });
    await rated(first);
    clock.advance(2 * 24 * HOUR);
    const second = await served(phone, ana, { expectQuestion: false });
    const skipped = await waitFor(async () => (await surveysOf(second))[0], 20_000, 'the second resolution recorded');
    expect(skipped).toMatchObject({ status: 'not_sent', reason: 'recent_survey', sentAt: null });
    await new Promise((r) => setTimeout(r, 500));
    expect(inbox(phone).filter((t) => t === QUESTION)).toHaveLength(1);
    // After the N days, the contact is asked again.
    clock.advance(6 * 24 * HOUR);
    const third = await served(phone);
    expect((await surveysOf(third))[0]).toMatchObject({ status: 'sent' });
  });

  it('asks what to improve after a low score and keeps the answer as the comment', async () => {
    const phone = nextPhone();
    const id = await served(phone);
    await h.phone(phone).send(BIZ, { text: '2' });
    await received(phone, FOLLOW_UP);
    expect(await rated(id, 'awaiting_comment')).toMatchObject({ rating: 2, comment: null });
    await h.phone(phone).send(BIZ, { text: 'Demorou muito para responder' });
    expect(await rated(id)).toMatchObject({ rating: 2, comment: 'Demorou muito para responder' });
    await received(phone, THANKS);
    expect(await attendances(phone)).toHaveLength(1);
    // Each text once.
    expect(inbox(phone).filter((t) => t === FOLLOW_UP || t === THANKS)).toEqual([FOLLOW_UP, THANKS]);
  });

  it('counts the rating for the agent who resolved, whatever happens to the attendance afterwards', async () => {
    const phone = nextPhone();
    const id = await served(phone, ana);
    // A supervisor reopens it and gives it to Bruno, then takes it from everyone.
    expect((await sup.client.post(`/api/helpdesk/attendances/${id}/reopen`)).status).toBe(200);
    expect((await sup.client.post(`/api/helpdesk/attendances/${id}/transfer`, { assigneeId: bruno.id })).status).toBe(200);
    expect((await sup.client.post(`/api/helpdesk/attendances/${id}/transfer`, { assigneeId: null })).status).toBe(200);
    await h.phone(phone).send(BIZ, { text: '5' });
    expect(await rated(id)).toMatchObject({ rating: 5, agentId: ana.id });
    // Agents see the survey of an attendance they may see; the figures name Ana, never Bruno.
    expect((await surveysOf(id, ana))[0]).toMatchObject({ rating: 5, agentName: 'Ana Atende' });
    const fig = (await sup.client.get(`/api/surveys/figures?agentId=${bruno.id}`)).body;
    expect(fig.csat.responses).toBe(0);
  });

  it('asks with a WhatsApp poll when set to, and takes the vote as the rating', async () => {
    expect((await h.owner.put('/api/surveys/definition', { enabled: true, kind: 'csat', followUp: FOLLOW_UP, minDaysBetween: 7, asPoll: true })).body.asPoll).toBe(true);
    try {
      const phone = nextPhone();
      const id = await served(phone);
      const poll = h.phone(phone).messages().find((m) => m.direction === 'in' && m.kind === 'poll')!;
      expect(poll).toMatchObject({ text: QUESTION, options: ['5 - Ótimo', '4 - Bom', '3 - Regular', '2 - Ruim', '1 - Péssimo'] });
      await h.phone(phone).vote(poll.id, ['4 - Bom']);
      expect(await rated(id)).toMatchObject({ rating: 4, agentId: ana.id });
      await received(phone, THANKS);
      // Changing the vote within the window changes the rating; no second thank-you, no attendance.
      await h.phone(phone).vote(poll.id, ['5 - Ótimo']);
      await waitFor(async () => (await surveysOf(id))[0].rating === 5, 20_000, 'the changed vote');
      expect(inbox(phone).filter((t) => t === THANKS)).toHaveLength(1);
      expect(await attendances(phone)).toHaveLength(1);
    } finally {
      await h.owner.put('/api/surveys/definition', { enabled: true, kind: 'csat', followUp: FOLLOW_UP, minDaysBetween: 7 });
    }
  });

  it('keeps one account out of another', async () => {
    const phone = nextPhone();
    const id = await served(phone);
    const { createAccount } = await import('../../../core/test/support/app.js');
    const operator = h.owner;
    const other = await createAccount(operator, `Outra ${mode}`, `outra-${mode}@acme.test`);
    expect((await other.client.get(`/api/surveys/attendances/${id}`)).status).toBe(404);
    expect((await other.client.get('/api/surveys/responses')).body).toMatchObject({ total: 0, items: [] });
    expect((await other.client.get('/api/surveys/definition')).body.enabled).toBe(false);
    // Agents cannot change the survey or read the account's figures.
    expect((await ana.client.put('/api/surveys/definition', { enabled: false, kind: 'csat' })).status).toBe(403);
    expect((await ana.client.get('/api/surveys/figures')).status).toBe(403);
    const bad = await h.owner.put('/api/surveys/definition', { enabled: true, kind: 'nps', followUpAtOrBelow: 11 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.followUpAtOrBelow');
  });
});
