import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTwoClients } from './support/client.js';

describe('media over the sandbox HTTPS media host', () => {
  const pair = useTwoClients({ beforeAll, afterAll }, ['5511977770001', '5511977770002'], ['Acme', 'Duda']);

  it('round-trips an image byte-identical', async () => {
    // A tiny valid PNG: thumbnails are optional, so any image bytes work.
    const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(50_000)]);
    await pair.biz.send(pair.customer.userJid, { image, caption: 'your receipt', mimetype: 'image/png' });
    const got = await pair.customer.waitFor(() => pair.customer.upserts.find((u) => u.msg.message?.imageMessage), 'the image');
    expect(got.msg.message!.imageMessage!.caption).toBe('your receipt');
    expect(got.msg.message!.imageMessage!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v\/t62\//);
    expect((await pair.customer.download(got.msg)).equals(image)).toBe(true);
  });

  it('round-trips a document byte-identical, customer to business', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(300_000)]);
    await pair.customer.send(pair.biz.userJid, { document: pdf, mimetype: 'application/pdf', fileName: 'comprovante.pdf' });
    const got = await pair.biz.waitFor(() => pair.biz.upserts.find((u) => u.msg.message?.documentMessage), 'the document');
    expect(got.msg.message!.documentMessage!.fileName).toBe('comprovante.pdf');
    expect((await pair.biz.download(got.msg)).equals(pdf)).toBe(true);
  });
});
