import { badRequest, createRouter, forbidden, notFound, z } from '@plugchat/core';
import { AttendanceSchema, ContactLabelSchema, ContactSchema, LabelSchema } from '../entities.js';
import { isSupervisor, scopeFilter, scopeOf } from '../services/access.js';
import type { Helpdesk } from '../services/helpdesk.js';
import { attendanceViews, contactJson, contactLabels } from '../services/views.js';
import { id, idParams } from './schemas.js';

const attributes = z.record(z.string().regex(/^[\w.-]{1,60}$/, 'names use letters, digits, ".", "-" and "_"'), z.string().max(1000)).refine((r) => Object.keys(r).length <= 50, 'at most 50 attributes');

/** Contacts: the people behind the numbers, their attributes, labels, block and opt-out state. */
export function contactRouter(hd: Helpdesk) {
  const spec = <T extends object = object>(summary: string, extra?: T) => ({ summary, role: 'agent' as const, tags: ['helpdesk contacts'], ...(extra as T) });
  return createRouter('/api/helpdesk')
    .get('/contacts', spec('Contacts, by name; search by name or phone', { query: z.object({ q: z.string().max(200).optional(), cursor: z.string().max(100).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }) }), async (c) => {
      const em = hd.units.read(c.auth.accountId);
      const and: Record<string, unknown>[] = [];
      if (c.query.q?.trim()) {
        const q = c.query.q.trim();
        and.push({ $or: [{ phone: { $like: `%${q.replace(/\D/g, '') || '-'}%` } }, { name: hd.units.ilike(`%${q}%`) }, { pushName: hd.units.ilike(`%${q}%`) }] });
      }
      if (c.query.cursor) and.push({ id: { $gt: c.query.cursor } });
      const rows = await em.find(ContactSchema, and.length ? { $and: and } : {}, { orderBy: { id: 'asc' }, limit: c.query.limit + 1 });
      const page = rows.slice(0, c.query.limit);
      const labels = await em.find(ContactLabelSchema, { contactId: { $in: page.map((p) => p.id) } });
      return {
        contacts: page.map((p) => contactJson(p, labels.filter((l) => l.contactId === p.id).map((l) => l.labelId))),
        nextCursor: rows.length > c.query.limit ? page[page.length - 1]!.id : null,
      };
    })
    .get('/contacts/:id', spec('A contact with its opt-out state and the attendances the caller may see', { params: idParams }), async (c) => {
      const em = hd.units.read(c.auth.accountId);
      const contact = await em.findOne(ContactSchema, { id: c.params.id });
      if (!contact) throw notFound('Contact');
      const scope = await scopeOf(em, c.auth);
      const atts = await em.find(AttendanceSchema, { $and: [{ contactId: contact.id }, scopeFilter(scope)] }, { orderBy: { number: 'desc' }, limit: 50 });
      return {
        ...contactJson(contact, await contactLabels(em, contact.id), await hd.session.isOptedOut(c.auth.accountId, contact.phone)),
        attendances: await attendanceViews(em, atts),
      };
    })
    .patch(
      '/contacts/:id',
      spec('Edit a contact (blocking needs a supervisor)', {
        params: idParams,
        body: z.object({ name: z.string().trim().min(1).max(200).nullable().optional(), avatarUrl: z.string().url().max(1000).nullable().optional(), attributes: attributes.optional(), blocked: z.boolean().optional() }).strict(),
      }),
      async (c) => {
        const em = hd.units.read(c.auth.accountId);
        if (c.body.blocked !== undefined && !isSupervisor(c.auth)) throw forbidden('Only supervisors and admins block contacts.');
        if (!(await em.nativeUpdate(ContactSchema, { id: c.params.id }, { ...c.body, updatedAt: hd.clock.now() }))) throw notFound('Contact');
        const fresh = hd.units.read(c.auth.accountId);
        return contactJson((await fresh.findOne(ContactSchema, { id: c.params.id }))!, await contactLabels(fresh, c.params.id));
      },
    )
    .put('/contacts/:id/labels', spec("Set a contact's labels", { params: idParams, body: z.object({ labelIds: z.array(id).max(50) }).strict() }), async (c) => {
      const em = hd.units.read(c.auth.accountId);
      if (!(await em.findOne(ContactSchema, { id: c.params.id }))) throw notFound('Contact');
      const known = new Set((await em.find(LabelSchema, { id: { $in: c.body.labelIds } })).map((l) => l.id));
      const bad = c.body.labelIds.findIndex((l) => !known.has(l));
      if (bad >= 0) throw badRequest('Unknown label.', [{ path: `body.labelIds.${bad}`, message: 'no such label in this account' }]);
      await hd.units.run(c.auth.accountId, async (w) => {
        await w.em.nativeDelete(ContactLabelSchema, { contactId: c.params.id });
        for (const labelId of new Set(c.body.labelIds)) await w.em.insert(ContactLabelSchema, { contactId: c.params.id, labelId, accountId: c.auth.accountId });
      });
      return { labelIds: [...new Set(c.body.labelIds)] };
    });
}
