import { definePlugin, defineJob, TOKENS, type Clock, type PluginContext } from '@plugchat/core';
import type { HelpdeskApi, InboundClaim, ReportContribution } from '@plugchat/helpdesk';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { surveysEntities } from './entities.js';
import { migrations } from './migrations.js';
import { surveysRouter } from './routes.js';
import { reportContribution } from './services/contribution.js';
import { Surveys } from './services/surveys.js';

export type { SurveyKind, SurveyStatus, NotSentReason } from './entities.js';
export { parseRating } from './parse.js';

export default definePlugin({
  entities: surveysEntities,
  migrations,
  async activate(ctx) {
    const session = ctx.getApi<WhatsAppSessionApi>('whatsapp-session');
    const helpdesk = ctx.getApi<HelpdeskApi>('helpdesk');
    const clock = ctx.container.resolve<Clock>(TOKENS.Clock);
    const svc = new Surveys(ctx as PluginContext, clock, session, helpdesk);
    const users = async (accountId: string) => (await ctx.users.list(accountId)).map((u) => ({ id: u.id, name: u.name }));

    const expire = await ctx.jobs.register(
      defineJob<Record<string, never>>({
        name: 'surveys.expire',
        cron: { schedule: '* * * * *', payload: {} },
        retry: { limit: 1 },
        handler: async () => {
          const closed = await svc.expire();
          if (closed) ctx.logger.info({ closed }, 'surveys closed at the end of their window');
        },
      }),
    );

    ctx.subscriptions.push(
      expire,
      ctx.http.register(surveysRouter(svc, helpdesk, users)),
      ctx.events.on('helpdesk.attendance.resolved', (e) => svc.onResolved(e)),
      ctx.extensions.contribute<InboundClaim>('helpdesk.inboundClaims', { id: 'surveys.rating', claim: (e) => svc.claim(e) }),
      ctx.extensions.contribute<ReportContribution>('helpdesk.reportFigures', reportContribution(svc)),
    );
    return {};
  },
});
