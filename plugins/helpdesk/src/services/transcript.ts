import type { TranscriptLine } from '../api.js';
import { AttendanceSchema, TimelineSchema } from '../entities.js';
import type { Helpdesk } from './helpdesk.js';

const CHUNK = 500;

/** An attendance's messages as text lines, oldest first (content read from the session in chunks). */
export async function transcript(hd: Helpdesk, accountId: string, attendanceId: string): Promise<TranscriptLine[]> {
  const em = hd.units.read(accountId);
  const att = await em.findOne(AttendanceSchema, { id: attendanceId });
  if (!att) return [];
  const items = await em.find(TimelineSchema, { attendanceId, kind: 'message' }, { orderBy: { seq: 'asc' } });
  const names = new Map((await hd.ctx.users.list(accountId)).map((u) => [u.id, u.name]));
  const lines: TranscriptLine[] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    const chunk = items.slice(i, i + CHUNK);
    const ids = chunk.map((t) => t.sessionMessageId).filter((x): x is string => !!x);
    const msgs = new Map((await hd.session.messages(accountId, att.instanceId, ids)).map((m) => [m.id, m]));
    for (const t of chunk) {
      const m = t.sessionMessageId ? msgs.get(t.sessionMessageId) : undefined;
      const type = m?.type ?? String(t.data?.type ?? 'unknown');
      if (type === 'reaction') continue;
      const c = (m?.content ?? {}) as { text?: string; caption?: string; fileName?: string; name?: string };
      const data = t.data ?? {};
      lines.push({
        at: new Date(t.createdAt).toISOString(),
        direction: t.direction ?? 'in',
        author: t.direction === 'in' ? null : t.authorId ? (names.get(t.authorId) ?? null) : data.automatic ? 'automatic' : data.fromPhone ? 'phone' : 'automatic',
        type,
        text: c.text ?? c.caption ?? c.fileName ?? c.name ?? '',
      });
    }
  }
  return lines;
}
