// The sandbox network in a process of its own, so its memory can be measured alone and its work
// (routing, the virtual phones' decryption) does not share the event loop of what drives it.
import { SandboxNetwork } from '../dist/network/index.js';

const network = new SandboxNetwork({ media: false });
await network.start();
// What virtual phones receive, reported once asked for (with the time, comparable across processes).
let watching = false;
network.on('phone-received', ({ message }) => {
  if (watching) process.send({ type: 'phone-received', messageId: message.id, at: performance.timeOrigin + performance.now() });
});
process.send({ type: 'ready', url: network.url });
// A bench that dies mid-run takes its network with it (else the network holds the run's output pipe open).
process.on('disconnect', () => process.exit(1));
process.on('message', async (m) => {
  try {
    if (m.type === 'rss') {
      globalThis.gc?.();
      process.send({ type: 'rss', id: m.id, rss: process.memoryUsage().rss });
    } else if (m.type === 'scan') {
      process.send({ type: 'scan', id: m.id, jid: await network.scan(m.qr, m.phone, { name: m.name }) });
    } else if (m.type === 'phone') {
      network.createPhone(m.phone, { name: m.name });
      watching = true;
      process.send({ type: 'phone', id: m.id });
    } else if (m.type === 'stop') {
      await network.stop();
      process.exit(0);
    }
  } catch (err) {
    process.send({ type: m.type, id: m.id, error: String(err) });
  }
});
