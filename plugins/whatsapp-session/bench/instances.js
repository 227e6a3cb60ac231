// npm run bench (instances at scale): one PlugChat process on the embedded default holding
// BENCH_FLEET_INSTANCES (2,000) connected instances, each linked to a sandbox phone with a realistic
// past (history sync: BENCH_FLEET_CHATS chats, BENCH_FLEET_MESSAGES messages, contacts' names,
// archived / pinned / muted chats as app state). Measures the process's resident memory per
// connected instance, then restarts it and measures how long until every instance is back.
// The sandbox network runs in this process; PlugChat in a child process, so its memory is its own.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SandboxNetwork } from '../../whatsapp-sandbox/dist/network/index.js';
import { Api, sleep, waitUntil } from '../test/fleet.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const N = Number(process.env.BENCH_FLEET_INSTANCES || 2000);
const CHATS = Number(process.env.BENCH_FLEET_CHATS || 500);
const MESSAGES = Number(process.env.BENCH_FLEET_MESSAGES || 3000);
const PARALLEL = Number(process.env.BENCH_FLEET_PARALLEL || 16);
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const seconds = (t) => (Number(process.hrtime.bigint() - t) / 1e9).toFixed(1);

const dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-instances-bench-'));
writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
const network = new SandboxNetwork({ media: { dir: path.join(dir, 'network') } });
await network.start();
writeFileSync(
  path.join(dir, 'plugins.config.json'),
  JSON.stringify({
    bundled: false,
    packages: ['@plugchat/whatsapp-session'],
    plugins: { 'whatsapp-session': { settings: { waWebSocketUrl: network.url, mediaCaFile: network.media.caFile } } },
  }),
);

const PORT = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

/** Starts PlugChat (warnings only, so 2,000 instances' routine lines cost nothing); resolves once /health answers. */
async function startPlugChat() {
  // The inspector (on a free port) lets the bench collect garbage in it and read its heap.
  const proc = spawn(process.execPath, ['--inspect=127.0.0.1:0', path.join(REPO, 'core/dist/main.js')], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: path.join(dir, 'data'), APP_SECRET: 'bench-secret-'.padEnd(40, 'x'), PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out = (out + d).slice(-200_000)));
  proc.stderr.on('data', (d) => (out = (out + d).slice(-200_000)));
  const exited = new Promise((_, reject) => proc.on('exit', (code) => reject(new Error(`PlugChat exited ${code}: ${out.slice(-4000)}`))));
  const url = `http://127.0.0.1:${PORT}`;
  const up = waitUntil(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, 120_000, 'PlugChat to start');
  await Promise.race([up, exited]);
  const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(out)?.[1];
  return { proc, url, inspector, output: () => out };
}

/** The process's memory right after a full garbage collection: what it holds, not what it has not freed yet. */
async function collected(p) {
  const ws = new WebSocket(p.inspector);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  let id = 0;
  const call = (method, params) =>
    new Promise((resolve) => {
      const mine = ++id;
      const onMessage = (data) => {
        const m = JSON.parse(String(data));
        if (m.id !== mine) return;
        ws.off('message', onMessage);
        resolve(m.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: mine, method, params }));
    });
  await call('HeapProfiler.collectGarbage');
  const r = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  ws.close();
  const m = JSON.parse(r.result.value);
  return { rss: m.rss / 1048576, heap: m.heapUsed / 1048576 };
}
const stopPlugChat = async (p) => {
  p.proc.removeAllListeners('exit');
  const gone = new Promise((r) => p.proc.on('exit', r));
  p.proc.kill('SIGTERM');
  await gone;
};
const readyDevices = () => network.devices().filter((d) => d.ready).length;

