import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import { conflict, forbidden, notFound, unauthorized, badRequest } from '../api/errors.js';
import { roleAtLeast, type Role } from '../api/roles.js';
import type { Caller } from '../api/routes.js';
import type { Cluster } from '../api/cluster.js';
import { AccountSchema, ApiKeySchema, SessionSchema, UserSchema, type Account, type ApiKey, type User } from './entities.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';

export const SESSION_COOKIE = 'plugchat_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
const API_KEY_PREFIX = 'pck_';

/** Node's one-shot digest: a third of the cost of a Hash object, on every request with an API key. */
export const sha256 = (s: string) => hash('sha256', s, 'hex');

export interface PublicUser {
  id: string;
  accountId: string;
  email: string;
  name: string;
  role: Role;
  operator: boolean;
  createdAt: string;
  disabled: boolean;
}

export function publicUser(u: User): PublicUser {
  return {
    id: u.id,
    accountId: u.accountId,
    email: u.email,
    name: u.name,
    role: u.role,
    operator: u.operator,
    createdAt: u.createdAt.toISOString(),
    disabled: !!u.disabledAt,
  };
}

export interface PublicApiKey {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
}

export function publicApiKey(k: ApiKey): PublicApiKey {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    role: k.role,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt ? k.lastUsedAt.toISOString() : null,
    revoked: !!k.revokedAt,
  };
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Accounts, users, sessions and API keys. Every method that reads by id takes the caller's account. */
export class IdentityService {
  /**
   * Resolved credentials, kept briefly so authenticated requests do not hit the
   * database every time. Any identity change clears it here and, through the cluster's
   * notifications, in the other processes (CACHE_TTL_MS bounds it should one be lost).
   */
  private readonly callerCache = new Map<string, { caller: Caller | null; until: number }>();
  static readonly CACHE_TTL_MS = 10_000;

  constructor(
    private readonly rootEm: EntityManager,
    private readonly cluster?: Cluster,
  ) {
    // A change made through another process (a revoked key, a disabled user) counts here at once.
    cluster?.on('core.identity', () => this.callerCache.clear());
    cluster?.on('core.resync', () => this.callerCache.clear());
  }

  /** A credential's caller as remembered, or undefined when it must be looked up. */
  private hit(key: string): Caller | null | undefined {
    const hit = this.callerCache.get(key);
    return hit && hit.until > Date.now() ? hit.caller : undefined;
  }

  private async cached(key: string, resolve: () => Promise<{ caller: Caller | null; expiresAt?: number }>): Promise<Caller | null> {
    const now = Date.now();
    const hit = this.hit(key);
    if (hit !== undefined) return hit;
    const { caller, expiresAt } = await resolve();
    if (this.callerCache.size >= 10_000) this.callerCache.clear();
    this.callerCache.set(key, { caller, until: Math.min(now + IdentityService.CACHE_TTL_MS, expiresAt ?? Infinity) });
    return caller;
  }

  /** Called after anything that can change who a credential belongs to or what it may do. */
  private forgetCallers(): void {
    this.callerCache.clear();
    void this.cluster?.broadcast('core.identity', {}).catch(() => {});
  }

  private em() {
    return this.rootEm.fork();
  }

  async userCount(): Promise<number> {
    return this.em().count(UserSchema, {});
  }

  async createAccount(name: string, owner: { email: string; name: string; password: string; operator?: boolean }): Promise<{ account: Account; user: User }> {
    const em = this.em();
    const email = normalizeEmail(owner.email);
    if (await em.count(UserSchema, { email })) throw conflict(`A user with email ${email} already exists.`, 'email_taken');
    const passwordHash = await hashPassword(owner.password);
    // The account row must exist before its user (foreign key), so flush in two steps inside one transaction.
    return em.transactional(async (tx) => {
      const account = tx.create(AccountSchema, { id: randomUUID(), name, createdAt: new Date() });
      await tx.flush();
      const user = tx.create(UserSchema, {
        id: randomUUID(),
        accountId: account.id,
        email,
        name: owner.name,
        passwordHash,
        role: 'owner',
        operator: owner.operator ?? false,
        createdAt: new Date(),
        disabledAt: null,
      });
      await tx.flush();
      return { account, user };
    });
  }

