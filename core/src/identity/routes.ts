import { z } from 'zod';
import type { Context } from 'koa';
import { createRouter } from '../api/routes.js';
import { conflict, tooManyRequests } from '../api/errors.js';
import { ROLES } from '../api/roles.js';
import type { EventBus } from '../contributions/events.js';
import { PASSWORD_MIN_LENGTH } from './passwords.js';
import { publicApiKey, publicUser, SESSION_COOKIE, SESSION_TTL_MS, normalizeEmail, type IdentityService } from './service.js';
import { FailureLimiter } from './rateLimit.js';

const email = z.email().max(320);
const password = z.string().min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`).max(200);
const name = z.string().trim().min(1).max(200);
const role = z.enum(ROLES);
const idParam = z.object({ id: z.uuid() });

const userOut = z.object({ id: z.string(), accountId: z.string(), email: z.string(), name: z.string(), role, operator: z.boolean(), createdAt: z.string(), disabled: z.boolean() });
const accountOut = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
const apiKeyOut = z.object({ id: z.string(), name: z.string(), prefix: z.string(), role, createdAt: z.string(), lastUsedAt: z.string().nullable(), revoked: z.boolean() });

function setSessionCookie(ctx: Context, token: string) {
  ctx.cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: SESSION_TTL_MS, overwrite: true });
}

const accountJson = (a: { id: string; name: string; createdAt: Date }) => ({ id: a.id, name: a.name, createdAt: a.createdAt.toISOString() });

export function identityRouters(identity: IdentityService, events: EventBus, knex: import('@mikro-orm/knex').Knex) {
  const limiter = new FailureLimiter(10, 15 * 60_000);

  const setup = createRouter('/api/setup')
    .get('', { summary: 'Whether first-run setup is still needed', auth: 'public', tags: ['identity'], response: z.object({ needed: z.boolean() }) }, async () => ({
      needed: (await identity.userCount()) === 0,
    }))
    .post(
      '',
      {
        summary: 'First run: create the first account and its owner (only while no user exists)',
        auth: 'public',
        tags: ['identity'],
        status: 201,
        body: z.object({ accountName: name, name, email, password }).strict(),
        response: z.object({ user: userOut, account: accountOut }),
      },
      async (c) => {
        // The single installation row makes this one-shot even under concurrent requests.
        try {
          await knex('core_installation').insert({ id: 1, set_up_at: new Date() });
        } catch {
          throw conflict('PlugChat is already set up. Sign in instead.', 'already_set_up');
        }
        const { account, user } = await identity.createAccount(c.body.accountName, { email: c.body.email, name: c.body.name, password: c.body.password, operator: true });
        await events.emit('core.account.created', { accountId: account.id, name: account.name });
        const { token } = await identity.login(c.body.email, c.body.password);
        setSessionCookie(c.koa, token);
        return { user: publicUser(user), account: accountJson(account) };
      },
    );

  const auth = createRouter('/api/auth')
    .post(
      '/login',
      { summary: 'Sign in; sets an HttpOnly session cookie', auth: 'public', tags: ['identity'], body: z.object({ email, password: z.string().min(1).max(200) }).strict(), response: z.object({ user: userOut }) },
      async (c) => {
        const key = `${normalizeEmail(c.body.email)}|${c.koa.ip}`;
        const wait = limiter.retryAfter(key);
        if (wait) throw tooManyRequests(wait, 'Too many failed sign-ins. Wait and try again, or ask an admin to reset your password.');
        try {
          const { token, user } = await identity.login(c.body.email, c.body.password);
          limiter.reset(key);
          setSessionCookie(c.koa, token);
          return { user: publicUser(user) };
        } catch (err) {
          limiter.fail(key);
          throw err;
        }
      },
    )
    .post('/logout', { summary: 'Sign out and end the session', auth: 'public', tags: ['identity'] }, async (c) => {
      const token = c.koa.cookies.get(SESSION_COOKIE);
      if (token) await identity.logout(token);
      c.koa.cookies.set(SESSION_COOKIE, null, { httpOnly: true, sameSite: 'lax' });
      return undefined;
    })
    .get('/me', { summary: 'The caller, their account and role', tags: ['identity'], response: z.object({ user: userOut.nullable(), account: accountOut, role, via: z.string() }) }, async (c) => {
      const { user, account } = await identity.me(c.auth);
      return { user, account: accountJson(account), role: c.auth.role, via: c.auth.via };
    });

  const users = createRouter('/api/users')
    .get('', { summary: "List the account's users", role: 'admin', tags: ['identity'], response: z.object({ users: z.array(userOut) }) }, async (c) => ({
      users: (await identity.listUsers(c.auth)).map(publicUser),
    }))
    .get('/:id', { summary: 'One user', role: 'admin', tags: ['identity'], params: idParam, response: userOut }, async (c) => publicUser(await identity.getUser(c.auth, c.params.id)))
    .post(
      '',
      { summary: 'Create a user in the account', role: 'admin', tags: ['identity'], status: 201, body: z.object({ email, name, password, role }).strict(), response: userOut },
      async (c) => {
        const user = await identity.createUser(c.auth, c.body);
        await events.emit('core.user.created', { accountId: user.accountId, userId: user.id, role: user.role });
        return publicUser(user);
      },
    )
    .patch(
      '/:id',
      {
        summary: 'Change name, role, password or disable a user (the email cannot change)',
        role: 'admin',
        tags: ['identity'],
        params: idParam,
        body: z.object({ name: name.optional(), role: role.optional(), password: password.optional(), disabled: z.boolean().optional() }).strict(),
        response: userOut,
      },
      async (c) => publicUser(await identity.updateUser(c.auth, c.params.id, c.body)),
    );

  const apiKeys = createRouter('/api/api-keys')
    .get('', { summary: "List the account's API keys (never the key itself)", role: 'admin', tags: ['identity'], response: z.object({ apiKeys: z.array(apiKeyOut) }) }, async (c) => ({
      apiKeys: (await identity.listApiKeys(c.auth)).map(publicApiKey),
    }))
    .post(
      '',
      {
        summary: 'Create an API key; the response is the only time the key is shown',
        role: 'admin',
        tags: ['identity'],
        status: 201,
        body: z.object({ name, role: role.default('admin') }).strict(),
        response: apiKeyOut.extend({ key: z.string() }),
      },
      async (c) => {
        const { key, apiKey } = await identity.createApiKey(c.auth, c.body);
        return { ...publicApiKey(apiKey), key };
      },
    )
    .delete('/:id', { summary: 'Revoke an API key', role: 'admin', tags: ['identity'], params: idParam, response: apiKeyOut }, async (c) =>
      publicApiKey(await identity.revokeApiKey(c.auth, c.params.id)),
    );

  const accounts = createRouter('/api/accounts')
    .get('', { summary: 'All accounts (operators only)', operator: true, tags: ['identity'], response: z.object({ accounts: z.array(accountOut) }) }, async () => ({
      accounts: (await identity.listAccounts()).map(accountJson),
    }))
    .post(
      '',
      {
        summary: 'Create an account with its first owner (operators only)',
        operator: true,
        tags: ['identity'],
        status: 201,
        body: z.object({ name, owner: z.object({ name, email, password }).strict() }).strict(),
        response: z.object({ account: accountOut, owner: userOut }),
      },
      async (c) => {
        const { account, user } = await identity.createAccount(c.body.name, c.body.owner);
        await events.emit('core.account.created', { accountId: account.id, name: account.name });
        return { account: accountJson(account), owner: publicUser(user) };
      },
    );

  return [setup, auth, users, apiKeys, accounts];
}
