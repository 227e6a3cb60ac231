// npm run bench (whatsapp-session part): PlugChat in this process, on the embedded default, then
// on PostgreSQL: send-text enqueue throughput and p99 against the host's bare plugin route, and
// end-to-end messages per second from the API to a virtual phone with pacing 0 (p50/p99) against
// the sandbox relay between two Baileys clients, both through one sandbox network in a process of
// its own (the end-to-end run's API client has a process of its own too: bench/api-client.js).
// Each pair of figures takes turns and keeps its best round (a shared machine's neighbours swing
// single runs). Memory per connected instance is the instances bench's (bench/instances.js).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { relay, startNetworkProcess, until } from '../../whatsapp-sandbox/bench/remote.js';
import { boot } from '../../../core/dist/boot.js';
import { createLogger } from '../../../core/dist/services/logger.js';
import { DeviceLists } from '../dist/transport/deviceLists.js';
import { freshPostgres } from '../../../core/test/support/freshPostgres.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DURATION = Number(process.env.BENCH_SECONDS || 10);
// Long enough for the steady state: a run of a few hundred messages lasts a second or two and
// measures the warming up of the send path more than the path.
const E2E = Number(process.env.BENCH_E2E_MESSAGES || 1500);
const RELAY = Number(process.env.BENCH_RELAY_MESSAGES || 1500);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
// The end-to-end run's second client keeps this many requests under way.
const IN_FLIGHT = Number(process.env.BENCH_E2E_IN_FLIGHT || 4);
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const pct = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const net = await startNetworkProcess();
/**
 * A relay client's socket is set up as an instance's is (transport/session.ts): device lists kept
 * (transport/deviceLists.ts) and no per-frame timeout.
 */
const withDeviceLists = () => {
  const lists = new DeviceLists();
  return { config: { userDevicesCache: lists, connectTimeoutMs: 0 }, adjust: (sock) => lists.attachTo(sock) };
};

