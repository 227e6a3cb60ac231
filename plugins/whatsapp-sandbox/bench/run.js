// npm run bench (sandbox part): messages per second relayed between two real
// Baileys clients, and the network's resident memory per connected client with 50 clients.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

const require = createRequire(import.meta.url);
const B = require('@whiskeysockets/baileys');
const MESSAGES = Number(process.env.BENCH_MESSAGES || 500);
const CLIENTS = Number(process.env.BENCH_CLIENTS || 50);

const child = fork(fileURLToPath(new URL('./network-process.js', import.meta.url)), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
let nextId = 1;
const pending = new Map();
let readyUrl;
const ready = new Promise((resolve) => {
  child.on('message', (m) => {
    if (m.type === 'ready') {
      readyUrl = m.url;
      resolve();
    } else pending.get(m.id)?.(m);
  });
});
const ask = (msg) =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    child.send({ ...msg, id });
  });

function client() {
  const creds = B.initAuthCreds();
  const data = {};
  const keys = {
    get: async (type, ids) => Object.fromEntries(ids.filter((id) => data[type]?.[id] !== undefined).map((id) => [id, type === 'app-state-sync-key' ? B.proto.Message.AppStateSyncKeyData.fromObject(data[type][id]) : data[type][id]])),
    set: async (entries) => {
      for (const [type, values] of Object.entries(entries)) {
        data[type] ??= {};
        for (const [id, v] of Object.entries(values)) if (v == null) delete data[type][id]; else data[type][id] = v;
      }
    },
  };
  const c = { received: 0, open: false, qr: undefined, sock: undefined, onMessage: () => {} };
  const start = () => {
    const sock = B.default({ auth: { creds, keys }, waWebSocketUrl: readyUrl, version: [2, 3000, 1019707846], logger: pino({ level: 'silent' }), markOnlineOnConnect: true, keepAliveIntervalMs: 30_000 });
    c.sock = sock;
    sock.ev.on('creds.update', (u) => Object.assign(creds, u));
    sock.ev.on('connection.update', (u) => {
      if (u.qr) c.qr = u.qr;
      if (u.connection === 'open') c.open = true;
      if (u.connection === 'close' && u.lastDisconnect?.error?.output?.statusCode === 515) start();
    });
    sock.ev.on('messages.upsert', ({ messages }) => {
      for (const m of messages) if (!m.key.fromMe && m.message?.extendedTextMessage) {
        c.received++;
        c.onMessage();
      }
    });
  };
  start();
  return c;
}
const until = async (fn, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('bench timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};
async function paired(phone, name) {
  const c = client();
  await until(() => c.qr);
  await ask({ type: 'scan', qr: c.qr, phone, name });
  await until(() => c.open);
  await new Promise((r) => setTimeout(r, 200));
  return c;
}
const rss = async () => (await ask({ type: 'rss' })).rss;

await ready;
console.log(`\nWhatsApp sandbox bench: ${os.cpus().length} cores, Node ${process.version}, Baileys ${require('@whiskeysockets/baileys/package.json').version}\n`);
const idle = await rss();
const a = await paired('5511800000001', 'Bench A');
const b = await paired('5511800000002', 'Bench B');
// Warm up the Signal sessions, then measure.
await a.sock.sendMessage(B.jidNormalizedUser(b.sock.user.id), { text: 'warm up' });
await until(() => b.received === 1);
const to = B.jidNormalizedUser(b.sock.user.id);
const started = process.hrtime.bigint();
for (let i = 0; i < MESSAGES; i++) await a.sock.sendMessage(to, { text: `message ${i}` });
await until(() => b.received === MESSAGES + 1, 120_000);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

const clients = [a, b];
for (let i = 2; i < CLIENTS; i++) clients.push(await paired(`55118000${String(i).padStart(5, '0')}`, `Bench ${i}`));
await new Promise((r) => setTimeout(r, 1000));
const loaded = await rss();

const rows = [
  ['messages relayed A → B (send, route, decrypt at B)', `${Math.round(MESSAGES / seconds)} msg/s`, `${MESSAGES} messages in ${seconds.toFixed(2)} s`],
  ['network resident memory, no clients', `${Math.round(idle / 1048576)} MB`, ''],
  [`network resident memory, ${CLIENTS} connected clients`, `${Math.round(loaded / 1048576)} MB`, ''],
  ['resident memory per connected client', `${Math.round((loaded - idle) / CLIENTS / 1024)} KB`, ''],
];
for (const [x, y, z] of rows) console.log(`${x.padEnd(52)} ${y.padStart(12)}   ${z}`);
for (const c of clients) c.sock.end(undefined);
// The child exits on "stop" without answering: wait for its exit, not for a reply.
const exited = new Promise((resolve) => child.once('exit', resolve));
child.send({ type: 'stop' });
await exited;
process.exit(0);
