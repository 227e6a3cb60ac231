// npm run bench (helpdesk part), in one process on the embedded default: 50 sandbox customer
// phones write to one number at once. The ceiling is the rate at which the network relays their
// messages to the instance's WhatsApp client (its delivery receipts, sent once Baileys has
// decrypted each message); the figure is the rate at which they become attendance messages.
// Then the latency from a customer's send to the event in an agent's live stream, one message
// at a time and under the burst; then reads at size (5,000 attendances, 2,000 messages).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { boot } from '../../../core/dist/boot.js';
import { createLogger } from '../../../core/dist/services/logger.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PHONES = Number(process.env.BENCH_PHONES || 50);
const PER_PHONE = Number(process.env.BENCH_MESSAGES_PER_PHONE || 10);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL || 100);
const BIZ = '5511977770000';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (fn, ms = 120_000, what = 'condition') => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`bench timed out waiting for ${what}`);
    await sleep(10);
  }
};
const pct = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const now = () => Number(process.hrtime.bigint()) / 1e6;

const dir = mkdtempSync(path.join(os.tmpdir(), 'plugchat-helpdesk-bench-'));
writeFileSync(path.join(dir, 'package.json'), '{"private":true}');
symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
writeFileSync(path.join(dir, 'plugins.config.json'), JSON.stringify({ bundled: false, packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox', '@plugchat/helpdesk'] }));
const app = await boot({ cwd: dir, env: { ...process.env, DATA_DIR: path.join(dir, 'data'), PORT: '0', HOST: '127.0.0.1', APP_SECRET: 'bench-secret-'.padEnd(40, 'x') }, logger: createLogger('warn') });
const network = app.host.records.get('whatsapp-sandbox').api.network();
const json = async (method, url, body, headers = {}) => {
  const res = await fetch(app.url + url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => undefined) };
};

/** The agents' live stream, parsed; calls onEvent for each timeline event. */
function stream(cookie, onEvent) {
  const controller = new AbortController();
  const ready = fetch(`${app.url}/api/helpdesk/stream`, { headers: { cookie }, signal: controller.signal }).then(async (res) => {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = block.split('\n').find((l) => l.startsWith('data: '));
            if (block.includes('event: timeline') && data) onEvent(JSON.parse(data.slice(6)));
          }
        }
      } catch {
        /* closed */
      }
    })();
  });
  return { ready, close: () => controller.abort() };
}

