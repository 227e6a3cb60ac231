import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, pairedInstance, waitFor, type Harness } from './support.js';

/** Reads a Server-Sent Events stream until `enough` says stop. */
function readEvents(url: string, cookie: string, enough: (events: { event: string; data: any }[]) => boolean): Promise<{ event: string; data: any }[]> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      const events: { event: string; data: any }[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        }
        if (enough(events)) {
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on('error', (e) => (e.message.includes('aborted') || e.message.includes('socket hang up') ? undefined : reject(e)));
    setTimeout(() => reject(new Error('no events')), 20_000).unref();
  });
}

describe('managing instances', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.stop();
    await h?.ws.cleanup();
  });

  it('streams state changes and the QR code live until "connected"', async () => {
    const created = await h.owner.post('/api/whatsapp-session/instances', { name: 'Ao vivo', delayMinMs: 0, delayMaxMs: 0 });
    const id = created.body.id;
    const stream = readEvents(`${h.app.url}/api/whatsapp-session/instances/${id}/events`, h.owner.cookie!, (ev) => ev.some((e) => e.event === 'state' && e.data.state === 'connected'));
    await new Promise((r) => setTimeout(r, 200));
    await h.owner.post(`/api/whatsapp-session/instances/${id}/connect`);
    const qr = await waitFor(async () => (await h.owner.get(`/api/whatsapp-session/instances/${id}/qr`)).body.qr, 10_000, 'a QR');
    expect((await h.owner.get(`/api/whatsapp-session/instances/${id}/qr`)).body.image).toMatch(/^data:image\/png;base64,/);
    await h.owner.post('/api/whatsapp-sandbox/scan', { qr, phone: '5511930000001', name: 'Ao Vivo' });
    const events = await stream;
    const qrEvent = events.find((e) => e.event === 'qr');
    expect(qrEvent?.data.image).toMatch(/^data:image\/png;base64,/);
    expect(events.map((e) => (e.event === 'state' ? e.data.state : 'qr'))).toEqual(expect.arrayContaining(['disconnected', 'connecting', 'qr', 'connected']));
  });

  it("streams every instance's state for the account, and only that account's", async () => {
    const created = await h.owner.post('/api/whatsapp-session/instances', { name: 'Conta toda', delayMinMs: 0, delayMaxMs: 0 });
    const stream = readEvents(`${h.app.url}/api/whatsapp-session/events`, h.owner.cookie!, (ev) => ev.some((e) => e.data.instanceId === created.body.id && e.data.state === 'qr'));
    await new Promise((r) => setTimeout(r, 200));
    await h.owner.post(`/api/whatsapp-session/instances/${created.body.id}/connect`);
    const events = await stream;
    expect(events.every((e) => e.event === 'state')).toBe(true);
    expect(events.map((e) => e.data.state)).toEqual(expect.arrayContaining(['connecting', 'qr']));
    await h.owner.post(`/api/whatsapp-session/instances/${created.body.id}/disconnect`);
  });

  it('renames, rotates the token (the old one stops working) and deletes', async () => {
    const created = await h.owner.post('/api/whatsapp-session/instances', { name: 'Temporária' });
    const id = created.body.id;
    expect((await h.owner.patch(`/api/whatsapp-session/instances/${id}`, { name: 'Renomeada', delayMinMs: 0, delayMaxMs: 500 })).body).toMatchObject({ name: 'Renomeada', delayMinMs: 0, delayMaxMs: 500 });
    const bad = await h.owner.patch(`/api/whatsapp-session/instances/${id}`, { delayMinMs: 900, delayMaxMs: 100 });
    expect(bad.status).toBe(400);
    const rotated = await h.owner.post(`/api/whatsapp-session/instances/${id}/rotate-token`);
    expect(rotated.body.token).not.toBe(created.body.token);
    expect((await h.api({ id, token: created.body.token }).get('/status')).status).toBe(403);
    expect((await h.api({ id, token: rotated.body.token }).get('/status')).status).toBe(200);
    expect((await h.owner.get(`/api/whatsapp-session/instances/${id}`)).body.token).toBe(rotated.body.token);
    expect((await h.owner.delete(`/api/whatsapp-session/instances/${id}`)).status).toBe(204);
    expect((await h.owner.get(`/api/whatsapp-session/instances/${id}`)).status).toBe(404);
  });

  it('lists, counts, removes and clears queued messages, and refuses sends when the queue is full', async () => {
    const created = await h.owner.post('/api/whatsapp-session/instances', { name: 'Fila' });
    const inst = { id: created.body.id, token: created.body.token };
    await h.owner.patch(`/api/whatsapp-session/instances/${inst.id}`, { queueLimit: 3 });
    const api = h.api(inst);
    const ids = [];
    for (const n of [1, 2, 3]) ids.push((await api.post('/send-text', { phone: '5511900000123', message: `m${n}` })).body.zaapId);
    const full = await api.post('/send-text', { phone: '5511900000123', message: 'm4' });
    expect(full.status).toBe(429);
    expect(full.body.error.code).toBe('rate_limited');
    expect(full.headers.get('retry-after')).toBeTruthy();
    const queue = await api.get('/queue');
    expect(queue.body.map((m: { ZaapId: string }) => m.ZaapId)).toEqual(ids);
    expect((await api.get('/queue/count')).body.count).toBe(3);
    expect((await api.delete(`/queue/${ids[1]}`)).status).toBe(200);
    expect((await api.get('/queue')).body.map((m: { Message: { text: string } }) => m.Message.text)).toEqual(['m1', 'm3']);
    expect((await api.delete(`/queue/${ids[1]}`)).status).toBe(404);
    expect((await api.delete('/queue')).body.removed).toBe(2);
    expect((await api.get('/queue/count')).body.count).toBe(0);
    // A cleared queue takes sends again at once.
    expect((await api.post('/send-text', { phone: '5511900000123', message: 'm5' })).status).toBe(200);
  });

  it('answers every path and method that is not a route with JSON 404 or 405, never the web app', async () => {
    const inst = (await h.owner.post('/api/whatsapp-session/instances', { name: 'Rotas' })).body;
    const base = `/instances/${inst.id}/token/${inst.token}`;
    for (const [method, path, status] of [
      ['GET', `${base}/no-such-route`, 404],
      ['GET', `${base}/send-text`, 405],
      ['DELETE', `${base}/status`, 405],
      ['PATCH', `${base}/send-image`, 405],
      ['GET', '/api/whatsapp-session/no-such-thing', 404],
      ['PUT', '/api/whatsapp-session/instances', 405],
      ['DELETE', '/api/auth/me', 405],
      ['POST', '/api/nothing/here', 404],
    ] as const) {
      const res = await fetch(h.app.url + path, { method, headers: { accept: 'text/html,application/json', 'client-token': h.key, cookie: h.owner.cookie! } });
      expect(`${method} ${path.replace(base, '{base}')} ${res.status}`).toBe(`${method} ${path.replace(base, '{base}')} ${status}`);
      expect(res.headers.get('content-type')).toContain('application/json');
      const body = await res.json();
      expect(body.error.code).toBe(status === 404 ? 'route_not_found' : 'method_not_allowed');
      if (status === 405) expect(res.headers.get('allow')).toMatch(/GET|POST|PUT|DELETE/);
    }
    // The web app still answers its own pages, the instance page included.
    const page = await fetch(`${h.app.url}/instances/${inst.id}`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('answers phone-exists from the network', async () => {
    const inst = await pairedInstance(h, '5511930000009');
    await h.owner.post('/api/whatsapp-sandbox/phones', { phone: '5521930000008', name: 'Existe' });
    expect((await h.api(inst).get('/phone-exists/5521930000008')).body).toEqual([{ exists: true, phone: '5521930000008', lid: null }]);
    expect((await h.api(inst).get('/phone-exists/5521930000007')).body[0].exists).toBe(false);
  });

  it('restores a saved session without a QR code (restore-session), and says when there is none', async () => {
    const fresh = (await h.owner.post('/api/whatsapp-session/instances', { name: 'Nova' })).body;
    const none = await h.api(fresh).get('/restore-session');
    expect([none.status, none.body.error.code]).toEqual([409, 'no_session']);
    const inst = await pairedInstance(h, '5511930000019');
    expect((await h.api(inst).get('/restore-session')).body).toEqual({ value: true });
    // Another session took the number over: this one stops, keeping its keys.
    const device = h.sandbox().network().devices().find((d) => d.phone === '5511930000019')!;
    h.sandbox().network().replace(device.jid);
    await waitFor(async () => !(await h.api(inst).get('/status')).body.connected, 20_000, 'disconnected');
    expect((await h.api(inst).get('/restore-session')).body).toEqual({ value: true });
    await waitFor(async () => (await h.api(inst).get('/status')).body.connected, 20_000, 'connected again');
    expect((await h.api(inst).get('/qr-code')).body).toMatchObject({ connected: true });
  });
});