  async getAccount(id: string): Promise<Account | null> {
    return this.em().findOne(AccountSchema, { id });
  }

  async listAccounts(): Promise<Account[]> {
    return this.em().find(AccountSchema, {}, { orderBy: { createdAt: 'asc' } });
  }

  /** Returns a new session token (only its hash is stored) or throws 401. */
  async login(emailIn: string, password: string): Promise<{ token: string; user: User }> {
    const em = this.em();
    const email = normalizeEmail(emailIn);
    const user = await em.findOne(UserSchema, { email }, { populate: ['passwordHash'] });
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok || user.disabledAt) throw unauthorized('Email or password is incorrect.');
    const token = randomBytes(32).toString('base64url');
    // The user's expired sessions go as they sign in again, so the table holds live ones (and at most
    // the last few of someone who stopped signing in), not every sign-in ever.
    await em.nativeDelete(SessionSchema, { userId: user.id, expiresAt: { $lt: new Date() } });
    em.create(SessionSchema, {
      id: randomUUID(),
      tokenHash: sha256(token),
      userId: user.id,
      accountId: user.accountId,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + SESSION_TTL_MS),
    });
    await em.flush();
    return { token, user };
  }

  async logout(token: string): Promise<void> {
    await this.em().nativeDelete(SessionSchema, { tokenHash: sha256(token) });
    this.forgetCallers();
  }

  /** The caller of a session token; a remembered one without a promise, as for API keys. */
  callerFromSession(token: string): Caller | null | Promise<Caller | null> {
    const tokenHash = sha256(token);
    const hit = this.hit(`s:${tokenHash}`);
    if (hit !== undefined) return hit;
    return this.cached(`s:${tokenHash}`, async () => {
      const em = this.em();
      const session = await em.findOne(SessionSchema, { tokenHash });
      if (!session || session.expiresAt.getTime() < Date.now()) return { caller: null };
      const user = await em.findOne(UserSchema, { id: session.userId });
      if (!user || user.disabledAt) return { caller: null };
      return {
        caller: { accountId: user.accountId, userId: user.id, role: user.role, via: 'session', operator: user.operator },
        expiresAt: session.expiresAt.getTime(),
      };
    });
  }

  /**
   * The caller of an API key; a remembered one without a promise (a request pays for each promise
   * it makes, with the async context hooks on).
   */
  callerFromApiKey(key: string): Caller | null | Promise<Caller | null> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const keyHash = sha256(key);
    const hit = this.hit(`k:${keyHash}`);
    if (hit !== undefined) return hit;
    return this.cached(`k:${keyHash}`, async () => {
      const em = this.em();
      const apiKey = await em.findOne(ApiKeySchema, { keyHash });
      if (!apiKey || apiKey.revokedAt) return { caller: null };
      // Record use at most once a minute so a busy integration does not write on every request.
      if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > 60_000) {
        apiKey.lastUsedAt = new Date();
        await em.flush();
      }
      return { caller: { accountId: apiKey.accountId, apiKeyId: apiKey.id, role: apiKey.role, via: 'apiKey', operator: false } };
    });
  }

  async me(caller: Caller): Promise<{ user: PublicUser | null; account: Account }> {
    const em = this.em();
    const account = await em.findOneOrFail(AccountSchema, { id: caller.accountId });
    const user = caller.userId ? await em.findOne(UserSchema, { id: caller.userId, accountId: caller.accountId }) : null;
    return { user: user ? publicUser(user) : null, account };
  }

  /** The account's users for other plugins: no password hashes, disabled ones flagged. */
  async directory(accountId: string): Promise<{ id: string; name: string; email: string; role: Role; disabled: boolean }[]> {
    const users = await this.em().find(UserSchema, { accountId }, { orderBy: { createdAt: 'asc' } });
    return users.map((u) => ({ id: u.id, name: u.name, email: u.email, role: u.role, disabled: !!u.disabledAt }));
  }

  async listUsers(caller: Caller): Promise<User[]> {
    return this.em().find(UserSchema, { accountId: caller.accountId }, { orderBy: { createdAt: 'asc' } });
  }

  async getUser(caller: Caller, id: string): Promise<User> {
    const user = await this.em().findOne(UserSchema, { id, accountId: caller.accountId });
    if (!user) throw notFound('User');
    return user;
  }

  private assertCanGrant(caller: Caller, role: Role) {
    if (!roleAtLeast(caller.role, role)) throw forbidden(`A ${caller.role} cannot give the ${role} role.`);
  }

  async createUser(caller: Caller, input: { email: string; name: string; password: string; role: Role }): Promise<User> {
    this.assertCanGrant(caller, input.role);
    const em = this.em();
    const email = normalizeEmail(input.email);
    if (await em.count(UserSchema, { email })) throw conflict(`A user with email ${email} already exists.`, 'email_taken');
    const user = em.create(UserSchema, {
      id: randomUUID(),
      accountId: caller.accountId,
      email,
      name: input.name,
      passwordHash: await hashPassword(input.password),
      role: input.role,
      operator: false,
      createdAt: new Date(),
      disabledAt: null,
    });
    await em.flush();
    return user;
  }

  async updateUser(caller: Caller, id: string, input: { name?: string; role?: Role; password?: string; disabled?: boolean }): Promise<User> {
    const em = this.em();
    const user = await em.findOne(UserSchema, { id, accountId: caller.accountId });
    if (!user) throw notFound('User');
    if (!roleAtLeast(caller.role, user.role)) throw forbidden(`A ${caller.role} cannot change a ${user.role}.`);
    if (input.role && input.role !== user.role) {
      this.assertCanGrant(caller, input.role);
      if (user.role === 'owner') await this.assertAnotherOwner(em, user);
      user.role = input.role;
    }
    if (input.disabled !== undefined) {
      if (input.disabled && user.id === caller.userId) throw badRequest('You cannot disable yourself.', [{ path: 'body.disabled', message: 'cannot disable yourself' }]);
      if (input.disabled && user.role === 'owner') await this.assertAnotherOwner(em, user);
      user.disabledAt = input.disabled ? new Date() : null;
      if (input.disabled) await em.nativeDelete(SessionSchema, { userId: user.id });
    }
    if (input.name) user.name = input.name;
    if (input.password) {
      user.passwordHash = await hashPassword(input.password);
      await em.nativeDelete(SessionSchema, { userId: user.id });
    }
    await em.flush();
    this.forgetCallers();
    return user;
  }

  private async assertAnotherOwner(em: EntityManager, user: User) {
    const owners = await em.count(UserSchema, { accountId: user.accountId, role: 'owner', disabledAt: null });
    if (owners <= 1) throw conflict('An account needs at least one active owner.', 'last_owner');
  }

  async listApiKeys(caller: Caller): Promise<ApiKey[]> {
    return this.em().find(ApiKeySchema, { accountId: caller.accountId }, { orderBy: { createdAt: 'asc' } });
  }

  /** The full key is returned here once and never again. */
  async createApiKey(caller: Caller, input: { name: string; role: Role }): Promise<{ key: string; apiKey: ApiKey }> {
    this.assertCanGrant(caller, input.role);
    const em = this.em();
    const key = API_KEY_PREFIX + randomBytes(24).toString('base64url');
    const apiKey = em.create(ApiKeySchema, {
      id: randomUUID(),
      accountId: caller.accountId,
      name: input.name,
      prefix: key.slice(0, 10),
      keyHash: sha256(key),
      role: input.role,
      createdBy: caller.userId ?? null,
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    });
    await em.flush();
    return { key, apiKey };
  }

  async revokeApiKey(caller: Caller, id: string): Promise<ApiKey> {
    const em = this.em();
    const apiKey = await em.findOne(ApiKeySchema, { id, accountId: caller.accountId });
    if (!apiKey) throw notFound('API key');
    if (!apiKey.revokedAt) {
      apiKey.revokedAt = new Date();
      await em.flush();
      this.forgetCallers();
    }
    return apiKey;
  }
}
