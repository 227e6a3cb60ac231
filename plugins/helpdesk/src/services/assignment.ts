import { nextSeq, type PluginContext } from '@plugchat/core';
import { AgentSchema, AttendanceSchema, QueueMemberSchema, QueueSchema, type Agent, type Attendance, type PresenceStatus } from '../entities.js';
import type { Settings } from '../settings.js';
import { addActivity, patchAttendance } from './timeline.js';
import type { Reporting } from './reporting.js';
import type { Units, Work } from './unit.js';

/**
 * Agent presence and automatic assignment. Presence is what the agent set, except that an
 * agent whose last live connection closed more than the grace period ago (by the clock)
 * counts as offline. Round robin picks, among a queue's members who are online and below
 * their capacity, the one assigned longest ago.
 */
export class Assignment {
  /** Live stream connections per user in this process (other processes keep their own). */
  private readonly connections = new Map<string, number>();

  constructor(
    private readonly units: Units,
    private readonly ctx: PluginContext<Settings>,
    private readonly reporting: Reporting,
  ) {
    // Several processes: an agent's last stream closing on one process marks them disconnected;
    // a process still holding a stream of theirs (another tab) marks them connected again.
    ctx.subscriptions.push(
      ctx.cluster.on('helpdesk.stream-closed', (p: { accountId: string; userId: string }, from) => {
        if (from === ctx.cluster.nodeId || !this.connections.get(p.userId)) return;
        void this.units.run(p.accountId, (w) => w.em.nativeUpdate(AgentSchema, { userId: p.userId }, { disconnectedAt: null })).catch(() => {});
      }),
    );
  }

  /** Inside the unit that gave `next` its new assignee: the reporting events of an assignment. */
  async recordAssigned(w: Work, prev: Attendance, next: Attendance): Promise<void> {
    if (!next.assigneeId || next.assigneeId === prev.assigneeId) return;
    await this.reporting.record(w, next, 'assigned', { agentId: next.assigneeId, fromAgentId: prev.assigneeId });
    if (!prev.assignedAt) await this.reporting.record(w, next, 'assignment_wait', { since: next.createdAt, agentId: next.assigneeId });
  }

  effectiveStatus(agent: Agent | null | undefined, now: Date): PresenceStatus {
    if (!agent) return 'offline';
    if (agent.status === 'offline') return 'offline';
    if (!this.connections.get(agent.userId) && agent.disconnectedAt) {
      const grace = this.ctx.settings.get('helpdesk.presenceGraceSeconds') * 1000;
      if (now.getTime() - new Date(agent.disconnectedAt).getTime() >= grace) return 'offline';
    }
    return agent.status;
  }

  capacityOf(agent: Agent | null | undefined): number {
    return agent?.capacity ?? this.ctx.settings.get('helpdesk.defaultCapacity');
  }

  async setPresence(accountId: string, userId: string, status: PresenceStatus): Promise<void> {
    await this.units.run(accountId, async (w) => {
      const existing = await w.em.findOne(AgentSchema, { userId });
      if (existing) await w.em.nativeUpdate(AgentSchema, { userId }, { status, updatedAt: w.now, ...(status === 'online' ? { disconnectedAt: null } : {}) });
      else await w.em.insert(AgentSchema, { userId, accountId, status, capacity: null, lastAssignedSeq: null, disconnectedAt: null, updatedAt: w.now });
    });
  }

  async setCapacity(accountId: string, userId: string, capacity: number | null): Promise<void> {
    await this.units.run(accountId, async (w) => {
      const existing = await w.em.findOne(AgentSchema, { userId });
      if (existing) await w.em.nativeUpdate(AgentSchema, { userId }, { capacity, updatedAt: w.now });
      else await w.em.insert(AgentSchema, { userId, accountId, status: 'offline', capacity, lastAssignedSeq: null, disconnectedAt: null, updatedAt: w.now });
    });
  }

