import { badRequest, createRouter, z, type Caller, type RouteContext } from '@plugchat/core';
import type { HelpdeskApi } from '@plugchat/helpdesk';
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import { SurveySchema, type Definition, type Survey } from './entities.js';
import { SCALE } from './parse.js';
import { DEFAULT_TEXTS } from './services/defaults.js';
import type { Scores, SurveyFilter } from './services/figures.js';
import type { Surveys } from './services/surveys.js';

const MAX_DAYS = 400;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const id = z.string().min(1).max(64);
const instant = z.union([z.string().datetime({ offset: true }), z.string().regex(DAY)], { error: 'must be a date (2026-11-01) or an ISO 8601 date-time' });
const filters = {
  from: instant.optional().describe('start, inclusive (a date: its midnight in the account time zone); default: 29 days before today'),
  to: instant.optional().describe('end, exclusive (a date: that whole day is included); default: now'),
  instanceId: id.optional(),
  queueId: id.optional().describe('the queue when the survey was sent'),
  agentId: id.optional().describe('the agent the rating counts for (fixed when the survey was sent)'),
  labelId: id.optional(),
};
const figuresQuery = z.object({ ...filters, format: z.enum(['json', 'csv']).default('json'), table: z.enum(['summary', 'agents', 'queues', 'distribution']).default('summary').describe('the table a CSV holds') }).strict();
const responsesQuery = z
  .object({
    ...filters,
    status: z.enum(['sent', 'awaiting_comment', 'answered', 'expired', 'not_sent']).optional(),
    rating: z.coerce.number().int().min(0).max(10).optional(),
    withComment: z.enum(['true', 'false']).optional(),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

const definitionBody = z
  .object({
    enabled: z.boolean(),
    kind: z.enum(['csat', 'nps']).describe('csat: 1 to 5; nps: 0 to 10'),
    question: z.string().trim().min(1).max(1000).optional().describe('default: the standard question of the kind, in Portuguese'),
    thanks: z.string().trim().max(1000).default('Obrigado pela sua avaliação!').describe('empty: no thank-you message'),
    followUp: z.string().trim().min(1).max(1000).nullable().default(null).describe('asked after a low score; its answer is the comment'),
    followUpAtOrBelow: z.number().int().min(0).max(10).optional().describe('scores at or below this are low (default: 3 for CSAT, 6 for NPS)'),
    windowHours: z.number().int().min(1).max(720).default(24).describe('a reply later than this is not a rating'),
    queueIds: z.array(id).max(200).default([]).describe('empty: every queue'),
    skipLabelIds: z.array(id).max(200).default([]),
    minDaysBetween: z.number().int().min(0).max(365).default(7).describe('at most one survey per contact in this many days (0: no limit)'),
    asPoll: z.boolean().default(false).describe('ask with a WhatsApp poll, one option per score (a typed answer still counts)'),
  })
  .strict();

const iso = (d: Date | string | number | null) => (d === null ? null : new Date(d).toISOString());
const surveyJson = (s: Survey) => ({
  id: s.id,
  attendanceId: s.attendanceId,
  attendanceNumber: s.attendanceNumber,
  instanceId: s.instanceId,
  contactId: s.contactId,
  phone: s.phone,
  agentId: s.agentId,
  queueId: s.queueId,
  kind: s.kind,
  status: s.status,
  reason: s.reason,
  rating: s.rating,
  comment: s.comment,
  resolvedAt: iso(s.resolvedAt),
  sentAt: iso(s.sentAt),
  expiresAt: iso(s.expiresAt),
  ratedAt: iso(s.ratedAt),
});
const definitionJson = (d: Definition) => ({ ...d, updatedAt: iso(d.updatedAt), scale: SCALE[d.kind] });

/** Survey settings (admins), results and figures (supervisors), and the survey of an attendance (whoever may see it). */
export function surveysRouter(svc: Surveys, helpdesk: HelpdeskApi, users: (accountId: string) => Promise<{ id: string; name: string }[]>) {
  const spec = <T extends object>(summary: string, role: 'agent' | 'supervisor' | 'admin', extra: T) => ({ summary, role, tags: ['surveys'], ...extra });

  const period = async (caller: Caller, q: { from?: string; to?: string; instanceId?: string; queueId?: string; agentId?: string; labelId?: string }): Promise<SurveyFilter & { zone: string }> => {
    const zone = await helpdesk.timeZone(caller.accountId);
    const now = svc.clock.now();
    const day = (d: string) => DateTime.fromISO(d, { zone }).startOf('day');
    const to = !q.to ? now : DAY.test(q.to) ? day(q.to).plus({ days: 1 }).toJSDate() : new Date(q.to);
    const from = !q.from ? DateTime.fromJSDate(to, { zone }).startOf('day').minus({ days: 29 }).toJSDate() : DAY.test(q.from) ? day(q.from).toJSDate() : new Date(q.from);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw badRequest('That date does not exist.', [{ path: Number.isNaN(from.getTime()) ? 'query.from' : 'query.to', message: 'is not a real date' }], 'bad_period');
    if (from >= to) throw badRequest('The period must end after it starts.', [{ path: 'query.to', message: 'is not after from' }], 'bad_period');
    if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000) throw badRequest(`A period covers at most ${MAX_DAYS} days.`, [{ path: 'query.from', message: `more than ${MAX_DAYS} days before to` }], 'bad_period');
    return { from, to, zone, instanceId: q.instanceId, queueId: q.queueId, agentId: q.agentId, labelId: q.labelId };
  };

  const csv = (c: RouteContext, name: string, rows: Record<string, unknown>[], columns: string[]) => {
    c.koa.type = 'text/csv; charset=utf-8';
    c.koa.attachment(`${name}.csv`);
    c.koa.body = '\uFEFF' + stringify(rows, { header: true, columns });
    return undefined;
  };
  const scoreColumns = ['kind', 'sent', 'responses', 'responseRate', 'csat', 'nps', 'average', 'promoters', 'passives', 'detractors'];
  const flat = (kind: string, s: Scores) => ({ kind, sent: s.sent, responses: s.responses, responseRate: s.responseRate, csat: s.csat, nps: s.nps, average: s.average, promoters: s.promoters, passives: s.passives, detractors: s.detractors });

  return createRouter('/api/surveys')
    .get('/definition', spec("The account's survey: texts, scale, window and who gets it", 'supervisor', {}), async (c) => definitionJson(await svc.definition(c.auth.accountId)))
    .put('/definition', spec('Changes the survey (admins)', 'admin', { body: definitionBody }), async (c) => {
      const b = c.body;
      const known = new Set((await helpdesk.queues(c.auth.accountId)).map((q) => q.id));
      const bad = b.queueIds.findIndex((q) => !known.has(q));
      if (bad >= 0) throw badRequest('Unknown queue.', [{ path: `body.queueIds.${bad}`, message: 'no such queue in this account' }]);
      const scale = SCALE[b.kind];
      const atOrBelow = b.followUpAtOrBelow ?? DEFAULT_TEXTS[b.kind].followUpAtOrBelow;
      if (atOrBelow < scale.min || atOrBelow > scale.max) throw badRequest(`A ${b.kind.toUpperCase()} score is from ${scale.min} to ${scale.max}.`, [{ path: 'body.followUpAtOrBelow', message: `must be from ${scale.min} to ${scale.max}` }]);
      const current = await svc.definition(c.auth.accountId);
      const question = b.question ?? (b.kind === current.kind ? current.question : DEFAULT_TEXTS[b.kind].question);
      return definitionJson(await svc.saveDefinition(c.auth.accountId, { ...b, question, followUpAtOrBelow: atOrBelow, accountId: c.auth.accountId, updatedAt: svc.clock.now() }));
    })
    .get('/figures', spec('CSAT score, NPS, response rate, distribution, surveys not sent and why, per agent and per queue', 'supervisor', { query: figuresQuery }), async (c) => {
      const f = await period(c.auth, c.query);
      const fig = await svc.figures(c.auth.accountId, f);
      const [people, queues] = await Promise.all([users(c.auth.accountId), helpdesk.queues(c.auth.accountId)]);
      const agentName = new Map(people.map((u) => [u.id, u.name]));
      const queueName = new Map(queues.map((q) => [q.id, q.name]));
      const agents = fig.agents.map((a) => ({ ...a, name: a.agentId ? (agentName.get(a.agentId) ?? a.agentId) : null }));
      const queueRows = fig.queues.map((q) => ({ ...q, name: q.queueId ? (queueName.get(q.queueId) ?? q.queueId) : null }));
      if (c.query.format === 'csv') {
        const t = c.query.table;
        if (t === 'agents') return csv(c, 'survey-agents', agents.map((a) => ({ agentId: a.agentId ?? '', name: a.name ?? '', ...flat(a.kind, a) })), ['agentId', 'name', ...scoreColumns]);
        if (t === 'queues') return csv(c, 'survey-queues', queueRows.map((q) => ({ queueId: q.queueId ?? '', name: q.name ?? '', ...flat(q.kind, q) })), ['queueId', 'name', ...scoreColumns]);
        if (t === 'distribution') {
          const rows = (['csat', 'nps'] as const).flatMap((k) => Object.entries(fig[k].distribution).map(([rating, responses]) => ({ kind: k, rating, responses })));
          return csv(c, 'survey-distribution', rows, ['kind', 'rating', 'responses']);
        }
        return csv(c, 'survey-summary', [{ ...flat('csat', fig.csat), notSent: fig.notSent.total }, { ...flat('nps', fig.nps), notSent: '' }], [...scoreColumns, 'notSent']);
      }
      return { period: { from: f.from.toISOString(), to: f.to.toISOString(), timeZone: f.zone }, ...fig, agents, queues: queueRows };
    })
    .get('/responses', spec('Surveys of a period with their rating and comment, newest first', 'supervisor', { query: responsesQuery }), async (c) => {
      const f = await period(c.auth, c.query);
      const where: Record<string, unknown> = { createdAt: { $gte: f.from, $lt: f.to } };
      for (const k of ['instanceId', 'queueId', 'agentId', 'status', 'rating'] as const) if (c.query[k] !== undefined) where[k] = c.query[k];
      if (f.labelId) where.labelIds = { $like: `%,${f.labelId.replace(/[%_,]/g, '')},%` };
      if (c.query.withComment === 'true') where.comment = { $ne: null };
      const em = svc.em(c.auth.accountId);
      const csvOut = c.query.format === 'csv';
      const [rows, total] = await em.findAndCount(SurveySchema, where, { orderBy: { createdAt: 'desc', id: 'desc' }, offset: csvOut ? 0 : c.query.offset, limit: csvOut ? 100_000 : c.query.limit });
      const people = new Map((await users(c.auth.accountId)).map((u) => [u.id, u.name]));
      const items = rows.map((s) => ({ ...surveyJson(s), agentName: s.agentId ? (people.get(s.agentId) ?? null) : null }));
      if (csvOut) return csv(c, 'survey-responses', items, ['attendanceNumber', 'phone', 'agentName', 'agentId', 'queueId', 'kind', 'status', 'reason', 'rating', 'comment', 'resolvedAt', 'sentAt', 'ratedAt']);
      return { total, offset: c.query.offset, limit: c.query.limit, items };
    })
    .get('/attendances/:id', spec('The surveys of an attendance (one per resolution), newest first', 'agent', { params: z.object({ id }).strict() }), async (c) => {
      await helpdesk.visibleAttendance(c.auth, c.params.id);
      const rows = await svc.em(c.auth.accountId).find(SurveySchema, { attendanceId: c.params.id }, { orderBy: { createdAt: 'desc' } });
      const people = new Map((await users(c.auth.accountId)).map((u) => [u.id, u.name]));
      return { items: rows.map((s) => ({ ...surveyJson(s), agentName: s.agentId ? (people.get(s.agentId) ?? null) : null })) };
    });
}
