import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proto, useTwoClients } from './support/client.js';

const { SERVER_ACK, DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;

describe('two Baileys clients through the sandbox network', () => {
  const pair = useTwoClients({ beforeAll, afterAll }, ['5511900000001', '5511900000002'], ['Acme Store', 'Carla']);

  it('pairs both by QR and opens them after the 515 restart', () => {
    expect(pair.biz.jid).toMatch(/^5511900000001:\d+@s\.whatsapp\.net$/);
    expect(pair.customer.jid).toMatch(/^5511900000002:\d+@s\.whatsapp\.net$/);
    expect(pair.biz.closes).toContain(515);
  });

  it('carries text from business to customer with SERVER_ACK, DELIVERY_ACK and READ', async () => {
    const sent = await pair.biz.sendText(pair.customer.userJid, 'Olá Carla, seu pedido saiu');
    const got = await pair.customer.waitFor(() => pair.customer.received('Olá Carla, seu pedido saiu'), 'the text at the customer');
    expect(got.type).toBe('notify');
    expect(got.msg.pushName).toBe('Acme Store');
    await pair.biz.waitFor(() => pair.biz.statusOf(sent.key.id!).includes(DELIVERY_ACK), 'delivery ack');
    expect(pair.biz.statusOf(sent.key.id!)).toContain(SERVER_ACK);
    await pair.customer.sock!.readMessages([got.msg.key]);
    await pair.biz.waitFor(() => pair.biz.statusOf(sent.key.id!).includes(READ), 'read receipt');
  });

  it('carries a reply from customer to business', async () => {
    await pair.customer.sendText(pair.biz.userJid, 'Obrigada!');
    const got = await pair.biz.waitFor(() => pair.biz.received('Obrigada!'), 'the reply at the business');
    expect(got.msg.key.remoteJid).toBe(pair.customer.userJid);
  });
});