/** PlugChat with the example plugin and whatsapp-session (on the network process), on the embedded default or `databaseUrl`. */
async function start(databaseUrl = '') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-wa-bench-'));
  writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(
    path.join(dir, 'plugins.config.json'),
    JSON.stringify({ bundled: false, packages: ['plugchat-plugin-hello', '@plugchat/whatsapp-session'], plugins: { 'whatsapp-session': { settings: { queueLimit: 100000, waWebSocketUrl: net.url } } } }),
  );
  const app = await boot({ cwd: dir, env: { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', APP_SECRET: 'bench-secret-'.padEnd(40, 'x') }, logger: createLogger('warn') });
  const json = async (method, url, body, headers = {}) => {
    const res = await fetch(app.url + url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: await res.json().catch(() => undefined) };
  };
  const setup = await json('POST', '/api/setup', { accountName: 'Bench', name: 'Bench', email: 'bench@bench.test', password: 'bench password 1' });
  const cookie = setup.headers.get('set-cookie').split(';')[0];
  const key = (await json('POST', '/api/api-keys', { name: 'bench' }, { cookie })).body.key;
  const create = async (name) => (await json('POST', '/api/whatsapp-session/instances', { name, delayMinMs: 0, delayMaxMs: 0 }, { cookie })).body;
  return { app, json, key, create, stop: async () => (await app.stop(), rmSync(dir, { recursive: true, force: true })) };
}

/** A warm-up, then the measured run (with `warm`'s options for the warm-up when given). */
const load = async (opts, warm = opts) => {
  await autocannon({ ...warm, duration: 2, connections: 20 });
  const r = await autocannon({ ...opts, duration: DURATION, connections: 20 });
  if (r.non2xx || r.errors) throw new Error(`${opts.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r;
};

/** The run with the most requests a second (on a shared machine a neighbour's burst can halve one run). */
const best = (runs, rate = (r) => r.requests.average) => runs.reduce((a, b) => (rate(b) > rate(a) ? b : a));

/**
 * The bare plugin route and send-text on an instance that is not connected (messages only queue),
 * taking turns for ROUNDS rounds; each keeps its best round.
 */
async function enqueueRun({ app, key, create }) {
  const bares = [];
  const enqueues = [];
  for (let round = 0; round < ROUNDS; round++) {
    bares.push(await load({ url: `${app.url}/api/hello/greeting`, headers: { authorization: `Bearer ${key}` } }));
    // The warm-up fills an instance of its own, and the measured run alternates between two fresh
    // ones: each queue stays inside the largest queue limit (100,000) at up to 20,000 sends a second.
    const paths = [];
    for (const name of ['warm-up', 'enqueue a', 'enqueue b']) {
      const idle = await create(`${name} ${round}`);
      paths.push(`/instances/${idle.id}/token/${idle.token}/send-text`);
    }
    // (Requests given by path are built once, as a single URL's is; autocannon takes them in turn.)
    const sendText = (at) => ({
      url: app.url,
      method: 'POST',
      headers: { 'client-token': key, 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '5511999990000', message: 'bench message' }),
      requests: at.map((p) => ({ path: p })),
    });
    enqueues.push(await load(sendText(paths.slice(1)), sendText(paths.slice(0, 1))));
  }
  return { bare: best(bares), enqueue: best(enqueues) };
}

const BENCH_PHONE = '5521999990000';
let ceiling;
const arrivedAt = new Map();
net.on('phone-received', (m) => arrivedAt.set(m.messageId, m.at));

/** Has the API client process send `count` texts, one request after another: when it started, and [message id, sent at] of each. */
async function clientSends(job) {
  const child = fork(fileURLToPath(new URL('./api-client.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise((resolve) => child.once('message', resolve));
    const answer = await new Promise((resolve) => {
      child.once('message', resolve);
      child.send(job);
    });
    if (answer.error) throw new Error(answer.error);
    return answer;
  } finally {
    child.kill();
  }
}

/**
 * Links an instance to `shop`, then sends E2E texts to the bench phone, one request after another
 * (or `inFlight` at a time): rate from the first request to the last arrival.
 */
async function e2eRun({ app, json, key, create }, shop, inFlight = 1) {
  const auth = { 'client-token': key };
  const inst = await create('e2e');
  const base = `/instances/${inst.id}/token/${inst.token}`;
  const qr = (await json('GET', `${base}/qr-code`, undefined, auth)).body.value;
  await net.ask({ type: 'scan', qr, phone: shop, name: 'Bench shop' });
  await until(async () => (await json('GET', `${base}/status`, undefined, auth)).body.connected, 60_000);
  const warm = await json('POST', `${base}/send-text`, { phone: BENCH_PHONE, message: 'warm up' }, auth);
  await until(() => arrivedAt.has(warm.body.messageId), 30_000);
  const { startedAt, sent } = await clientSends({ url: `${app.url}${base}/send-text`, auth, phone: BENCH_PHONE, prefix: 'e2e', count: E2E, inFlight });
  const sentAt = new Map(sent);
  await until(() => [...sentAt.keys()].every((id) => arrivedAt.has(id)), 120_000);
  // From the first request to the last arrival (both clocks are the machine's wall clock, in ms).
  const seconds = (Math.max(...[...sentAt.keys()].map((id) => arrivedAt.get(id))) - startedAt) / 1000;
  return { rate: E2E / seconds, latencies: [...sentAt].map(([id, t]) => arrivedAt.get(id) - t) };
}
const e2eRow = (label, { rate, latencies }) => [label, `${Math.round(rate)} msg/s`, `p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, ${(rate / ceiling.rate).toFixed(2)}x of the relay`];

const main = await start();
const { app, json, key, create } = main;
const rows = [];
try {
  const auth = { 'client-token': key };

  console.log(`\nwhatsapp-session bench: ${os.cpus().length} cores, Node ${process.version}, ${DURATION}s per load run\n`);

  // 1. Enqueue throughput on an instance that is not connected (messages only queue).
  const { bare, enqueue } = await enqueueRun(main);

  // 2. The ceiling: one Baileys client to another through the network process, each send awaited,
  // both clients' sockets set up as PlugChat's: device lists, no per-frame timeout (the sandbox bench's relay is stock Baileys),
  // taking turns with 3. end to end: API → queue → Baileys → sandbox → virtual phone (in the
  // network process), pacing 0. Two rounds each, the best of each.
  await net.ask({ type: 'phone', phone: BENCH_PHONE, name: 'Bench phone' });
  const relays = [];
  const e2es = [];
  for (let round = 0; round < 2; round++) {
    const r = await relay(net, RELAY, undefined, withDeviceLists);
    r.a.sock.end(undefined);
    r.b.sock.end(undefined);
    relays.push(r);
    e2es.push(await e2eRun(main, `551199999111${round}`));
  }
  ceiling = best(relays, (r) => r.rate);
  const e2e = best(e2es, (r) => r.rate);
  // A client with a few requests under way, as an app sending as events happen has.
  const e2eBusy = best([await e2eRun(main, '5511999991120', IN_FLIGHT), await e2eRun(main, '5511999991121', IN_FLIGHT)], (r) => r.rate);
  rows.push(
    ['GET /api/hello/greeting (host bare plugin route)', `${Math.round(bare.requests.average)} req/s`, `p99 ${bare.latency.p99} ms`],
    ['POST send-text (validate, store, enqueue)', `${Math.round(enqueue.requests.average)} req/s`, `p99 ${enqueue.latency.p99} ms, ${(enqueue.requests.average / bare.requests.average).toFixed(2)}x of the bare route`],
    [`sandbox relay, Baileys → Baileys set up as PlugChat's sockets (${RELAY} messages)`, `${Math.round(ceiling.rate)} msg/s`, 'the ceiling of the next row'],
    e2eRow(`API → virtual phone, pacing 0 (${E2E} messages)`, e2e),
    e2eRow(`  the same, ${IN_FLIGHT} requests in flight`, e2eBusy),
  );
} finally {
  await main.stop();
}

// The enqueue run again on PostgreSQL (a fresh database), each figure against its own bare route.
let pgdb;
try {
  pgdb = await freshPostgres(PG_URL, 'plugchat_bench_');
} catch (err) {
  rows.push(['send-text on PostgreSQL', 'skipped', `no PostgreSQL at ${new URL(PG_URL).host} (${err.message})`]);
}
if (pgdb) {
  const pg = await start(pgdb.url);
  try {
    const { bare, enqueue } = await enqueueRun(pg);
    const e2e = best([await e2eRun(pg, '5511999992220'), await e2eRun(pg, '5511999992221')], (r) => r.rate);
    const e2eBusy = best([await e2eRun(pg, '5511999992230', IN_FLIGHT), await e2eRun(pg, '5511999992231', IN_FLIGHT)], (r) => r.rate);
    rows.push(
      ['GET /api/hello/greeting, PostgreSQL', `${Math.round(bare.requests.average)} req/s`, `p99 ${bare.latency.p99} ms`],
      ['POST send-text, PostgreSQL', `${Math.round(enqueue.requests.average)} req/s`, `p99 ${enqueue.latency.p99} ms, ${(enqueue.requests.average / bare.requests.average).toFixed(2)}x of the bare route`],
      e2eRow('API → virtual phone, PostgreSQL', e2e),
      e2eRow(`  the same, ${IN_FLIGHT} requests in flight`, e2eBusy),
    );
  } finally {
    await pg.stop();
    await pgdb.drop();
  }
}
await net.stop();
for (const [a, b, c] of rows) console.log(`${a.padEnd(52)} ${b.padStart(12)}   ${c}`);
process.exit(0);
