import { randomUUID } from 'node:crypto';
import { badRequest, conflict, HttpError, notFound, type Caller, type Clock, type EntityManager, type JobHandle, type JobInfo, type PluginContext } from '@plugchat/core';
import type { HelpdeskApi } from '@plugchat/helpdesk';
import { TrelloError, type TrelloAuth, type TrelloCardJson, type TrelloClient } from '../client.js';
import { CardSchema, ConnectionSchema, type Card, type CardDefaults, type Connection } from '../entities.js';
import type { Settings } from '../settings.js';
import { cardDescription } from './description.js';

type Resolved = import('@plugchat/core').EventMap['helpdesk.attendance.resolved'];
export type CallJob = { accountId: string; cardId: string; op: 'create' | 'link' | 'comment' | 'move'; text?: string; listId?: string };
export interface CardInput {
  listId: string;
  name: string;
  desc: string;
  due?: string | null;
  labelIds: string[];
  memberIds: string[];
}

const EMPTY: CardDefaults = { boardId: null, listId: null, labelIds: [], memberIds: [] };
const SHORT_LINK = /trello\.com\/c\/([A-Za-z0-9]{6,12})/;

/**
 * Trello for one installation: connections (sealed credentials), cards of attendances, the calls
 * behind them (a job each, retried with backoff; 401 marks the connection revoked), and the board
 * webhooks that bring moves and comments back.
 */
export class Trello {
  constructor(
    private readonly ctx: PluginContext<Settings>,
    readonly clock: Clock,
    private readonly client: TrelloClient,
    private readonly helpdesk: HelpdeskApi,
    private readonly jobs: () => JobHandle<CallJob>,
  ) {}

  em(accountId: string): EntityManager {
    return this.ctx.db.forAccount(accountId);
  }

  connection(accountId: string): Promise<Connection | null> {
    return this.em(accountId).findOne(ConnectionSchema, { accountId }, { refresh: true });
  }

  private async connected(accountId: string): Promise<{ conn: Connection; auth: TrelloAuth }> {
    const conn = await this.connection(accountId);
    if (!conn) throw conflict('Trello is not connected. An admin connects it under Trello settings.', 'trello_not_connected');
    if (conn.status === 'revoked') throw conflict('Trello refused the token (revoked or expired). An admin must reconnect Trello under Trello settings.', 'trello_revoked');
    return { conn, auth: { key: this.ctx.secrets.decrypt(conn.apiKeySealed), token: this.ctx.secrets.decrypt(conn.tokenSealed) } };
  }

  /** A Trello failure in a request the user waits for, as an error that says what to do. */
  private async userCall<T>(accountId: string, fn: (auth: TrelloAuth) => Promise<T>): Promise<T> {
    const { auth } = await this.connected(accountId);
    try {
      return await fn(auth);
    } catch (err) {
      if (!(err instanceof TrelloError)) throw err;
      if (err.revoked) await this.markRevoked(accountId);
      if (err.status === 404) throw notFound('Trello board or list');
      throw new HttpError(err.revoked ? 409 : 502, err.revoked ? 'trello_revoked' : 'trello_failed', err.message);
    }
  }

  private async markRevoked(accountId: string) {
    await this.em(accountId).nativeUpdate(ConnectionSchema, { accountId }, { status: 'revoked', updatedAt: this.clock.now() });
  }

