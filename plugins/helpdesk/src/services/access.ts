import { forbidden, notFound, roleAtLeast, type Caller, type EntityManager } from '@plugchat/core';
import { AttendanceSchema, QueueMemberSchema, type Attendance, type Change } from '../entities.js';

/** What a caller may see: supervisors and above everything; agents their queues, their own and unrouted attendances. */
export interface Scope {
  all: boolean;
  userId: string | null;
  queueIds: string[];
}

export const isSupervisor = (caller: Caller) => roleAtLeast(caller.role, 'supervisor');

export async function scopeOf(em: EntityManager, caller: Caller): Promise<Scope> {
  if (isSupervisor(caller)) return { all: true, userId: caller.userId ?? null, queueIds: [] };
  const queueIds = caller.userId ? (await em.find(QueueMemberSchema, { userId: caller.userId })).map((m) => m.queueId) : [];
  return { all: false, userId: caller.userId ?? null, queueIds };
}

/** The filter that limits attendance queries to the scope. */
export function scopeFilter(scope: Scope): Record<string, unknown> {
  if (scope.all) return {};
  const or: Record<string, unknown>[] = [{ queueId: null }];
  if (scope.queueIds.length) or.push({ queueId: { $in: scope.queueIds } });
  if (scope.userId) or.push({ assigneeId: scope.userId });
  return { $or: or };
}

export function canSee(scope: Scope, a: Pick<Attendance, 'queueId' | 'assigneeId'>): boolean {
  return scope.all || a.queueId === null || scope.queueIds.includes(a.queueId) || (!!scope.userId && a.assigneeId === scope.userId);
}

export function changeVisible(scope: Scope, c: Change): boolean {
  if (scope.all) return true;
  if (scope.userId && (c.assigneeId === scope.userId || c.prevAssigneeId === scope.userId || c.audience?.includes(scope.userId))) return true;
  return c.queueId === null || scope.queueIds.includes(c.queueId) || (c.prevQueueId !== null && scope.queueIds.includes(c.prevQueueId));
}

/** The attendance when the caller may see it; 404 otherwise (never telling that it exists). */
export async function visibleAttendance(em: EntityManager, caller: Caller, id: string, scope?: Scope): Promise<{ att: Attendance; scope: Scope }> {
  const att = await em.findOne(AttendanceSchema, { id }, { refresh: true });
  const s = scope ?? (await scopeOf(em, caller));
  if (!att || !canSee(s, att)) throw notFound('Attendance');
  return { att, scope: s };
}

/** Agents act on their own attendances and unassigned ones; supervisors on any. */
export function assertMayAct(caller: Caller, att: Attendance): void {
  if (isSupervisor(caller)) return;
  if (att.assigneeId && att.assigneeId !== caller.userId) throw forbidden('This attendance belongs to another agent. Ask a supervisor to transfer it to you.');
}
