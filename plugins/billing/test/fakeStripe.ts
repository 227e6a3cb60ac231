import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A local Stripe for the tests: POST /v1/checkout/sessions as Stripe answers it (bearer auth,
 * form-encoded parameters, idempotency keys), and events signed as Stripe signs them, with the
 * official library's test helper.
 */
export class FakeStripe {
  readonly secretKey = 'sk_test_fake0123456789';
  readonly webhookSecret = 'whsec_fake0123456789abcdef';
  readonly sessions = new Map<string, any>();
  readonly requests: { path: string; form: URLSearchParams; idempotencyKey?: string }[] = [];
  private readonly byKey = new Map<string, string>();
  private server?: Server;
  url = '';

  async start() {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomBytes(6).toString('hex')}` });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${this.secretKey}`) return json(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      const key = req.headers['idempotency-key'] as string | undefined;
      this.requests.push({ path: req.url!, form, idempotencyKey: key });
      if (req.method === 'POST' && req.url === '/v1/checkout/sessions') {
        const existing = key ? this.byKey.get(key) : undefined;
        if (existing) return json(200, this.sessions.get(existing));
        const id = `cs_test_${randomBytes(12).toString('hex')}`;
        const session = {
          id, object: 'checkout.session', mode: form.get('mode'), payment_status: 'unpaid', status: 'open', url: `https://checkout.stripe.com/c/pay/${id}`,
          amount_total: Number(form.get('line_items[0][price_data][unit_amount]')), currency: form.get('line_items[0][price_data][currency]'),
          metadata: { invoiceId: form.get('metadata[invoiceId]'), accountId: form.get('metadata[accountId]') },
        };
        this.sessions.set(id, session);
        if (key) this.byKey.set(key, id);
        return json(200, session);
      }
      return json(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.url})` } });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop() {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** An event about a session, with its Stripe-Signature header (or a wrong one). */
  event(type: string, sessionId: string, patch: Record<string, unknown> = {}, secret = this.webhookSecret) {
    const payload = JSON.stringify({ id: `evt_${randomBytes(8).toString('hex')}`, object: 'event', type, data: { object: { ...this.sessions.get(sessionId), ...patch } } });
    const header = new Stripe(this.secretKey).webhooks.generateTestHeaderString({ payload, secret });
    return { payload, header };
  }
}
