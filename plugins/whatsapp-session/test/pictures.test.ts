import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Baileys } from '../src/baileys.js';
import { harness, pairedInstance, sandboxDownload, waitFor, BIZ, type Harness } from './support.js';

const require = createRequire(import.meta.url);
const Jimp = require('jimp');

const LIA = '5521990000041';
/** A 1 × 1 WebP image (lossless), as sticker apps make them. */
const WEBP = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');

interface PhoneMsg {
  id: string;
  kind: string;
  text?: string;
  mimetype?: string;
  link?: { url: string; title?: string; description?: string; thumbnail: boolean };
}

describe('link previews, stickers, and the profile and group pictures (images read and scaled here)', () => {
  let h: Harness;
  let inst: { id: string; token: string };
  let png: Buffer;

  beforeAll(async () => {
    h = await harness();
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: LIA, name: 'Lia' });
    inst = await pairedInstance(h);
    png = await new Jimp(800, 600, 0x2e7d32ff).getBufferAsync(Jimp.MIME_PNG);
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  const api = () => h.api(inst);
  const dataUri = (type: string, b: Buffer) => `data:${type};base64,${b.toString('base64')}`;
  const onPhone = (id: string) => waitFor(async () => ((await h.owner.get(`/api/whatsapp-sandbox/phones/${LIA}`)).body.messages as PhoneMsg[]).find((m) => m.id === id), 20_000, `message ${id}`);
  const download = (url: string) => sandboxDownload(h, url);

  it('sends a link with the preview the sender describes, its picture as a thumbnail', async () => {
    const sent = await api().post('/send-link', {
      phone: LIA,
      message: 'Veja a nova coleção: https://loja.example.com/colecao',
      linkUrl: 'https://loja.example.com/colecao',
      title: 'Coleção de verão',
      linkDescription: 'Peças novas toda semana',
      image: dataUri('image/png', png),
    });
    expect(sent.status).toBe(200);
    expect(await onPhone(sent.body.messageId)).toMatchObject({
      kind: 'text',
      text: 'Veja a nova coleção: https://loja.example.com/colecao',
      link: { url: 'https://loja.example.com/colecao', title: 'Coleção de verão', description: 'Peças novas toda semana', thumbnail: true },
    });
    const notInText = await api().post('/send-link', { phone: LIA, message: 'Veja a coleção', linkUrl: 'https://loja.example.com/colecao' });
    expect([notInText.status, notInText.body.error.details.issues[0].path]).toEqual([400, 'body.message']);
    const notAnImage = await api().post('/send-link', { phone: LIA, message: 'https://loja.example.com', linkUrl: 'https://loja.example.com', image: dataUri('image/png', randomBytes(500)) });
    expect([notAnImage.status, notAnImage.body.error.code, notAnImage.body.error.details.issues[0].path]).toEqual([400, 'invalid_image', 'body.image']);
  });

  it('sends an image with the small picture WhatsApp shows before the download, and its size', async () => {
    const sent = await api().post('/send-image', { phone: LIA, image: dataUri('image/png', png), caption: 'verde' });
    await onPhone(sent.body.messageId);
    const raw = h.sandbox().network().phone(LIA)!.messages().find((m) => m.id === sent.body.messageId)!.raw;
    const image = Baileys.proto.Message.decode(raw).imageMessage!;
    expect([image.width, image.height]).toEqual([800, 600]);
    const thumb = await Jimp.read(Buffer.from(image.jpegThumbnail!));
    expect([thumb.bitmap.width, thumb.bitmap.height, thumb.getMIME()]).toEqual([32, 24, 'image/jpeg']);
  });

  it('sends a WebP sticker as it is, and makes any other image a 512 px WebP sticker', async () => {
    const sent = await api().post('/send-sticker', { phone: LIA, sticker: dataUri('image/webp', WEBP) });
    expect(await onPhone(sent.body.messageId)).toMatchObject({ kind: 'sticker', mimetype: 'image/webp' });
    expect((await h.sandbox().network().phone(LIA)!.download(sent.body.messageId)).equals(WEBP)).toBe(true);
    const fromPng = await api().post('/send-sticker', { phone: LIA, sticker: dataUri('image/png', png) });
    expect(await onPhone(fromPng.body.messageId)).toMatchObject({ kind: 'sticker', mimetype: 'image/webp' });
    const webp = await h.sandbox().network().phone(LIA)!.download(fromPng.body.messageId);
    expect([webp.toString('latin1', 0, 4), webp.toString('latin1', 8, 12)]).toEqual(['RIFF', 'WEBP']);
    // The VP8 header of a lossy WebP holds its size: 512 × 512 (14 bits each).
    const vp8 = webp.indexOf('VP8 ');
    expect(vp8).toBeGreaterThan(0);
    expect([webp.readUInt16LE(vp8 + 14) & 0x3fff, webp.readUInt16LE(vp8 + 16) & 0x3fff]).toEqual([512, 512]);
    const garbage = await api().post('/send-sticker', { phone: LIA, sticker: dataUri('image/png', randomBytes(400)) });
    expect([garbage.status, garbage.body.error.code, garbage.body.error.details.issues[0].path]).toEqual([400, 'invalid_image', 'body.sticker']);
  });

  it("sets the number's picture (a 640 px square JPEG, as WhatsApp keeps it) and a group's", async () => {
    expect((await api().put('/profile-picture', { value: dataUri('image/png', png) })).body).toEqual({ value: true });
    const link = (await api().get(`/profile-picture?phone=${BIZ}`)).body.link as string;
    expect(link).toMatch(/^https:\/\//);
    const picture = await Jimp.read(await download(link));
    expect([picture.bitmap.width, picture.bitmap.height, picture.getMIME()]).toEqual([640, 640, 'image/jpeg']);
    const bad = await api().put('/profile-picture', { value: dataUri('image/jpeg', randomBytes(300)) });
    expect([bad.status, bad.body.error.details.issues[0].path]).toEqual([400, 'body.value']);

    const group = (await api().post('/create-group', { groupName: 'Fotos', phones: [LIA] })).body.phone as string;
    expect((await api().get(`/profile-picture?phone=${group}`)).body).toEqual({ link: null });
    expect((await api().post('/update-group-photo', { groupId: group, groupPhoto: dataUri('image/png', png) })).body).toEqual({ value: true });
    const groupLink = (await api().get(`/profile-picture?phone=${group}`)).body.link as string;
    expect((await Jimp.read(await download(groupLink))).bitmap.width).toBe(640);
  });
});
