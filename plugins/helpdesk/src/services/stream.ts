import { badRequest, coalesced, openEventStream, type Caller } from '@plugchat/core';
import type { Context } from 'koa';
import { ChangeSchema } from '../entities.js';
import { changeVisible, scopeOf } from './access.js';
import type { Helpdesk } from './helpdesk.js';

/** A fallback for a lost notification: commits wake the stream at once, in this process or (cluster) any other. */
const POLL_MS = 3_000;

/**
 * The agents' live stream: every change the caller may see, in commit order, each with its
 * sequence number as the SSE id. A browser that reconnects sends Last-Event-ID and gets
 * exactly what it missed, from the change log, then the live tail.
 */
export async function openChangeStream(hd: Helpdesk, caller: Caller, koa: Context, lastEventId: string | undefined): Promise<void> {
  const accountId = caller.accountId;
  const em = () => hd.units.read(accountId);
  let cursor: number;
  if (lastEventId !== undefined && lastEventId !== '') {
    if (!/^\d{1,15}$/.test(lastEventId)) throw badRequest('Last-Event-ID must be an id this stream sent.', [{ path: 'header.last-event-id', message: 'not a sequence number' }]);
    cursor = Number(lastEventId);
  } else {
    cursor = (await em().findOne(ChangeSchema, {}, { orderBy: { seq: 'desc' }, fields: ['seq'] }))?.seq ?? 0;
  }
  const stream = openEventStream(koa);
  let closed = false;
  const pump = coalesced(async () => {
    try {
      for (;;) {
        const rows = await em().find(ChangeSchema, { seq: { $gt: cursor } }, { orderBy: { seq: 'asc' }, limit: 200 });
        if (!rows.length || closed) break;
        const scope = await scopeOf(em(), caller);
        for (const r of rows) {
          if (changeVisible(scope, r)) stream.send(r.type, { seq: r.seq, attendanceId: r.attendanceId, at: new Date(r.at).toISOString(), data: r.data }, r.seq);
          cursor = r.seq;
        }
      }
    } catch (err) {
      hd.ctx.logger.warn({ err }, 'helpdesk stream read failed; retried on the next change');
    }
  });
  const onCommit = (account: string) => {
    if (account === accountId) void pump();
  };
  hd.units.committed.on('commit', onCommit);
  const poll = setInterval(() => void pump(), POLL_MS);
  poll.unref();
  if (caller.userId) await hd.assignment.connection(accountId, caller.userId, 1);
  stream.onClose(() => {
    closed = true;
    clearInterval(poll);
    hd.units.committed.off('commit', onCommit);
    if (caller.userId) void hd.assignment.connection(accountId, caller.userId, -1).catch(() => {});
  });
  stream.send('ready', { seq: cursor }, cursor);
  await pump();
}
