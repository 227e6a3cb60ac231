import { describe, expect, it } from 'vitest';
import type { SandboxNetwork } from '../../whatsapp-sandbox/src/network/index.js';
import { Client, createWorkspace, OWNER, setupOwner, spawnServer, waitFor, type ServerProcess, type Workspace } from '../../../core/test/support/app.js';
import { externalNetwork } from '../../whatsapp-session/test/support.js';
import { Receiver } from './receiver.js';

const RUNS = Number(process.env.CRASH_RUNS || 10);
const MESSAGES = 60;
const BIZ = '5511959000000';
const CUSTOMER = '5521959000001';
const ORDER = ['SENT', 'RECEIVED', 'READ', 'PLAYED'];

/**
 * One run of the scenario an API customer tried: texts queued with pacing, PlugChat killed with
 * SIGKILL while sending, restarted; checks, per message, one DeliveryCallback and one status
 * callback per status it reached, no event id twice, and the phone holding each text once.
 */
async function run(opts: { receiverDownAtKill: boolean }) {
  const ws: Workspace = await createWorkspace({});
  const receiver = new Receiver();
  await receiver.start();
  const port = receiver.port;
  let network: SandboxNetwork | undefined;
  let server: ServerProcess | undefined;
  try {
    network = await externalNetwork(ws, ['@plugchat/whatsapp-session', '@plugchat/webhooks'], {
      // Retries at most 5 s apart, so a receiver that comes back is reached within the 30 s the issue allows.
      webhooks: { settings: { allowHttp: true, allowPrivateNetworks: true, retryBaseSeconds: 0.2, retryMaxSeconds: 5, maxAttempts: 50, timeoutMs: 5000 } },
    });
    const phone = network.createPhone(CUSTOMER, { name: 'Iara' });
    server = await spawnServer(ws);
    const owner = await setupOwner(server.url);
    const key = (await owner.post('/api/api-keys', { name: 'k' })).body.key;
    const created = (await owner.post('/api/whatsapp-session/instances', { name: 'Loja', delayMinMs: 40, delayMaxMs: 60 })).body;
    const api = () => {
      const c = new Client(`${server!.url}/instances/${created.id}/token/${created.token}`);
      const req = c.req.bind(c);
      c.req = (m, u, b, hd = {}) => req(m, u, b, { 'client-token': key, ...hd });
      return c;
    };
    await network.scan((await api().get('/qr-code')).body.value, BIZ, { name: 'Loja' });
    await waitFor(async () => (await api().get('/status')).body.connected, 20_000, 'connected');
    for (const kind of ['update-webhook-delivery', 'update-webhook-message-status']) expect((await api().put(`/${kind}`, { value: receiver.url })).status).toBe(200);

    if (opts.receiverDownAtKill) await receiver.stop();
    else receiver.respond = () => ({ status: 200, delayMs: 400 }); // up and slow: deliveries are mid-flight at the kill
    const sent: string[] = [];
    for (let i = 0; i < MESSAGES; i++) sent.push((await api().post('/send-text', { phone: CUSTOMER, message: `texto ${i}` })).body.messageId);
    const inbox = () => phone.messages().filter((m) => m.direction === 'in');
    await waitFor(async () => inbox().length >= 15 && (opts.receiverDownAtKill || receiver.requests.length >= 5), 30_000, 'part of the batch');
    server.proc.kill('SIGKILL');
    await server.exited;

    server = await spawnServer(ws);
    await waitFor(async () => inbox().length >= MESSAGES, 60_000, 'the rest of the batch');
    const again = new Client(server.url);
    await again.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    if (opts.receiverDownAtKill) await receiver.start(port);
    receiver.respond = () => ({ status: 200 });
    const upAt = Date.now();

    // What each message reached, as PlugChat stored it.
    const stored = async () => {
      const rows = (await api().get(`/chat-messages/${CUSTOMER}?limit=500`)).body as { messageId: string; status: string; fromMe: boolean }[];
      return new Map(rows.filter((r) => r.fromMe).map((r) => [r.messageId, r.status]));
    };
    const about = (id: string) => receiver.requests.filter((r) => r.json.messageId === id || r.json.ids?.includes(id));
    const complete = async () => {
      const status = await stored();
      return sent.every((id) => {
        const reached = ORDER.slice(0, ORDER.indexOf(status.get(id) ?? 'QUEUED') + 1);
        const got = about(id);
        return got.some((r) => r.json.type === 'DeliveryCallback') && reached.every((s) => got.some((r) => r.json.type === 'MessageStatusCallback' && r.json.status === s));
      });
    };
    await waitFor(complete, 30_000, 'every webhook within 30 s of the receiver coming up').catch(async (err) => {
      // Say what is missing, and what PlugChat holds for it, before failing.
      const status = await stored();
      const missing = sent.filter((id) => {
        const reached = ORDER.slice(0, ORDER.indexOf(status.get(id) ?? 'QUEUED') + 1);
        const got = about(id);
        return !(got.some((r) => r.json.type === 'DeliveryCallback') && reached.every((st) => got.some((r) => r.json.type === 'MessageStatusCallback' && r.json.status === st)));
      });
      const pending = (await again.get('/api/webhooks/deliveries?status=pending&limit=200')).body.deliveries;
      console.error('missing', missing.length, missing.slice(0, 3).map((id) => ({ id, status: status.get(id), got: about(id).map((r) => r.json.type + ':' + (r.json.status ?? '')) })), 'pending', pending?.length, JSON.stringify(pending?.slice(0, 3)));
      throw err;
    });
    expect(Date.now() - upAt).toBeLessThan(30_000);
    await new Promise((r) => setTimeout(r, 1_000));

    const status = await stored();
    // With the receiver down at the kill nothing reached it before, so every request is unique. With
    // deliveries in flight, a request the receiver took as PlugChat died comes again after the
    // restart with the same event id (at least once); still one event id per logical event.
    const once = <T>(list: { eventId: string; json: T }[]) => (opts.receiverDownAtKill ? list : [...new Map(list.map((r) => [r.eventId, r])).values()]);
    for (const id of sent) {
      const got = about(id);
      expect(once(got.filter((r) => r.json.type === 'DeliveryCallback'))).toHaveLength(1);
      const statuses = once(got.filter((r) => r.json.type === 'MessageStatusCallback')).map((r) => r.json.status);
      // Exactly one callback per status reached: no second event, no gap.
      expect(statuses.sort()).toEqual(ORDER.slice(0, ORDER.indexOf(status.get(id)!) + 1).sort());
    }
    if (opts.receiverDownAtKill) {
      const ids = receiver.requests.map((r) => r.eventId);
      expect(new Set(ids).size).toBe(ids.length);
    }
    // The phone has each text once, in order.
    expect(inbox().map((m) => m.text)).toEqual(sent.map((_, i) => `texto ${i}`));
  } finally {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    await receiver.stop().catch(() => {});
    await network?.stop();
    await ws.cleanup();
  }
}

describe('statuses and webhooks across a crash', () => {
  it(`keeps one event per status through a SIGKILL while sending, with the receiver down (${RUNS} runs)`, async () => {
    for (let i = 0; i < RUNS; i++) await run({ receiverDownAtKill: true });
  }, RUNS * 120_000);

  it(`keeps one event per status through a SIGKILL while deliveries are in flight to a slow receiver (${RUNS} runs)`, async () => {
    for (let i = 0; i < RUNS; i++) await run({ receiverDownAtKill: false });
  }, RUNS * 120_000);
});