try {
  const setup = await json('POST', '/api/setup', { accountName: 'Bench', name: 'Bench', email: 'bench@bench.test', password: 'bench password 1' });
  const cookie = setup.headers.get('set-cookie').split(';')[0];
  const key = (await json('POST', '/api/api-keys', { name: 'bench' }, { cookie })).body.key;
  const inst = (await json('POST', '/api/whatsapp-session/instances', { name: 'helpdesk', delayMinMs: 0, delayMaxMs: 0 }, { cookie })).body;
  const base = `/instances/${inst.id}/token/${inst.token}`;
  const qr = (await json('GET', `${base}/qr-code`, undefined, { 'client-token': key })).body.value;
  await network.scan(qr, BIZ, { name: 'Bench shop' });
  await until(async () => (await json('GET', `${base}/status`, undefined, { 'client-token': key })).body.connected, 30_000, 'the instance');

  console.log(`\nhelpdesk bench: ${os.cpus().length} cores, Node ${process.version}, ${PHONES} phones x ${PER_PHONE} messages\n`);

  const seen = new Map(); // text -> ms when it reached the stream
  const live = stream(cookie, (e) => {
    const text = e.data?.content?.text;
    if (e.data?.kind === 'message' && e.data.direction === 'in' && text && !seen.has(text)) seen.set(text, now());
  });
  await live.ready;

  // 1. One message at a time: customer send → attendance message → agent's stream.
  const solo = network.createPhone('5521977770001', { name: 'Solo' });
  const single = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const text = `solo ${i}`;
    const t = now();
    await solo.send(BIZ, { text });
    await until(() => seen.has(text), 30_000, text);
    single.push(seen.get(text) - t);
  }

  // 2. The burst: every phone sends its messages as fast as it can.
  const phones = Array.from({ length: PHONES }, (_, i) => network.createPhone(`55219888${String(i).padStart(5, '0')}`, { name: `Cliente ${i}` }));
  const sentAt = new Map();
  const relayed = [];
  const burstIds = new Set();
  const receipted = new Set();
  network.on('receipt', ({ id, type }) => {
    // The business client's delivery receipt ('inactive' while it shows no presence), once per message.
    if ((type === 'delivery' || type === 'inactive') && burstIds.has(id) && !receipted.has(id)) {
      receipted.add(id);
      relayed.push(now());
    }
  });
  const total = PHONES * PER_PHONE;
  const started = now();
  await Promise.all(
    phones.map(async (p, i) => {
      for (let j = 0; j < PER_PHONE; j++) {
        const text = `burst ${i}-${j}`;
        sentAt.set(text, now());
        const m = await p.send(BIZ, { text });
        burstIds.add(m.id);
      }
    }),
  );
  await until(() => [...sentAt.keys()].every((t) => seen.has(t)), 300_000, 'every burst message on the stream');
  await until(() => relayed.length >= total, 30_000, 'every delivery receipt');
  const relaySeconds = (Math.max(...relayed) - started) / 1000;
  const helpdeskSeconds = (Math.max(...[...sentAt.keys()].map((t) => seen.get(t))) - started) / 1000;
  const burstLatency = [...sentAt].map(([t, at]) => seen.get(t) - at);
  const counts = (await json('GET', '/api/helpdesk/attendances/counts', undefined, { cookie })).body;
  live.close();
  if (counts.all !== PHONES + 1) throw new Error(`expected ${PHONES + 1} attendances, found ${counts.all}`);

  // 3. Reading at size: 5,000 attendances in the list, a conversation with 2,000 messages.
  const LIST = Number(process.env.BENCH_LIST || 5000);
  const LONG = Number(process.env.BENCH_LONG || 2000);
  const accountId = (await json('GET', '/api/auth/me', undefined, { cookie })).body.account.id;
  const em = app.db.em.fork();
  const at = (i) => new Date(Date.UTC(2026, 0, 1) + i * 60_000);
  const contacts = Array.from({ length: LIST }, (_, i) => ({ id: randomUUID(), accountId, phone: `55119${String(i).padStart(8, '0')}`, name: `Cliente ${i}`, pushName: null, avatarUrl: null, attributes: {}, blocked: false, createdAt: at(i), updatedAt: at(i) }));
  const atts = contacts.map((c, i) => ({
    id: randomUUID(), number: 10_000 + i, accountId, instanceId: inst.id, contactId: c.id, queueId: null, assigneeId: null, status: i % 3 ? 'open' : 'pending', priority: 'normal',
    openKey: `${inst.id}:${c.id}`, menuPending: false, closedPeriodNotified: null, version: 1, unread: i % 4, lastPreview: `mensagem ${i}`, snoozedUntil: null,
    createdAt: at(i), reopenedAt: null, assignedAt: null, firstReplyAt: null, waitingSince: null, resolvedAt: null, lastMessageAt: at(i),
  }));
  for (let i = 0; i < LIST; i += 500) {
    await em.insertMany('HelpdeskContact', contacts.slice(i, i + 500));
    await em.insertMany('HelpdeskAttendance', atts.slice(i, i + 500));
  }
  const long = atts[atts.length - 1];
  const rowsIn = Array.from({ length: LONG }, (_, i) => ({
    id: randomUUID().replace(/-/g, '').toUpperCase(), account_id: accountId, instance_id: inst.id, wa_id: `LONG${i}`, chat: `${contacts[contacts.length - 1].phone}@s.whatsapp.net`,
    direction: i % 2 ? 'out' : 'in', type: 'text', content: JSON.stringify({ type: 'text', text: `linha ${i}`, hasMedia: false }), status: i % 2 ? 'READ' : 'RECEIVED', error: null,
    seq: 1_700_000_000_000_000 + i, from_me: !!(i % 2), waiting: false, media_path: null, delay_ms: null, attempts: 0, created_at: at(i), updated_at: at(i), sent_at: null,
  }));
  for (let i = 0; i < LONG; i += 200) await app.db.knex('whatsapp_session_messages').insert(rowsIn.slice(i, i + 200));
  const items = rowsIn.map((m, i) => ({ id: randomUUID(), accountId, attendanceId: long.id, seq: String(1_700_000_000_000_000 + i), kind: 'message', instanceId: inst.id, sessionMessageId: m.id, waId: m.wa_id, direction: m.direction, authorId: null, body: null, data: { type: 'text' }, createdAt: at(i) }));
  for (let i = 0; i < LONG; i += 500) await em.insertMany('HelpdeskTimelineItem', items.slice(i, i + 500));
  const timed = async (n, fn) => {
    const out = [];
    for (let i = 0; i < n; i++) {
      const t = now();
      await fn(i);
      out.push(now() - t);
    }
    return out;
  };
  const firstPage = await timed(100, async () => {
    const r = await json('GET', '/api/helpdesk/attendances?tab=all&limit=50', undefined, { cookie });
    if (r.body.attendances.length !== 50) throw new Error('short page');
  });
  let cursor = null;
  const deepPages = await timed(100, async () => {
    const r = await json('GET', `/api/helpdesk/attendances?tab=all&limit=50${cursor ? `&cursor=${cursor}` : ''}`, undefined, { cookie });
    cursor = r.body.nextCursor;
  });
  const countsMs = await timed(50, () => json('GET', '/api/helpdesk/attendances/counts', undefined, { cookie }));
  const search = await timed(20, (i) => json('GET', `/api/helpdesk/attendances?tab=all&q=Cliente%20${4000 + i}`, undefined, { cookie }));
  const openLong = await timed(50, () => json('GET', `/api/helpdesk/attendances/${long.id}/timeline?limit=50`, undefined, { cookie }));
  let before = null;
  const scrollBack = await timed(40, async () => {
    const r = await json('GET', `/api/helpdesk/attendances/${long.id}/timeline?limit=50${before ? `&before=${encodeURIComponent(before)}` : ''}`, undefined, { cookie });
    before = r.body.before;
  });

  const rows = [
    [`sandbox relay to the instance (${total} messages, ${PHONES} phones)`, `${Math.round(total / relaySeconds)} msg/s`, 'ceiling: delivery receipts from the business client'],
    ['  turned into attendance messages', `${Math.round(total / helpdeskSeconds)} msg/s`, `${Math.round((100 * relaySeconds) / helpdeskSeconds)} % of the relay`],
    [`send → agent's stream, one at a time (${SEQUENTIAL})`, `p50 ${pct(single, 50).toFixed(1)} ms`, `p99 ${pct(single, 99).toFixed(1)} ms`],
    [`send → agent's stream, under the burst (${total})`, `p50 ${pct(burstLatency, 50).toFixed(0)} ms`, `p99 ${pct(burstLatency, 99).toFixed(0)} ms`],
    [`list, first page of 50 among ${LIST} attendances`, `p50 ${pct(firstPage, 50).toFixed(1)} ms`, `p99 ${pct(firstPage, 99).toFixed(1)} ms`],
    ['list, the next 100 pages by cursor', `p50 ${pct(deepPages, 50).toFixed(1)} ms`, `p99 ${pct(deepPages, 99).toFixed(1)} ms`],
    ['tab counts', `p50 ${pct(countsMs, 50).toFixed(1)} ms`, `p99 ${pct(countsMs, 99).toFixed(1)} ms`],
    ['search by name', `p50 ${pct(search, 50).toFixed(1)} ms`, `p99 ${pct(search, 99).toFixed(1)} ms`],
    [`open a conversation of ${LONG} messages (last 50)`, `p50 ${pct(openLong, 50).toFixed(1)} ms`, `p99 ${pct(openLong, 99).toFixed(1)} ms`],
    ['scroll it back, 50 messages a page', `p50 ${pct(scrollBack, 50).toFixed(1)} ms`, `p99 ${pct(scrollBack, 99).toFixed(1)} ms`],
  ];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(60)} ${b.padStart(14)}   ${c}`);
} finally {
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
