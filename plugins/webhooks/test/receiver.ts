import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  eventId: string;
  timestamp: string;
  signature: string;
  body: string;
  json: any;
  headers: IncomingMessage['headers'];
}

/** A real HTTP receiver whose answer tests can change: status, delay, headers, or down (connection refused). */
export class Receiver {
  readonly requests: Received[] = [];
  respond: (r: Received) => { status: number; delayMs?: number; headers?: Record<string, string> } = () => ({ status: 200 });
  private server?: Server;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const r: Received = {
          at: Date.now(),
          eventId: String(req.headers['x-plugchat-event-id']),
          timestamp: String(req.headers['x-plugchat-timestamp']),
          signature: String(req.headers['x-plugchat-signature']),
          body,
          json: body ? JSON.parse(body) : undefined,
          headers: req.headers,
        };
        this.requests.push(r);
        const answer = this.respond(r);
        setTimeout(() => {
          res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
          res.end(`answered ${answer.status}`);
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async stop() {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  ok(): Received[] {
    return this.requests;
  }
}

/** What a receiver does to trust a delivery (the README snippet, as code). */
export function verify(secret: string, r: Received, toleranceSeconds = 300): boolean {
  if (Math.abs(Date.now() / 1000 - Number(r.timestamp)) > toleranceSeconds) return false;
  const expected = 'v1=' + createHmac('sha256', secret).update(`${r.timestamp}.${r.body}`).digest('hex');
  return expected.length === r.signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(r.signature));
}

/** PlugChat with instances, the sandbox and webhooks; local receivers need http and loopback allowed. */
export const config = (extra: Record<string, unknown> = {}) => ({
  packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox', '@plugchat/webhooks'],
  plugins: { webhooks: { settings: { allowHttp: true, allowPrivateNetworks: true, retryBaseSeconds: 0.2, ...extra } } },
});
