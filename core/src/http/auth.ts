import type { Context } from 'koa';
import { forbidden, unauthorized } from '../api/errors.js';
import type { AuthMode, Caller } from '../api/routes.js';
import { roleAtLeast, type Role } from '../api/roles.js';
import { SESSION_COOKIE, type IdentityService } from '../identity/service.js';

function apiKeyFrom(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  if (header.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
  // Client-Token is how Z-API/PlugMessage clients send their account token.
  return ctx.get('x-api-key') || ctx.get('client-token') || undefined;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Resolves the caller once per request (session cookie or API key) and caches it on ctx.state.
 * A caller the identity service remembers comes back without a promise.
 */
export function resolveCaller(ctx: Context, identity: IdentityService): MaybePromise<Caller | null> {
  if (ctx.state.caller !== undefined) return ctx.state.caller;
  const key = apiKeyFrom(ctx);
  let found: MaybePromise<Caller | null> = null;
  if (key) found = identity.callerFromApiKey(key);
  else {
    const token = ctx.cookies.get(SESSION_COOKIE);
    if (token) found = identity.callerFromSession(token);
  }
  const settle = (caller: Caller | null) => {
    if (!caller && key) throw unauthorized('The API key (or Client-Token) is unknown or revoked. Create a new one under API keys.');
    ctx.state.caller = caller;
    return caller;
  };
  return found instanceof Promise ? found.then(settle) : settle(found);
}

export function authorize(ctx: Context, identity: IdentityService, spec: { auth?: AuthMode; role?: Role; operator?: boolean }): MaybePromise<Caller | null> {
  const mode = spec.auth ?? 'any';
  if (mode === 'public') {
    // A public route serves anyone; a caller it can name is a bonus.
    try {
      const caller = resolveCaller(ctx, identity);
      return caller instanceof Promise ? caller.catch(() => null) : caller;
    } catch {
      return null;
    }
  }
  const caller = resolveCaller(ctx, identity);
  return caller instanceof Promise ? caller.then((c) => admit(c, mode, spec)) : admit(caller, mode, spec);
}

function admit(caller: Caller | null, mode: AuthMode, spec: { role?: Role; operator?: boolean }): Caller {
  if (!caller) throw unauthorized();
  if (mode === 'user' && caller.via !== 'session') throw forbidden('This route is for signed-in users, not API keys.');
  if (mode === 'apiKey' && caller.via !== 'apiKey') throw forbidden('This route takes an account API key.');
  if (spec.role && !roleAtLeast(caller.role, spec.role)) throw forbidden(`This needs the ${spec.role} role or higher; you are ${caller.role}.`);
  if (spec.operator && !caller.operator) throw forbidden('Only an operator of this installation can do this.');
  return caller;
}
