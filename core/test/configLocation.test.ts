import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkspace, setupOwner, startApp, type Workspace } from './support/app.js';

describe('plugins.config.json outside the installation', () => {
  let ws: Workspace | undefined;
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('finds the bundled plugins where PlugChat is installed and the config’s own plugins relative to the config file', async () => {
    ws = await createWorkspace();
    // As /etc/plugchat/plugins.config.json would be: another folder, with a plugin of its own.
    const etc = path.join(ws.dir, 'etc', 'plugchat');
    mkdirSync(path.join(etc, 'local-plugin'), { recursive: true });
    writeFileSync(
      path.join(etc, 'local-plugin', 'package.json'),
      JSON.stringify({ name: 'local-plugin', version: '1.0.0', type: 'module', main: 'index.js', plugchat: { id: 'local', displayName: 'Local', engines: { plugchat: '^1.0.0' } } }),
    );
    writeFileSync(path.join(etc, 'local-plugin', 'index.js'), 'export default { activate() {} };');
    writeFileSync(path.join(etc, 'plugins.config.json'), JSON.stringify({ packages: ['./local-plugin'], plugins: { billing: { enabled: false } } }));
    app = await startApp(ws, { PLUGCHAT_CONFIG: 'etc/plugchat/plugins.config.json' });
    const owner = await setupOwner(app.url);
    const plugins = Object.fromEntries(((await owner.get('/api/plugins')).body.plugins as { id: string; state: string }[]).map((p) => [p.id, p.state]));
    for (const id of ['whatsapp-session', 'whatsapp-sandbox', 'webhooks', 'helpdesk', 'surveys', 'trello']) expect(plugins[id]).toBe('active');
    expect(plugins.billing).toBe('disabled');
    expect(plugins.local).toBe('active');
  });
});
