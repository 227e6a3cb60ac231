import type { PluginContext } from '@plugchat/core';
import type { ReportQuery } from '@plugchat/helpdesk';
import type { NotSentReason, SurveyKind } from '../entities.js';

/** A period [from, to) of surveys (by the resolution that triggered them) and the filters reports take. */
export type SurveyFilter = Omit<ReportQuery, 'accountId' | 'timeZone'>;

/** The scores of a set of surveys of one kind. */
export interface Scores {
  /** Surveys asked (sent), whatever came of them. */
  sent: number;
  responses: number;
  /** responses / sent, in percent. */
  responseRate: number | null;
  /** CSAT: the share of 4 and 5 among responses, in percent. */
  csat: number | null;
  /** NPS: % promoters (9-10) − % detractors (0-6), from −100 to 100. */
  nps: number | null;
  average: number | null;
  promoters: number;
  passives: number;
  detractors: number;
  /** Responses per rating value. */
  distribution: Record<string, number>;
}

export interface SurveyFigures {
  csat: Scores;
  nps: Scores;
  notSent: Record<NotSentReason, number> & { total: number };
  agents: ({ agentId: string | null } & Scores & { kind: SurveyKind })[];
  queues: ({ queueId: string | null } & Scores & { kind: SurveyKind })[];
}

interface Row {
  kind: SurveyKind;
  status: string;
  reason: NotSentReason | null;
  rating: number | null;
  agent_id: string | null;
  queue_id: string | null;
  n: number | string;
}

const pct = (a: number, b: number) => (b ? Math.round((a / b) * 10_000) / 100 : null);

function scores(rows: Row[], kind: SurveyKind): Scores {
  const s: Scores = { sent: 0, responses: 0, responseRate: null, csat: null, nps: null, average: null, promoters: 0, passives: 0, detractors: 0, distribution: {} };
  let sum = 0;
  let good = 0;
  for (const r of rows) {
    if (r.kind !== kind || r.status === 'not_sent') continue;
    const n = Number(r.n);
    s.sent += n;
    if (r.rating === null || r.rating === undefined) continue;
    const rating = Number(r.rating);
    s.responses += n;
    sum += rating * n;
    s.distribution[rating] = (s.distribution[rating] ?? 0) + n;
    if (rating >= 4) good += n;
    if (rating >= 9) s.promoters += n;
    else if (rating >= 7) s.passives += n;
    else s.detractors += n;
  }
  s.responseRate = pct(s.responses, s.sent);
  s.average = s.responses ? Math.round((sum / s.responses) * 100) / 100 : null;
  if (kind === 'csat') {
    s.csat = pct(good, s.responses);
    s.promoters = s.passives = s.detractors = 0;
  } else if (s.responses) {
    s.nps = Math.round(((s.promoters - s.detractors) / s.responses) * 10_000) / 100;
  }
  return s;
}

/** Survey figures of a period: one grouped query, the arithmetic here. */
export async function surveyFigures(ctx: PluginContext, accountId: string, f: SurveyFilter): Promise<SurveyFigures> {
  const pg = ctx.db.kind === 'postgresql';
  const t = (d: Date) => (pg ? d : d.getTime());
  const where = ['account_id = ?', 'created_at >= ?', 'created_at < ?'];
  const params: unknown[] = [accountId, t(f.from), t(f.to)];
  if (f.instanceId) where.push('instance_id = ?'), params.push(f.instanceId);
  if (f.queueId) where.push('queue_id = ?'), params.push(f.queueId);
  if (f.agentId) where.push('agent_id = ?'), params.push(f.agentId);
  if (f.labelId) where.push('label_ids like ?'), params.push(`%,${f.labelId.replace(/[%_,]/g, '')},%`);
  const sql = `select kind, status, reason, rating, agent_id, queue_id, count(*) as n from surveys_surveys where ${where.join(' and ')} group by kind, status, reason, rating, agent_id, queue_id`;
  const raw = await ctx.db.knex.raw(sql, params as never[]);
  const rows = (pg ? raw.rows : raw) as Row[];
  const notSent = { queue_excluded: 0, label_skipped: 0, recent_survey: 0, opted_out: 0, send_failed: 0, total: 0 } as SurveyFigures['notSent'];
  for (const r of rows) {
    if (r.status !== 'not_sent' || !r.reason) continue;
    notSent[r.reason] = (notSent[r.reason] ?? 0) + Number(r.n);
    notSent.total += Number(r.n);
  }
  const grouped = <K extends 'agent_id' | 'queue_id'>(key: K) => {
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const k = `${r.kind}\u0000${r[key] ?? ''}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    return [...groups.entries()]
      .map(([k, rs]) => {
        const [kind, id] = k.split('\u0000') as [SurveyKind, string];
        return { id: id || null, kind, ...scores(rs, kind) };
      })
      .filter((g) => g.sent > 0)
      .sort((a, b) => b.responses - a.responses || b.sent - a.sent);
  };
  return {
    csat: scores(rows, 'csat'),
    nps: scores(rows, 'nps'),
    notSent,
    agents: grouped('agent_id').map(({ id, ...s }) => ({ agentId: id, ...s })),
    queues: grouped('queue_id').map(({ id, ...s }) => ({ queueId: id, ...s })),
  };
}
