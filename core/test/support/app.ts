import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import createKnex, { type Knex } from 'knex';
import { boot, type BootOptions, type PlugChat } from '../../src/boot.js';
import { createLogger } from '../../src/services/logger.js';
import { freshPostgres } from './db.js';
import { WORK } from './globalSetup.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export type Mode = 'embedded' | 'postgresql';

export interface PluginFixture {
  /** The "plugchat" manifest block, or a whole package.json when `raw` is set. */
  manifest?: Record<string, unknown>;
  raw?: Record<string, unknown>;
  /** The body of index.js (an ES module). */
  code: string;
}

export interface Workspace {
  dir: string;
  dataDir: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A throwaway project folder: plugins.config.json, plugins/*, a data dir, and a database. */
export async function createWorkspace(opts: { mode?: Mode; config?: Record<string, unknown>; plugins?: Record<string, PluginFixture> } = {}): Promise<Workspace> {
  const dir = path.join(WORK, `ws-${randomBytes(5).toString('hex')}`);
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  // Only what the test names: the plugins shipped in the repository are not found unless listed.
  writeFileSync(path.join(dir, 'plugins.config.json'), JSON.stringify({ bundled: false, ...(opts.config ?? {}) }, null, 2));
  for (const [folder, p] of Object.entries(opts.plugins ?? {})) {
    const pdir = path.join(dir, 'plugins', folder);
    mkdirSync(pdir, { recursive: true });
    const pkg = p.raw ?? { name: `@test/${folder}`, version: '1.0.0', type: 'module', main: 'index.js', plugchat: p.manifest };
    writeFileSync(path.join(pdir, 'package.json'), JSON.stringify(pkg, null, 2));
    writeFileSync(path.join(pdir, 'index.js'), p.code);
  }
  const env: Record<string, string> = { DATA_DIR: dataDir, APP_SECRET: 'test-secret-'.padEnd(40, 'x'), LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1' };
  let drop = async () => {};
  if (opts.mode === 'postgresql') {
    const pg = await freshPostgres();
    env.DATABASE_URL = pg.url;
    drop = pg.drop;
  } else {
    cpSync(path.join(WORK, 'queue-template'), path.join(dataDir, 'queue'), { recursive: true });
  }
  return {
    dir,
    dataDir,
    env,
    cleanup: async () => {
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** Boots PlugChat in this process, capturing its log lines. */
export async function startApp(ws: Workspace, env: Record<string, string> = {}, opts: Pick<BootOptions, 'clock'> = {}): Promise<PlugChat & { logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      cb();
    },
  });
  const app = await boot({ cwd: ws.dir, env: { ...ws.env, ...env }, logger: createLogger('debug', sink), ...opts });
  return Object.assign(app, { logs });
}

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny HTTP client that keeps the session cookie like a browser. */
export class Client {
  cookie?: string;
  apiKey?: string;

  constructor(readonly base: string) {}

  async req<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.apiKey) h.authorization = `Bearer ${this.apiKey}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + url, { method, headers: h, body: payload });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie?.startsWith('plugchat_session=')) {
      const value = setCookie.split(';')[0]!;
      this.cookie = value === 'plugchat_session=' ? undefined : value;
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  get<T = any>(url: string) {
    return this.req<T>('GET', url);
  }
  post<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
    return this.req<T>('POST', url, body, headers);
  }
  put<T = any>(url: string, body?: unknown) {
    return this.req<T>('PUT', url, body);
  }
  patch<T = any>(url: string, body?: unknown) {
    return this.req<T>('PATCH', url, body);
  }
  delete<T = any>(url: string) {
    return this.req<T>('DELETE', url);
  }
}

export const OWNER = { accountName: 'Acme', name: 'Ann Owner', email: 'ann@acme.test', password: 'correct horse battery' };

/** Runs first-run setup and returns a signed-in client for the owner (an operator). */
export async function setupOwner(url: string, who = OWNER): Promise<Client> {
  const c = new Client(url);
  const res = await c.post('/api/setup', who);
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return c;
}

/** Creates a second account (as an operator) and returns its owner's signed-in client. */
export async function createAccount(operator: Client, name: string, email: string): Promise<{ client: Client; accountId: string }> {
  const res = await operator.post('/api/accounts', { name, owner: { name: `${name} owner`, email, password: 'another long password' } });
  if (res.status !== 201) throw new Error(`account failed: ${res.status} ${JSON.stringify(res.body)}`);
  const c = new Client(operator.base);
  const login = await c.post('/api/auth/login', { email, password: 'another long password' });
  if (login.status !== 200) throw new Error('login failed');
  return { client: c, accountId: res.body.account.id };
}

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs the real entry point (core/dist/main.js) as its own process, as `npm start` does. */
export async function spawnServer(ws: Workspace, env: Record<string, string> = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [path.join(REPO, 'core/dist/main.js')], {
    cwd: ws.dir,
    env: { ...process.env, ...ws.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"url":"(http:[^"]+)".*"msg":"PlugChat is up"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was up:\n${out}`));
    });
  });
  return { url, proc, output: () => out, exited };
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A connection of the test's own to a workspace's database, to write the state a crash leaves
 * behind while the server is down (SQLite file or PostgreSQL, as the workspace uses).
 */
export function openWorkspaceDatabase(ws: Workspace): Knex {
  if (ws.env.DATABASE_URL) return createKnex({ client: 'pg', connection: ws.env.DATABASE_URL });
  return createKnex({ client: 'sqlite3', connection: { filename: path.join(ws.dataDir, 'plugchat.sqlite') }, useNullAsDefault: true });
}

/**
 * After a SIGKILL, waits until no other session on the workspace's PostgreSQL database is inside a
 * statement or a transaction: the killed process's backend may still be committing what it sent
 * just before it died, so what is counted before then can change. (An embedded database has no such
 * session: the process's writes end with it.)
 */
export async function killedSessionsSettled(ws: Workspace, db: Knex): Promise<void> {
  if (!ws.env.DATABASE_URL) return;
  const busy = async () => {
    const { rows } = await db.raw("select count(*) as n from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid() and state <> 'idle'");
    return Number(rows[0].n);
  };
  await waitFor(async () => (await busy()) === 0, 10_000, "the killed process's database sessions to settle");
}
