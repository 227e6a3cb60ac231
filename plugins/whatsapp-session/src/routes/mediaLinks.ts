import { createReadStream, existsSync } from 'node:fs';
import { createRouter, HttpError, notFound, z } from '@plugchat/core';
import type { MediaLinks } from '../services/mediaLinks.js';
import { toMessage } from '../services/messages.js';
import type { Store } from '../store.js';

/** The media of a received message behind a signed, expiring link: no credentials, as Z-API's media URLs. */
export function mediaLinkRouter(store: Store, links: MediaLinks) {
  return createRouter('/api/whatsapp-session').get(
    '/media/:link',
    { summary: 'Download received media by a signed link from a webhook (no credentials; expires)', auth: 'public', tags: ['instance API'], params: z.object({ link: z.string().min(10).max(1000) }) },
    async (c) => {
      const named = await links.verify(c.params.link);
      if (named === 'expired') throw new HttpError(410, 'media_link_expired', 'This media link has expired. Read the message again through the API (GET …/chat-messages/{phone}) for its content.');
      if (!named) throw notFound('Media');
      const row = await store.messages().where({ instance_id: named.instanceId, wa_id: named.messageId }).whereNotNull('media_path').first();
      const msg = row && toMessage(row);
      if (!msg?.mediaPath || !existsSync(msg.mediaPath)) throw notFound('Media');
      const content = msg.content as { mimetype?: string; fileName?: string };
      c.koa.type = content.mimetype ?? 'application/octet-stream';
      if (content.fileName) c.koa.attachment(content.fileName);
      c.koa.set('Cache-Control', 'private, max-age=3600');
      c.koa.body = createReadStream(msg.mediaPath);
    },
  );
}
