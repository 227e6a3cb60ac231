import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest, HttpError, type PluginSecrets } from '@plugchat/core';
import type { HelpdeskApi } from '@plugchat/helpdesk';
import { CardSchema, type Card } from '../entities.js';
import type { Trello } from './trello.js';

/** Back from Trello: a board webhook's deliveries, verified, update the cards and the attendances' activity logs. */
export class TrelloWebhooks {
  constructor(
    private readonly trello: Trello,
    private readonly secrets: PluginSecrets,
    private readonly helpdesk: HelpdeskApi,
  ) {}

  /** A delivery of a board webhook: verified (HMAC-SHA1 of body + callback URL, constant time), then applied. */
  async receive(accountId: string, raw: string, signature: string | undefined): Promise<void> {
    const conn = await this.trello.connection(accountId);
    if (!conn?.secretSealed || !signature) throw new HttpError(401, 'bad_signature', 'Unsigned Trello webhook refused.');
    const expected = createHmac('sha1', this.secrets.decrypt(conn.secretSealed)).update(raw + this.trello.callbackUrl(conn)).digest();
    const given = Buffer.from(signature, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpError(401, 'bad_signature', 'The Trello webhook signature does not match.');
    let body: { action?: { type?: string; data?: Record<string, any>; memberCreator?: { fullName?: string } } };
    try {
      body = JSON.parse(raw);
    } catch {
      throw badRequest('The webhook body is not JSON.');
    }
    const action = body.action;
    const trelloId = action?.data?.card?.id as string | undefined;
    if (!action?.type || !trelloId) return;
    const em = this.trello.em(accountId);
    const cards = await em.find(CardSchema, { trelloId });
    const by = action.memberCreator?.fullName ?? null;
    for (const card of cards) {
      if (action.type === 'updateCard') {
        const d = action.data!;
        const patch: Partial<Card> = { updatedAt: this.trello.clock.now() };
        if (d.listAfter) Object.assign(patch, { listId: d.listAfter.id, listName: d.listAfter.name });
        if (d.card.name !== undefined && d.old?.name !== undefined) patch.name = d.card.name;
        if (d.old && 'due' in d.old) patch.due = d.card.due ? new Date(d.card.due) : null;
        if (d.old && 'closed' in d.old) patch.closed = !!d.card.closed;
        await em.nativeUpdate(CardSchema, { id: card.id }, patch);
        if (d.listAfter) await this.helpdesk.recordActivity(accountId, card.attendanceId, 'trello_card_moved', { name: patch.name ?? card.name, from: d.listBefore?.name ?? null, to: d.listAfter.name, by });
        else if ('closed' in patch) await this.helpdesk.recordActivity(accountId, card.attendanceId, patch.closed ? 'trello_card_archived' : 'trello_card_restored', { name: card.name, by });
      } else if (action.type === 'commentCard') {
        await this.helpdesk.recordActivity(accountId, card.attendanceId, 'trello_card_comment', { name: card.name, text: String(action.data?.text ?? '').slice(0, 1000), by });
      }
    }
  }
}
