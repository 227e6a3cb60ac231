import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, pairedInstance, waitFor, BIZ, type Harness } from './support.js';

const GABI = '5521980000011';

interface Missed {
  instanceId: string;
  phone: string;
  callId: string;
  isVideo: boolean;
  rejected: boolean;
}

describe('calls: rejected as they ring when the instance says so, with a message to the caller', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  const missed: Missed[] = [];

  beforeAll(async () => {
    h = await harness();
    h.app.events.on('test', 'whatsapp-session.call.missed', (e) => void missed.push(e as Missed));
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: GABI, name: 'Gabi' });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  const phone = async () => (await h.owner.get(`/api/whatsapp-sandbox/phones/${GABI}`)).body as { calls: { id: string; status: string }[]; messages: { text?: string; direction: string }[] };
  const callStatus = async (id: string) => (await phone()).calls.find((c) => c.id === id)?.status;

  it('lets a call ring when call-reject is off; the caller giving up is a missed call', async () => {
    expect((await api().get('/me')).body).toMatchObject({ callRejectAuto: false, callRejectMessage: null });
    const call = (await h.owner.post(`/api/whatsapp-sandbox/phones/${GABI}/calls`, { to: BIZ })).body;
    expect(call).toMatchObject({ to: BIZ, video: false, status: 'ringing' });
    // The offer reached the instance and nothing answered it: still ringing when the caller hangs up.
    await h.sandbox().network().waitForTrace((t) => t.dir === 'in' && t.xml.startsWith('<ack') && t.xml.includes("class='call'"));
    expect(await callStatus(call.id)).toBe('ringing');
    await h.owner.post(`/api/whatsapp-sandbox/phones/${GABI}/calls/${call.id}/hang-up`, {});
    const m = await waitFor(async () => missed.find((x) => x.callId === call.id), 20_000, 'the missed call');
    expect(m).toMatchObject({ instanceId: inst.id, phone: GABI, isVideo: false, rejected: false });
  });

  it('rejects calls once call-reject is on and sends the caller the message', async () => {
    expect((await api().put('/update-call-reject-auto', { value: true })).body).toEqual({ value: true });
    expect((await api().put('/update-call-reject-message', { value: 'Não atendemos ligações; escreva aqui, por favor.' })).body).toEqual({ value: true });
    expect((await api().get('/me')).body).toMatchObject({ callRejectAuto: true, callRejectMessage: 'Não atendemos ligações; escreva aqui, por favor.' });

    const call = (await h.owner.post(`/api/whatsapp-sandbox/phones/${GABI}/calls`, { to: BIZ, video: true })).body;
    await waitFor(async () => (await callStatus(call.id)) === 'rejected', 20_000, 'the call rejected');
    await waitFor(async () => (await phone()).messages.find((x) => x.direction === 'in' && x.text === 'Não atendemos ligações; escreva aqui, por favor.'), 20_000, 'the message on the phone');
    expect(missed.find((x) => x.callId === call.id)).toMatchObject({ phone: GABI, isVideo: true, rejected: true });

    // Without a message the call is still rejected, and nothing is sent.
    expect((await api().put('/update-call-reject-message', { value: '' })).body).toEqual({ value: true });
    expect((await api().get('/me')).body.callRejectMessage).toBeNull();
    const before = (await phone()).messages.length;
    const quiet = (await h.owner.post(`/api/whatsapp-sandbox/phones/${GABI}/calls`, { to: BIZ })).body;
    await waitFor(async () => (await callStatus(quiet.id)) === 'rejected', 20_000, 'the second call rejected');
    await waitFor(async () => missed.find((x) => x.callId === quiet.id), 20_000, 'the second missed call');
    expect((await phone()).messages.length).toBe(before);
  });

  it('answers bad settings with the field at fault', async () => {
    const bad = await api().put('/update-call-reject-auto', { value: 'sim' });
    expect([bad.status, bad.body.error.details.issues[0].path]).toEqual([400, 'body.value']);
  });
});
