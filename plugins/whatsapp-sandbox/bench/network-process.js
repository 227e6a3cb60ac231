// The sandbox network in a process of its own, so its memory can be measured alone.
import { SandboxNetwork } from '../dist/network/index.js';

const network = new SandboxNetwork({ media: false });
await network.start();
process.send({ type: 'ready', url: network.url });
process.on('message', async (m) => {
  try {
    if (m.type === 'rss') {
      globalThis.gc?.();
      process.send({ type: 'rss', id: m.id, rss: process.memoryUsage().rss });
    } else if (m.type === 'scan') {
      process.send({ type: 'scan', id: m.id, jid: await network.scan(m.qr, m.phone, { name: m.name }) });
    } else if (m.type === 'stop') {
      await network.stop();
      process.exit(0);
    }
  } catch (err) {
    process.send({ type: m.type, id: m.id, error: String(err) });
  }
});
