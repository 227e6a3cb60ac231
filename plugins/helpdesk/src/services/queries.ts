import { badRequest, type Caller } from '@plugchat/core';
import { AttendanceLabelSchema, AttendanceSchema, ContactSchema, TimelineSchema, type AttendanceStatus } from '../entities.js';
import { scopeFilter, scopeOf, visibleAttendance } from './access.js';
import type { Helpdesk } from './helpdesk.js';
import { attendanceViews, itemJson } from './views.js';

export interface ListFilter {
  tab?: 'mine' | 'unassigned' | 'all';
  status?: AttendanceStatus[];
  queueId?: string;
  assignee?: string;
  labelId?: string;
  instanceId?: string;
  q?: string;
  cursor?: string;
  limit: number;
}

const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
function decode<T>(cursor: string, field: string): T {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString()) as T;
  } catch {
    throw badRequest('The cursor is not one this API gave out.', [{ path: field, message: 'invalid cursor' }], 'invalid_cursor');
  }
}

/** Lists and reads, limited to what the caller may see; every list pages by cursor over an index. */
export class Queries {
  constructor(private readonly hd: Helpdesk) {}

  private async where(caller: Caller, f: Omit<ListFilter, 'cursor' | 'limit'>) {
    const em = this.hd.units.read(caller.accountId);
    const scope = await scopeOf(em, caller);
    const and: Record<string, unknown>[] = [scopeFilter(scope)];
    if (f.tab === 'mine') and.push({ assigneeId: caller.userId ?? '-', status: { $ne: 'resolved' } });
    if (f.tab === 'unassigned') and.push({ assigneeId: null, status: 'pending' });
    if (f.tab === 'all' && !f.status) and.push({ status: { $ne: 'resolved' } });
    if (f.status?.length) and.push({ status: { $in: f.status } });
    if (f.queueId) and.push({ queueId: f.queueId === 'none' ? null : f.queueId });
    if (f.assignee) and.push({ assigneeId: f.assignee === 'me' ? (caller.userId ?? '-') : f.assignee === 'none' ? null : f.assignee });
    if (f.instanceId) and.push({ instanceId: f.instanceId });
    if (f.labelId) {
      const ids = (await em.find(AttendanceLabelSchema, { labelId: f.labelId }, { limit: 10_000 })).map((l) => l.attendanceId);
      and.push({ id: { $in: ids } });
    }
    if (f.q?.trim()) {
      const q = f.q.trim();
      const like = `%${q}%`;
      const contacts = (await em.find(ContactSchema, { $or: [{ phone: { $like: `%${q.replace(/\D/g, '') || '-'}%` } }, { name: this.hd.units.ilike(like) }, { pushName: this.hd.units.ilike(like) }] }, { limit: 1000, fields: ['id'] })).map((c) => c.id);
      const messageIds = await this.hd.session.searchMessages(caller.accountId, q, 1000);
      const fromText = messageIds.length ? (await em.find(TimelineSchema, { sessionMessageId: { $in: messageIds } }, { fields: ['attendanceId'] })).map((i) => i.attendanceId) : [];
      and.push({ $or: [{ contactId: { $in: contacts } }, { id: { $in: fromText } }] });
    }
    return { em, where: { $and: and } };
  }

  async list(caller: Caller, f: ListFilter) {
    const { em, where } = await this.where(caller, f);
    const and = [...(where.$and as object[])];
    if (f.cursor) {
      const c = decode<{ t: string; n: number }>(f.cursor, 'query.cursor');
      const t = new Date(c.t);
      and.push({ $or: [{ lastMessageAt: { $lt: t } }, { lastMessageAt: t, number: { $lt: c.n } }] });
    }
    const rows = await em.find(AttendanceSchema, { $and: and }, { orderBy: { lastMessageAt: 'desc', number: 'desc' }, limit: f.limit + 1 });
    const page = rows.slice(0, f.limit);
    const last = page[page.length - 1];
    return {
      attendances: await attendanceViews(em, page),
      nextCursor: rows.length > f.limit && last ? encode({ t: new Date(last.lastMessageAt).toISOString(), n: last.number }) : null,
    };
  }

  async counts(caller: Caller) {
    const count = async (tab: ListFilter['tab']) => {
      const { em, where } = await this.where(caller, { tab });
      return em.count(AttendanceSchema, where);
    };
    const [mine, unassigned, all] = await Promise.all([count('mine'), count('unassigned'), count('all')]);
    return { mine, unassigned, all };
  }

  async get(caller: Caller, id: string) {
    const em = this.hd.units.read(caller.accountId);
    const { att } = await visibleAttendance(em, caller, id);
    const [view] = await attendanceViews(em, [att]);
    return { ...view!, optedOut: view!.contact ? await this.hd.session.isOptedOut(caller.accountId, view!.contact.phone) : false };
  }

  /** Timeline entries oldest first, a page at a time going back (`before` is a cursor from the previous page). */
  async timeline(caller: Caller, id: string, opts: { before?: string; limit: number }) {
    const em = this.hd.units.read(caller.accountId);
    const { att } = await visibleAttendance(em, caller, id);
    const where: Record<string, unknown> = { attendanceId: att.id };
    if (opts.before) {
      const seq = decode<{ s: string }>(opts.before, 'query.before').s;
      if (!/^\d+$/.test(seq)) throw badRequest('The cursor is not one this API gave out.', [{ path: 'query.before', message: 'invalid cursor' }], 'invalid_cursor');
      where.seq = { $lt: seq };
    }
    const rows = await em.find(TimelineSchema, where, { orderBy: { seq: 'desc' }, limit: opts.limit + 1 });
    const page = rows.slice(0, opts.limit).reverse();
    const ids = page.filter((i) => i.sessionMessageId).map((i) => i.sessionMessageId!);
    const messages = new Map((await this.hd.session.messages(caller.accountId, att.instanceId, ids)).map((m) => [m.id, m]));
    return {
      items: page.map((i) => itemJson(i, i.sessionMessageId ? messages.get(i.sessionMessageId) : undefined)),
      before: rows.length > opts.limit && page[0] ? encode({ s: String(page[0].seq) }) : null,
    };
  }
}
