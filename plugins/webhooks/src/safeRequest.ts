import { lookup as dnsLookup } from 'node:dns';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Pool } from 'undici';

export interface SafetyOptions {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

/** Why a URL may not be called, or undefined when it may. */
export function checkUrl(raw: string, opts: SafetyOptions): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (url.protocol === 'http:' && !opts.allowHttp) return 'must use https:// (plain http is off; setting webhooks.allowHttp)';
  if (url.username || url.password) return 'must not carry credentials; use custom headers instead';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !opts.allowPrivateNetworks && isPrivate(host)) return `points to a private, loopback or link-local address (${host})`;
  if (!opts.allowPrivateNetworks && (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal'))) return `points to a local host name (${host})`;
  return undefined;
}

/**
 * Whether an address is anything but ordinary public unicast (ipaddr.js's classification): loopback,
 * private, CGNAT, link-local, unique-local, multicast, broadcast, unspecified, documentation,
 * benchmarking and other reserved ranges, and every IPv6 form that carries an IPv4 address inside
 * (mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32), which a gateway
 * may route to an internal IPv4 host. Anything that does not parse counts as private.
 */
export function isPrivate(ip: string): boolean {
  const host = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(host)) return true;
  return ipaddr.parse(host).range() !== 'unicast';
}

export interface AttemptResult {
  status?: number;
  headers?: IncomingHttpHeaders;
  excerpt?: string;
  error?: string;
  latencyMs: number;
}

/** Headers that belong to the connection, which the client manages: never taken from an endpoint's settings. */
export const HOP_BY_HOP = /^(connection|keep-alive|proxy-connection|transfer-encoding|te|trailer|upgrade|expect|host|content-length)$/i;

/** A DNS lookup that refuses private addresses, so a checked connection cannot be rebound to an internal host. */
function safeLookup(allowPrivateNetworks: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as unknown as { address: string; family: number }[];
      const bad = !allowPrivateNetworks && list.find((a) => isPrivate(a.address));
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to a private address (${bad.address})`), { code: 'EPRIVATE' }), '', 4);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/**
 * Keep-alive connections to one origin (undici: about half the CPU of node:http's client per
 * request), each checked by the safe lookup when it opens. Idle connections close before a typical
 * server's 5 s keep-alive would close them under us.
 */
export function safePool(origin: string, opts: { allowPrivateNetworks: boolean; connections: number; timeoutMs: number }): Pool {
  return new Pool(origin, { connections: opts.connections, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 4_000, connect: { lookup: safeLookup(opts.allowPrivateNetworks), timeout: opts.timeoutMs } });
}

/** What a failed attempt says in the log: undici's timeouts in the words of the setting. */
function describe(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; message?: string; cause?: { message?: string } };
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (e.code === 'UND_ERR_SOCKET') return `the connection closed before an answer (${e.message})`;
  return e.message || String(err);
}

/**
 * One POST. The host is resolved by our own lookup, which refuses private addresses at connect
 * time (so DNS rebinding cannot slip past the URL check); redirects are not followed; the response
 * body is read up to a cap. Given a pool (one per endpoint), a connection carries many requests;
 * without one, a connection is opened for this request and closed after it.
 */
export async function postJson(url: string, body: string, headers: Record<string, string>, opts: SafetyOptions & { timeoutMs: number; maxResponseBytes?: number; pool?: Pool }): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const refused = checkUrl(url, opts);
  if (refused) return { error: `URL ${refused}`, latencyMs: 0 };
  const u = new URL(url);
  const pool = opts.pool ?? safePool(u.origin, { allowPrivateNetworks: opts.allowPrivateNetworks, connections: 1, timeoutMs: opts.timeoutMs });
  const cap = opts.maxResponseBytes ?? 1024;
  const sent: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'PlugChat-Webhooks/1.0' };
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.test(k)) sent[k] = v;
  try {
    const res = await pool.request({ path: u.pathname + u.search, method: 'POST', headers: sent, body, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
    let excerpt = '';
    res.body.setEncoding('utf8');
    try {
      for await (const chunk of res.body as AsyncIterable<string>) {
        excerpt += chunk.slice(0, cap - excerpt.length);
        if (excerpt.length >= cap) break; // leaving the loop destroys the rest of the body
      }
    } catch {
      // A body cut short still leaves the status the receiver answered.
    }
    return { status: res.statusCode, headers: res.headers as IncomingHttpHeaders, excerpt, latencyMs: elapsed() };
  } catch (err) {
    return { error: describe(err, opts.timeoutMs), latencyMs: elapsed() };
  } finally {
    if (!opts.pool) void pool.destroy();
  }
}
