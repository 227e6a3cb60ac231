import { createReadStream, existsSync } from 'node:fs';
import { createRouter, notFound, z, type Caller } from '@plugchat/core';
import type { AttendanceAction } from '../api.js';
import { ContactSchema, TimelineSchema } from '../entities.js';
import { visibleAttendance } from '../services/access.js';
import type { Actions } from '../services/actions.js';
import type { Helpdesk } from '../services/helpdesk.js';
import type { Queries } from '../services/queries.js';
import { openChangeStream } from '../services/stream.js';
import { attendanceViews, itemJson } from '../services/views.js';
import { id, idParams, mediaKind, phone, version } from './schemas.js';

const statuses = z.enum(['pending', 'open', 'snoozed', 'resolved']);
const listQuery = z.object({
  tab: z.enum(['mine', 'unassigned', 'all']).optional(),
  status: z
    .string()
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(statuses))
    .optional()
    .describe('comma-separated: pending,open,snoozed,resolved'),
  queueId: z.string().max(64).optional().describe('a queue id, or "none"'),
  assignee: z.string().max(64).optional().describe('"me", "none" or a user id'),
  labelId: z.string().max(64).optional(),
  instanceId: z.string().max(64).optional(),
  q: z.string().max(200).optional().describe("search the contact's name and phone and the messages' text"),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const sendBody = z
  .object({
    text: z.string().min(1).max(65_536).optional(),
    quickReply: z.string().min(1).max(41).optional().describe('a quick reply shortcut, with or without the leading /'),
    media: z
      .object({ kind: mediaKind, file: z.string().min(1).max(30_000_000).describe('an http(s) URL or a data URI'), fileName: z.string().min(1).max(255).optional(), caption: z.string().max(1024).optional(), voice: z.boolean().optional() })
      .strict()
      .optional(),
    location: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180), name: z.string().max(256).optional(), address: z.string().max(512).optional() }).strict().optional(),
    contact: z.object({ name: z.string().min(1).max(200), phone }).strict().optional(),
    replyTo: z.string().min(1).max(100).optional().describe('the WhatsApp id (or timeline id) of the message to quote'),
    version,
  })
  .strict()
  .refine((b) => [b.text || b.quickReply ? 1 : 0, b.location ? 1 : 0, b.contact ? 1 : 0].reduce((a, n) => a + n, 0) <= 1 || (b.media && !b.location && !b.contact), {
    message: 'send one thing: text (or a quick reply, optionally with media), a location or a contact',
  });
const versionBody = z.object({ version }).strict();

