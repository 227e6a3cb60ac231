import { createRouter, notFound, z } from '@plugchat/core';
import { CHAT_ACTIONS } from '../services/chatSettings.js';
import type { WhatsAppService } from '../services/whatsapp.js';
import type { Instance } from '../services/instances.js';
import { chat, params, phone, instanceSpec, type InstanceRequest } from './zapiFields.js';

type C = InstanceRequest;
const paging = z.object({ page: z.coerce.number().int().min(1).default(1), pageSize: z.coerce.number().int().min(1).max(1000).default(100) });

/**
 * Z-API's contact and chat routes: the contacts the instance talked with, one contact with its
 * picture and About, blocking, a profile picture, one chat's metadata. A linked device has no
 * address book, so `name`, `short` and `vname` (the names saved on the phone) stay null and
 * `notify` carries the name the person set on WhatsApp.
 */
export function contactApiRouter(svc: WhatsAppService) {
  const instance = (c: C): Promise<Instance> => svc.authorize(c.auth, c.params.id, c.params.token);
  const spec = instanceSpec('instance API: contacts and chats');
  const people = async (row: Instance) => (await svc.chats(row)).filter((ch) => !ch.isGroup);

  return createRouter('/instances')
    .get('/:id/token/:token/contacts', { ...spec('The people the instance has talked with, most recent first'), query: paging }, async (c) => {
      const { page, pageSize } = c.query;
      const list = await people(await instance(c as unknown as C));
      return list.slice((page - 1) * pageSize, page * pageSize).map((ch) => ({ name: null, short: null, notify: ch.name === ch.phone ? null : ch.name, vname: null, phone: ch.phone }));
    })
    .get('/:id/token/:token/contacts/:phone', { ...spec("A contact: WhatsApp name, picture and About"), params: params.extend({ phone }) }, async (c) => {
      const row = await instance(c as unknown as C);
      const known = (await people(row)).find((ch) => ch.phone === c.params.phone);
      const [imgUrl, about] = await Promise.all([svc.actions.contact(row, { op: 'picture', phone: c.params.phone }), svc.actions.contact(row, { op: 'about', phone: c.params.phone })]);
      return { name: null, phone: c.params.phone, notify: known && known.name !== known.phone ? known.name : null, short: null, vname: null, imgUrl, about };
    })
    .post('/:id/token/:token/contacts/modify-blocked', spec('Block or unblock a number (a blocked number’s messages no longer arrive)', z.object({ phone, action: z.enum(['block', 'unblock']) }).strict()), async (c) => {
      await svc.actions.contact(await instance(c), { op: c.body.action, phone: c.body.phone });
      return { value: true };
    })
    .get('/:id/token/:token/profile-picture', { ...spec("A number's or group's profile picture (link null when it has none or hides it)"), query: z.object({ phone: chat }) }, async (c) => ({
      link: (await svc.actions.contact(await instance(c as unknown as C), { op: 'picture', phone: c.query.phone })) as string | null,
    }))
    .post(
      '/:id/token/:token/modify-chat',
      spec('Read, mark unread, archive, mute, pin, clear or delete a chat (the phone shows it too)', z.object({ phone: chat, action: z.enum(CHAT_ACTIONS) }).strict()),
      async (c) => {
        await svc.actions.modifyChat(await instance(c), c.body.phone, c.body.action);
        return { value: true };
      },
    )
    .get('/:id/token/:token/chats/:phone', { ...spec('One chat: unread count, last message time, picture, About'), params: params.extend({ phone: chat }) }, async (c) => {
      const row = await instance(c as unknown as C);
      const found = (await svc.chats(row)).find((ch) => ch.phone === c.params.phone);
      if (!found) throw notFound('Chat');
      const [profileThumbnail, about] = await Promise.all([
        svc.actions.contact(row, { op: 'picture', phone: found.phone }),
        found.isGroup ? Promise.resolve(null) : svc.actions.contact(row, { op: 'about', phone: found.phone }),
      ]);
      return { ...found, profileThumbnail, about, notes: null };
    });
}
