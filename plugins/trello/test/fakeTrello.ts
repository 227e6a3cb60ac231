import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Trello for the tests: the REST routes PlugChat uses, with Trello's auth (OAuth header),
 * its 16,384-character description limit, its errors (401, 404, 429, 5xx) on demand, and board
 * webhooks that check the callback with HEAD and sign deliveries as Trello does.
 */
export class FakeTrello {
  readonly key = 'fakekey0123456789abcdef';
  token = 'faketoken0123456789abcdef0123456789';
  readonly secret = 'fakesecret0123456789abcdef';
  readonly requests: { method: string; path: string; query: Record<string, string>; form: Record<string, string> }[] = [];
  readonly cards = new Map<string, any>();
  readonly webhooks: { id: string; callbackURL: string; idModel: string }[] = [];
  readonly boards = [{ id: 'board1', name: 'Suporte N2', url: 'https://trello.com/b/abc/suporte-n2' }];
  readonly lists = [
    { id: 'list1', name: 'A fazer', idBoard: 'board1' },
    { id: 'list2', name: 'Feito', idBoard: 'board1' },
  ];
  readonly labels = [
    { id: 'label1', name: 'Bug', color: 'red' },
    { id: 'label2', name: 'Cliente VIP', color: 'purple' },
  ];
  readonly members = [{ id: 'member1', fullName: 'Davi Dev', username: 'davidev' }];
  /** Answer these statuses, in turn, to the next calls of "METHOD /path". */
  private readonly failures = new Map<string, number[]>();
  /** Every call answers 503, as when Trello is down. */
  down = false;
  private server?: Server;
  url = '';

  failNext(route: string, statuses: number[]) {
    this.failures.set(route, [...statuses]);
  }

  async start() {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/1`;
  }

  async stop() {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** Sends a board webhook delivery to PlugChat: signed, unsigned or with a tampered body. */
  async deliver(action: Record<string, unknown>, how: 'signed' | 'unsigned' | 'tampered' = 'signed') {
    const hook = this.webhooks[0];
    if (!hook) throw new Error('no webhook registered');
    const body = JSON.stringify({ action, model: { id: hook.idModel } });
    const signature = createHmac('sha1', this.secret).update(body + hook.callbackURL).digest('base64');
    const sent = how === 'tampered' ? body.replace('Feito', 'Feitoo') : body;
    return fetch(hook.callbackURL, { method: 'POST', headers: { 'content-type': 'application/json', ...(how === 'unsigned' ? {} : { 'x-trello-webhook': signature }) }, body: sent });
  }

  calls(method: string, path: string) {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    const path = url.pathname.replace(/^\/1/, '');
    this.requests.push({ method: req.method!, path, query: Object.fromEntries(url.searchParams), form });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (this.down) return send(503, 'Service Unavailable');
    const auth = req.headers.authorization ?? '';
    if (!auth.includes(`oauth_consumer_key="${this.key}"`) || !auth.includes(`oauth_token="${this.token}"`)) return send(401, 'invalid token');
    const queued = this.failures.get(`${req.method} ${path}`);
    if (queued?.length) {
      const status = queued.shift()!;
      return send(status, status === 429 ? { error: 'API_TOKEN_LIMIT_EXCEEDED', message: 'Rate limit exceeded' } : 'error');
    }
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && path === '/members/me') return send(200, { id: 'me1', fullName: 'Ana Integração', username: 'anaintegra' });
    if (req.method === 'GET' && path === '/members/me/boards') return send(200, this.boards);
    if (req.method === 'GET' && (m = /^\/boards\/([^/]+)\/(lists|labels|members)$/.exec(path))) {
      if (m[1] !== 'board1') return send(404, 'model not found');
      return send(200, m[2] === 'lists' ? this.lists.map(({ id, name }) => ({ id, name })) : m[2] === 'labels' ? this.labels : this.members);
    }
    if (req.method === 'GET' && (m = /^\/lists\/([^/]+)$/.exec(path))) {
      const list = this.lists.find((l) => l.id === m![1]);
      return list ? send(200, { id: list.id, name: list.name }) : send(404, 'model not found');
    }
    if (req.method === 'GET' && (m = /^\/lists\/([^/]+)\/cards$/.exec(path))) return send(200, [...this.cards.values()].filter((c) => c.idList === m![1]));
    if (req.method === 'POST' && path === '/cards') {
      const list = this.lists.find((l) => l.id === form.idList);
      if (!list) return send(400, 'invalid value for idList');
      if ((form.desc ?? '').length > 16_384) return send(400, 'invalid value for desc');
      const id = randomBytes(12).toString('hex');
      const shortLink = randomBytes(4).toString('hex');
      const card = {
        id, shortLink, shortUrl: `https://trello.com/c/${shortLink}`, url: `https://trello.com/c/${shortLink}/1-card`, idBoard: list.idBoard, idList: list.id, name: form.name, desc: form.desc ?? '',
        due: form.due ?? null, closed: false, idMembers: form.idMembers ? form.idMembers.split(',') : [], labels: (form.idLabels ? form.idLabels.split(',') : []).map((l) => this.labels.find((x) => x.id === l)), urlSource: form.urlSource,
      };
      this.cards.set(id, card);
      return send(200, card);
    }
    if ((m = /^\/cards\/([^/]+)$/.exec(path))) {
      const card = this.cards.get(m[1]!) ?? [...this.cards.values()].find((c) => c.shortLink === m![1]);
      if (!card) return send(404, 'The requested resource was not found.');
      if (req.method === 'PUT') {
        if (form.idList) card.idList = form.idList;
        if (form.closed) card.closed = form.closed === 'true';
      }
      return send(200, card);
    }
    if (req.method === 'POST' && (m = /^\/cards\/([^/]+)\/actions\/comments$/.exec(path))) {
      return this.cards.has(m[1]!) ? send(200, { id: randomBytes(12).toString('hex'), type: 'commentCard', data: { text: form.text } }) : send(404, 'not found');
    }
    if (req.method === 'POST' && path === '/webhooks') {
      // Trello checks the callback first and refuses the webhook unless it answers HEAD with 200.
      const head = await fetch(form.callbackURL!, { method: 'HEAD' }).catch(() => undefined);
      if (head?.status !== 200) return send(400, `URL (${form.callbackURL}) did not return 200 status code, got ${head?.status}`);
      const hook = { id: randomBytes(12).toString('hex'), callbackURL: form.callbackURL!, idModel: form.idModel!, active: true };
      this.webhooks.push(hook);
      return send(200, hook);
    }
    return send(404, 'Cannot ' + req.method + ' ' + path);
  }
}
