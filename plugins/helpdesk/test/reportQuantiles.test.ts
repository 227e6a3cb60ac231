import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, setupOwner, startApp, type Client, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { buildRollups } from '../src/services/reports/rollups.js';
import { seededRandom } from '../../../core/test/support/random.js';

const METRICS = { first_response: 'firstResponse', reply_time: 'replyTime', resolution: 'resolution', assignment_wait: 'assignmentWait' } as const;
type Metric = keyof typeof METRICS;

/** Median and p90 of the whole seconds, by linear interpolation, as the reports define them. */
function quantiles(values: number[]) {
  const s = values.map(Math.floor).sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (s.length - 1) * p;
    const lo = Math.floor(h + 1e-9);
    return s[lo]! + Math.max(0, h - lo) * ((s[lo + 1] ?? s[lo]!) - s[lo]!);
  };
  return s.length ? { median: q(0.5), p90: q(0.9) } : { median: null, p90: null };
}

interface Event {
  name: Metric;
  at: number;
  value: number;
  business: number;
  agent: string | null;
  queue: string | null;
}

/**
 * Per-agent and per-queue medians and p90 over a history of a few thousand durations spread
 * from seconds to days (so every bucket width is walked, several ranks fall in one bucket, and
 * periods cut months at their edges), against the values sorted here.
 */
describe.each(STORAGE_MODES)('report quantiles per agent and queue (%s)', (mode) => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;
  let agents: string[];
  let queues: string[];
  let instanceId: string;
  const events: Event[] = [];

  beforeAll(async () => {
    ws = await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session', '@plugchat/helpdesk'] } });
    app = await startApp(ws);
    owner = await setupOwner(app.url);
    const accountId = (await owner.get('/api/auth/me')).body.account.id as string;
    instanceId = (await owner.post('/api/whatsapp-session/instances', { name: 'quantiles' })).body.id;
    agents = [];
    for (const name of ['Ana', 'Bia', 'Caio']) agents.push((await owner.post('/api/users', { email: `${name.toLowerCase()}@example.test`, name, password: 'agent password 123', role: 'agent' })).body.id);
    queues = [];
    for (const name of ['Suporte', 'Vendas']) queues.push((await owner.post('/api/helpdesk/queues', { name })).body.id);
    expect((await owner.put('/api/helpdesk/preferences', { timeZone: 'America/Sao_Paulo' })).status).toBe(200);

    const rnd = seededRandom(11);
    const ranges = [60, 600, 3_600, 86_400, 400_000];
    const start = Date.parse('2026-09-20T00:00:00Z');
    const span = Date.parse('2026-12-10T00:00:00Z') - start;
    for (let i = 0; i < 3_000; i++) {
      // Mostly short durations, as in life, with a tail into days; some exact whole seconds repeated.
      const top = ranges[Math.min(ranges.length - 1, Math.floor(rnd() ** 2 * ranges.length))]!;
      const value = rnd() < 0.2 ? Math.floor(rnd() * 40) : Math.round(rnd() * top * 1000) / 1000;
      events.push({
        name: Object.keys(METRICS)[Math.floor(rnd() * 4)] as Metric,
        at: start + Math.floor(rnd() * span),
        value,
        business: rnd() < 0.4 ? Math.round(value * rnd() * 1000) / 1000 : value,
        agent: rnd() < 0.1 ? null : agents[Math.floor(rnd() * agents.length)]!,
        queue: rnd() < 0.2 ? null : queues[Math.floor(rnd() * queues.length)]!,
      });
    }
    const knex = app.db.knex;
    const pg = app.db.kind === 'postgresql';
    const rows = events.map((e) => ({
      account_id: accountId, name: e.name, at: pg ? new Date(e.at) : e.at, value: e.value, business_value: e.business,
      attendance_id: randomUUID(), contact_id: randomUUID(), instance_id: instanceId, queue_id: e.queue, agent_id: e.agent, from_queue_id: null, from_agent_id: null,
    }));
    for (let i = 0; i < rows.length; i += 200) await knex('helpdesk_report_events').insert(rows.slice(i, i + 200));
    await buildRollups(knex, pg ? 'postgresql' : 'sqlite', accountId);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  const expectFigures = (row: any, of: Event[]) => {
    for (const [name, field] of Object.entries(METRICS)) {
      const these = of.filter((e) => e.name === name);
      expect(row[field].count, `${field} count`).toBe(these.length);
      const wall = quantiles(these.map((e) => e.value));
      const business = quantiles(these.map((e) => e.business));
      for (const k of ['median', 'p90'] as const) {
        if (wall[k] === null) expect(row[field][k], `${field} ${k}`).toBeNull();
        else expect(row[field][k], `${field} ${k}`).toBeCloseTo(wall[k], 6);
        if (business[k] === null) expect(row[field].business[k], `${field} business ${k}`).toBeNull();
        else expect(row[field].business[k], `${field} business ${k}`).toBeCloseTo(business[k], 6);
      }
    }
  };

  for (const [label, query, from, to] of [
    ['two months cut at São Paulo midnight', 'from=2026-10-01&to=2026-11-30', '2026-10-01T03:00:00Z', '2026-12-01T03:00:00Z'],
    ['three days inside a month', 'from=2026-11-10&to=2026-11-12', '2026-11-10T03:00:00Z', '2026-11-13T03:00:00Z'],
  ] as const) {
    it(`gives each agent's and each queue's median and p90 exactly: ${label}`, async () => {
      const inPeriod = events.filter((e) => e.at >= Date.parse(from) && e.at < Date.parse(to));
      const byAgent = await owner.get(`/api/helpdesk/reports/agents?${query}`);
      expect(byAgent.status).toBe(200);
      for (const id of [...agents, null]) {
        const row = byAgent.body.rows.find((r: any) => r.agentId === id);
        expectFigures(row, inPeriod.filter((e) => e.agent === id));
      }
      const byQueue = await owner.get(`/api/helpdesk/reports/queues?${query}`);
      expect(byQueue.status).toBe(200);
      for (const id of [...queues, null]) {
        const row = byQueue.body.rows.find((r: any) => r.queueId === id);
        expectFigures(row, inPeriod.filter((e) => e.queue === id));
      }
      // One agent as a filter of the summary; and with the instance as a filter too (answered by
      // walking the rank index instead of the buckets): the same figures.
      for (const extra of ['', `&instanceId=${instanceId}`]) {
        const one = await owner.get(`/api/helpdesk/reports/summary?${query}&agentId=${agents[1]}${extra}`);
        expect(one.status).toBe(200);
        expectFigures(one.body.figures, inPeriod.filter((e) => e.agent === agents[1]));
      }
    });
  }
});
