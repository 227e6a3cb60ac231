import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNetwork } from '../src/network/index.js';
import { pairClient, type TestClient } from './support/client.js';

describe('media over the sandbox HTTPS media host', () => {
  let network: SandboxNetwork;
  let biz: TestClient;
  let customer: TestClient;
  beforeAll(async () => {
    network = new SandboxNetwork();
    await network.start();
    biz = await pairClient(network, '5511977770001', 'Acme');
    customer = await pairClient(network, '5511977770002', 'Duda');
  });
  afterAll(async () => {
    biz?.stop();
    customer?.stop();
    await network?.stop();
  });

  it('round-trips an image byte-identical', async () => {
    // A tiny valid PNG: thumbnails are optional, so any image bytes work.
    const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(50_000)]);
    await biz.send(customer.userJid, { image, caption: 'your receipt', mimetype: 'image/png' });
    const got = await customer.waitFor(() => customer.upserts.find((u) => u.msg.message?.imageMessage), 'the image');
    expect(got.msg.message!.imageMessage!.caption).toBe('your receipt');
    expect(got.msg.message!.imageMessage!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v\/t62\//);
    expect((await customer.download(got.msg)).equals(image)).toBe(true);
  });

  it('round-trips a document byte-identical, customer to business', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(300_000)]);
    await customer.send(biz.userJid, { document: pdf, mimetype: 'application/pdf', fileName: 'comprovante.pdf' });
    const got = await biz.waitFor(() => biz.upserts.find((u) => u.msg.message?.documentMessage), 'the document');
    expect(got.msg.message!.documentMessage!.fileName).toBe('comprovante.pdf');
    expect((await biz.download(got.msg)).equals(pdf)).toBe(true);
  });
});
