import { definePlugin, defineJob, TOKENS, type Clock, type JobHandle, type PluginContext } from '@plugchat/core';
import type { AttendanceAction, HelpdeskApi } from '@plugchat/helpdesk';
import { TrelloClient } from './client.js';
import { trelloEntities } from './entities.js';
import { migrations } from './migrations.js';
import { cardJson, trelloRouter } from './routes.js';
import { Trello, type CallJob, type CardInput } from './services/trello.js';
import { TrelloWebhooks } from './services/webhooks.js';
import type { Settings } from './settings.js';

/** The HTTP client for Trello's API, behind a token so a deployment or a test can swap it. */
export const TRELLO_CLIENT = 'trello.client';

export default definePlugin<Record<string, never>, Settings>({
  entities: trelloEntities,
  migrations,
  async activate(ctx) {
    const helpdesk = ctx.getApi<HelpdeskApi>('helpdesk');
    const clock = ctx.container.resolve<Clock>(TOKENS.Clock);
    if (!ctx.container.isRegistered(TRELLO_CLIENT)) ctx.container.register(TRELLO_CLIENT, { useValue: new TrelloClient(() => ctx.settings.get('trello.apiBaseUrl')) });
    const client = ctx.container.resolve<TrelloClient>(TRELLO_CLIENT);
    let calls: JobHandle<CallJob>;
    const svc = new Trello(ctx as unknown as PluginContext<Settings>, clock, client, helpdesk, () => calls);
    calls = await ctx.jobs.register(
      defineJob<CallJob>({
        name: 'trello.call',
        retry: { limit: ctx.settings.get('trello.maxAttempts'), delaySeconds: ctx.settings.get('trello.retryDelaySeconds'), backoff: true },
        concurrency: 4,
        pollingIntervalSeconds: 1,
        handler: (job, info) => svc.run(job, info),
      }),
    );

    ctx.subscriptions.push(
      calls,
      ctx.http.register(trelloRouter(svc, new TrelloWebhooks(svc, ctx.secrets, helpdesk), helpdesk)),
      ctx.events.on('helpdesk.attendance.resolved', (e) => svc.onResolved(e)),
      ctx.extensions.contribute<AttendanceAction>('helpdesk.attendanceActions', {
        id: 'trello.createCard',
        title: 'Criar cartão no Trello',
        run: async ({ caller, attendance, body }) => cardJson(await svc.create(caller, attendance.attendanceId, (body ?? {}) as Partial<CardInput>)),
      }),
    );
    return {};
  },
});
