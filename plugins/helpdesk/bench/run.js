// npm run bench (helpdesk part), in one process on the embedded default: 50 sandbox customer
// phones write to one number at once. The ceiling is the rate at which the network relays their
// messages to the instance's WhatsApp client (its delivery receipts, sent once Baileys has
// decrypted each message); the figure is the rate at which they become attendance messages.
// Then the latency from a customer's send to the event in an agent's live stream, one message
// at a time and under the burst.
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
writeFileSync(path.join(dir, 'plugins.config.json'), JSON.stringify({ packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox', '@plugchat/helpdesk'] }));
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

  const rows = [
    [`sandbox relay to the instance (${total} messages, ${PHONES} phones)`, `${Math.round(total / relaySeconds)} msg/s`, 'ceiling: delivery receipts from the business client'],
    ['  turned into attendance messages', `${Math.round(total / helpdeskSeconds)} msg/s`, `${Math.round((100 * relaySeconds) / helpdeskSeconds)} % of the relay`],
    [`send → agent's stream, one at a time (${SEQUENTIAL})`, `p50 ${pct(single, 50).toFixed(1)} ms`, `p99 ${pct(single, 99).toFixed(1)} ms`],
    [`send → agent's stream, under the burst (${total})`, `p50 ${pct(burstLatency, 50).toFixed(0)} ms`, `p99 ${pct(burstLatency, 99).toFixed(0)} ms`],
  ];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(60)} ${b.padStart(14)}   ${c}`);
} finally {
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