console.log(`\ninstances bench: ${N} instances in one PlugChat process (embedded default), each phone with ${CHATS} chats and ${MESSAGES} messages of history; ${os.cpus().length} cores, Node ${process.version}\n`);
const rows = [];
let app = await startPlugChat();
try {
  let owner = new Api(app.url);
  await owner.post('/api/setup', { accountName: 'Frota', name: 'Dona', email: 'dona@frota.test', password: 'uma senha comprida' });
  const key = (await owner.post('/api/api-keys', { name: 'bench' })).body.key;
  // The first start creates the embedded databases (PGlite's initdb leaves its memory high); measure a later one.
  await stopPlugChat(app);
  app = await startPlugChat();
  const cookie = owner.cookie;
  owner = new Api(app.url);
  owner.cookie = cookie;
  await sleep(5000);
  const idle = rssMb(app.proc.pid);
  const idleHeap = (await collected(app)).heap;

  // Pair N instances, PARALLEL at a time: create, ask for the QR, scan it as the phone (its history made then).
  const started = process.hrtime.bigint();
  let next = 0;
  let paired = 0;
  const instances = [];
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const inst = (await owner.post('/api/whatsapp-session/instances', { name: `Loja ${i}` })).body;
      const api = new Api(`${app.url}/instances/${inst.id}/token/${inst.token}`, { 'client-token': key });
      const qr = await waitUntil(async () => (await api.get('/qr-code')).body?.value, 60_000, `the QR of instance ${i}`);
      await network.scan(qr, `55119${String(i).padStart(8, '0')}`, { name: `Loja ${i}`, history: { chats: CHATS, messages: MESSAGES } });
      instances.push({ ...inst, api });
      if (++paired % 100 === 0) console.log(`  ${paired} / ${N} linked, ${readyDevices()} connected (${seconds(started)} s)`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  await waitUntil(() => readyDevices() >= N, 600_000, 'every instance connected');
  const linkSeconds = seconds(started);
  // Every history stored (the last chat of each phone listed) before memory is read.
  for (const [i, inst] of instances.entries()) {
    await waitUntil(async () => ((await inst.api.get('/chats?page=1&pageSize=1')).body ?? []).length === 1 && (await inst.api.get(`/chats?page=${CHATS}&pageSize=1`)).body?.length === 1, 120_000, `the history of instance ${i}`);
  }
  await sleep(10_000);
  const full = rssMb(app.proc.pid);
  const fullGc = await collected(app);
  rows.push(
    ['idle process, no instance', `${idle.toFixed(0)} MB`, `RSS (JS heap ${idleHeap.toFixed(0)} MB)`],
    [`${N} instances linked, histories stored`, `${linkSeconds} s`, `${PARALLEL} pairings at a time`],
    [`RSS with ${N} connected instances`, `${full.toFixed(0)} MB`, `${(((full - idle) * 1024) / N).toFixed(0)} KB per connected instance`],
    ['  after a full garbage collection', `${fullGc.rss.toFixed(0)} MB`, `${(((fullGc.rss - idle) * 1024) / N).toFixed(0)} KB per instance; JS heap ${fullGc.heap.toFixed(0)} MB, ${(((fullGc.heap - idleHeap) * 1024) / N).toFixed(0)} KB per instance`],
  );

  // Restart: every instance should come back with its saved credentials.
  await stopPlugChat(app);
  const restart = process.hrtime.bigint();
  app = await startPlugChat();
  const upSeconds = seconds(restart);
  await waitUntil(() => readyDevices() >= N, 600_000, 'every instance back after the restart');
  const backSeconds = seconds(restart);
  await sleep(10_000);
  const after = rssMb(app.proc.pid);
  const afterGc = await collected(app);
  rows.push(
    ['restart → process up', `${upSeconds} s`, ''],
    [`restart → all ${N} instances connected`, `${backSeconds} s`, 'target ≤ 60 s'],
    [`RSS after the restart, ${N} connected`, `${after.toFixed(0)} MB`, `${(((after - idle) * 1024) / N).toFixed(0)} KB per connected instance (no history sync again)`],
    ['  after a full garbage collection', `${afterGc.rss.toFixed(0)} MB`, `JS heap ${afterGc.heap.toFixed(0)} MB, ${(((afterGc.heap - idleHeap) * 1024) / N).toFixed(0)} KB per instance`],
  );
} finally {
  await stopPlugChat(app).catch(() => {});
  await network.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const [a, b, c] of rows) console.log(`${a.padEnd(48)} ${b.padStart(10)}   ${c}`);
process.exit(0);
