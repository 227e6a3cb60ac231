// The sandbox network in a child process and real Baileys clients driving it from this one: shared
// by the sandbox bench and the whatsapp-session bench, whose API → phone figure is set against the
// relay measured here in the same run.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

const require = createRequire(import.meta.url);
const B = require('@whiskeysockets/baileys');

export const until = async (fn, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('bench timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Forks the network; resolves once it listens. `on(type, fn)` hears what it reports unasked. */
export async function startNetworkProcess() {
  const child = fork(fileURLToPath(new URL('./network-process.js', import.meta.url)), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const pending = new Map();
  const listeners = new Map();
  const url = await new Promise((resolve) => {
    child.on('message', (m) => {
      if (m.type === 'ready') resolve(m.url);
      else if (m.id !== undefined) pending.get(m.id)?.(m);
      else listeners.get(m.type)?.(m);
    });
  });
  const ask = (msg) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (m) => (pending.delete(id), m.error ? reject(new Error(m.error)) : resolve(m)));
      child.send({ ...msg, id });
    });
  return {
    url,
    ask,
    on: (type, fn) => listeners.set(type, fn),
    rss: async () => (await ask({ type: 'rss' })).rss,
    async stop() {
      // The child exits on "stop" without answering: wait for its exit, not for a reply.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

/**
 * A Baileys client with its keys in memory, reconnecting after the 515 that follows pairing.
 * `tune(sock)` may return settings for the next socket and adjust the socket once made.
 */
function client(url, tune) {
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
    const tuned = tune?.() ?? {};
    const sock = B.default({ auth: { creds, keys }, waWebSocketUrl: url, version: [2, 3000, 1019707846], logger: pino({ level: 'silent' }), markOnlineOnConnect: true, keepAliveIntervalMs: 30_000, ...tuned.config });
    tuned.adjust?.(sock);
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

/** A client linked to `phone` through the network process, open. */
export async function paired(net, phone, name, tune) {
  const c = client(net.url, tune);
  await until(() => c.qr);
  await net.ask({ type: 'scan', qr: c.qr, phone, name });
  await until(() => c.open);
  await new Promise((r) => setTimeout(r, 200));
  return c;
}

/**
 * The relay ceiling: `messages` texts from one client to another, each send awaited; messages per
 * second at the receiver. `tune` configures both clients' sockets (see `client`).
 */
export async function relay(net, messages, phones = ['5511800000001', '5511800000002'], tune) {
  const a = await paired(net, phones[0], 'Bench A', tune);
  const b = await paired(net, phones[1], 'Bench B', tune);
  const to = B.jidNormalizedUser(b.sock.user.id);
  // Warm up the Signal sessions, then measure.
  await a.sock.sendMessage(to, { text: 'warm up' });
  await until(() => b.received === 1);
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) await a.sock.sendMessage(to, { text: `message ${i}` });
  await until(() => b.received === messages + 1, 120_000);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { a, b, seconds, rate: messages / seconds };
}
