import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

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
  headers?: http.IncomingHttpHeaders;
  excerpt?: string;
  error?: string;
  latencyMs: number;
}

/**
 * One POST. The host is resolved by our own lookup, which refuses private
 * addresses at connect time (so DNS rebinding cannot slip past the URL check);
 * redirects are not followed; the response body is read up to a cap. With a keep-alive agent a
 * connection, checked when it was opened, carries many requests.
 */
export function postJson(url: string, body: string, headers: Record<string, string>, opts: SafetyOptions & { timeoutMs: number; maxResponseBytes?: number; agent?: http.Agent }): Promise<AttemptResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const refused = checkUrl(url, opts);
  if (refused) return Promise.resolve({ error: `URL ${refused}`, latencyMs: 0 });
  const safeLookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as unknown as { address: string; family: number }[];
      const bad = !opts.allowPrivateNetworks && list.find((a) => isPrivate(a.address));
      if (bad) return callback(Object.assign(new Error(`${hostname} resolves to a private address (${bad.address})`), { code: 'EPRIVATE' }), '', 4);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const cap = opts.maxResponseBytes ?? 1024;
  return new Promise((resolve) => {
    const req = lib.request(
      u,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'PlugChat-Webhooks/1.0', ...headers }, lookup: safeLookup, timeout: opts.timeoutMs, ...(opts.agent ? { agent: opts.agent } : {}) },
      (res) => {
        let excerpt = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (excerpt.length < cap) excerpt += chunk.slice(0, cap - excerpt.length);
          if (excerpt.length >= cap) res.destroy();
        });
        const done = () => resolve({ status: res.statusCode, headers: res.headers, excerpt, latencyMs: elapsed() });
        res.on('end', done);
        res.on('close', done);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => resolve({ error: err.message, latencyMs: elapsed() }));
    req.end(body);
  });
}
