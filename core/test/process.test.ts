import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, createWorkspace, OWNER, REPO, setupOwner, spawnServer, waitFor, type ServerProcess, type Workspace } from './support/app.js';
import { STORAGE_MODES } from './support/db.js';

const config = { packages: ['plugchat-plugin-hello'] };

async function signIn(url: string): Promise<Client> {
  const c = new Client(url);
  const res = await c.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
  expect(res.status).toBe(200);
  return c;
}

async function helloLog(c: Client): Promise<{ kind: string; text: string }[]> {
  return (await c.get('/api/hello/log')).body.log;
}

describe.each(STORAGE_MODES)('the server process (%s)', (mode) => {
  let ws: Workspace | undefined;
  let server: ServerProcess | undefined;

  afterEach(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    await ws?.cleanup();
  });

  it('keeps data across a restart', async () => {
    ws = await createWorkspace({ mode, config });
    server = await spawnServer(ws);
    const owner = await setupOwner(server.url);
    const item = await owner.post('/api/hello/items', { text: 'still here' });
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    server = await spawnServer(ws);
    const again = await signIn(server.url);
    expect((await again.get(`/api/hello/items/${item.body.id}`)).body.text).toBe('still here');
    expect((await new Client(server.url).get('/api/setup')).body.needed).toBe(false);
  });

  it('handles a job enqueued before a SIGKILL after the restart', async () => {
    ws = await createWorkspace({ mode, config });
    server = await spawnServer(ws);
    const owner = await setupOwner(server.url);
    const queued = await owner.post('/api/hello/jobs', { text: 'survivor', startAfterSeconds: 2 });
    expect(queued.status).toBe(202);
    server.proc.kill('SIGKILL');
    await server.exited;
    expect((await helloLog(owner).catch(() => [])).length).toBe(0);

    server = await spawnServer(ws);
    const again = await signIn(server.url);
    const log = await waitFor(async () => {
      const l = await helloLog(again);
      return l.some((e) => e.text === 'survivor') && l;
    }, 30_000, 'the job to run after the restart');
    expect(log.filter((e) => e.text === 'survivor')).toHaveLength(1);
  });

  it('finishes a running job on SIGTERM and loses nothing', async () => {
    ws = await createWorkspace({ mode, config });
    server = await spawnServer(ws);
    const owner = await setupOwner(server.url);
    await owner.post('/api/hello/jobs', { text: 'in flight', sleepMs: 2_500 });
    // Let a worker pick it up (it polls every 0.5 s); the job then runs for 2.5 s.
    await new Promise((r) => setTimeout(r, 1_200));
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    // The job was still running when shutdown began, and finished before the process stopped.
    const out = server.output();
    const began = out.indexOf('shutting down');
    const done = out.indexOf('"text":"in flight","msg":"hello recorded"');
    expect(began).toBeGreaterThan(-1);
    expect(done).toBeGreaterThan(began);
    expect(out.indexOf('"msg":"stopped"')).toBeGreaterThan(done);

    server = await spawnServer(ws);
    const again = await signIn(server.url);
    // Give a wrongly re-queued job the chance to run twice before counting.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await helloLog(again)).filter((e) => e.text === 'in flight')).toHaveLength(1);
  });
});

describe('configuration errors stop the process with a clear message', () => {
  let ws: Workspace | undefined;
  afterEach(async () => ws?.cleanup());

  const run = (cwd: string, env: Record<string, string>) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(REPO, 'core/dist/main.js')], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('exit', (code) => resolve({ code, out }));
    });

  it('names the file, the key and what is expected', async () => {
    ws = await createWorkspace({ config: { packages: ['plugchat-plugin-hello'], plugins: { hello: { settings: { maxItems: 0 } } } } });
    const bad = await run(ws.dir, ws.env);
    expect(bad.code).toBe(78);
    expect(bad.out).toContain(path.join(ws.dir, 'plugins.config.json'));
    expect(bad.out).toContain('plugins.hello.settings.maxItems');
    expect(bad.out).toMatch(/must be >= 1/);

    writeFileSync(path.join(ws.dir, 'plugins.config.json'), '{"bundled": false, "plugins": {"hello": {"enabeld": true}}}');
    const typo = await run(ws.dir, ws.env);
    expect(typo.code).toBe(78);
    expect(typo.out).toMatch(/plugins\.hello.*unknown key\(s\) "enabeld"/);

    writeFileSync(path.join(ws.dir, 'plugins.config.json'), '{"bundled": false}');
    const port = await run(ws.dir, { ...ws.env, PORT: 'eighty' });
    expect(port.code).toBe(78);
    expect(port.out).toContain('environment: "PORT" must be an integer from 0 to 65535');
  });

  it('generates the app secret on first start and keeps it with mode 600', async () => {
    ws = await createWorkspace({});
    const proc = await spawnServer(ws, { APP_SECRET: '' });
    proc.proc.kill('SIGTERM');
    await proc.exited;
    expect(proc.output()).toContain('no APP_SECRET set: generated one');
    const st = statSync(path.join(ws.dataDir, 'app-secret.key'));
    expect(st.mode & 0o777).toBe(0o600);
  });
});

describe('the command line', () => {
  let ws: Workspace | undefined;
  afterEach(async () => ws?.cleanup());

  const cli = (cwd: string, args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(REPO, 'core/dist/cli.js'), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('exit', (code) => resolve({ code, out }));
    });

  it('creates the first owner once, and that owner can sign in', async () => {
    ws = await createWorkspace({});
    const env = { ...ws.env, PLUGCHAT_PASSWORD: 'cli password 123' };
    const args = ['create-owner', '--account', 'Cli Co', '--name', 'Cleo', '--email', 'cleo@cli.test'];
    const first = await cli(ws.dir, args, env);
    expect(first.code).toBe(0);
    expect(first.out).toContain('Created account "Cli Co"');
    const second = await cli(ws.dir, args, env);
    expect(second.code).toBe(1);
    expect(second.out).toContain('already set up');

    const server = await spawnServer(ws);
    const c = new Client(server.url);
    expect((await c.post('/api/auth/login', { email: 'cleo@cli.test', password: 'cli password 123' })).status).toBe(200);
    expect((await c.get('/api/auth/me')).body.user.operator).toBe(true);
    server.proc.kill('SIGTERM');
    await server.exited;
  });
});
