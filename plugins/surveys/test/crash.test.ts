import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { nextSeq } from '@plugchat/core';
import type { SandboxNetwork } from '../../whatsapp-sandbox/src/network/index.js';
import { externalNetwork } from '../../whatsapp-session/test/support.js';
import { Client, createWorkspace, openWorkspaceDatabase, OWNER, setupOwner, spawnServer, waitFor, type ServerProcess, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';

const BIZ = '5511957000000';
const QUESTION = 'De 1 a 5, como você avalia o atendimento?';
const THANKS = 'Obrigado pela sua avaliação!';

/**
 * A SIGKILL between the rating and its thank-you. The process that died leaves a precise state
 * behind, which the test writes while the server is down: the customer's "4" stored by the
 * session with its received event still in the outbox (the listener never finished), the survey
 * rated, and (second case) the thank-you already queued. After the restart the replayed event
 * must keep the rating, send the thank-you exactly once and open no attendance.
 */
describe.each(STORAGE_MODES)('a survey rating across a SIGKILL (%s)', (mode) => {
  let ws: Workspace | undefined;
  let server: ServerProcess | undefined;
  let network: SandboxNetwork | undefined;
  let db: Knex | undefined;
  afterEach(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    await db?.destroy();
    await network?.stop();
    await ws?.cleanup();
    server = network = ws = db = undefined;
  });

  it.each([
    ['before the thank-you was queued', false],
    ['after the thank-you was queued', true],
  ])('keeps the rating and thanks once when the process died %s', async (_when, thanksQueued) => {
    ws = await createWorkspace({ mode });
    network = await externalNetwork(ws, ['@plugchat/whatsapp-session', '@plugchat/helpdesk', '@plugchat/surveys']);
    const CUSTOMER = thanksQueued ? '5521957000002' : '5521957000001';
    const phone = network.createPhone(CUSTOMER, { name: 'Iara' });
    server = await spawnServer(ws);
    const owner = await setupOwner(server.url);
    const accountId = (await owner.get('/api/auth/me')).body.account.id as string;
    expect((await owner.put('/api/surveys/definition', { enabled: true, kind: 'csat' })).status).toBe(200);
    const inst = (await owner.post('/api/whatsapp-session/instances', { name: 'Loja', delayMinMs: 0, delayMaxMs: 0 })).body;
    const key = (await owner.post('/api/api-keys', { name: 'k' })).body.key;
    const qr = await fetch(`${server.url}/instances/${inst.id}/token/${inst.token}/qr-code`, { headers: { 'client-token': key } });
    await network.scan((await qr.json()).value, BIZ, { name: 'Loja' });
    await waitFor(async () => (await owner.get(`/api/whatsapp-session/instances/${inst.id}`)).body.state === 'connected', 20_000, 'connected');

    await phone.send(BIZ, { text: 'Meu pedido não chegou' });
    const att = await waitFor(async () => (await owner.get(`/api/helpdesk/attendances?q=${CUSTOMER}`)).body.attendances?.[0], 20_000, 'the attendance');
    expect((await owner.post(`/api/helpdesk/attendances/${att.id}/resolve`)).status).toBe(200);
    const inbox = () => phone.messages().filter((m) => m.direction === 'in').map((m) => m.text);
    await waitFor(async () => inbox().includes(QUESTION), 20_000, 'the question');
    const survey = (await owner.get(`/api/surveys/attendances/${att.id}`)).body.items[0];

    server.proc.kill('SIGKILL');
    await server.exited;

    db = openWorkspaceDatabase(ws);
    const now = new Date();
    const t = (d: Date) => (mode === 'postgresql' ? d : d.getTime());
    const rowId = randomUUID().replace(/-/g, '').toUpperCase();
    const waId = `RATING${CUSTOMER.slice(-4)}`;
    await db('whatsapp_session_messages').insert({
      id: rowId, account_id: accountId, instance_id: inst.id, wa_id: waId, chat: `${CUSTOMER}@s.whatsapp.net`, direction: 'in', type: 'text',
      content: JSON.stringify({ type: 'text', text: '4', hasMedia: false }), status: 'RECEIVED', error: null, seq: nextSeq(), from_me: false,
      waiting: false, media_path: null, delay_ms: null, attempts: 0, created_at: t(now), updated_at: t(now), sent_at: null,
    });
    const event = { eventId: randomUUID(), rowId, instanceId: inst.id, accountId, messageId: waId, phone: CUSTOMER, fromMe: false, type: 'text', text: '4', waitingMessage: false, momment: now.getTime(), upsertType: 'notify' };
    await db('whatsapp_session_outbox').insert({ id: event.eventId, seq: nextSeq(), name: 'whatsapp-session.message.received', payload: JSON.stringify(event), created_at: t(now) });
    await db('surveys_surveys').where({ id: survey.id }).update({ status: 'answered', rating: 4, rating_wa_id: waId, rated_at: t(now) });
    if (thanksQueued) {
      const zaapId = randomUUID().replace(/-/g, '').toUpperCase();
      await db('whatsapp_session_messages').insert({
        id: zaapId, account_id: accountId, instance_id: inst.id, wa_id: `3EB0${zaapId.slice(0, 16)}`, chat: `${CUSTOMER}@s.whatsapp.net`, direction: 'out', type: 'text',
        content: JSON.stringify({ kind: 'text', text: THANKS }), status: 'QUEUED', error: null, seq: nextSeq(), from_me: true,
        waiting: null, media_path: null, delay_ms: null, attempts: 0, created_at: t(now), updated_at: t(now), sent_at: null, client_key: `surveys:${survey.id}:thanks`,
      });
    }
    await db.destroy();
    db = undefined;

    server = await spawnServer(ws);
    const again = new Client(server.url);
    await again.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    await waitFor(async () => inbox().includes(THANKS), 30_000, 'the thank-you after the restart');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(inbox().filter((m) => m === THANKS)).toHaveLength(1);
    expect((await again.get(`/api/surveys/attendances/${att.id}`)).body.items).toMatchObject([{ id: survey.id, status: 'answered', rating: 4 }]);
    // The rating went to the survey, not into a new attendance.
    const list = (await again.get(`/api/helpdesk/attendances?status=pending,open,snoozed,resolved&q=${CUSTOMER}`)).body.attendances;
    expect(list).toHaveLength(1);
    expect(list[0].status).toBe('resolved');
  }, 180_000);
});
