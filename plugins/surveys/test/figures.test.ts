import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { helpdeskHarness, waitFor, BIZ, type Agent, type HelpdeskHarness } from '../../helpdesk/test/support.js';

// 12 CSAT surveys (10 answered) and 11 NPS surveys (10 answered): 20 responses, figures by hand below.
const CSAT = [5, 5, 5, 4, 4, 3, 2, 1, 5, 4, null, null];
const NPS = [10, 9, 9, 8, 7, 6, 3, 10, 10, 9, null];

describe.each(STORAGE_MODES)('survey figures on a known set of responses (%s)', (mode) => {
  let h: HelpdeskHarness;
  let ana: Agent, bruno: Agent;
  let vip: string;
  let seq = 0;

  beforeAll(async () => {
    h = await helpdeskHarness({ mode, packages: ['@plugchat/surveys'] });
    ana = await h.agent('Ana Atende');
    bruno = await h.agent('Bruno Atende');
    vip = (await h.owner.post('/api/helpdesk/labels', { name: 'VIP' })).body.id;
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const inbox = (phone: string) => h.phone(phone).messages().filter((m) => m.direction === 'in').map((m) => m.text ?? '');

  /** One customer served by `agent`; answers `rating` to the question (null: never answers). */
  async function survey(question: string, agent: Agent, rating: number | null, labelIds: string[] = []) {
    const phone = `55219540${String(++seq).padStart(5, '0')}`;
    await h.phone(phone).send(BIZ, { text: 'Olá' });
    const att = await waitFor(async () => (await h.owner.get(`/api/helpdesk/attendances?status=pending,open&q=${phone}`)).body.attendances?.[0], 20_000, 'attendance');
    expect((await h.owner.post(`/api/helpdesk/attendances/${att.id}/transfer`, { assigneeId: agent.id })).status).toBe(200);
    if (labelIds.length) expect((await h.owner.put(`/api/helpdesk/attendances/${att.id}/labels`, { labelIds })).status).toBe(200);
    expect((await agent.client.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    if (labelIds.length) return waitFor(async () => (await h.owner.get(`/api/surveys/attendances/${att.id}`)).body.items[0], 20_000, 'the skipped survey');
    await waitFor(async () => inbox(phone).includes(question), 20_000, 'the question');
    if (rating === null) return;
    await h.phone(phone).send(BIZ, { text: String(rating) });
    await waitFor(async () => (await h.owner.get(`/api/surveys/attendances/${att.id}`)).body.items[0]?.rating === rating, 20_000, 'the rating');
  }

  it('gives the CSAT score, NPS, response rate, distribution and per-agent figures computed by hand', async () => {
    let def = await h.owner.put('/api/surveys/definition', { enabled: true, kind: 'csat', minDaysBetween: 0, skipLabelIds: [vip] });
    for (const [i, r] of CSAT.entries()) await survey(def.body.question, i % 2 ? bruno : ana, r);
    // A VIP is never asked: counted as not sent, with the reason.
    expect(await survey(def.body.question, ana, null, [vip])).toMatchObject({ status: 'not_sent', reason: 'label_skipped' });
    def = await h.owner.put('/api/surveys/definition', { enabled: true, kind: 'nps', minDaysBetween: 0, skipLabelIds: [vip] });
    expect(def.body).toMatchObject({ question: 'De 0 a 10, qual a chance de você nos recomendar a um amigo ou colega?', followUpAtOrBelow: 6, scale: { min: 0, max: 10 } });
    for (const [i, r] of NPS.entries()) await survey(def.body.question, i % 2 ? bruno : ana, r);

    const fig = (await h.owner.get('/api/surveys/figures')).body;
    // CSAT: 7 of 10 responses are 4 or 5; 10 of 12 surveys answered.
    expect(fig.csat).toMatchObject({ sent: 12, responses: 10, csat: 70, responseRate: 83.33, average: 3.8, distribution: { 1: 1, 2: 1, 3: 1, 4: 3, 5: 4 } });
    // NPS: promoters 10,9,9,10,10,9 (6), passives 8,7 (2), detractors 6,3 (2): 60% − 20% = 40; 10 of 11 answered.
    expect(fig.nps).toMatchObject({ sent: 11, responses: 10, nps: 40, responseRate: 90.91, promoters: 6, passives: 2, detractors: 2 });
    expect(fig.notSent).toMatchObject({ total: 1, label_skipped: 1 });
    // Per agent (CSAT): Ana rated 5,5,4,2,5 (4 of 5 good), Bruno 5,4,3,1,4 (3 of 5); each had one unanswered.
    const csatOf = (id: string) => fig.agents.find((a: any) => a.agentId === id && a.kind === 'csat');
    expect(csatOf(ana.id)).toMatchObject({ name: 'Ana Atende', sent: 6, responses: 5, csat: 80 });
    expect(csatOf(bruno.id)).toMatchObject({ name: 'Bruno Atende', sent: 6, responses: 5, csat: 60 });
    // The same figures through the reports page's extension point, filtered by agent there too.
    const summary = (await h.owner.get('/api/helpdesk/reports/summary')).body;
    const contributed = summary.contributed.find((c: any) => c.id === 'surveys.scores');
    expect(contributed.figures).toEqual(
      expect.arrayContaining([
        { key: 'nps', label: 'NPS', value: 40, unit: 'score' },
        { key: 'csat', label: 'CSAT', value: 70, unit: 'percent' },
        { key: 'csat.responseRate', label: 'CSAT response rate', value: 83.33, unit: 'percent' },
        { key: 'notSent', label: 'Surveys not sent', value: 1, unit: 'count' },
      ]),
    );
    const anaOnly = (await h.owner.get(`/api/helpdesk/reports/summary?agentId=${ana.id}`)).body.contributed.find((c: any) => c.id === 'surveys.scores');
    expect(anaOnly.figures).toEqual(expect.arrayContaining([{ key: 'csat', label: 'CSAT', value: 80, unit: 'percent' }]));
    // CSV of the per-agent table and of the responses.
    const csv = await fetch(`${h.app.url}/api/surveys/figures?format=csv&table=agents`, { headers: { cookie: h.owner.cookie! } });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\n');
    expect(lines[0]).toBe('agentId,name,kind,sent,responses,responseRate,csat,nps,average,promoters,passives,detractors');
    expect(lines).toContain(`${ana.id},Ana Atende,csat,6,5,83.33,80,,4.2,0,0,0`);
    const responses = await fetch(`${h.app.url}/api/surveys/responses?format=csv`, { headers: { cookie: h.owner.cookie! } });
    expect((await responses.text()).trim().split('\n')).toHaveLength(1 + 12 + 1 + 11);
    const low = (await h.owner.get('/api/surveys/responses?rating=1')).body;
    expect(low).toMatchObject({ total: 1, items: [{ rating: 1, kind: 'csat', agentName: 'Bruno Atende', status: 'answered' }] });
  });
});
