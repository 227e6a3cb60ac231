import { EntitySchema } from '@mikro-orm/core';
import type { Role } from '../api/roles.js';

export interface Account {
  id: string;
  name: string;
  createdAt: Date;
}

export interface User {
  id: string;
  accountId: string;
  /** Fixed once created: it is the login. */
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  operator: boolean;
  createdAt: Date;
  disabledAt?: Date | null;
}

export interface Session {
  id: string;
  tokenHash: string;
  userId: string;
  accountId: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface ApiKey {
  id: string;
  accountId: string;
  name: string;
  /** The first characters, so a user can tell keys apart; the rest is only hashed. */
  prefix: string;
  keyHash: string;
  role: Role;
  createdBy?: string | null;
  createdAt: Date;
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
}

const date = { type: 'Date' } as const;

export const AccountSchema = new EntitySchema<Account>({
  name: 'CoreAccount',
  tableName: 'core_accounts',
  properties: {
    id: { type: 'string', primary: true },
    name: { type: 'string' },
    createdAt: { ...date, fieldName: 'created_at' },
  },
});

export const UserSchema = new EntitySchema<User>({
  name: 'CoreUser',
  tableName: 'core_users',
  properties: {
    id: { type: 'string', primary: true },
    accountId: { type: 'string', fieldName: 'account_id' },
    email: { type: 'string' },
    name: { type: 'string' },
    passwordHash: { type: 'string', fieldName: 'password_hash', lazy: true, hidden: true },
    role: { type: 'string' },
    operator: { type: 'boolean' },
    createdAt: { ...date, fieldName: 'created_at' },
    disabledAt: { ...date, fieldName: 'disabled_at', nullable: true },
  },
});

export const SessionSchema = new EntitySchema<Session>({
  name: 'CoreSession',
  tableName: 'core_sessions',
  properties: {
    id: { type: 'string', primary: true },
    tokenHash: { type: 'string', fieldName: 'token_hash' },
    userId: { type: 'string', fieldName: 'user_id' },
    accountId: { type: 'string', fieldName: 'account_id' },
    createdAt: { ...date, fieldName: 'created_at' },
    expiresAt: { ...date, fieldName: 'expires_at' },
  },
});

export const ApiKeySchema = new EntitySchema<ApiKey>({
  name: 'CoreApiKey',
  tableName: 'core_api_keys',
  properties: {
    id: { type: 'string', primary: true },
    accountId: { type: 'string', fieldName: 'account_id' },
    name: { type: 'string' },
    prefix: { type: 'string' },
    keyHash: { type: 'string', fieldName: 'key_hash', hidden: true },
    role: { type: 'string' },
    createdBy: { type: 'string', fieldName: 'created_by', nullable: true },
    createdAt: { ...date, fieldName: 'created_at' },
    lastUsedAt: { ...date, fieldName: 'last_used_at', nullable: true },
    revokedAt: { ...date, fieldName: 'revoked_at', nullable: true },
  },
});

export const identityEntities = [AccountSchema, UserSchema, SessionSchema, ApiKeySchema];
