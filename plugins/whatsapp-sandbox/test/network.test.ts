import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxNetwork } from '../src/network/index.js';
import { pairClient, proto, type TestClient } from './support/client.js';

const { SERVER_ACK, DELIVERY_ACK, READ } = proto.WebMessageInfo.Status;

describe('two Baileys clients through the sandbox network', () => {
  let network: SandboxNetwork;
  let biz: TestClient;
  let customer: TestClient;

  beforeAll(async () => {
    network = new SandboxNetwork();
    await network.start();
    biz = await pairClient(network, '5511900000001', 'Acme Store');
    customer = await pairClient(network, '5511900000002', 'Carla');
  });
  afterAll(async () => {
    biz?.stop();
    customer?.stop();
    await network?.stop();
  });

  it('pairs both by QR and opens them after the 515 restart', () => {
    expect(biz.jid).toMatch(/^5511900000001:\d+@s\.whatsapp\.net$/);
    expect(customer.jid).toMatch(/^5511900000002:\d+@s\.whatsapp\.net$/);
    expect(biz.closes).toContain(515);
  });

  it('carries text from business to customer with SERVER_ACK, DELIVERY_ACK and READ', async () => {
    const sent = await biz.sendText(customer.userJid, 'Olá Carla, seu pedido saiu');
    const got = await customer.waitFor(() => customer.received('Olá Carla, seu pedido saiu'), 'the text at the customer');
    expect(got.type).toBe('notify');
    expect(got.msg.pushName).toBe('Acme Store');
    await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(DELIVERY_ACK), 'delivery ack');
    expect(biz.statusOf(sent.key.id!)).toContain(SERVER_ACK);
    await customer.sock!.readMessages([got.msg.key]);
    await biz.waitFor(() => biz.statusOf(sent.key.id!).includes(READ), 'read receipt');
  });

  it('carries a reply from customer to business', async () => {
    await customer.sendText(biz.userJid, 'Obrigada!');
    const got = await biz.waitFor(() => biz.received('Obrigada!'), 'the reply at the business');
    expect(got.msg.key.remoteJid).toBe(customer.userJid);
  });
});
