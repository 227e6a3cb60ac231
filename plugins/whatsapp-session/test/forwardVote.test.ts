import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baileys } from '../src/baileys.js';
import type { ReceivedMessageEvent } from '../src/api.js';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

const IVO = '5521990000031';
const JOAO = '5521990000032';

interface PhoneMsg {
  id: string;
  kind: string;
  text?: string;
  direction: string;
  selected?: string[];
}

describe('forward-message and send-poll-vote, with WhatsApp’s own copy of each message', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  const received: ReceivedMessageEvent[] = [];

  beforeAll(async () => {
    h = await harness();
    h.app.events.on('test', 'whatsapp-session.message.received', (e) => void received.push(e as ReceivedMessageEvent));
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: IVO, name: 'Ivo' });
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: JOAO, name: 'João' });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  const phone = (p: string) => h.sandbox().network().phone(p)!;
  const onPhone = (p: string, id: string) => waitFor(async () => ((await h.owner.get(`/api/whatsapp-sandbox/phones/${p}`)).body.messages as PhoneMsg[]).find((m) => m.id === id), 20_000, `message ${id} on ${p}`);
  const arrived = (pred: (e: ReceivedMessageEvent) => boolean, what: string) => waitFor(async () => received.find(pred), 20_000, what);
  const forwarded = (p: string, id: string) => {
    const m = Baileys.proto.Message.decode(phone(p).messages().find((x) => x.id === id)!.raw);
    return (m.imageMessage ?? m.extendedTextMessage)?.contextInfo?.isForwarded;
  };

  it("forwards a customer's image to another chat (the same picture, marked forwarded) and our own text (unmarked)", async () => {
    const image = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), randomBytes(6_000)]);
    const sent = (await h.owner.post(`/api/whatsapp-sandbox/phones/${IVO}/messages`, { to: BIZ, image: { base64: image.toString('base64'), caption: 'olha a peça' } })).body;
    await arrived((e) => e.messageId === sent.id, 'the image');
    const fwd = await api().post('/forward-message', { phone: JOAO, messageId: sent.id, messagePhone: IVO });
    expect(fwd.status).toBe(200);
    expect(await onPhone(JOAO, fwd.body.messageId)).toMatchObject({ kind: 'image' });
    expect((await phone(JOAO).download(fwd.body.messageId)).equals(image)).toBe(true);
    expect(forwarded(JOAO, fwd.body.messageId)).toBe(true);

    const promo = await api().post('/send-text', { phone: IVO, message: 'Promoção: 20% hoje' });
    await onPhone(IVO, promo.body.messageId);
    await waitFor(async () => ((await api().get(`/chat-messages/${IVO}`)).body as { messageId: string; status: string }[]).find((m) => m.messageId === promo.body.messageId)?.status !== 'QUEUED', 20_000, 'sent');
    const again = await api().post('/forward-message', { phone: JOAO, messageId: promo.body.messageId, messagePhone: IVO });
    expect(await onPhone(JOAO, again.body.messageId)).toMatchObject({ kind: 'text', text: 'Promoção: 20% hoje' });
    // Our own message goes without the "Forwarded" label, as WhatsApp forwards one's own messages.
    expect(forwarded(JOAO, again.body.messageId)).toBeFalsy();
  });

  it("votes in a customer's poll: the customer's phone decrypts the chosen option", async () => {
    const poll = (await h.owner.post(`/api/whatsapp-sandbox/phones/${IVO}/messages`, { to: BIZ, poll: { name: 'Qual dia para a entrega?', options: ['Segunda', 'Terça', 'Quarta'], selectableCount: 1 } })).body;
    const got = await arrived((e) => e.messageId === poll.id, 'the poll');
    expect(got.poll).toMatchObject({ question: 'Qual dia para a entrega?', options: [{ name: 'Segunda' }, { name: 'Terça' }, { name: 'Quarta' }] });
    const vote = await api().post('/send-poll-vote', { phone: IVO, pollMessageId: poll.id, pollVote: [{ optionName: 'Terça' }] });
    expect(vote.status).toBe(200);
    expect(await onPhone(IVO, vote.body.messageId)).toMatchObject({ kind: 'pollVote', selected: ['Terça'] });
    // Taking the vote back is a vote with no options.
    const back = await api().post('/send-poll-vote', { phone: IVO, pollMessageId: poll.id, pollVote: [] });
    expect(await onPhone(IVO, back.body.messageId)).toMatchObject({ kind: 'pollVote', selected: [] });
  });

  it('refuses what cannot be forwarded or voted, naming the field', async () => {
    const missing = await api().post('/forward-message', { phone: JOAO, messageId: '3A0000000000DEAD', messagePhone: IVO });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    const poll = received.find((e) => e.type === 'poll')!;
    const bad = await api().post('/send-poll-vote', { phone: IVO, pollMessageId: poll.messageId, pollVote: [{ optionName: 'Domingo' }] });
    expect([bad.status, bad.body.error.details.issues[0].path]).toEqual([400, 'body.pollVote.0.optionName']);
    // Only a poll someone sent us takes our vote.
    const ours = await api().post('/send-poll', { phone: IVO, message: 'Gostou?', poll: [{ name: 'Sim' }, { name: 'Não' }] });
    const own = await api().post('/send-poll-vote', { phone: IVO, pollMessageId: ours.body.messageId, pollVote: [{ optionName: 'Sim' }] });
    expect(own.status).toBe(404);
  });
});
