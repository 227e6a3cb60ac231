import { createRouter, z, type Caller } from '@plugchat/core';
import type { HelpdeskApi } from '@plugchat/helpdesk';
import getRawBody from 'raw-body';
import type { Card, CardDefaults, Connection } from './entities.js';
import type { Trello } from './services/trello.js';
import type { TrelloWebhooks } from './services/webhooks.js';

const id = z.string().min(1).max(64);
const defaults = z.object({ boardId: id.nullable().default(null), listId: id.nullable().default(null), labelIds: z.array(id).max(50).default([]), memberIds: z.array(id).max(50).default([]) }).strict();
const cardBody = z
  .object({
    listId: id.optional().describe('default: the queue’s or the account’s default list'),
    name: z.string().trim().min(1).max(16_384).optional(),
    desc: z.string().max(16_384).optional().describe('Markdown; default: the contact block, a link back and the transcript'),
    due: z.iso.datetime({ offset: true }).nullable().optional(),
    labelIds: z.array(id).max(50).optional(),
    memberIds: z.array(id).max(50).optional(),
  })
  .strict();
const attParams = z.object({ id }).strict();
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** Never the credentials: who is connected, how, and the defaults. */
export const connectionJson = (c: Connection | null) =>
  c
    ? {
        connected: true,
        status: c.status,
        member: { id: c.memberId, fullName: c.memberName, username: c.memberUsername },
        webhookSecretSet: !!c.secretSealed,
        defaults: c.defaults,
        queueDefaults: c.queueDefaults,
        automation: c.automation,
        boardsWatched: Object.keys(c.webhooks).length,
        updatedAt: iso(c.updatedAt),
      }
    : { connected: false };

export const cardJson = (c: Card) => ({
  id: c.id,
  attendanceId: c.attendanceId,
  trelloId: c.trelloId,
  name: c.name,
  url: c.url,
  boardId: c.boardId,
  listId: c.listId,
  listName: c.listName,
  due: iso(c.due),
  labels: c.labels,
  memberIds: c.memberIds,
  closed: c.closed,
  status: c.status,
  error: c.error,
  attempts: c.attempts,
  createdAt: iso(c.createdAt),
  updatedAt: iso(c.updatedAt),
});

/** Trello settings (admins), pickers and cards (agents who may see the attendance), and the public board webhook. */
export function trelloRouter(svc: Trello, webhooks: TrelloWebhooks, helpdesk: HelpdeskApi) {
  const spec = <T extends object>(summary: string, role: 'agent' | 'admin', extra: T) => ({ summary, role, tags: ['trello'], ...extra });
  const visible = async (caller: Caller, attendanceId: string) => helpdesk.visibleAttendance(caller, attendanceId);

  return createRouter('/api/trello')
    .get('/connection', spec('Who is connected, the defaults and the automation (never the key, token or secret)', 'agent', {}), async (c) => connectionJson(await svc.connection(c.auth.accountId)))
    .put(
      '/connection',
      spec('Connects Trello: checked with Trello, stored encrypted', 'admin', {
        body: z
          .object({
            apiKey: z.string().trim().min(10).max(200),
            token: z.string().trim().min(10).max(500),
            appSecret: z.string().trim().min(10).max(500).nullable().optional().describe('the API key’s secret: signs the board webhooks (without it, changes in Trello do not come back)'),
          })
          .strict(),
      }),
      async (c) => connectionJson(await svc.connect(c.auth.accountId, c.body, `${c.koa.protocol}://${c.koa.host}`)),
    )
    .delete('/connection', spec('Disconnects Trello (cards stay, no more calls)', 'admin', {}), async (c) => {
      await svc.disconnect(c.auth.accountId);
    })
    .put(
      '/settings',
      spec('Default board, list, labels and members (per account and per queue) and what resolving does to the cards', 'admin', {
        body: z
          .object({
            defaults,
            queueDefaults: z.record(id, defaults).default({}),
            automation: z.object({ onResolve: z.enum(['none', 'comment', 'move']), listId: id.nullable().default(null) }).strict().refine((a) => a.onResolve !== 'move' || !!a.listId, { message: 'name the list cards move to', path: ['listId'] }),
          })
          .strict(),
      }),
      async (c) => connectionJson(await svc.saveSettings(c.auth.accountId, { defaults: c.body.defaults as CardDefaults, queueDefaults: c.body.queueDefaults as Record<string, CardDefaults>, automation: c.body.automation })),
    )
    .get('/boards', spec('The connected member’s open boards', 'agent', {}), async (c) => ({ boards: await svc.boards(c.auth.accountId) }))
    .get('/boards/:boardId/lists', spec('A board’s open lists', 'agent', { params: z.object({ boardId: id }).strict() }), async (c) => ({ lists: await svc.lists(c.auth.accountId, c.params.boardId) }))
    .get('/boards/:boardId/labels', spec('A board’s labels', 'agent', { params: z.object({ boardId: id }).strict() }), async (c) => ({ labels: await svc.labels(c.auth.accountId, c.params.boardId) }))
    .get('/boards/:boardId/members', spec('A board’s members', 'agent', { params: z.object({ boardId: id }).strict() }), async (c) => ({ members: await svc.members(c.auth.accountId, c.params.boardId) }))
    .get('/attendances/:id/cards', spec('The Trello cards of an attendance', 'agent', { params: attParams }), async (c) => {
      await visible(c.auth, c.params.id);
      return { cards: (await svc.cards(c.auth.accountId, c.params.id)).map(cardJson) };
    })
    .get('/attendances/:id/draft', spec('The card form prefilled: name, Markdown description with the transcript, defaults', 'agent', { params: attParams }), async (c) => svc.draft(c.auth, c.params.id))
    .post('/attendances/:id/cards', spec('Creates a card (answered at once, pending until Trello has it)', 'agent', { params: attParams, body: cardBody, status: 202 }), async (c) =>
      cardJson(await svc.create(c.auth, c.params.id, c.body)),
    )
    .post('/attendances/:id/cards/link', spec('Links an existing card by its URL', 'agent', { params: attParams, body: z.object({ url: z.string().url().max(500) }).strict(), status: 202 }), async (c) =>
      cardJson(await svc.linkExisting(c.auth, c.params.id, c.body.url)),
    )
    .post('/cards/:cardId/retry', spec('Tries a failed card again', 'agent', { params: z.object({ cardId: id }).strict(), status: 202 }), async (c) => cardJson(await svc.retry(c.auth, c.params.cardId)))
    // Trello checks a new webhook's callback with HEAD (answered by this GET route) and then POSTs deliveries.
    .get('/webhook/:accountId', { summary: 'Trello’s check of the webhook callback', auth: 'public', tags: ['trello'], params: z.object({ accountId: id }).strict() }, () => ({}))
    .post('/webhook/:accountId', { summary: 'A board webhook delivery (signed with X-Trello-Webhook)', auth: 'public', tags: ['trello'], params: z.object({ accountId: id }).strict() }, async (c) => {
      const raw = await getRawBody(c.koa.req, { limit: '1mb', encoding: 'utf8' });
      await webhooks.receive(c.params.accountId, raw, c.koa.get('x-trello-webhook') || undefined);
      return {};
    });
}
