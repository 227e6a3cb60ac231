// npm run bench (webhooks part): deliveries per second to a local receiver on the embedded
// default and on PostgreSQL, against the ceiling of the same receiver driven by autocannon.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { boot } from '../../../core/dist/boot.js';
import { createLogger } from '../../../core/dist/services/logger.js';
import { freshPostgres } from '../../../core/test/support/freshPostgres.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const N = Number(process.env.BENCH_DELIVERIES || 10000);
// Events come out of the session's outbox in runs of up to 100; the bench emits them the same way.
const RUN = 100;
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Paced runs: deliveries a second offered (events a second times endpoints), for this long. */
const PACE = Number(process.env.BENCH_WEBHOOK_PACE || 5000);
const PACED_SECONDS = 6;

const receiver = fork(fileURLToPath(new URL('./receiver-process.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const replies = [];
receiver.on('message', (m) => replies.push(m));
const next = async (type) => {
  for (;;) {
    const i = replies.findIndex((m) => m.type === type);
    if (i >= 0) return replies.splice(i, 1)[0];
    await sleep(5);
  }
};
const { port } = await next('ready');
const count = async () => {
  receiver.send({ type: 'count' });
  return (await next('count')).count;
};

/**
 * A burst (`pace` unset): N deliveries' events emitted as fast as the fan-out takes them, the rate
 * from the first emit to the last delivery. Paced: events emitted at `pace` deliveries a second
 * for PACED_SECONDS, every 20 ms, and how long after its event each delivery arrived; a process
 * that keeps up delivers at the offered rate with a lag that does not grow.
 */
async function run(label, databaseUrl, endpoints = 1, pace = undefined) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-hook-bench-'));
  writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(
    path.join(dir, 'plugins.config.json'),
    JSON.stringify({ bundled: false, packages: ['@plugchat/whatsapp-session', '@plugchat/webhooks'], plugins: { webhooks: { settings: { allowHttp: true, allowPrivateNetworks: true } } } }),
  );
  const env = { ...process.env, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', APP_SECRET: 'bench-secret-'.padEnd(40, 'x'), DATABASE_URL: databaseUrl ?? '' };
  const app = await boot({ cwd: dir, env, logger: createLogger('warn') });
  try {
    const json = async (method, url, body, headers = {}) => {
      const res = await fetch(app.url + url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
      return { headers: res.headers, body: await res.json().catch(() => undefined) };
    };
    const setup = await json('POST', '/api/setup', { accountName: 'Bench', name: 'Bench', email: 'bench@bench.test', password: 'bench password 1' });
    const cookie = setup.headers.get('set-cookie').split(';')[0];
    const inst = (await json('POST', '/api/whatsapp-session/instances', { name: 'hooks' }, { cookie })).body;
    for (let i = 0; i < endpoints; i++) await json('POST', '/api/webhooks/endpoints', { instanceId: inst.id, url: `http://127.0.0.1:${port}/hook/${i}`, events: ['message-status'] }, { cookie });
    const events = pace ? Math.round((pace * PACED_SECONDS) / endpoints) : Math.ceil(N / endpoints);
    const perSecond = pace ? pace / endpoints : 0;
    const size = pace ? Math.min(RUN, Math.ceil(perSecond / 50)) : RUN;
    const t0 = performance.timeOrigin + performance.now();
    receiver.send({ type: 'reset', paced: pace ? { t0, run: size, perSecond } : undefined });
    const started = process.hrtime.bigint();
    for (let i = 0; i < events; i += size) {
      if (pace) {
        const wait = t0 + (i / perSecond) * 1000 - (performance.timeOrigin + performance.now());
        if (wait > 0) await sleep(wait);
      }
      const run = Array.from({ length: Math.min(size, events - i) }, (_, j) => ({ eventId: `bench-event-${i + j}`, instanceId: inst.id, accountId: inst.accountId ?? '', messageId: `bench-${i + j}`, phone: '5511999999999', status: 'RECEIVED' }));
      await app.events.emitMany('whatsapp-session.message.status', run);
    }
    const enqueued = Number(process.hrtime.bigint() - started) / 1e9;
    const total = events * endpoints;
    while ((await count()) < total) await sleep(20);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = total / seconds;
    const where = endpoints === 1 ? 'one endpoint' : `${endpoints} endpoints`;
    if (pace) {
      receiver.send({ type: 'lags' });
      const lag = await next('lags');
      const ms = (v) => `${Math.round(v)} ms`;
      return [`sustained, ${label}, ${where}, ${pace} /s offered (${total})`, `${Math.round(rate)} /s`, `${(rate / ceilingRate).toFixed(2)}x of the receiver; event to delivery p50 ${ms(lag.p50)}, p99 ${ms(lag.p99)}, max ${ms(lag.max)}`];
    }
    return [`deliveries, ${label}, ${where} (${total})`, `${Math.round(rate)} /s`, `${(rate / ceilingRate).toFixed(2)}x of the receiver; fan-out of ${events} events took ${enqueued.toFixed(1)} s`];
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`\nwebhooks bench: ${os.cpus().length} cores, Node ${process.version}\n`);
const rows = [];
const ceiling = await autocannon({ url: `http://127.0.0.1:${port}/hook`, method: 'POST', body: '{"type":"MessageStatusCallback"}', connections: 16, duration: 5 });
const ceilingRate = ceiling.requests.average;
rows.push(['receiver ceiling (autocannon, 16 connections)', `${Math.round(ceilingRate)} /s`, `p99 ${ceiling.latency.p99} ms`]);
// One endpoint and 50, in a burst and paced; each PostgreSQL run on a database of its own, as each starts from setup.
const shapes = [[1], [50], [1, PACE], [50, PACE]];
for (const [endpoints, pace] of shapes) rows.push(await run('embedded default', undefined, endpoints, pace));
for (const [endpoints, pace] of shapes) {
  let pgdb;
  try {
    pgdb = await freshPostgres(PG_URL, 'plugchat_bench_');
  } catch (err) {
    rows.push(['deliveries, PostgreSQL', 'skipped', `no PostgreSQL at ${new URL(PG_URL).host} (${err.message})`]);
    break;
  }
  try {
    rows.push(await run('PostgreSQL', pgdb.url, endpoints, pace));
  } finally {
    await pgdb.drop();
  }
}
for (const [a, b, c] of rows) console.log(`${a.padEnd(68)} ${b.padStart(10)}   ${c}`);
receiver.send({ type: 'stop' });
process.exit(0);
