// Several PlugChat processes on one PostgreSQL database with the sandbox network outside them:
// shared by the scale-out tests and `npm run bench`. Plain JavaScript over the built code, so the
// bench runs it with node alone.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SandboxNetwork } from '../../whatsapp-sandbox/dist/network/index.js';
import { freshPostgres } from '../../../core/test/support/freshPostgres.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A tiny JSON client that keeps the session cookie and optional headers. */
export class Api {
  /** @param {string | (() => string)} base a URL, or where to reach the fleet now (ports change on restarts) */
  constructor(base, headers = {}) {
    this.at = base;
    this.headers = headers;
  }
  get base() {
    return typeof this.at === 'function' ? this.at() : this.at;
  }
  async req(method, url, body) {
    const h = { ...this.headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.base + url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const cookie = res.headers.get('set-cookie');
    if (cookie?.startsWith('plugchat_session=')) this.cookie = cookie.split(';')[0];
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  }
  get(url) {
    return this.req('GET', url);
  }
  post(url, body) {
    return this.req('POST', url, body);
  }
  put(url, body) {
    return this.req('PUT', url, body);
  }
}

/**
 * @param {{ baseUrl: string, packages?: string[], plugins?: Record<string, unknown>, logLevel?: string }} opts
 */
export async function createFleet(opts) {
  const dir = path.join(os.tmpdir(), `plugchat-fleet-${randomBytes(5).toString('hex')}`);
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  const pg = await freshPostgres(opts.baseUrl, 'plugchat_fleet_');
  const network = new SandboxNetwork({ stateFile: path.join(dir, 'network/state.json'), media: { dir: path.join(dir, 'network') } });
  await network.start();
  writeFileSync(
    path.join(dir, 'plugins.config.json'),
    JSON.stringify({
      bundled: false,
      packages: opts.packages ?? ['@plugchat/whatsapp-session', '@plugchat/webhooks'],
      plugins: { ...(opts.plugins ?? {}), 'whatsapp-session': { settings: { waWebSocketUrl: network.url, mediaCaFile: network.media.caFile, ...(opts.sessionSettings ?? {}) } } },
    }),
  );
  const env = {
    ...process.env,
    DATA_DIR: path.join(dir, 'data'),
    DATABASE_URL: pg.url,
    APP_SECRET: 'fleet-secret-'.padEnd(40, 'x'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: opts.logLevel ?? 'info',
  };
  /** @type {{ url: string, proc: import('node:child_process').ChildProcess, exited: Promise<number|null>, output: () => string, node?: string }[]} */
  const nodes = [];
  /** Every process started, up or not, so cleanup never leaves one behind. */
  const spawned = new Set();

  /** Starts process `i` (again); resolves once it listens. */
  async function start(i) {
    const proc = spawn(process.execPath, [path.join(REPO, 'core/dist/main.js')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.add(proc);
    proc.on('exit', () => spawned.delete(proc));
    let out = '';
    const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`process ${i} did not start:\n${out}`));
      }, 90_000);
      const onData = (d) => {
        out += d.toString();
        if (out.length > 2_000_000) out = out.slice(-1_000_000);
        const m = /"node":"([^"]+)".*"url":"(http:[^"]+)".*"msg":"PlugChat is up"|"url":"(http:[^"]+)".*"node":"([^"]+)".*"msg":"PlugChat is up"/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve({ url: m[2] ?? m[3], node: m[1] ?? m[4] });
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`process ${i} exited with ${code} before it was up:\n${out}`));
      });
    });
    nodes[i] = { url: url.url, node: url.node, proc, exited, output: () => out };
    return nodes[i];
  }

  async function stop(i, signal = 'SIGTERM') {
    const n = nodes[i];
    if (!n || n.proc.exitCode !== null || n.proc.signalCode) return;
    n.proc.kill(signal);
    await n.exited;
  }

  return {
    dir,
    network,
    databaseUrl: pg.url,
    nodes,
    start,
    stop,
    kill: (i) => stop(i, 'SIGKILL'),
    async startAll(n) {
      await Promise.all(Array.from({ length: n }, (_, i) => start(i)));
    },
    /** Open sockets per linked device, as the network counts them. */
    devices: () => network.devices(),
    async cleanup() {
      await Promise.all(
        [...spawned].map(async (proc) => {
          const gone = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGKILL');
          await gone;
        }),
      );
      await network.stop();
      await pg.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signs up the owner through process 0, creates `count` instances and pairs each through the
 * network (QR asked from the processes in turn), then waits until each is connected.
 */
export async function pairInstances(fleet, count, { bizPrefix = '55119700', delayMs = 0 } = {}) {
  // The owner's requests go to any running process, as through a load balancer.
  const owner = new Api(() => fleet.nodes.find((n) => n && n.proc.exitCode === null && !n.proc.signalCode).url);
  const setup = await owner.post('/api/setup', { accountName: 'Frota', name: 'Dona', email: 'dona@frota.test', password: 'uma senha comprida' });
  if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${JSON.stringify(setup.body)}`);
  const key = (await owner.post('/api/api-keys', { name: 'fleet' })).body.key;
  const instances = [];
  const api = (inst, i) => new Api(`${fleet.nodes[i % fleet.nodes.length].url}/instances/${inst.id}/token/${inst.token}`, { 'client-token': key });
  for (let i = 0; i < count; i++) {
    const created = (await owner.post('/api/whatsapp-session/instances', { name: `Loja ${i}`, delayMinMs: delayMs, delayMaxMs: delayMs })).body;
    const inst = { id: created.id, token: created.token, phone: `${bizPrefix}${String(i).padStart(4, '0')}` };
    // A client asks again when no QR came in time (on a loaded machine).
    let qr;
    for (let attempt = 0; attempt < 3 && !qr?.body?.value; attempt++) qr = await api(inst, i + attempt).get('/qr-code');
    if (!qr.body?.value) throw new Error(`no QR for instance ${i}: ${qr.status} ${JSON.stringify(qr.body)}`);
    await fleet.network.scan(qr.body.value, inst.phone, { name: `Loja ${i}` });
    instances.push(inst);
  }
  for (const [i, inst] of instances.entries()) {
    try {
      await waitUntil(async () => (await api(inst, i).get('/status')).body?.connected, 60_000, `instance ${i} to connect`);
    } catch (err) {
      throw new Error(`${err.message}\n${await explainInstance(fleet, inst, api(inst, i))}`);
    }
  }
  return { owner, key, instances, api };
}

/** What each side holds for an instance that did not connect: its status, lease, the network's device and the processes' log lines about it. */
async function explainInstance(fleet, inst, api) {
  const status = await api.get('/status').catch((e) => ({ error: String(e) }));
  const owners = await leaseOwners(fleet.databaseUrl).catch((e) => new Map([['error', String(e)]]));
  const devices = fleet.devices().filter((d) => d.phone === inst.phone);
  const logs = fleet.nodes.map((n, i) => {
    const lines = (n?.output() ?? '').split('\n').filter((l) => l.includes(inst.id) || /"level":(40|50|60)/.test(l));
    return `process ${i} (${n?.node}):\n${lines.slice(-40).join('\n')}`;
  });
  return [`status ${JSON.stringify(status.body ?? status)}`, `lease ${owners.get(inst.id)}`, `devices ${JSON.stringify(devices)}`, ...logs].join('\n');
}

/** Which process holds each instance's lease now (instance id → node id). */
export async function leaseOwners(databaseUrl) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query('select instance_id, owner from whatsapp_session_leases where expires_at > now()');
    return new Map(r.rows.map((x) => [x.instance_id, x.owner]));
  } finally {
    await c.end();
  }
}
