import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { createWorkspace, setupOwner, startApp } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { BIZ, makeHarness, pairedInstance, waitFor, type Harness } from './support.js';

const WARM = '5521951000001';
const COLD = ['5521951000011', '5521951000012', '5521951000013', '5521951000014'];

describe.each(STORAGE_MODES)('send ramp for a new number (%s)', (mode) => {
  let h: Harness;
  let inst: { id: string; token: string };
  // A Monday noon in São Paulo; the ramp's days turn at its midnight.
  const clock = new ManualClock('2027-03-01T12:00:00-03:00');

  beforeAll(async () => {
    const ws = await createWorkspace({
      mode,
      config: {
        packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox'],
        plugins: { 'whatsapp-session': { settings: { timeZone: 'America/Sao_Paulo', rampRecheckSeconds: 0.2 } } },
      },
    });
    const app = await startApp(ws, {}, { clock });
    const owner = await setupOwner(app.url);
    h = makeHarness(ws, app, owner, (await owner.post('/api/api-keys', { name: 'k' })).body.key);
    for (const [i, phone] of [WARM, ...COLD].entries()) await h.owner.post('/api/whatsapp-sandbox/phones', { phone, name: `Contato ${i}` });
    inst = await pairedInstance(h);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const inbox = async (phone: string) => ((await h.owner.get(`/api/whatsapp-sandbox/phones/${phone}`)).body.messages as { direction: string; text?: string }[]).filter((m) => m.direction === 'in').map((m) => m.text);
  const status = async () => (await h.api(inst).get('/status')).body;

  it('refuses a schedule it cannot follow, naming the field', async () => {
    const bad = await h.owner.patch(`/api/whatsapp-session/instances/${inst.id}`, { sendRamp: { dailyLimits: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.sendRamp.dailyLimits');
    const zero = await h.owner.patch(`/api/whatsapp-session/instances/${inst.id}`, { sendRamp: { dailyLimits: [0] } });
    expect(zero.body.error.details.issues[0].path).toBe('body.sendRamp.dailyLimits.0');
    expect((await status()).sendRamp).toBeUndefined();
  });

  it('holds a new number to its daily limit for contacts who never wrote, lets replies through, and sends the rest the next day', async () => {
    const set = await h.owner.patch(`/api/whatsapp-session/instances/${inst.id}`, { sendRamp: { dailyLimits: [2, 5] } });
    expect(set.status).toBe(200);
    expect(set.body.sendRamp).toEqual({ dailyLimits: [2, 5], startedAt: clock.now().toISOString() });

    // The warm contact writes first: answering them never counts.
    await h.owner.post(`/api/whatsapp-sandbox/phones/${WARM}/messages`, { to: BIZ, text: 'oi, vocês entregam?' });
    await waitFor(async () => ((await h.api(inst).get(`/chat-messages/${WARM}`)).body as unknown[]).length > 0, 20_000, 'the warm contact stored');

    const api = h.api(inst);
    for (const [i, phone] of COLD.slice(0, 3).entries()) expect((await api.post('/send-text', { phone, message: `oferta ${i}` })).status).toBe(200);
    expect((await api.post('/send-text', { phone: WARM, message: 'entregamos sim' })).status).toBe(200);
    expect((await api.post('/send-text', { phone: COLD[3], message: 'oferta 3' })).status).toBe(200);

    // The reply was queued after the third cold send and still arrives: the cold ones over the limit wait, the rest go on.
    await waitFor(async () => (await inbox(WARM)).includes('entregamos sim'), 20_000, 'the reply to the warm contact');
    expect(await inbox(COLD[0]!)).toEqual(['oferta 0']);
    expect(await inbox(COLD[1]!)).toEqual(['oferta 1']);
    await waitFor(async () => (await status()).sendRamp?.held === 2, 10_000, 'two held');
    expect((await status()).sendRamp).toEqual({ day: 1, limitToday: 2, sentToday: 2, held: 2, releasesAt: '2027-03-02T03:00:00.000Z' });
    expect(await inbox(COLD[2]!)).toEqual([]);
    expect(await inbox(COLD[3]!)).toEqual([]);
    expect((await api.get('/queue/count')).body.count).toBe(2);

    // Still day 1 at 23:59 local time: a later reply goes out past the held ones, which stay.
    clock.set('2027-03-01T23:59:00-03:00');
    await api.post('/send-text', { phone: WARM, message: 'até amanhã' });
    await waitFor(async () => (await inbox(WARM)).includes('até amanhã'), 20_000, 'the second reply');
    expect(await inbox(COLD[2]!)).toEqual([]);
    expect((await status()).sendRamp).toMatchObject({ day: 1, held: 2 });

    // Midnight in São Paulo: day 2, the held ones go, each once.
    clock.set('2027-03-02T00:00:05-03:00');
    await waitFor(async () => (await inbox(COLD[3]!)).length > 0, 20_000, 'the held messages released');
    await waitFor(async () => (await api.get('/queue/count')).body.count === 0, 10_000, 'the queue drained');
    expect(await inbox(COLD[2]!)).toEqual(['oferta 2']);
    expect(await inbox(COLD[3]!)).toEqual(['oferta 3']);
    expect((await status()).sendRamp).toEqual({ day: 2, limitToday: 2, sentToday: 2, held: 0, releasesAt: null });

    // Week two allows five a day; after the schedule's last week there is no limit.
    clock.set('2027-03-08T09:00:00-03:00');
    expect((await status()).sendRamp).toMatchObject({ day: 8, limitToday: 5, sentToday: 0 });
    clock.set('2027-03-15T09:00:00-03:00');
    expect((await status()).sendRamp).toMatchObject({ day: 15, limitToday: null });
  });

  it('releases what it holds when the ramp is turned off', async () => {
    clock.set('2027-04-01T10:00:00-03:00');
    await h.owner.patch(`/api/whatsapp-session/instances/${inst.id}`, { sendRamp: { dailyLimits: [1] } });
    const api = h.api(inst);
    await api.post('/send-text', { phone: COLD[0], message: 'primeira de abril' });
    await api.post('/send-text', { phone: COLD[1], message: 'segunda de abril' });
    await waitFor(async () => (await status()).sendRamp?.held === 1, 20_000, 'one held');
    const off = await h.owner.patch(`/api/whatsapp-session/instances/${inst.id}`, { sendRamp: null });
    expect(off.body.sendRamp).toBeNull();
    await waitFor(async () => (await inbox(COLD[1]!)).includes('segunda de abril'), 20_000, 'the held one sent');
    expect((await status()).sendRamp).toBeUndefined();
  });
});
