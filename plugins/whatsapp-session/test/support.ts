import { writeFileSync } from 'node:fs';
import { get } from 'node:https';
import path from 'node:path';
import { Client, createWorkspace, setupOwner, startApp, waitFor, type Workspace } from '../../../core/test/support/app.js';
import { SandboxNetwork } from '../../whatsapp-sandbox/src/network/index.js';
import type { WhatsAppSandboxApi } from '../../whatsapp-sandbox/src/api.js';

export const BIZ = '5511940000001';

export interface Harness {
  ws: Workspace;
  app: Awaited<ReturnType<typeof startApp>>;
  owner: Client;
  /** The owner's API key, sent as Client-Token like a Z-API client does. */
  key: string;
  sandbox(): WhatsAppSandboxApi;
  api(instance: { id: string; token: string }): Client & { base: string };
  stop(): Promise<void>;
}

/** PlugChat with whatsapp-session and the sandbox network, an owner and an API key. */
export async function harness(mode?: 'embedded' | 'postgresql', ws?: Workspace): Promise<Harness> {
  ws ??= await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox'] } });
  const app = await startApp(ws);
  const owner = await setupOwner(app.url);
  const key = (await owner.post('/api/api-keys', { name: 'integration' })).body.key as string;
  return makeHarness(ws, app, owner, key);
}

export function makeHarness(ws: Workspace, app: Harness['app'], owner: Client, key: string): Harness {
  return {
    ws,
    app,
    owner,
    key,
    sandbox: () => app.host.records.get('whatsapp-sandbox')!.api as WhatsAppSandboxApi,
    api(instance) {
      const c = new Client(`${app.url}/instances/${instance.id}/token/${instance.token}`);
      const req = c.req.bind(c);
      c.req = (method, url, body, headers = {}) => req(method, url, body, { 'client-token': key, ...headers });
      return c;
    },
    stop: async () => {
      await app.stop();
    },
  };
}

/** Creates an instance with no pacing and pairs it through the sandbox as the business number. */
export async function pairedInstance(h: Harness, phone = BIZ, history?: { chats: number; messages: number }): Promise<{ id: string; token: string }> {
  const created = await h.owner.post('/api/whatsapp-session/instances', { name: 'Loja', delayMinMs: 0, delayMaxMs: 0 });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const inst = { id: created.body.id as string, token: created.body.token as string };
  const api = h.api(inst);
  const qr = await api.get('/qr-code');
  if (!qr.body.value) throw new Error(`no QR: ${JSON.stringify(qr.body)}`);
  const scan = await h.owner.post('/api/whatsapp-sandbox/scan', { qr: qr.body.value, phone, name: 'Loja Exemplo', history });
  if (scan.status !== 200) throw new Error(JSON.stringify(scan.body));
  await waitFor(async () => (await api.get('/status')).body.connected, 20_000, 'the instance to connect');
  return inst;
}

export { waitFor };

/** The bytes behind a sandbox media link (a profile picture, say), over HTTPS with the sandbox's own certificate. */
export function sandboxDownload(h: Harness, url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, { ca: h.sandbox().network().media!.cert }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    }).on('error', reject);
  });
}

/**
 * A sandbox network outside the PlugChat process, as WhatsApp is, for tests that kill PlugChat:
 * the workspace's config points the listed plugins at it.
 */
export async function externalNetwork(ws: Workspace, packages: string[], plugins: Record<string, { settings: Record<string, unknown> }> = {}): Promise<SandboxNetwork> {
  const network = new SandboxNetwork({ stateFile: path.join(ws.dir, 'network/state.json'), media: { dir: path.join(ws.dir, 'network') } });
  await network.start();
  writeFileSync(
    path.join(ws.dir, 'plugins.config.json'),
    JSON.stringify({ bundled: false, packages, plugins: { ...plugins, 'whatsapp-session': { settings: { waWebSocketUrl: network.url, mediaCaFile: network.media!.caFile } } } }),
  );
  return network;
}
