import { definePlugin, defineJob, TOKENS, type Clock, type PluginContext } from '@plugchat/core';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import type { AttendanceAction, HelpdeskApi, InboundClaim, ReportContribution } from './api.js';
import { AttendanceLabelSchema, AttendanceSchema, ContactSchema, helpdeskEntities, TimelineSchema } from './entities.js';
import { migrations } from './migrations.js';
import { attendanceRouter } from './routes/attendances.js';
import { contactRouter } from './routes/contacts.js';
import { reportsRouter } from './routes/reports.js';
import { setupRouter } from './routes/setup.js';
import { visibleAttendance } from './services/access.js';
import { Actions } from './services/actions.js';
import { Helpdesk } from './services/helpdesk.js';
import { Inbound } from './services/inbound.js';
import { Queries } from './services/queries.js';
import { Reports } from './services/reports/index.js';
import { addActivity, fresh, itemUpdated } from './services/timeline.js';
import { transcript } from './services/transcript.js';
import { Units } from './services/unit.js';
import type { Settings } from './settings.js';

export type { HelpdeskApi, AttendanceAction, AttendanceRef, InboundClaim, TranscriptLine, ReportContribution, ReportQuery, ContributedFigure } from './api.js';

export default definePlugin<HelpdeskApi, Settings>({
  entities: helpdeskEntities,
  migrations,
  async activate(ctx) {
    const session = ctx.getApi<WhatsAppSessionApi>('whatsapp-session');
    const clock = ctx.container.resolve<Clock>(TOKENS.Clock);
    const units = new Units(ctx as unknown as PluginContext<never>, clock);
    const hd = new Helpdesk(units, ctx, session);
    const inbound = new Inbound(hd, () => ctx.extensions.get<InboundClaim>('helpdesk.inboundClaims'));
    const actions = new Actions(hd);
    const queries = new Queries(hd);
    const contributed = () => ctx.extensions.get<AttendanceAction>('helpdesk.attendanceActions');

    const wake = await ctx.jobs.register(
      defineJob<Record<string, never>>({
        name: 'helpdesk.wake-snoozed',
        cron: { schedule: '* * * * *', payload: {} },
        retry: { limit: 1 },
        handler: async () => {
          const accounts = await ctx.db.system().find(AttendanceSchema, { status: 'snoozed', snoozedUntil: { $lte: clock.now() } }, { fields: ['accountId'], limit: 1000 });
          for (const accountId of new Set(accounts.map((a) => a.accountId))) await actions.wakeSnoozed(accountId);
        },
      }),
    );

    ctx.subscriptions.push(
      wake,
      ctx.http.register(attendanceRouter(hd, queries, actions, contributed)),
      ctx.http.register(setupRouter(hd)),
      ctx.http.register(contactRouter(hd)),
      ctx.http.register(reportsRouter(hd, new Reports(hd), () => ctx.extensions.get<ReportContribution>('helpdesk.reportFigures'))),
      ctx.events.on('core.user.created', ({ accountId }) => hd.forget(accountId)),
      // Replayed after a crash by the session's outbox: a message already on a timeline is skipped.
      ctx.events.on('whatsapp-session.message.received', (e) => inbound.ingest(e)),
      ctx.events.on('whatsapp-session.message.status', async (e) => {
        const item = e.messageId ? await units.read(e.accountId).findOne(TimelineSchema, { instanceId: e.instanceId, waId: e.messageId, direction: 'out' }) : null;
        if (!item) return;
        const msg = await hd.sessionMessage(e.accountId, e.instanceId, item.sessionMessageId!);
        await units.run(e.accountId, async (w) => {
          const att = await fresh(w, item.attendanceId);
          if (att) itemUpdated(w, att, item, msg);
        });
      }),
    );

    return {
      attendance: async (accountId, id) => {
        const em = units.read(accountId);
        const att = await em.findOne(AttendanceSchema, { id });
        if (!att) return undefined;
        const labels = await em.find(AttendanceLabelSchema, { attendanceId: id });
        return { ...(await hd.ref(att)), status: att.status, labelIds: labels.map((l) => l.labelId) };
      },
      visibleAttendance: async (caller, id) => {
        const em = units.read(caller.accountId);
        const { att } = await visibleAttendance(em, caller, id);
        const contact = await em.findOne(ContactSchema, { id: att.contactId });
        return { ...(await hd.ref(att)), status: att.status, contactName: contact?.name ?? contact?.pushName ?? null };
      },
      timeZone: (accountId) => hd.timeZone(accountId),
      transcript: (accountId, attendanceId) => transcript(hd, accountId, attendanceId),
      queues: async (accountId) => [...(await hd.setup(accountId)).queues.values()].map((q) => ({ id: q.id, name: q.name })),
      recordActivity: async (accountId, attendanceId, type, data, actorId = null) => {
        await units.run(accountId, async (w) => {
          const att = await fresh(w, attendanceId);
          if (att) await addActivity(w, att, type, data, actorId);
        });
      },
    };
  },
});
