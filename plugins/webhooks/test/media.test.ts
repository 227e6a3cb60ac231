import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@plugchat/core';
import { createWorkspace, setupOwner, startApp } from '../../../core/test/support/app.js';
import { makeHarness, pairedInstance, waitFor, BIZ, type Harness } from '../../whatsapp-session/test/support.js';
import { config, Receiver } from './receiver.js';

const CUSTOMER = '5521980000031';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(900, 9)]);

describe('media links in webhooks', () => {
  const clock = new ManualClock(new Date());
  const receiver = new Receiver();
  let h: Harness;
  let inst: { id: string; token: string };

  beforeAll(async () => {
    await receiver.start();
    const ws = await createWorkspace({ config: config() });
    const app = await startApp(ws, {}, { clock });
    const owner = await setupOwner(app.url);
    const key = (await owner.post('/api/api-keys', { name: 'integration' })).body.key as string;
    h = makeHarness(ws, app, owner, key);
    expect((await owner.put('/api/plugins/webhooks/settings', { publicBaseUrl: app.url })).status).toBe(200);
    await owner.post('/api/whatsapp-sandbox/phones', { phone: CUSTOMER, name: 'Iris' });
    inst = await pairedInstance(h);
    expect((await h.api(inst).put('/update-webhook-received', { value: receiver.url })).status).toBe(200);
  });
  afterAll(async () => {
    await receiver.stop();
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('gives each received image a link that downloads with a plain GET, without the instance token, until it expires', async () => {
    await h.sandbox().network().phone(CUSTOMER)!.send(BIZ, { image: PNG, mimetype: 'image/png', caption: 'a nota' });
    const got = await waitFor(async () => receiver.requests.find((r) => r.json.type === 'ReceivedCallback' && r.json.image?.imageUrl)?.json, 20_000, 'the image callback');
    const url = got.image.imageUrl as string;
    expect(url.startsWith(`${h.app.url}/api/whatsapp-session/media/`)).toBe(true);
    expect(url).not.toContain(inst.token);
    expect(got.image).toMatchObject({ mimeType: 'image/png', caption: 'a nota' });

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);

    // A link altered anywhere is refused: in the signature (also in its last character, whose
    // spare bits decode alike), or in what it signs.
    const [payload, sig] = url.slice(url.lastIndexOf('/') + 1).split('.') as [string, string];
    const flip = (text: string, i: number) => text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
    const prefix = url.slice(0, url.lastIndexOf('/') + 1);
    for (const tampered of [`${payload}.${flip(sig, 5)}`, `${payload}.${flip(sig, sig.length - 1)}`, `${flip(payload, 3)}.${sig}`]) {
      expect((await fetch(prefix + tampered)).status).toBe(404);
    }

    // Still good a day before the 30 days are up; gone after.
    clock.advance(29 * 86_400_000);
    expect((await fetch(url)).status).toBe(200);
    clock.advance(2 * 86_400_000);
    const expired = await fetch(url);
    expect(expired.status).toBe(410);
    expect((await expired.json()).error.code).toBe('media_link_expired');
  });
});