  /** Checks the credentials with Trello (who is this member?) and keeps them sealed. */
  async connect(accountId: string, input: { apiKey: string; token: string; appSecret?: string | null }, baseUrl: string): Promise<Connection> {
    let me: { id: string; fullName: string; username: string };
    try {
      me = await this.client.call({ key: input.apiKey, token: input.token }, 'GET', '/members/me', { fields: 'fullName,username' });
    } catch (err) {
      if (err instanceof TrelloError && (err.status === 401 || err.status === 400))
        throw badRequest('Trello did not accept this API key and token. Copy both again from https://trello.com/power-ups/admin and the token page.', [{ path: 'body.token', message: 'not accepted by Trello' }], 'trello_unauthorized');
      if (err instanceof TrelloError) throw new HttpError(502, 'trello_failed', err.message);
      throw err;
    }
    const em = this.em(accountId);
    const now = this.clock.now();
    const old = await this.connection(accountId);
    const conn: Connection = {
      accountId,
      apiKeySealed: this.ctx.secrets.encrypt(input.apiKey),
      tokenSealed: this.ctx.secrets.encrypt(input.token),
      secretSealed: input.appSecret ? this.ctx.secrets.encrypt(input.appSecret) : (old?.secretSealed ?? null),
      memberId: me.id,
      memberName: me.fullName,
      memberUsername: me.username,
      status: 'connected',
      baseUrl,
      defaults: old?.defaults ?? EMPTY,
      queueDefaults: old?.queueDefaults ?? {},
      automation: old?.automation ?? { onResolve: 'none', listId: null },
      // Another member's token cannot manage the old webhooks: create them again as needed.
      webhooks: old && old.memberId === me.id ? old.webhooks : {},
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
    };
    await em.upsert(ConnectionSchema, conn);
    return conn;
  }

  async disconnect(accountId: string) {
    await this.em(accountId).nativeDelete(ConnectionSchema, { accountId });
  }

  async saveSettings(accountId: string, patch: Pick<Connection, 'defaults' | 'queueDefaults' | 'automation'>) {
    await this.connected(accountId);
    await this.em(accountId).nativeUpdate(ConnectionSchema, { accountId }, { ...patch, updatedAt: this.clock.now() });
    return (await this.connection(accountId))!;
  }

  boards(accountId: string) {
    return this.userCall(accountId, (a) => this.client.call<{ id: string; name: string; url: string }[]>(a, 'GET', '/members/me/boards', { filter: 'open', fields: 'name,url' }));
  }
  lists(accountId: string, boardId: string) {
    return this.userCall(accountId, (a) => this.client.call<{ id: string; name: string }[]>(a, 'GET', `/boards/${encodeURIComponent(boardId)}/lists`, { filter: 'open', fields: 'name' }));
  }
  labels(accountId: string, boardId: string) {
    return this.userCall(accountId, (a) => this.client.call<{ id: string; name: string; color: string | null }[]>(a, 'GET', `/boards/${encodeURIComponent(boardId)}/labels`, { fields: 'name,color' }));
  }
  members(accountId: string, boardId: string) {
    return this.userCall(accountId, (a) => this.client.call<{ id: string; fullName: string; username: string }[]>(a, 'GET', `/boards/${encodeURIComponent(boardId)}/members`));
  }

  /** The link back to the attendance; the card's row id marks it, so a retry finds a card it already made. */
  private link(conn: Connection, attendanceId: string, cardId: string) {
    return `${this.baseUrl(conn)}/inbox/${attendanceId}?trelloCard=${cardId}`;
  }

  /** This server as Trello and browsers reach it: the setting, else the address the admin connected from. */
  private baseUrl(conn: Connection) {
    return (this.ctx.settings.get('trello.publicBaseUrl') || conn.baseUrl).replace(/\/$/, '');
  }

  /** The form prefilled: name "[#n] contact – first line", the Markdown description, the queue's or account's defaults. */
  async draft(caller: Caller, attendanceId: string, cardId: string = randomUUID()) {
    const att = await this.helpdesk.visibleAttendance(caller, attendanceId);
    const { conn } = await this.connected(caller.accountId);
    const [lines, queues, people, zone] = await Promise.all([
      this.helpdesk.transcript(caller.accountId, attendanceId),
      this.helpdesk.queues(caller.accountId),
      this.ctx.users.list(caller.accountId),
      this.helpdesk.timeZone(caller.accountId),
    ]);
    const contactName = att.contactName ?? `+${att.phone}`;
    const first = lines.find((l) => l.direction === 'in' && l.text)?.text.replace(/\s+/g, ' ').trim() ?? '';
    const name = `[#${att.number}] ${contactName} – ${first}`.slice(0, 200).trim();
    const defaults = (att.queueId && conn.queueDefaults[att.queueId]?.listId ? conn.queueDefaults[att.queueId] : conn.defaults) ?? EMPTY;
    const desc = cardDescription({
      contactName,
      phone: att.phone,
      number: att.number,
      queueName: queues.find((q) => q.id === att.queueId)?.name ?? null,
      agentName: people.find((u) => u.id === att.assigneeId)?.name ?? null,
      link: this.link(conn, attendanceId, cardId),
      lines,
      timeZone: zone,
    });
    return { cardId, name, desc, boardId: defaults.boardId, listId: defaults.listId, labelIds: defaults.labelIds, memberIds: defaults.memberIds, due: null as string | null };
  }

