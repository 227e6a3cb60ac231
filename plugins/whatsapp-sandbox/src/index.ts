import { definePlugin } from '@plugchat/core';
import { SandboxNetwork } from './network/index.js';
import { sandboxRouter } from './routes.js';
import type { WhatsAppSandboxApi } from './api.js';
import type { WhatsAppNetwork } from '@plugchat/whatsapp-session';

export { SandboxNetwork, SandboxError, VirtualPhone, MediaServer } from './network/index.js';
export type { WhatsAppSandboxApi } from './api.js';

interface Settings {
  'whatsapp-sandbox.wsPort': number;
  'whatsapp-sandbox.mediaPort': number;
}

export default definePlugin<WhatsAppSandboxApi, Settings>({
  async activate(ctx) {
    const dir = ctx.dataDir;
    const net = new SandboxNetwork({
      port: ctx.settings.get('whatsapp-sandbox.wsPort'),
      stateFile: `${dir}/state.json`,
      media: { port: ctx.settings.get('whatsapp-sandbox.mediaPort'), dir },
      logger: ctx.logger,
    });
    await net.start();
    ctx.subscriptions.push({ dispose: () => net.stop() });
    ctx.subscriptions.push(ctx.http.register(sandboxRouter(() => net)));
    // Tell whatsapp-session to connect here instead of the real network.
    ctx.subscriptions.push(
      ctx.extensions.contribute<WhatsAppNetwork>('whatsapp-session.networks', { id: 'sandbox', wsUrl: () => net.url, mediaCertificate: () => net.media?.cert }),
    );
    ctx.logger.info({ wsUrl: net.url, media: net.media?.host, caFile: net.media?.caFile }, 'WhatsApp sandbox network is running');
    return {
      wsUrl: () => net.url,
      mediaCertificate: () => net.media?.cert ?? '',
      mediaCertificateFile: () => net.media?.caFile,
      network: () => net,
    };
  },
});
