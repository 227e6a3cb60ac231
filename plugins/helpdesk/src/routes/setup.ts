import { randomUUID } from 'node:crypto';
import { badRequest, conflict, createRouter, forbidden, notFound, roleAtLeast, UniqueConstraintViolationException, z, type Caller, type EntityManager } from '@plugchat/core';
import { AgentSchema, AttendanceLabelSchema, AttendanceSchema, ContactLabelSchema, LabelSchema, PreferencesSchema, QueueMemberSchema, QueueSchema, QuickReplySchema, RoutingSchema, type Queue, type QuickReply } from '../entities.js';
import type { Helpdesk } from '../services/helpdesk.js';
import { checkTemplate } from '../services/templates.js';
import { businessHours, color, id, idParams, mediaKind, timeZone } from './schemas.js';

const queueBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    color: color.default('#1f8b4c'),
    greeting: z.string().max(4096).nullable().optional(),
    assignment: z.enum(['manual', 'round_robin']).default('manual'),
    businessHours: businessHours.nullable().optional(),
    outOfHoursMessage: z.string().max(4096).nullable().optional(),
    memberIds: z.array(id).max(500).default([]),
  })
  .strict();
const labelBody = z.object({ name: z.string().trim().min(1).max(60), color: color.default('#888888') }).strict();
const quickReplyBody = z
  .object({
    shortcut: z.string().regex(/^[a-z0-9_-]{1,40}$/i, 'letters, digits, - and _ only (used as /shortcut)'),
    text: z.string().min(1).max(4096),
    media: z.object({ kind: mediaKind, url: z.string().url().max(2000), fileName: z.string().max(255).optional() }).strict().nullable().optional(),
    personal: z.boolean().default(false).describe("true: only yours; false: the whole account's (admins)"),
  })
  .strict();
