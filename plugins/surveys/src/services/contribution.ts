import type { ContributedFigure, ReportContribution } from '@plugchat/helpdesk';
import type { Surveys } from './surveys.js';

/** The survey figures the helpdesk's reports page shows, with its period and filters. */
export function reportContribution(svc: Surveys): ReportContribution {
  return {
    id: 'surveys.scores',
    title: 'Satisfaction surveys',
    async figures(q) {
      const f = await svc.figures(q.accountId, q);
      const def = await svc.definition(q.accountId);
      // The account's current kind first; the other only when the period has some of it.
      const kinds = (def.kind === 'csat' ? (['csat', 'nps'] as const) : (['nps', 'csat'] as const)).filter((k, i) => i === 0 || f[k].sent > 0);
      const out: ContributedFigure[] = [];
      for (const k of kinds) {
        const s = f[k];
        out.push(
          k === 'csat' ? { key: 'csat', label: 'CSAT', value: s.csat, unit: 'percent' } : { key: 'nps', label: 'NPS', value: s.nps, unit: 'score' },
          { key: `${k}.responseRate`, label: `${k.toUpperCase()} response rate`, value: s.responseRate, unit: 'percent' },
          { key: `${k}.responses`, label: `${k.toUpperCase()} responses`, value: s.responses, unit: 'count' },
          { key: `${k}.sent`, label: `${k.toUpperCase()} surveys sent`, value: s.sent, unit: 'count' },
        );
      }
      out.push({ key: 'notSent', label: 'Surveys not sent', value: f.notSent.total, unit: 'count' });
      return out;
    },
  };
}
