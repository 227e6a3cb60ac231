import { EntitySchema, tenantScoped } from '@plugchat/core';

/** Trello's domain model: MikroORM entity schemas over the tables of migrations.ts. */

const date = { type: 'Date' } as const;
const optDate = { type: 'Date', nullable: true } as const;
const str = { type: 'string' } as const;
const optStr = { type: 'string', nullable: true } as const;
const col = (fieldName: string) => ({ fieldName });

/** Where new cards go, for the account or one queue. */
export interface CardDefaults {
  boardId: string | null;
  listId: string | null;
  labelIds: string[];
  memberIds: string[];
}

export interface Automation {
  /** What happens to an attendance's cards when it is resolved. */
  onResolve: 'none' | 'comment' | 'move';
  /** The list cards move to (onResolve "move"). */
  listId: string | null;
}

/** An account's Trello connection. The key, token and secret are sealed with the core's secrets. */
export interface Connection {
  accountId: string;
  apiKeySealed: string;
  tokenSealed: string;
  secretSealed: string | null;
  memberId: string;
  memberName: string;
  memberUsername: string;
  /** revoked: Trello answered 401; an admin must reconnect. */
  status: 'connected' | 'revoked';
  /** The address links back to attendances use (captured when an admin connected). */
  baseUrl: string;
  defaults: CardDefaults;
  queueDefaults: Record<string, CardDefaults>;
  automation: Automation;
  /** Board id → the Trello webhook that reports its changes. */
  webhooks: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}
export const ConnectionSchema = new EntitySchema<Connection>({
  name: 'TrelloConnection',
  tableName: 'trello_connections',
  ...tenantScoped,
  properties: {
    accountId: { ...str, primary: true, ...col('account_id') },
    apiKeySealed: { type: 'text', ...col('api_key_sealed') },
    tokenSealed: { type: 'text', ...col('token_sealed') },
    secretSealed: { type: 'text', nullable: true, ...col('secret_sealed') },
    memberId: { ...str, ...col('member_id') },
    memberName: { ...str, ...col('member_name') },
    memberUsername: { ...str, ...col('member_username') },
    status: str,
    baseUrl: { ...str, ...col('base_url') },
    defaults: { type: 'json' },
    queueDefaults: { type: 'json', ...col('queue_defaults') },
    automation: { type: 'json' },
    webhooks: { type: 'json' },
    createdAt: { ...date, ...col('created_at') },
    updatedAt: { ...date, ...col('updated_at') },
  },
});

export type CardStatus = 'pending' | 'created' | 'failed';

/** A Trello card tied to an attendance, as the panel shows it. */
export interface Card {
  id: string;
  accountId: string;
  attendanceId: string;
  /** Trello's id once created or linked. */
  trelloId: string | null;
  shortLink: string | null;
  url: string | null;
  name: string;
  boardId: string | null;
  listId: string | null;
  listName: string | null;
  due: Date | null;
  labels: { id: string; name: string; color: string | null }[];
  memberIds: string[];
  closed: boolean;
  status: CardStatus;
  error: string | null;
  attempts: number;
  /** What was asked of Trello (the create fields, or the link). */
  request: Record<string, unknown>;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export const CardSchema = new EntitySchema<Card>({
  name: 'TrelloCard',
  tableName: 'trello_cards',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    attendanceId: { ...str, ...col('attendance_id') },
    trelloId: { ...optStr, ...col('trello_id') },
    shortLink: { ...optStr, ...col('short_link') },
    url: optStr,
    name: { type: 'text' },
    boardId: { ...optStr, ...col('board_id') },
    listId: { ...optStr, ...col('list_id') },
    listName: { ...optStr, ...col('list_name') },
    due: optDate,
    labels: { type: 'json' },
    memberIds: { type: 'json', ...col('member_ids') },
    closed: { type: 'boolean' },
    status: str,
    error: { type: 'text', nullable: true },
    attempts: { type: 'integer' },
    request: { type: 'json' },
    createdBy: { ...optStr, ...col('created_by') },
    createdAt: { ...date, ...col('created_at') },
    updatedAt: { ...date, ...col('updated_at') },
  },
});

export const trelloEntities = [ConnectionSchema, CardSchema];
