// npm run bench (helpdesk reports): a year of one account's history, 100,000 attendances and
// 1,000,000 messages (BENCH_REPORT_ATTENDANCES, BENCH_REPORT_MESSAGES), written straight into the
// tables as the helpdesk writes them, then the reports a supervisor opens over the whole year, on
// the embedded default and on PostgreSQL (BENCH_ONLY=embedded or postgresql runs one). Each
// figure is the time of the HTTP request.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { boot } from '../../../core/dist/boot.js';
import { createLogger } from '../../../core/dist/services/logger.js';
import { buildRollups } from '../dist/services/reports/rollups.js';
import { freshPostgres } from '../../../core/test/support/freshPostgres.js';
import { seededRandom } from '../../../core/test/support/random.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ATTENDANCES = Number(process.env.BENCH_REPORT_ATTENDANCES || 100_000);
const MESSAGES = Number(process.env.BENCH_REPORT_MESSAGES || 1_000_000);
const CONTACTS = Math.max(30, Math.round(ATTENDANCES / 5));
const AGENTS = 20;
const QUEUES = 5;
const RUNS = 5;
const BUSINESS_QUEUES = Number(process.env.BENCH_REPORT_BUSINESS_QUEUES ?? 3);
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const YEAR_START = Date.parse('2026-01-01T03:00:00Z');
const YEAR_MS = 365 * 86_400_000;

/** Writes the history: contacts, attendances and their reporting events, in batches. */
async function seed(knex, kind, accountId, instanceId, agents, queues, progress) {
  const rnd = seededRandom(42);
  const rndHours = seededRandom(7);
  const ts = (ms) => (kind === 'postgresql' ? new Date(ms) : ms);
  const contacts = Array.from({ length: CONTACTS }, (_, i) => ({
    id: randomUUID(), account_id: accountId, phone: `55119${String(i).padStart(8, '0')}`, name: `Cliente ${i}`, push_name: null, avatar_url: null,
    attributes: '{}', blocked: false, created_at: ts(YEAR_START), updated_at: ts(YEAR_START),
  }));
  const batch = kind === 'postgresql' ? 2000 : 500;
  const insert = async (table, rows) => {
    for (let i = 0; i < rows.length; i += batch) await knex(table).insert(rows.slice(i, i + batch));
  };
  await insert('helpdesk_contacts', contacts);
  const perAttendance = MESSAGES / ATTENDANCES;
  let events = [];
  let attendances = [];
  let written = 0;
  const flush = async () => {
    await knex.transaction(async (trx) => {
      for (let i = 0; i < attendances.length; i += batch) await trx('helpdesk_attendances').insert(attendances.slice(i, i + batch));
      for (let i = 0; i < events.length; i += batch) await trx('helpdesk_report_events').insert(events.slice(i, i + batch));
    });
    written += events.length;
    events = [];
    attendances = [];
  };
  for (let n = 1; n <= ATTENDANCES; n++) {
    // Busier contacts write more often: a skewed pick, so that the top 10 means something.
    const contact = contacts[Math.floor(CONTACTS * rnd() ** 2)];
    const agent = agents[Math.floor(rnd() * agents.length)];
    const queue = queues[Math.floor(rnd() * queues.length)];
    const created = YEAR_START + Math.floor(rnd() * (YEAR_MS - 86_400_000));
    const id = randomUUID();
    const base = { account_id: accountId, attendance_id: id, contact_id: contact.id, instance_id: instanceId, queue_id: queue, from_queue_id: null, from_agent_id: null };
    // The first three queues keep business hours: a share of their durations straddles a closed
    // stretch and counts less in business time (a generator of its own, so the rest of the
    // history is the same with or without it).
    const hours = queues.indexOf(queue) < BUSINESS_QUEUES;
    const business = (value) => (hours && value && rndHours() < 0.3 ? Math.floor(value * rndHours() * 1000) / 1000 : value);
    const ev = (name, at, agentId = null, value = 0) => events.push({ ...base, name, at: ts(at), value, business_value: business(value), agent_id: agentId });
    ev('created', created);
    const assigned = created + Math.floor(rnd() * 600_000);
    ev('assigned', assigned, agent);
    ev('assignment_wait', assigned, agent, (assigned - created) / 1000);
    let t = assigned;
    const messages = Math.max(2, Math.round(perAttendance * (0.5 + rnd())));
    for (let m = 0; m < messages; m++) {
      t += Math.floor(rnd() * 300_000);
      const inbound = m % 2 === 0;
      ev(inbound ? 'message_in' : 'message_out', t, agent);
      if (m === 1) ev('first_response', t, agent, (t - created) / 1000);
      else if (!inbound && m > 1) ev('reply_time', t, agent, Math.floor(rnd() * 300));
    }
    const resolved = t + Math.floor(rnd() * 3_600_000);
    ev('resolution', resolved, agent, (resolved - created) / 1000);
    attendances.push({
      id, number: n, account_id: accountId, instance_id: instanceId, contact_id: contact.id, queue_id: queue, assignee_id: agent, status: 'resolved', priority: 'normal', open_key: null,
      menu_pending: false, closed_period_notified: null, version: 1, unread: 0, last_preview: null, snoozed_until: null, created_at: ts(created), reopened_at: null,
      assigned_at: ts(assigned), first_reply_at: ts(assigned), waiting_since: null, resolved_at: ts(resolved), last_message_at: ts(t),
    });
    if (events.length >= 50_000) {
      await flush();
      progress(n, written);
    }
  }
  await flush();
  progress(ATTENDANCES, written);
  // The rollups, as the helpdesk keeps them event by event, built here in one statement each.
  await buildRollups(knex, kind === 'postgresql' ? 'postgresql' : 'sqlite', accountId);
  return written;
}

