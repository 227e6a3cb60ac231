import { createRouter, openEventStream, z } from '@plugchat/core';
import type { WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { EVENT_KINDS } from '../payloads.js';
import { HOP_BY_HOP } from '../safeRequest.js';
import { truthy, type EndpointRow, type DeliveryRow, type WebhookService } from '../service.js';

const uuid = z.object({ id: z.uuid() });
const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a header name');
const headers = z.record(headerName, z.string().max(1024)).refine((h) => Object.keys(h).length <= 20, 'at most 20 headers').refine((h) => !Object.keys(h).some((k) => /^x-plugchat-/i.test(k) || HOP_BY_HOP.test(k)), 'cannot set x-plugchat-* headers or those of the connection (host, content-length, connection, transfer-encoding, …)');
const events = z.array(z.enum(EVENT_KINDS)).min(1);
const ts = (v: unknown) => (v ? new Date(v instanceof Date ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : (v as string)).toISOString() : null);

const endpointJson = (svc: WebhookService, e: EndpointRow) => ({
  id: e.id,
  instanceId: e.instance_id,
  url: e.url,
  events: JSON.parse(e.events),
  headers: Object.keys(svc.headersOf(e)),
  source: e.source,
  zapiKind: e.zapi_kind,
  notifySentByMe: truthy(e.notify_sent_by_me),
  paused: truthy(e.paused),
  failing: truthy(e.failing),
  consecutiveFailures: e.consecutive_failures,
  createdAt: ts(e.created_at),
});
const deliveryJson = (d: DeliveryRow) => ({
  id: d.id,
  endpointId: d.endpoint_id,
  instanceId: d.instance_id,
  eventType: d.event_type,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.last_status_code,
  lastError: d.last_error,
  createdAt: ts(d.created_at),
  deliveredAt: ts(d.delivered_at),
  seq: Number(d.seq),
});

/** The native API: several endpoints per instance, each with its events, headers and secret; the log; redelivery. */
export function nativeRouter(svc: WebhookService, session: WhatsAppSessionApi) {
  return createRouter('/api/webhooks')
    .get('/endpoints', { summary: "The account's webhook endpoints", role: 'admin', query: z.object({ instanceId: z.string().optional() }) }, async (c) => ({
      endpoints: (await svc.listEndpoints(c.auth.accountId, c.query.instanceId)).map((e) => endpointJson(svc, e)),
    }))
    .post(
      '/endpoints',
      {
        summary: 'Add an endpoint; the answer carries its signing secret (shown once)',
        role: 'admin',
        status: 201,
        body: z.object({ instanceId: z.string().min(8), url: z.string().min(1).max(2048), events, headers: headers.optional(), secret: z.string().min(16).max(200).optional(), notifySentByMe: z.boolean().optional() }).strict(),
      },
      async (c) => {
        await session.instanceOf(c.auth, c.body.instanceId);
        const { row, secret } = await svc.createEndpoint(c.auth.accountId, c.body);
        return { ...endpointJson(svc, row), secret };
      },
    )
    .get('/endpoints/:id', { summary: 'One endpoint', role: 'admin', params: uuid }, async (c) => endpointJson(svc, await svc.getEndpoint(c.auth.accountId, c.params.id)))
    .get('/endpoints/:id/secret', { summary: "The endpoint's signing secret", role: 'admin', params: uuid }, async (c) => ({ secret: svc.secretOf(await svc.getEndpoint(c.auth.accountId, c.params.id)) }))
    .patch(
      '/endpoints/:id',
      { summary: 'Change URL, events, headers; pause or resume', role: 'admin', params: uuid, body: z.object({ url: z.string().min(1).max(2048).optional(), events: events.optional(), headers: headers.optional(), paused: z.boolean().optional(), notifySentByMe: z.boolean().optional() }).strict() },
      async (c) => endpointJson(svc, await svc.updateEndpoint(await svc.getEndpoint(c.auth.accountId, c.params.id), c.body)),
    )
    .delete('/endpoints/:id', { summary: 'Remove an endpoint', role: 'admin', params: uuid }, async (c) => {
      await svc.deleteEndpoint(await svc.getEndpoint(c.auth.accountId, c.params.id));
      return undefined;
    })
    .post('/endpoints/:id/test', { summary: 'Send a test event now', role: 'admin', params: uuid, status: 202 }, async (c) => {
      const e = await svc.getEndpoint(c.auth.accountId, c.params.id);
      const kind = JSON.parse(e.events)[0];
      await svc.fanOutTo(e, kind, { type: 'TestCallback', instanceId: e.instance_id, momment: Date.now() });
      return { queued: true };
    })
    .post('/endpoints/:id/redeliver-failed', { summary: 'Queue every failed or dead delivery of the endpoint again', role: 'admin', params: uuid }, async (c) => ({
      redelivering: await svc.redeliverFailed(c.auth.accountId, (await svc.getEndpoint(c.auth.accountId, c.params.id)).id),
    }))
    .get(
      '/deliveries',
      {
        summary: 'The delivery log, newest first',
        role: 'admin',
        query: z.object({
          endpointId: z.uuid().optional(),
          instanceId: z.string().optional(),
          status: z.enum(['pending', 'delivered', 'failed', 'dead']).optional(),
          eventType: z.enum(EVENT_KINDS).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.coerce.number().optional().describe('seq of the last row of the previous page'),
        }),
      },
      async (c) => ({ deliveries: (await svc.listDeliveries(c.auth.accountId, c.query)).map(deliveryJson) }),
    )
    .get('/stream', { summary: "Live changes of an instance's delivery log (Server-Sent Events: read the log again)", role: 'admin', query: z.object({ instanceId: z.string().min(1).max(64) }).strict() }, async (c) => {
      const inst = await session.instanceOf(c.auth, c.query.instanceId);
      const stream = openEventStream(c.koa);
      const onChange = (id: string) => id === inst.id && stream.send('deliveries', { instanceId: id });
      svc.changes.on('changed', onChange);
      stream.onClose(() => svc.changes.off('changed', onChange));
      return undefined;
    })
    .get('/deliveries/:id', { summary: 'One delivery with every attempt', role: 'admin', params: uuid }, async (c) => {
      const { d, attempts } = await svc.getDelivery(c.auth.accountId, c.params.id);
      return {
        ...deliveryJson(d),
        payload: JSON.parse(d.payload),
        attempts: attempts.map((a: { attempt: number; at: unknown; status_code: number | null; latency_ms: number; response_excerpt: string | null; error: string | null }) => ({
          attempt: a.attempt,
          at: ts(a.at),
          statusCode: a.status_code,
          latencyMs: a.latency_ms,
          responseExcerpt: a.response_excerpt,
          error: a.error,
        })),
      };
    })
    .post('/deliveries/:id/redeliver', { summary: 'Deliver again', role: 'admin', params: uuid, status: 202 }, async (c) => {
      await svc.redeliver(c.auth.accountId, c.params.id);
      return { queued: true };
    });
}
