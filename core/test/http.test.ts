import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, createWorkspace, setupOwner, startApp, type Workspace } from './support/app.js';

describe('HTTP contract', () => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let owner: Client;

  beforeAll(async () => {
    ws = await createWorkspace({ config: { packages: ['plugchat-plugin-hello'] } });
    app = await startApp(ws, { BODY_LIMIT: '2kb' });
    owner = await setupOwner(app.url);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('serves /health and /ready', async () => {
    const anon = new Client(app.url);
    expect(await anon.get('/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await anon.get('/ready')).toMatchObject({ status: 200, body: { status: 'ready', checks: { database: 'ok', queue: 'ok' } } });
  });

  it('answers 413 over the body limit and keeps nothing', async () => {
    const res = await owner.post('/api/hello/items', { text: 'x'.repeat(4000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect((await owner.get('/api/hello/items')).body.items).toEqual([]);
  });

  it('answers 415 when the body is not JSON', async () => {
    const res = await owner.post('/api/hello/items', 'text=hi', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers 400 malformed_json for broken JSON', async () => {
    const res = await owner.post('/api/hello/items', '{"text": "hi",', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
  });

  it('answers 400 naming the field at fault', async () => {
    const res = await owner.post('/api/hello/items', { text: '' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues).toEqual([expect.objectContaining({ path: 'body.text' })]);
    const bad = await owner.get('/api/hello/items/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('params.id');
  });

  it('answers 422 when a valid request breaks a rule', async () => {
    const set = await owner.put('/api/plugins/hello/settings', { maxItems: 1 });
    expect(set.status).toBe(200);
    expect((await owner.post('/api/hello/items', { text: 'first' })).status).toBe(201);
    const res = await owner.post('/api/hello/items', { text: 'second' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('limit_reached');
    await owner.put('/api/plugins/hello/settings', { maxItems: 100 });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await owner.get('/api/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('route_not_found');
  });

  it('puts a request id in every response and log line', async () => {
    const res = await owner.req('GET', '/api/auth/me', undefined, { 'x-request-id': 'trace-abc-123' });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    const generated = (await owner.get('/health')).headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(app.logs.some((l) => l.reqId === 'trace-abc-123' && l.msg === 'request')).toBe(true);
  });

  it('publishes an OpenAPI document built from the route schemas, with a docs page', async () => {
    const anon = new Client(app.url);
    const doc = (await anon.get('/api/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const post = doc.paths['/api/hello/items'].post;
    expect(post.requestBody.content['application/json'].schema.properties.text).toMatchObject({ type: 'string', minLength: 1 });
    expect(post.security).toEqual([{ session: [] }, { apiKey: [] }]);
    expect(doc.paths['/api/hello/items/{id}'].get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(doc.paths['/api/auth/login'].post.security).toEqual([]);
    const page = await anon.get('/api/docs');
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('swagger-ui-bundle.js');
    expect((await anon.get('/api/docs/swagger-ui-bundle.js')).status).toBe(200);
  });
});