async function run(label, databaseUrl) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-reports-bench-'));
  writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'plugins.config.json'), JSON.stringify({ bundled: false, packages: ['@plugchat/whatsapp-session', '@plugchat/helpdesk'] }));
  const env = { ...process.env, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', APP_SECRET: 'bench-secret-'.padEnd(40, 'x'), DATABASE_URL: databaseUrl ?? '' };
  const app = await boot({ cwd: dir, env, logger: createLogger('warn') });
  const rows = [];
  try {
    const json = async (method, url, body, headers = {}) => {
      const res = await fetch(app.url + url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
      return { status: res.status, headers: res.headers, body: await res.json().catch(() => undefined) };
    };
    const setup = await json('POST', '/api/setup', { accountName: 'Bench', name: 'Bench', email: 'bench@bench.test', password: 'bench password 1' });
    const cookie = setup.headers.get('set-cookie').split(';')[0];
    const accountId = (await json('GET', '/api/auth/me', undefined, { cookie })).body.account.id;
    const inst = (await json('POST', '/api/whatsapp-session/instances', { name: 'reports' }, { cookie })).body;
    const agents = [];
    for (let i = 0; i < AGENTS; i++) agents.push((await json('POST', '/api/users', { email: `agent${i}@bench.test`, name: `Agente ${i}`, password: 'agent password 123', role: 'agent' }, { cookie })).body.id);
    const queues = [];
    for (let i = 0; i < QUEUES; i++) queues.push((await json('POST', '/api/helpdesk/queues', { name: `Fila ${i}` }, { cookie })).body.id);
    const kind = databaseUrl ? 'postgresql' : 'sqlite';
    const started = Date.now();
    const written = await seed(app.db.knex, kind, accountId, inst.id, agents, queues, (n, events) => process.stdout.write(`\r  ${label}: ${n.toLocaleString('en')} attendances, ${events.toLocaleString('en')} events written`));
    // What autovacuum and SQLite's optimizer would have after a year of writes: fresh statistics.
    if (kind === 'postgresql') for (const t of ['helpdesk_report_events', 'helpdesk_report_daily', 'helpdesk_report_monthly', 'helpdesk_report_durations', 'helpdesk_report_buckets', 'helpdesk_report_contact_daily']) await app.db.knex.raw(`vacuum analyze ${t}`);
    else await app.db.knex.raw('analyze');
    console.log(` in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (process.env.BENCH_KEEP) {
      console.log(`kept: ${dir} ${databaseUrl ?? ''}`);
      return rows;
    }

    const year = 'from=2026-01-01&to=2026-12-31';
    const measure = async (what, url) => {
      const times = [];
      for (let i = 0; i <= RUNS; i++) {
        const t0 = performance.now();
        const res = await json('GET', url, undefined, { cookie });
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
        if (i) times.push(performance.now() - t0); // the first run warms the caches
      }
      times.sort((a, b) => a - b);
      rows.push([`${what}, ${label}`, `${times[Math.floor(times.length / 2)].toFixed(0)} ms`, `max ${times[times.length - 1].toFixed(0)} ms over ${RUNS} runs`]);
    };
    await measure('summary of the year', `/api/helpdesk/reports/summary?${year}`);
    await measure('per-agent table of the year', `/api/helpdesk/reports/agents?${year}`);
    await measure('top 10 clients of the year', `/api/helpdesk/reports/top-clients?${year}`);
    await measure('series by week of the year', `/api/helpdesk/reports/series?${year}&granularity=week`);
    await measure('busiest hours of the year', `/api/helpdesk/reports/heatmap?${year}`);
    await measure('summary of one month', `/api/helpdesk/reports/summary?from=2026-06-01&to=2026-06-30`);
    const check = (await json('GET', `/api/helpdesk/reports/summary?${year}`, undefined, { cookie })).body.figures;
    rows.push([`history, ${label}`, `${written.toLocaleString('en')} events`, `${ATTENDANCES.toLocaleString('en')} attendances, ${(check.messagesIn + check.messagesOut).toLocaleString('en')} messages in the year's summary`]);
    return rows;
  } finally {
    await app.stop();
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`\nhelpdesk reports bench: ${os.cpus().length} cores, Node ${process.version}\n`);
const rows = [];
if (process.env.BENCH_ONLY !== 'postgresql') rows.push(...(await run('embedded')));
let pgdb;
try {
  if (process.env.BENCH_ONLY !== 'embedded') pgdb = await freshPostgres(PG_URL, 'plugchat_bench_');
} catch (err) {
  rows.push(['reports, PostgreSQL', 'skipped', `no PostgreSQL at ${new URL(PG_URL).host} (${err.message})`]);
}
if (pgdb) {
  try {
    rows.push(...(await run('PostgreSQL', pgdb.url)));
  } finally {
    if (!process.env.BENCH_KEEP) await pgdb.drop();
  }
}
console.log('');
for (const [a, b, c] of rows) console.log(`${a.padEnd(48)} ${b.padStart(16)}   ${c}`);
process.exit(0);