/** Attendances: lists, one with its timeline, every agent action, the live stream and contributed actions. */
export function attendanceRouter(hd: Helpdesk, queries: Queries, actions: Actions, contributed: () => AttendanceAction[]) {
  const view = async (caller: Caller, att: Parameters<typeof attendanceViews>[1][number]) => (await attendanceViews(hd.units.read(caller.accountId), [att]))[0];
  const spec = <T extends object = object>(summary: string, extra?: T) => ({ summary, role: 'agent' as const, tags: ['helpdesk'], ...(extra as T) });
  return createRouter('/api/helpdesk')
    .get('/attendances', spec('Attendances the caller may see, newest activity first', { query: listQuery }), (c) => queries.list(c.auth, c.query))
    .get('/attendances/counts', spec('How many attendances each tab holds (mine, unassigned, all)'), (c) => queries.counts(c.auth))
    .get('/attendances/:id', spec('One attendance', { params: idParams }), (c) => queries.get(c.auth, c.params.id))
    .get('/attendances/:id/timeline', spec('Messages, notes and activity, oldest first; page back with `before`', { params: idParams, query: z.object({ before: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }) }), (c) =>
      queries.timeline(c.auth, c.params.id, c.query),
    )
    .post('/attendances/:id/accept', spec('Take a pending attendance (409 when another agent was faster)', { params: idParams }), async (c) => view(c.auth, await actions.accept(c.auth, c.params.id)))
    .post(
      '/attendances/:id/transfer',
      spec('Move to another queue and/or agent, optionally telling the customer', {
        params: idParams,
        body: z.object({ queueId: id.nullable().optional(), assigneeId: id.nullable().optional(), message: z.string().min(1).max(4096).optional(), version }).strict().refine((b) => b.queueId !== undefined || b.assigneeId !== undefined, 'give queueId and/or assigneeId'),
      }),
      async (c) => view(c.auth, await actions.transfer(c.auth, c.params.id, c.body)),
    )
    .post('/attendances/:id/resolve', spec('Resolve', { params: idParams, body: versionBody.optional() }), async (c) => view(c.auth, await actions.resolve(c.auth, c.params.id, c.body?.version)))
    .post('/attendances/:id/reopen', spec('Reopen a resolved attendance', { params: idParams, body: versionBody.optional() }), async (c) => view(c.auth, await actions.reopen(c.auth, c.params.id, c.body?.version)))
    .post(
      '/attendances/:id/snooze',
      spec("Snooze until a time (or the customer's next message when until is null)", { params: idParams, body: z.object({ until: z.iso.datetime({ offset: true }).nullable(), version }).strict() }),
      async (c) => view(c.auth, await actions.snooze(c.auth, c.params.id, c.body.until ? new Date(c.body.until) : null, c.body.version)),
    )
    .patch('/attendances/:id', spec('Change the priority', { params: idParams, body: z.object({ priority: z.enum(['low', 'normal', 'high', 'urgent']), version }).strict() }), async (c) =>
      view(c.auth, await actions.setPriority(c.auth, c.params.id, c.body.priority, c.body.version)),
    )
    .put('/attendances/:id/labels', spec('Set the labels', { params: idParams, body: z.object({ labelIds: z.array(id).max(50) }).strict() }), async (c) => view(c.auth, await actions.setLabels(c.auth, c.params.id, c.body.labelIds)))
    .post('/attendances/:id/messages', spec('Send a message to the customer', { params: idParams, body: sendBody, status: 201 }), async (c) => {
      const sent = await actions.sendMessage(c.auth, c.params.id, c.body);
      return { zaapId: sent.zaapId, messageId: sent.messageId, item: itemJson(sent.item, sent.msg) };
    })
    .post('/attendances/:id/reactions', spec('React to a message (an empty emoji removes the reaction)', { params: idParams, body: z.object({ messageId: z.string().min(1).max(100), emoji: z.string().max(16) }).strict(), status: 201 }), async (c) => {
      const sent = await actions.react(c.auth, c.params.id, c.body.messageId, c.body.emoji);
      return { zaapId: sent.zaapId, messageId: sent.messageId };
    })
    .delete('/attendances/:id/messages/:messageId', spec('Delete one of our messages for everyone', { params: z.object({ id, messageId: z.string().min(1).max(100) }) }), async (c) => {
      await actions.deleteMessage(c.auth, c.params.id, c.params.messageId);
    })
    .post('/attendances/:id/read', spec('Mark the customer messages read (blue ticks)', { params: idParams }), async (c) => view(c.auth, await actions.markRead(c.auth, c.params.id)))
    .post('/attendances/:id/typing', spec('Show or stop "typing…" to the customer', { params: idParams, body: z.object({ on: z.boolean() }).strict() }), async (c) => {
      await actions.typing(c.auth, c.params.id, c.body.on);
    })
    .post('/attendances/:id/notes', spec('A private note for the agents (never sent)', { params: idParams, body: z.object({ text: z.string().trim().min(1).max(10_000), mentions: z.array(id).max(50).default([]) }).strict(), status: 201 }), async (c) =>
      itemJson(await actions.note(c.auth, c.params.id, c.body.text, c.body.mentions)),
    )
    .get('/attendances/:id/media/:itemId', spec("Download a message's media", { params: z.object({ id, itemId: id }) }), async (c) => {
      const { att } = await visibleAttendance(hd.units.read(c.auth.accountId), c.auth, c.params.id);
      const item = await hd.units.read(c.auth.accountId).findOne(TimelineSchema, { id: c.params.itemId, attendanceId: att.id });
      const file = item?.sessionMessageId ? await hd.session.mediaFile(c.auth.accountId, att.instanceId, item.sessionMessageId) : undefined;
      if (!file || !existsSync(file.path)) throw notFound('Media');
      c.koa.type = file.mimetype;
      if (file.fileName) c.koa.attachment(file.fileName);
      c.koa.body = createReadStream(file.path);
    })
    .get('/attendances/:id/actions', spec('Actions other plugins offer on an attendance', { params: idParams }), async (c) => {
      await visibleAttendance(hd.units.read(c.auth.accountId), c.auth, c.params.id);
      return { actions: contributed().map((a) => ({ id: a.id, title: a.title })) };
    })
    .post('/attendances/:id/actions/:actionId', spec('Run a contributed action', { params: z.object({ id, actionId: z.string().min(1).max(100) }), body: z.unknown().optional() }), async (c) => {
      const { att } = await visibleAttendance(hd.units.read(c.auth.accountId), c.auth, c.params.id);
      const action = contributed().find((a) => a.id === c.params.actionId);
      if (!action) throw notFound('Action');
      const contact = await hd.units.read(c.auth.accountId).findOne(ContactSchema, { id: att.contactId });
      return action.run({ caller: c.auth, attendance: { ...(await hd.ref(att)), phone: contact?.phone ?? '', status: att.status }, body: c.body });
    })
    .get('/stream', spec('Live changes (Server-Sent Events); resume with Last-Event-ID', { query: z.object({ lastEventId: z.string().max(20).optional() }) }), async (c) => {
      await openChangeStream(hd, c.auth, c.koa, c.koa.get('last-event-id') || c.query.lastEventId);
    });
}
