// npm run bench (sandbox part): messages per second relayed between two real
// Baileys clients, and the network's resident memory per connected client with 50 clients.
import { createRequire } from 'node:module';
import os from 'node:os';
import { paired, relay, startNetworkProcess } from './remote.js';

const require = createRequire(import.meta.url);
const MESSAGES = Number(process.env.BENCH_MESSAGES || 500);
const CLIENTS = Number(process.env.BENCH_CLIENTS || 50);

const net = await startNetworkProcess();

console.log(`\nWhatsApp sandbox bench: ${os.cpus().length} cores, Node ${process.version}, Baileys ${require('@whiskeysockets/baileys/package.json').version}\n`);
const idle = await net.rss();
const { a, b, seconds } = await relay(net, MESSAGES);

const clients = [a, b];
for (let i = 2; i < CLIENTS; i++) clients.push(await paired(net, `55118000${String(i).padStart(5, '0')}`, `Bench ${i}`));
await new Promise((r) => setTimeout(r, 1000));
const loaded = await net.rss();

const rows = [
  ['messages relayed A → B (send, route, decrypt at B)', `${Math.round(MESSAGES / seconds)} msg/s`, `${MESSAGES} messages in ${seconds.toFixed(2)} s`],
  ['network resident memory, no clients', `${Math.round(idle / 1048576)} MB`, ''],
  [`network resident memory, ${CLIENTS} connected clients`, `${Math.round(loaded / 1048576)} MB`, ''],
  ['resident memory per connected client', `${Math.round((loaded - idle) / CLIENTS / 1024)} KB`, ''],
];
for (const [x, y, z] of rows) console.log(`${x.padEnd(52)} ${y.padStart(12)}   ${z}`);
for (const c of clients) c.sock.end(undefined);
await net.stop();
process.exit(0);