  /** Queues the card's creation: answered at once with the card pending; the job talks to Trello. */
  async create(caller: Caller, attendanceId: string, input: Partial<CardInput> & { cardId?: string }): Promise<Card> {
    const draft = await this.draft(caller, attendanceId, input.cardId);
    const listId = input.listId ?? draft.listId;
    if (!listId) throw badRequest('Choose the Trello list the card goes to.', [{ path: 'body.listId', message: 'required (no default list is set)' }]);
    const now = this.clock.now();
    const card: Card = {
      id: draft.cardId,
      accountId: caller.accountId,
      attendanceId,
      trelloId: null,
      shortLink: null,
      url: null,
      name: input.name ?? draft.name,
      boardId: draft.boardId,
      listId,
      listName: null,
      due: input.due ? new Date(input.due) : null,
      labels: [],
      memberIds: input.memberIds ?? draft.memberIds,
      closed: false,
      status: 'pending',
      error: null,
      attempts: 0,
      request: { op: 'create', idList: listId, name: input.name ?? draft.name, desc: (input.desc ?? draft.desc).slice(0, 16_384), due: input.due ?? null, idLabels: input.labelIds ?? draft.labelIds, idMembers: input.memberIds ?? draft.memberIds },
      createdBy: caller.userId ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await this.em(caller.accountId).insert(CardSchema, card);
    await this.jobs().send({ accountId: caller.accountId, cardId: card.id, op: 'create' });
    return card;
  }

  /** Ties an existing card (its URL) to the attendance. */
  async linkExisting(caller: Caller, attendanceId: string, url: string): Promise<Card> {
    await this.helpdesk.visibleAttendance(caller, attendanceId);
    await this.connected(caller.accountId);
    const shortLink = SHORT_LINK.exec(url)?.[1];
    if (!shortLink) throw badRequest('That is not a Trello card link (https://trello.com/c/…).', [{ path: 'body.url', message: 'not a trello.com/c/ link' }]);
    const now = this.clock.now();
    const card: Card = {
      id: randomUUID(), accountId: caller.accountId, attendanceId, trelloId: null, shortLink, url, name: url, boardId: null, listId: null, listName: null, due: null,
      labels: [], memberIds: [], closed: false, status: 'pending', error: null, attempts: 0, request: { op: 'link', shortLink }, createdBy: caller.userId ?? null, createdAt: now, updatedAt: now,
    };
    await this.em(caller.accountId).insert(CardSchema, card);
    await this.jobs().send({ accountId: caller.accountId, cardId: card.id, op: 'link' });
    return card;
  }

  /** Tries a failed card again. */
  async retry(caller: Caller, cardId: string): Promise<Card> {
    const card = await this.em(caller.accountId).findOne(CardSchema, { id: cardId });
    if (!card) throw notFound('Card');
    await this.helpdesk.visibleAttendance(caller, card.attendanceId);
    if (card.status !== 'failed') throw conflict('Only a card that failed can be tried again.', 'card_not_failed');
    await this.connected(caller.accountId);
    await this.em(caller.accountId).nativeUpdate(CardSchema, { id: cardId }, { status: 'pending', error: null, updatedAt: this.clock.now() });
    await this.jobs().send({ accountId: caller.accountId, cardId, op: card.request.op === 'link' ? 'link' : 'create' });
    return (await this.em(caller.accountId).findOne(CardSchema, { id: cardId }, { refresh: true }))!;
  }

  cards(accountId: string, attendanceId: string) {
    return this.em(accountId).find(CardSchema, { attendanceId }, { orderBy: { createdAt: 'desc' } });
  }

  // ------------------------------------------------------------------ the job

  /** One Trello call. Throws to have the queue retry it (429, 5xx, network), within trello.maxAttempts. */
  async run(job: CallJob, info: JobInfo): Promise<void> {
    const em = this.em(job.accountId);
    const card = await em.findOne(CardSchema, { id: job.cardId });
    if (!card) return;
    const conn = await this.connection(job.accountId);
    if (!conn || conn.status === 'revoked') {
      if (card.status === 'pending') await this.fail(card, conn ? 'Trello refused the token. An admin must reconnect Trello.' : 'Trello is not connected.');
      return;
    }
    const auth = { key: this.ctx.secrets.decrypt(conn.apiKeySealed), token: this.ctx.secrets.decrypt(conn.tokenSealed) };
    await em.nativeUpdate(CardSchema, { id: card.id }, { attempts: card.attempts + 1, updatedAt: this.clock.now() });
    try {
      if (job.op === 'create') await this.createNow(conn, auth, card, info);
      else if (job.op === 'link') await this.linkNow(conn, auth, card);
      else if (job.op === 'comment' && card.trelloId) await this.client.call(auth, 'POST', `/cards/${card.trelloId}/actions/comments`, { text: job.text });
      else if (job.op === 'move' && card.trelloId && job.listId) {
        const moved = await this.client.call<TrelloCardJson>(auth, 'PUT', `/cards/${card.trelloId}`, { idList: job.listId });
        await this.saveCard(conn, auth, card, moved);
      }
    } catch (err) {
      if (!(err instanceof TrelloError)) throw err;
      await em.nativeUpdate(CardSchema, { id: card.id }, { error: err.message, updatedAt: this.clock.now() });
      if (err.revoked) {
        await this.markRevoked(job.accountId);
        if (card.status === 'pending') await this.fail(card, err.message);
        this.ctx.logger.warn({ account: job.accountId }, 'Trello token revoked; an admin must reconnect');
        return;
      }
      const max = this.ctx.settings.get('trello.maxAttempts');
      if (err.retry && info.retryCount + 1 < max) throw err;
      if (card.status === 'pending') await this.fail(card, err.message);
      this.ctx.logger.warn({ account: job.accountId, card: card.id, op: job.op, status: err.status }, 'Trello call given up');
    }
  }

  private async fail(card: Card, error: string) {
    await this.em(card.accountId).nativeUpdate(CardSchema, { id: card.id, status: 'pending' }, { status: 'failed', error, updatedAt: this.clock.now() });
  }

  private async createNow(conn: Connection, auth: TrelloAuth, card: Card, info: JobInfo) {
    if (card.status === 'created') return;
    const r = card.request as { idList: string; name: string; desc: string; due: string | null; idLabels: string[]; idMembers: string[] };
    const urlSource = this.link(conn, card.attendanceId, card.id);
    // A retry after a call whose answer was lost: the card may exist already (its link names this row).
    if (info.retryCount > 0 || card.attempts > 0) {
      const inList = await this.client.call<TrelloCardJson[]>(auth, 'GET', `/lists/${r.idList}/cards`, { fields: 'id,name,desc,shortLink,shortUrl,url,idBoard,idList,due,closed,idMembers,labels' });
      const found = inList.find((c) => c.desc?.includes(`trelloCard=${card.id}`));
      if (found) return this.saveCard(conn, auth, card, found, true);
    }
    const created = await this.client.call<TrelloCardJson>(auth, 'POST', '/cards', {
      idList: r.idList,
      name: r.name,
      desc: r.desc,
      pos: 'top',
      due: r.due,
      idLabels: r.idLabels.length ? r.idLabels.join(',') : undefined,
      idMembers: r.idMembers.length ? r.idMembers.join(',') : undefined,
      urlSource,
    });
    await this.saveCard(conn, auth, card, created, true);
  }

  private async linkNow(conn: Connection, auth: TrelloAuth, card: Card) {
    const json = await this.client.call<TrelloCardJson>(auth, 'GET', `/cards/${(card.request as { shortLink: string }).shortLink}`, { fields: 'id,name,shortLink,shortUrl,url,idBoard,idList,due,closed,idMembers,labels' });
    await this.saveCard(conn, auth, card, json, true);
  }

  /** Keeps Trello's view of the card; the first time, records it in the attendance and watches its board. */
  private async saveCard(conn: Connection, auth: TrelloAuth, card: Card, json: TrelloCardJson, first = false) {
    const list = await this.client.call<{ name: string }>(auth, 'GET', `/lists/${json.idList}`, { fields: 'name' }).catch(() => ({ name: null }));
    await this.em(card.accountId).nativeUpdate(
      CardSchema,
      { id: card.id },
      {
        trelloId: json.id, shortLink: json.shortLink, url: json.shortUrl ?? json.url, name: json.name, boardId: json.idBoard, listId: json.idList, listName: list.name,
        due: json.due ? new Date(json.due) : null, labels: json.labels ?? card.labels, memberIds: json.idMembers ?? card.memberIds, closed: !!json.closed, status: 'created', error: null, updatedAt: this.clock.now(),
      },
    );
    if (!first) return;
    await this.helpdesk.recordActivity(card.accountId, card.attendanceId, card.request.op === 'link' ? 'trello_card_linked' : 'trello_card_created', { name: json.name, url: json.shortUrl ?? json.url, list: list.name }, card.createdBy);
    await this.watchBoard(conn, auth, json.idBoard);
  }

  callbackUrl(conn: Connection) {
    return `${this.baseUrl(conn)}/api/trello/webhook/${conn.accountId}`;
  }

  /** One Trello webhook per board, created with the first card on it (Trello checks it with HEAD first). */
  private async watchBoard(conn: Connection, auth: TrelloAuth, boardId: string) {
    const fresh = (await this.connection(conn.accountId))!;
    if (fresh.webhooks[boardId] || !fresh.secretSealed) return;
    try {
      const hook = await this.client.call<{ id: string }>(auth, 'POST', '/webhooks', { callbackURL: this.callbackUrl(fresh), idModel: boardId, description: 'PlugChat: cards of attendances' });
      await this.em(conn.accountId).nativeUpdate(ConnectionSchema, { accountId: conn.accountId }, { webhooks: { ...fresh.webhooks, [boardId]: hook.id } });
    } catch (err) {
      this.ctx.logger.warn({ err: err instanceof TrelloError ? err.message : err, board: boardId }, 'could not create the Trello webhook; moves and comments will not come back');
    }
  }

  /** Resolved: comment the resolution on the attendance's cards, or move them, as the account chose. */
  async onResolved(e: Resolved): Promise<void> {
    const conn = await this.connection(e.accountId);
    if (!conn || conn.status !== 'connected' || conn.automation.onResolve === 'none') return;
    const cards = (await this.cards(e.accountId, e.attendanceId)).filter((c) => c.status === 'created' && !c.closed);
    const who = e.byUserId ? (await this.ctx.users.list(e.accountId)).find((u) => u.id === e.byUserId)?.name : undefined;
    for (const card of cards) {
      if (conn.automation.onResolve === 'comment') await this.jobs().send({ accountId: e.accountId, cardId: card.id, op: 'comment', text: `Atendimento #${e.number} resolvido${who ? ` por ${who}` : ''}.` });
      else if (conn.automation.listId) await this.jobs().send({ accountId: e.accountId, cardId: card.id, op: 'move', listId: conn.automation.listId });
    }
  }
}