  /** A live stream opened or closed for a user. */
  async connection(accountId: string, userId: string, delta: 1 | -1): Promise<void> {
    const n = Math.max(0, (this.connections.get(userId) ?? 0) + delta);
    if (n) this.connections.set(userId, n);
    else this.connections.delete(userId);
    if (delta === 1 || n === 0) {
      await this.units.run(accountId, (w) => w.em.nativeUpdate(AgentSchema, { userId }, { disconnectedAt: n ? null : w.now }));
      if (!n && this.ctx.cluster.mode === 'cluster') await this.ctx.cluster.broadcast('helpdesk.stream-closed', { accountId, userId });
    }
  }

  /** Open attendances per agent, for capacity. */
  async openCounts(w: Pick<Work, 'em'>, userIds: string[]): Promise<Map<string, number>> {
    const open = userIds.length ? await w.em.find(AttendanceSchema, { assigneeId: { $in: userIds }, status: 'open' }, { fields: ['id', 'assigneeId'] }) : [];
    const counts = new Map<string, number>();
    for (const a of open) counts.set(a.assigneeId!, (counts.get(a.assigneeId!) ?? 0) + 1);
    return counts;
  }

  /**
   * Inside a unit of work: assigns a pending, unassigned attendance of a round-robin queue
   * to the next eligible member. Returns the updated attendance, or null when nobody can take it.
   */
  async assignNext(w: Work, att: Attendance, active: Set<string>): Promise<Attendance | null> {
    if (att.status !== 'pending' || att.assigneeId || !att.queueId || att.menuPending) return null;
    const queue = await w.em.findOne(QueueSchema, { id: att.queueId });
    if (!queue || queue.assignment !== 'round_robin') return null;
    const members = (await w.em.find(QueueMemberSchema, { queueId: queue.id })).map((m) => m.userId);
    if (!members.length) return null;
    const agents = (await w.em.find(AgentSchema, { userId: { $in: members } }, { refresh: true })).filter((a) => active.has(a.userId) && this.effectiveStatus(a, w.now) === 'online');
    const counts = await this.openCounts(w, agents.map((a) => a.userId));
    const eligible = agents
      .filter((a) => (counts.get(a.userId) ?? 0) < this.capacityOf(a))
      .sort((a, b) => Number(a.lastAssignedSeq ?? 0) - Number(b.lastAssignedSeq ?? 0) || a.userId.localeCompare(b.userId));
    const pick = eligible[0];
    if (!pick) return null;
    const next = await patchAttendance(w, att, { assigneeId: pick.userId, status: 'open', assignedAt: att.assignedAt ?? w.now }, { status: 'pending', assigneeId: null });
    if (!next) return null;
    await w.em.nativeUpdate(AgentSchema, { userId: pick.userId }, { lastAssignedSeq: String(nextSeq()) });
    await this.recordAssigned(w, att, next);
    await addActivity(w, next, 'assigned', { to: pick.userId, automatic: true }, null);
    return next;
  }

  /** Hands waiting attendances (oldest first) to whoever has room, after capacity frees up or an agent comes online. */
  async rebalance(accountId: string, activeUsers: () => Promise<Set<string>>, onAssigned?: (att: Attendance) => Promise<void>): Promise<void> {
    const em = this.units.read(accountId);
    const queues = (await em.find(QueueSchema, { assignment: 'round_robin' }, { fields: ['id'] })).map((q) => q.id);
    if (!queues.length) return;
    const waiting = await em.find(AttendanceSchema, { status: 'pending', assigneeId: null, menuPending: false, queueId: { $in: queues } }, { orderBy: { createdAt: 'asc', number: 'asc' }, limit: 200 });
    const full = new Set<string>();
    const active = await activeUsers();
    for (const candidate of waiting) {
      if (full.has(candidate.queueId!)) continue;
      const assigned = await this.units.run(accountId, async (w) => {
        const att = await w.em.findOne(AttendanceSchema, { id: candidate.id }, { refresh: true });
        return att ? this.assignNext(w, att, active) : null;
      });
      if (!assigned) full.add(candidate.queueId!);
      else await onAssigned?.(assigned);
    }
  }
}
