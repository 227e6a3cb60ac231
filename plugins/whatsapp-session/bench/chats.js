// npm run bench (chat list): GET /chats of an instance holding BENCH_CHAT_MESSAGES stored messages
// (100,000) across BENCH_CHATS chats (500), half of them from the customers and a tenth of those
// unread, on the embedded default and on PostgreSQL. Z-API clients poll this list; its cost must
// not grow with the history. The messages are written straight to the table (the send path has
// its own bench); the list is asked through the API, one request after another.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { boot } from '../../../core/dist/boot.js';
import { createLogger } from '../../../core/dist/services/logger.js';
import { freshPostgres } from '../../../core/test/support/freshPostgres.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MESSAGES = Number(process.env.BENCH_CHAT_MESSAGES || 100_000);
const CHATS = Number(process.env.BENCH_CHATS || 500);
const ASKS = Number(process.env.BENCH_CHAT_ASKS || 30);
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const pct = (arr, p) => [...arr].sort((a, b) => a - b)[Math.min(arr.length - 1, Math.floor((p / 100) * arr.length))];

async function run(label, databaseUrl = '') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-chats-bench-'));
  writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'plugins.config.json'), JSON.stringify({ bundled: false, packages: ['@plugchat/whatsapp-session'] }));
  const env = { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', APP_SECRET: 'bench-secret-'.padEnd(40, 'x') };
  const app = await boot({ cwd: dir, env, logger: createLogger('warn') });
  try {
    const json = async (method, url, body, headers = {}) => {
      const res = await fetch(app.url + url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
      return { status: res.status, headers: res.headers, body: await res.json().catch(() => undefined) };
    };
    const setup = await json('POST', '/api/setup', { accountName: 'Bench', name: 'Bench', email: 'bench@bench.test', password: 'bench password 1' });
    const cookie = setup.headers.get('set-cookie').split(';')[0];
    const key = (await json('POST', '/api/api-keys', { name: 'bench' }, { cookie })).body.key;
    const inst = (await json('POST', '/api/whatsapp-session/instances', { name: 'chats' }, { cookie })).body;

    const knex = app.db.knex;
    const { account_id: accountId } = await knex('whatsapp_session_instances').where({ id: inst.id }).first('account_id');
    const at = new Date();
    const base = Date.now() * 1000 - MESSAGES;
    for (let start = 0; start < MESSAGES; start += 500) {
      const rows = [];
      for (let i = start; i < Math.min(MESSAGES, start + 500); i++) {
        const incoming = i % 2 === 1;
        rows.push({
          id: `bench-${i}`,
          account_id: accountId,
          instance_id: inst.id,
          wa_id: `3EB0BENCH${i}`,
          chat: `55119${String(i % CHATS).padStart(8, '0')}@s.whatsapp.net`,
          direction: incoming ? 'in' : 'out',
          type: 'text',
          content: JSON.stringify({ text: `message ${i}`, ...(incoming ? { senderName: `Customer ${i % CHATS}` } : {}) }),
          status: incoming ? (i % 20 === 1 ? 'RECEIVED' : 'READ') : 'RECEIVED',
          seq: base + i,
          from_me: !incoming,
          attempts: 0,
          created_at: at,
          updated_at: at,
        });
      }
      await knex('whatsapp_session_messages').insert(rows);
    }
    // As autovacuum leaves a table that has settled: statistics and the visibility map (index-only scans).
    if (databaseUrl) await knex.raw('vacuum analyze whatsapp_session_messages');

    const url = `/instances/${inst.id}/token/${inst.token}/chats`;
    const first = await json('GET', url, undefined, { 'client-token': key });
    if (first.status !== 200 || first.body.length !== CHATS) throw new Error(`chats answered ${first.status} with ${first.body?.length} chats`);
    const times = [];
    for (let i = 0; i < ASKS; i++) {
      const t = performance.now();
      await json('GET', `${url}?page=1&pageSize=50`, undefined, { 'client-token': key });
      times.push(performance.now() - t);
    }
    return [`GET /chats, ${label} (${MESSAGES} messages, ${CHATS} chats)`, `p50 ${pct(times, 50).toFixed(1)} ms`, `p99 ${pct(times, 99).toFixed(1)} ms, a page of 50`];
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`\nchat list bench: ${os.cpus().length} cores, Node ${process.version}\n`);
const rows = [await run('embedded default')];
let pg;
try {
  pg = await freshPostgres(PG_URL, 'plugchat_chats_');
} catch (err) {
  rows.push(['GET /chats, PostgreSQL', 'skipped', `no PostgreSQL at ${new URL(PG_URL).host} (${err.message})`]);
}
if (pg) {
  try {
    rows.push(await run('PostgreSQL', pg.url));
  } finally {
    await pg.drop();
  }
}
for (const [a, b, c] of rows) console.log(`${a.padEnd(56)} ${b.padStart(14)}   ${c}`);
process.exit(0);