const routingBody = z
  .object({
    enabled: z.boolean().default(true).describe('false: the number serves the API only and opens no attendances'),
    defaultQueueId: id.nullable().default(null),
    menu: z
      .object({ text: z.string().min(1).max(2000), options: z.array(z.object({ key: z.string().regex(/^[0-9a-z]{1,3}$/i, 'a short key such as 1'), queueId: id }).strict()).min(1).max(20) })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();

const queueJson = (q: Queue, members: string[]) => ({ ...q, createdAt: new Date(q.createdAt).toISOString(), memberIds: members });
const quickReplyJson = (q: QuickReply) => ({ id: q.id, shortcut: q.shortcut, text: q.text, media: q.media, personal: !!q.ownerId, ownerId: q.ownerId });

/** What admins set up (queues, labels, routing, account quick replies) and what agents manage of their own (presence, personal quick replies). */
export function setupRouter(hd: Helpdesk) {
  const em = (c: { auth: Caller }): EntityManager => hd.units.read(c.auth.accountId);
  const admin = <T extends object = object>(summary: string, extra?: T) => ({ summary, role: 'admin' as const, tags: ['helpdesk setup'], ...(extra as T) });
  const agent = <T extends object = object>(summary: string, extra?: T) => ({ summary, role: 'agent' as const, tags: ['helpdesk setup'], ...(extra as T) });
  const unique = async <T>(fn: () => Promise<T>, what: string): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw conflict(`${what} already exists.`, 'duplicate');
      throw err;
    }
  };
  const checkMembers = async (accountId: string, ids: string[]) => {
    const users = await hd.ctx.users.list(accountId);
    const bad = ids.findIndex((m) => !users.some((u) => u.id === m));
    if (bad >= 0) throw badRequest('Unknown user.', [{ path: `body.memberIds.${bad}`, message: 'no such user in this account' }]);
  };
  const checkQueues = async (e: EntityManager, ids: (string | null | undefined)[], path: (i: number) => string) => {
    const wanted = ids.filter((x): x is string => !!x);
    const known = new Set((await e.find(QueueSchema, { id: { $in: wanted } })).map((q) => q.id));
    const bad = ids.findIndex((x) => !!x && !known.has(x));
    if (bad >= 0) throw badRequest('Unknown queue.', [{ path: path(bad), message: 'no such queue in this account' }]);
  };
  const members = async (e: EntityManager, queueId: string) => (await e.find(QueueMemberSchema, { queueId })).map((m) => m.userId);
  const setMembers = async (accountId: string, queueId: string, ids: string[]) =>
    hd.units.run(accountId, async (w) => {
      await w.em.nativeDelete(QueueMemberSchema, { queueId });
      for (const userId of new Set(ids)) await w.em.insert(QueueMemberSchema, { queueId, userId, accountId });
    });

  return createRouter('/api/helpdesk')
    .get('/queues', agent('Queues with their members'), async (c) => {
      const queues = await em(c).find(QueueSchema, {}, { orderBy: { name: 'asc' } });
      const all = await em(c).find(QueueMemberSchema, {});
      return { queues: queues.map((q) => queueJson(q, all.filter((m) => m.queueId === q.id).map((m) => m.userId))) };
    })
    .post('/queues', admin('Create a queue', { body: queueBody, status: 201 }), async (c) => {
      await checkMembers(c.auth.accountId, c.body.memberIds);
      const { memberIds, ...b } = c.body;
      const q: Queue = { id: randomUUID(), accountId: c.auth.accountId, greeting: null, businessHours: null, outOfHoursMessage: null, ...b, createdAt: hd.clock.now() };
      await unique(() => em(c).insert(QueueSchema, q), `A queue named "${q.name}"`);
      await setMembers(c.auth.accountId, q.id, memberIds);
      hd.forget(c.auth.accountId);
      return queueJson(q, memberIds);
    })
    .patch('/queues/:id', admin('Change a queue', { params: idParams, body: queueBody.partial().strict() }), async (c) => {
      const e = em(c);
      if (!(await e.findOne(QueueSchema, { id: c.params.id }))) throw notFound('Queue');
      const { memberIds, ...b } = c.body;
      if (memberIds) await checkMembers(c.auth.accountId, memberIds);
      if (Object.keys(b).length) await unique(() => e.nativeUpdate(QueueSchema, { id: c.params.id }, b), `A queue named "${b.name}"`);
      if (memberIds) await setMembers(c.auth.accountId, c.params.id, memberIds);
      hd.forget(c.auth.accountId);
      await hd.rebalance(c.auth.accountId);
      const fresh = em(c);
      return queueJson((await fresh.findOne(QueueSchema, { id: c.params.id }))!, await members(fresh, c.params.id));
    })
    .delete('/queues/:id', admin('Delete a queue (its attendances stay, without a queue)', { params: idParams }), async (c) => {
      await hd.units.run(c.auth.accountId, async (w) => {
        if (!(await w.em.findOne(QueueSchema, { id: c.params.id }))) throw notFound('Queue');
        const routing = await w.em.find(RoutingSchema, {});
        if (routing.some((r) => r.defaultQueueId === c.params.id || r.menu?.options.some((o) => o.queueId === c.params.id))) {
          throw conflict('An instance routes to this queue. Change its routing first.', 'queue_in_use');
        }
        await w.em.nativeUpdate(AttendanceSchema, { queueId: c.params.id }, { queueId: null });
        await w.em.nativeDelete(QueueMemberSchema, { queueId: c.params.id });
        await w.em.nativeDelete(QueueSchema, { id: c.params.id });
      });
      hd.forget(c.auth.accountId);
    })
    .get('/instances/:id/routing', admin('How new attendances on an instance are routed', { params: idParams }), async (c) => {
      await hd.session.instanceOf(c.auth, c.params.id);
      const r = await em(c).findOne(RoutingSchema, { instanceId: c.params.id });
      return { instanceId: c.params.id, enabled: r?.enabled ?? true, defaultQueueId: r?.defaultQueueId ?? null, menu: r?.menu ?? null };
    })
    .put('/instances/:id/routing', admin('Route new attendances to a default queue or through a menu', { params: idParams, body: routingBody }), async (c) => {
      await hd.session.instanceOf(c.auth, c.params.id);
      const e = em(c);
      await checkQueues(e, [c.body.defaultQueueId], () => 'body.defaultQueueId');
      if (c.body.menu) {
        await checkQueues(e, c.body.menu.options.map((o) => o.queueId), (i) => `body.menu.options.${i}.queueId`);
        const keys = c.body.menu.options.map((o) => o.key.toLowerCase());
        const dup = keys.findIndex((k, i) => keys.indexOf(k) !== i);
        if (dup >= 0) throw badRequest('Two menu options share a key.', [{ path: `body.menu.options.${dup}.key`, message: 'duplicate key' }]);
      }
      const row = { instanceId: c.params.id, accountId: c.auth.accountId, enabled: c.body.enabled, defaultQueueId: c.body.defaultQueueId, menu: c.body.menu };
      await hd.units.run(c.auth.accountId, async (w) => {
        if (await w.em.findOne(RoutingSchema, { instanceId: row.instanceId })) await w.em.nativeUpdate(RoutingSchema, { instanceId: row.instanceId }, { enabled: row.enabled, defaultQueueId: row.defaultQueueId, menu: row.menu });
        else await w.em.insert(RoutingSchema, row);
      });
      hd.forget(c.auth.accountId);
      return { instanceId: row.instanceId, enabled: row.enabled, defaultQueueId: row.defaultQueueId, menu: row.menu };
    })
    .get('/labels', agent('Labels'), async (c) => ({ labels: await em(c).find(LabelSchema, {}, { orderBy: { name: 'asc' } }) }))
    .post('/labels', admin('Create a label', { body: labelBody, status: 201 }), async (c) => {
      const l = { id: randomUUID(), accountId: c.auth.accountId, ...c.body };
      await unique(() => em(c).insert(LabelSchema, l), `A label named "${l.name}"`);
      return l;
    })
    .patch('/labels/:id', admin('Rename or recolour a label', { params: idParams, body: labelBody.partial().strict() }), async (c) => {
      const n = await unique(() => em(c).nativeUpdate(LabelSchema, { id: c.params.id }, c.body), `A label named "${c.body.name}"`);
      if (!n) throw notFound('Label');
      return em(c).findOne(LabelSchema, { id: c.params.id });
    })
    .delete('/labels/:id', admin('Delete a label (removed from every attendance and contact)', { params: idParams }), async (c) => {
      await hd.units.run(c.auth.accountId, async (w) => {
        if (!(await w.em.nativeDelete(LabelSchema, { id: c.params.id }))) throw notFound('Label');
        await w.em.nativeDelete(AttendanceLabelSchema, { labelId: c.params.id });
        await w.em.nativeDelete(ContactLabelSchema, { labelId: c.params.id });
      });
    })
    .get('/quick-replies', agent("The account's quick replies and the caller's own"), async (c) => {
      const rows = await em(c).find(QuickReplySchema, { $or: [{ ownerId: null }, { ownerId: c.auth.userId ?? '-' }] }, { orderBy: { shortcut: 'asc' } });
      return { quickReplies: rows.map(quickReplyJson) };
    })
    .post('/quick-replies', agent('Create a quick reply (account-wide ones need an admin)', { body: quickReplyBody, status: 201 }), async (c) => {
      if (!c.body.personal && !roleAtLeast(c.auth.role, 'admin')) throw forbidden('Only admins create quick replies for the whole account; create a personal one.');
      if (c.body.personal && !c.auth.userId) throw forbidden('Personal quick replies belong to a signed-in user.');
      checkTemplate(c.body.text, 'body.text');
      const ownerId = c.body.personal ? c.auth.userId! : null;
      if (await em(c).findOne(QuickReplySchema, { shortcut: c.body.shortcut, ownerId })) throw conflict(`/${c.body.shortcut} already exists.`, 'duplicate');
      const q: QuickReply = { id: randomUUID(), accountId: c.auth.accountId, ownerId, shortcut: c.body.shortcut, text: c.body.text, media: c.body.media ?? null, createdAt: hd.clock.now() };
      await em(c).insert(QuickReplySchema, q);
      return quickReplyJson(q);
    })
    .patch('/quick-replies/:id', agent('Change a quick reply', { params: idParams, body: quickReplyBody.omit({ personal: true }).partial().strict() }), async (c) => {
      const e = em(c);
      const q = await e.findOne(QuickReplySchema, { id: c.params.id, $or: [{ ownerId: null }, { ownerId: c.auth.userId ?? '-' }] });
      if (!q) throw notFound('Quick reply');
      if (!q.ownerId && !roleAtLeast(c.auth.role, 'admin')) throw forbidden("Only admins change the account's quick replies.");
      if (c.body.text) checkTemplate(c.body.text, 'body.text');
      await e.nativeUpdate(QuickReplySchema, { id: q.id }, c.body);
      return quickReplyJson((await em(c).findOne(QuickReplySchema, { id: q.id }))!);
    })
    .delete('/quick-replies/:id', agent('Delete a quick reply', { params: idParams }), async (c) => {
      const e = em(c);
      const q = await e.findOne(QuickReplySchema, { id: c.params.id, $or: [{ ownerId: null }, { ownerId: c.auth.userId ?? '-' }] });
      if (!q) throw notFound('Quick reply');
      if (!q.ownerId && !roleAtLeast(c.auth.role, 'admin')) throw forbidden("Only admins delete the account's quick replies.");
      await e.nativeDelete(QuickReplySchema, { id: q.id });
    })
    .get('/agents', agent('Agents with their presence, capacity and open attendances'), async (c) => {
      const users = (await hd.ctx.users.list(c.auth.accountId)).filter((u) => !u.disabled);
      const e = em(c);
      const agents = new Map((await e.find(AgentSchema, {})).map((a) => [a.userId, a]));
      const counts = await hd.assignment.openCounts({ em: e }, users.map((u) => u.id));
      const queues = await e.find(QueueMemberSchema, {});
      const now = hd.clock.now();
      return {
        agents: users.map((u) => ({
          id: u.id,
          name: u.name,
          role: u.role,
          presence: hd.assignment.effectiveStatus(agents.get(u.id), now),
          capacity: hd.assignment.capacityOf(agents.get(u.id)),
          open: counts.get(u.id) ?? 0,
          queueIds: queues.filter((m) => m.userId === u.id).map((m) => m.queueId),
        })),
      };
    })
    .put('/me/presence', agent('Set your presence', { body: z.object({ status: z.enum(['online', 'away', 'offline']) }).strict() }), async (c) => {
      if (!c.auth.userId) throw forbidden('Presence belongs to a signed-in user.');
      await hd.assignment.setPresence(c.auth.accountId, c.auth.userId, c.body.status);
      if (c.body.status === 'online') await hd.rebalance(c.auth.accountId);
      return { status: c.body.status };
    })
    .patch('/agents/:id', admin("Set an agent's capacity (open attendances before automatic assignment skips them)", { params: idParams, body: z.object({ capacity: z.number().int().min(1).max(1000).nullable() }).strict() }), async (c) => {
      if (!(await hd.ctx.users.get(c.auth.accountId, c.params.id))) throw notFound('Agent');
      await hd.assignment.setCapacity(c.auth.accountId, c.params.id, c.body.capacity);
      await hd.rebalance(c.auth.accountId);
      return { id: c.params.id, capacity: c.body.capacity };
    })
    .get('/preferences', agent("The account's helpdesk preferences (its time zone)"), async (c) => ({ timeZone: await hd.timeZone(c.auth.accountId) }))
    .put('/preferences', admin("Set the account's time zone: report days and business hours that name none", { body: z.object({ timeZone }).strict() }), async (c) => {
      await hd.units.run(c.auth.accountId, async (w) => {
        const n = await w.em.nativeUpdate(PreferencesSchema, { accountId: c.auth.accountId }, { timeZone: c.body.timeZone });
        if (!n) await w.em.insert(PreferencesSchema, { accountId: c.auth.accountId, timeZone: c.body.timeZone });
      });
      hd.forget(c.auth.accountId);
      return { timeZone: c.body.timeZone };
    });
}
