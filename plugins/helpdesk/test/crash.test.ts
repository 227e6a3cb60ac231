import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { nextSeq } from '@plugchat/core';
import type { SandboxNetwork } from '../../whatsapp-sandbox/src/network/index.js';
import { externalNetwork } from '../../whatsapp-session/test/support.js';
import { Client, createWorkspace, OWNER, setupOwner, spawnServer, startApp, type ServerProcess, type Workspace } from '../../../core/test/support/app.js';
import { helpdeskHarness, waitFor, type HelpdeskHarness } from './support.js';

/** Yesterday to tomorrow: whatever today is in the account's time zone. */
const AROUND_NOW = `from=${new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)}`;

const timelineOf = async (client: Client, phone: string) => {
  const list = await client.get(`/api/helpdesk/attendances?status=pending,open,snoozed,resolved&q=${phone}`);
  const atts = list.body.attendances ?? [];
  const items = atts.length ? (await client.get(`/api/helpdesk/attendances/${atts[0].id}/timeline?limit=200`)).body.items : [];
  return { atts, inbound: items.filter((i: any) => i.kind === 'message' && i.direction === 'in') };
};

describe('incoming messages across a crash', () => {
  let ws: Workspace | undefined;
  let server: ServerProcess | undefined;
  let network: SandboxNetwork | undefined;
  let h: HelpdeskHarness | undefined;
  afterEach(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    await network?.stop();
    await ws?.cleanup();
    await h?.stop().catch(() => {});
    await h?.ws.cleanup();
    server = network = ws = h = undefined;
  });

  it('puts every message the session kept around a SIGKILL into one attendance, each once', async () => {
    ws = await createWorkspace({});
    network = await externalNetwork(ws, ['@plugchat/whatsapp-session', '@plugchat/helpdesk']);
    const CUSTOMER = '5521956000001';
    const phone = network.createPhone(CUSTOMER, { name: 'Hana' });
    server = await spawnServer(ws);
    const owner = await setupOwner(server.url);
    const created = await owner.post('/api/whatsapp-session/instances', { name: 'Loja', delayMinMs: 0, delayMaxMs: 0 });
    const key = (await owner.post('/api/api-keys', { name: 'k' })).body.key;
    const qr = await fetch(`${server.url}/instances/${created.body.id}/token/${created.body.token}/qr-code`, { headers: { 'client-token': key } });
    await network.scan((await qr.json()).value, '5511956000000', { name: 'Loja' });
    await waitFor(async () => (await owner.get(`/api/whatsapp-session/instances/${created.body.id}`)).body.state === 'connected', 20_000, 'connected');

    const sends = Array.from({ length: 40 }, (_, i) => phone.send('5511956000000', { text: `mensagem ${String(i).padStart(2, '0')}` }));
    await waitFor(async () => (await timelineOf(owner, CUSTOMER)).inbound.length >= 3, 20_000, 'the first messages in the helpdesk');
    server.proc.kill('SIGKILL');
    await server.exited;
    await Promise.all(sends);

    server = await spawnServer(ws);
    const again = new Client(server.url);
    await again.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    const stored = async () => {
      const res = await fetch(`${server!.url}/instances/${created.body.id}/token/${created.body.token}/chat-messages/${CUSTOMER}?limit=100`, { headers: { 'client-token': key } });
      return ((await res.json()) as { fromMe: boolean; content: { text?: string } }[]).filter((m) => !m.fromMe).map((m) => m.content.text).sort();
    };
    // Every message the session kept, before or after the kill, ends up in the attendance exactly once.
    // (Messages Baileys had taken off the socket but not yet handed over when the process died are
    // gone on the device's side too; the network does not resend them.)
    await waitFor(async () => {
      const [t, s] = await Promise.all([timelineOf(again, CUSTOMER), stored()]);
      return s.length >= 3 && t.inbound.length === s.length;
    }, 30_000, 'the attendance to hold what the session stored');
    await new Promise((r) => setTimeout(r, 1_000));
    const final = await timelineOf(again, CUSTOMER);
    const texts = final.inbound.map((i: any) => i.content?.text).sort();
    expect(final.atts).toHaveLength(1);
    expect(texts).toEqual(await stored());
    expect(new Set(texts).size).toBe(texts.length);
    expect(final.atts[0].unread).toBe(texts.length);
    // The reports count each kept message once and the attendance once, crash or not.
    const { figures } = (await again.get(`/api/helpdesk/reports/summary?${AROUND_NOW}`)).body;
    expect(figures).toMatchObject({ created: 1, messagesIn: texts.length });

    // New messages after the restart flow in as usual.
    await phone.send('5511956000000', { text: 'depois do restart' });
    // Once, on a loaded machine, this first message after the restart took longer than 20 s to show
    // (cause not found yet; see the notes): allow a minute.
    await waitFor(async () => (await timelineOf(again, CUSTOMER)).inbound.some((i: any) => i.content?.text === 'depois do restart'), 60_000, 'a message after the restart');
  }, 180_000);

  it('replays a received event left in the outbox by a crash into its attendance, once', async () => {
    h = await helpdeskHarness();
    const accountId = (await h.owner.get('/api/auth/me')).body.account.id;
    const CUSTOMER = '5521956000002';
    // As if the process died right after the session committed the message and its event.
    const knex = h.app.db.knex;
    const rowId = randomUUID().replace(/-/g, '').toUpperCase();
    const now = new Date();
    await knex('whatsapp_session_messages').insert({
      id: rowId, account_id: accountId, instance_id: h.inst.id, wa_id: 'CRASHED1', chat: `${CUSTOMER}@s.whatsapp.net`, direction: 'in', type: 'text',
      content: JSON.stringify({ type: 'text', text: 'antes do crash', hasMedia: false }), status: 'RECEIVED', error: null, seq: nextSeq(), from_me: false,
      waiting: false, media_path: null, delay_ms: null, attempts: 0, created_at: now, updated_at: now, sent_at: null,
    });
    const event = { eventId: randomUUID(), rowId, instanceId: h.inst.id, accountId, messageId: 'CRASHED1', phone: CUSTOMER, fromMe: false, type: 'text', text: 'antes do crash', waitingMessage: false, momment: now.getTime(), upsertType: 'notify' };
    for (const id of [event.eventId, randomUUID()]) {
      // Twice: the same event recorded again (a replay after a second crash) must not double it.
      await knex('whatsapp_session_outbox').insert({ id, seq: nextSeq(), name: 'whatsapp-session.message.received', payload: JSON.stringify({ ...event, eventId: id }), created_at: now });
    }
    await h.app.stop();
    const app = await startApp(h.ws);
    const owner = new Client(app.url);
    await owner.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    h = { ...h, stop: () => app.stop() };
    await waitFor(async () => (await timelineOf(owner, CUSTOMER)).inbound.length >= 1, 20_000, 'the replayed message');
    await new Promise((r) => setTimeout(r, 300));
    const { atts, inbound } = await timelineOf(owner, CUSTOMER);
    expect(atts).toHaveLength(1);
    expect(inbound).toHaveLength(1);
    expect((await owner.get(`/api/helpdesk/reports/summary?${AROUND_NOW}`)).body.figures).toMatchObject({ created: 1, messagesIn: 1 });
    expect(inbound[0].content.text).toBe('antes do crash');
  });
});
