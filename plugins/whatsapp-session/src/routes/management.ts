import QRCode from 'qrcode';
import { createRouter, openEventStream, z } from '@plugchat/core';
import { phoneOf, type WhatsAppService } from '../services/whatsapp.js';
import { toDate } from '../store.js';
import type { Instance } from '../services/instances.js';

const idParam = z.object({ id: z.string().regex(/^[A-Za-z0-9]{8,64}$/, 'must be an instance id') });
const historyPage = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200), before: z.coerce.number().int().positive().optional() });
const delay = z.number().int().min(0).max(15_000);
const instanceOut = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string(),
  stateReason: z.string().nullable(),
  phone: z.string().nullable(),
  pushName: z.string().nullable(),
  connected: z.boolean(),
  delayMinMs: z.number().nullable(),
  delayMaxMs: z.number().nullable(),
  queueLimit: z.number().nullable(),
  sendRamp: z.object({ dailyLimits: z.array(z.number()), startedAt: z.string() }).nullable(),
  createdAt: z.string(),
});
/** A warm-up schedule: the daily limit of each week from the start (the first entry for days 1-7); none after the last. */
const sendRamp = z
  .object({
    dailyLimits: z.array(z.number().int().min(1).max(100_000)).min(1).max(52),
    startedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/** The management API for signed-in users (and API keys): create, list, rename, rotate, delete, connect. */
export function managementRouter(svc: WhatsAppService) {
  const json = (r: Instance, connected: Set<string>) => ({
    id: r.id,
    name: r.name,
    state: r.state,
    stateReason: r.stateReason,
    phone: r.phone,
    pushName: r.pushName,
    connected: connected.has(r.id),
    delayMinMs: r.delayMinMs,
    delayMaxMs: r.delayMaxMs,
    queueLimit: r.queueLimit,
    sendRamp: r.sendRamp ? { dailyLimits: r.sendRamp.dailyLimits, startedAt: r.sendRamp.startedAt.toISOString() } : null,
    createdAt: r.createdAt.toISOString(),
  });
  const one = async (r: Instance) => json(r, await svc.connectedIds([r]));
  const many = async (rows: Instance[]) => {
    const connected = await svc.connectedIds(rows);
    return rows.map((r) => json(r, connected));
  };
  return createRouter('/api/whatsapp-session')
    .get('/instances', { summary: "The account's instances", role: 'agent', response: z.object({ instances: z.array(instanceOut) }) }, async (c) => ({
      instances: await many(await svc.list(c.auth.accountId)),
    }))
    .post(
      '/instances',
      {
        summary: 'Create an instance (one WhatsApp number); the answer carries its token',
        role: 'admin',
        status: 201,
        body: z.object({ name: z.string().trim().min(1).max(200), delayMinMs: delay.optional(), delayMaxMs: delay.optional() }).strict(),
        response: instanceOut.extend({ token: z.string() }),
      },
      async (c) => {
        const { instance, token } = await svc.create(c.auth.accountId, c.body.name, c.body);
        return { ...(await one(instance)), token };
      },
    )
    .get('/instances/:id', { summary: 'One instance with its token', role: 'admin', params: idParam, response: instanceOut.extend({ token: z.string() }) }, async (c) => {
      const row = await svc.get(c.auth.accountId, c.params.id);
      return { ...(await one(row)), token: await svc.token(row) };
    })
    .patch(
      '/instances/:id',
      {
        summary: 'Rename or change pacing (delayMinMs/delayMaxMs, 0 allowed), queue limit and send ramp (null turns it off)',
        role: 'admin',
        params: idParam,
        body: z.object({ name: z.string().trim().min(1).max(200).optional(), delayMinMs: delay.nullable().optional(), delayMaxMs: delay.nullable().optional(), queueLimit: z.number().int().min(1).max(100_000).nullable().optional(), sendRamp: sendRamp.nullable().optional() }).strict(),
        response: instanceOut,
      },
      async (c) => {
        const row = await svc.get(c.auth.accountId, c.params.id);
        const ramp = c.body.sendRamp;
        const updated = await svc.update(row, {
          name: c.body.name,
          delayMinMs: c.body.delayMinMs,
          delayMaxMs: c.body.delayMaxMs,
          queueLimit: c.body.queueLimit,
          // Day 1 is today unless the number started earlier.
          sendRamp: ramp === undefined ? undefined : ramp && { dailyLimits: ramp.dailyLimits, startedAt: ramp.startedAt ? new Date(ramp.startedAt) : svc.ramp.now() },
        });
        if (ramp !== undefined) await svc.sending.claims.releaseHeld(row.id);
        return one(updated);
      },
    )
    .post('/instances/:id/rotate-token', { summary: 'Replace the instance token (the old one stops working)', role: 'admin', params: idParam, response: z.object({ token: z.string() }) }, async (c) => ({
      token: await svc.rotateToken(await svc.get(c.auth.accountId, c.params.id)),
    }))
    .delete('/instances/:id', { summary: 'Log out and delete the instance with its messages', role: 'admin', params: idParam }, async (c) => {
      await svc.remove(await svc.get(c.auth.accountId, c.params.id));
      return undefined;
    })
    .post('/instances/:id/connect', { summary: 'Connect: reconnects with saved credentials or starts showing QR codes', role: 'admin', params: idParam, response: instanceOut }, async (c) => {
      const row = await svc.get(c.auth.accountId, c.params.id);
      await svc.connect(row);
      return one(await svc.get(c.auth.accountId, c.params.id));
    })
    .post('/instances/:id/disconnect', { summary: 'Log out the device', role: 'admin', params: idParam, response: instanceOut }, async (c) => {
      const row = await svc.get(c.auth.accountId, c.params.id);
      await svc.disconnect(row);
      return one(await svc.get(c.auth.accountId, c.params.id));
    })
    .get('/instances/:id/qr', { summary: 'The current QR code, as text and as a PNG data URI', role: 'admin', params: idParam }, async (c) => {
      const row = await svc.get(c.auth.accountId, c.params.id);
      const qr = await svc.currentQr(row);
      return { qr: qr ?? null, image: qr ? await QRCode.toDataURL(qr, { margin: 1, width: 320 }) : null, state: row.state };
    })
    .get(
      '/instances/:id/events',
      { summary: 'A live Server-Sent Events stream of state changes and rotating QR codes (with the QR as a PNG data URI)', role: 'admin', params: idParam },
      async (c) => {
        const row = await svc.get(c.auth.accountId, c.params.id);
        const events = openEventStream(c.koa);
        const onChange = (e: { type: string; qr?: string }) => {
          if (e.type === 'qr' && e.qr) void QRCode.toDataURL(e.qr, { margin: 1, width: 320 }).then((image) => events.send('qr', { qr: e.qr, image }));
          else events.send(e.type, e);
        };
        svc.live.on(row.id, onChange);
        events.onClose(() => svc.live.off(row.id, onChange));
        events.send('state', { type: 'state', state: row.state, reason: row.stateReason, connected: await svc.connected(row), phone: row.phone });
        const qr = await svc.currentQr(row);
        if (qr) onChange({ type: 'qr', qr });
      },
    )
    .get(
      '/instances/:id/messages',
      { summary: 'Recent messages of every chat, newest first', role: 'agent', params: idParam, query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(30) }) },
      async (c) => {
        const rows = await svc.recentMessages(await svc.get(c.auth.accountId, c.params.id), c.query.limit);
        return { messages: rows.map((r) => ({ messageId: r.waId, zaapId: r.direction === 'out' ? r.id : undefined, phone: phoneOf(r.chat), fromMe: r.fromMe, status: r.status, type: r.type, content: r.content, error: r.error ?? undefined })) };
      },
    )
    .get('/events', { summary: "A live Server-Sent Events stream of every instance's state in the account", role: 'agent' }, (c) => {
      const events = openEventStream(c.koa);
      const channel = `account:${c.auth.accountId}`;
      const onChange = (e: unknown) => events.send('state', e);
      svc.live.on(channel, onChange);
      events.onClose(() => svc.live.off(channel, onChange));
    })
    .get('/instances/:id/history', { summary: 'State changes: the newest page, oldest first; `more` says older ones exist, read with before=<the first id>', role: 'agent', params: idParam, query: historyPage }, async (c) => {
      const row = await svc.get(c.auth.accountId, c.params.id);
      const { rows, more } = await svc.history(row, c.query);
      return { history: rows.map((h) => ({ id: Number(h.id), state: h.state, reason: h.reason, at: toDate(h.at)!.toISOString() })), more };
    });
}
