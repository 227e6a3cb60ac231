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

/** Resolves the caller once per request (session cookie or API key) and caches it on ctx.state. */
export async function resolveCaller(ctx: Context, identity: IdentityService): Promise<Caller | null> {
  if (ctx.state.caller !== undefined) return ctx.state.caller;
  let caller: Caller | null = null;
  const key = apiKeyFrom(ctx);
  if (key) {
    caller = await identity.callerFromApiKey(key);
    if (!caller) throw unauthorized('The API key (or Client-Token) is unknown or revoked. Create a new one under API keys.');
  } else {
    const token = ctx.cookies.get(SESSION_COOKIE);
    if (token) caller = await identity.callerFromSession(token);
  }
  ctx.state.caller = caller;
  return caller;
}

export async function authorize(ctx: Context, identity: IdentityService, spec: { auth?: AuthMode; role?: Role; operator?: boolean }): Promise<Caller | null> {
  const mode = spec.auth ?? 'any';
  if (mode === 'public') return resolveCaller(ctx, identity).catch(() => null);
  const caller = await resolveCaller(ctx, identity);
  if (!caller) throw unauthorized();
  if (mode === 'user' && caller.via !== 'session') throw forbidden('This route is for signed-in users, not API keys.');
  if (mode === 'apiKey' && caller.via !== 'apiKey') throw forbidden('This route takes an account API key.');
  if (spec.role && !roleAtLeast(caller.role, spec.role)) throw forbidden(`This needs the ${spec.role} role or higher; you are ${caller.role}.`);
  if (spec.operator && !caller.operator) throw forbidden('Only an operator of this installation can do this.');
  return caller;
}
