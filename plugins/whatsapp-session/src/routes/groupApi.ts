import { createRouter, z } from '@plugchat/core';
import { inviteCodeOf, type GroupOp, type ZapiGroup } from '../services/groups.js';
import type { WhatsAppService } from '../services/whatsapp.js';
import type { Instance } from '../services/instances.js';
import { resolveMedia } from '../media.js';
import { profilePicture } from '../services/images.js';
import { groupPhone, params, phone, instanceSpec, type InstanceRequest } from './zapiFields.js';

type C = InstanceRequest;

const phones = z.array(phone).min(1).max(1023);
const members = z.object({ groupId: groupPhone, phones }).strict();
const inviteUrl = z.object({ url: z.string().trim().min(10).max(300).regex(/^(https:\/\/chat\.whatsapp\.com\/)?[A-Za-z0-9_-]{10,40}$/, 'must be a group invitation link (https://chat.whatsapp.com/…)') });

/**
 * Z-API's group routes: create a group, read and list groups, manage participants, admins and
 * join requests, name, description and settings, invitation links. Each runs on the instance's
 * WhatsApp connection; WhatsApp's refusals (not a member, not an admin) answer 403 with a code.
 */
export function groupApiRouter(svc: WhatsAppService, maxBytes: () => number) {
  const instance = (c: C): Promise<Instance> => svc.authorize(c.auth, c.params.id, c.params.token);
  const spec = instanceSpec('instance API: groups');
  const run = async <T>(c: C, op: GroupOp) => (await svc.actions.group(await instance(c), op)) as T;
  /** Participants changed: true when WhatsApp took every number. */
  const each = async (c: C, op: GroupOp) => ({ value: (await run<{ status: string }[]>(c, op)).every((r) => r.status === '200') });

  return createRouter('/instances')
    .post(
      '/:id/token/:token/create-group',
      spec('Create a group with these numbers (the instance is its admin)', z.object({ groupName: z.string().trim().min(1).max(100), phones, autoInvite: z.boolean().default(false) }).strict()),
      async (c) => {
        const row = await instance(c);
        const created = (await svc.actions.group(row, { op: 'create', subject: c.body.groupName, phones: [...new Set(c.body.phones)] })) as { phone: string; invitationLink: string | null; phonesNotAdded: string[] };
        // Numbers WhatsApp would not add (privacy settings) get the link privately, as Z-API's autoInvite does.
        if (c.body.autoInvite && created.invitationLink && created.phonesNotAdded.length) {
          const onWhatsApp = await svc.actions.existingPhones(row, created.phonesNotAdded);
          await invite(svc, row, created.phonesNotAdded.filter((p) => onWhatsApp.has(p)), c.body.groupName, created.invitationLink);
        }
        return created;
      },
    )
    .get('/:id/token/:token/groups', { ...spec('The groups the instance is in, newest activity first'), query: z.object({ page: z.coerce.number().int().min(1).default(1), pageSize: z.coerce.number().int().min(1).max(1000).default(100) }) }, async (c) => {
      const row = await instance(c as unknown as C);
      const [live, chats] = await Promise.all([svc.actions.group(row, { op: 'list' }) as Promise<{ phone: string; name: string }[]>, svc.chats(row)]);
      const stats = new Map(chats.map((ch) => [ch.phone, ch]));
      const all = live
        .map((g) => {
          const s = stats.get(g.phone);
          return { isGroup: true, name: g.name, phone: g.phone, unread: s?.unread ?? '0', lastMessageTime: s?.lastMessageTime ?? null, isMuted: s?.isMuted ?? '0', isMarkedSpam: 'false', archived: s?.archived ?? 'false', pinned: s?.pinned ?? 'false', muteEndTime: s?.muteEndTime ?? null, messagesUnread: '0' };
        })
        .sort((a, b) => Number(b.lastMessageTime ?? 0) - Number(a.lastMessageTime ?? 0) || a.name.localeCompare(b.name));
      const { page, pageSize } = c.query;
      return all.slice((page - 1) * pageSize, page * pageSize);
    })
    .get('/:id/token/:token/group-metadata/:phone', { ...spec('A group: name, description, settings, participants and (for admins) its invitation link'), params: params.extend({ phone: groupPhone }) }, async (c) =>
      run<ZapiGroup>(c as unknown as C, { op: 'metadata', group: c.params.phone, withLink: true }),
    )
    .get('/:id/token/:token/light-group-metadata/:phone', { ...spec('A group without its invitation link (one query less)'), params: params.extend({ phone: groupPhone }) }, async (c) =>
      run<ZapiGroup>(c as unknown as C, { op: 'metadata', group: c.params.phone, withLink: false }),
    )
    .post('/:id/token/:token/add-participant', spec('Add numbers to a group (admins)', members.extend({ autoInvite: z.boolean().default(false) })), async (c) => {
      const row = await instance(c);
      const out = (await svc.actions.group(row, { op: 'participants', group: c.body.groupId, action: 'add', phones: c.body.phones })) as { phone: string; status: string }[];
      const refused = out.filter((r) => r.status === '403').map((r) => r.phone);
      if (c.body.autoInvite && refused.length) {
        const link = (await svc.actions.group(row, { op: 'invite', group: c.body.groupId, reset: false })) as string | null;
        if (link) await invite(svc, row, refused, null, link);
      }
      return { value: out.every((r) => r.status === '200') };
    })
    .post('/:id/token/:token/remove-participant', spec('Remove numbers from a group (admins)', members), async (c) => each(c, { op: 'participants', group: c.body.groupId, action: 'remove', phones: c.body.phones }))
    .post('/:id/token/:token/add-admin', spec('Make participants admins', members), async (c) => each(c, { op: 'participants', group: c.body.groupId, action: 'promote', phones: c.body.phones }))
    .post('/:id/token/:token/remove-admin', spec('Take admin rights away from participants', members), async (c) => each(c, { op: 'participants', group: c.body.groupId, action: 'demote', phones: c.body.phones }))
    .post('/:id/token/:token/approve-participant', spec('Let in numbers that asked to join (groups that require approval)', members), async (c) => each(c, { op: 'requests', group: c.body.groupId, action: 'approve', phones: c.body.phones }))
    .post('/:id/token/:token/reject-participant', spec('Turn down numbers that asked to join', members), async (c) => each(c, { op: 'requests', group: c.body.groupId, action: 'reject', phones: c.body.phones }))
    .post('/:id/token/:token/leave-group', spec('Leave a group', z.object({ groupId: groupPhone }).strict()), async (c) => {
      await run(c, { op: 'leave', group: c.body.groupId });
      return { value: true };
    })
    .post('/:id/token/:token/update-group-name', spec("Change a group's name", z.object({ groupId: groupPhone, groupName: z.string().trim().min(1).max(100) }).strict()), async (c) => {
      await run(c, { op: 'subject', group: c.body.groupId, subject: c.body.groupName });
      return { value: true };
    })
    .post(
      '/:id/token/:token/update-group-photo',
      spec("Change a group's picture (an image URL or data URI)", z.object({ groupId: groupPhone, groupPhoto: z.string().min(1).max(30_000_000) }).strict()),
      async (c) => {
        const m = await resolveMedia(c.body.groupPhoto, 'groupPhoto', { maxBytes: maxBytes(), kind: 'image' });
        const jpeg = await profilePicture(m.data, 'groupPhoto');
        await run(c, { op: 'photo', group: c.body.groupId, image: jpeg.toString('base64') });
        return { value: true };
      },
    )
    .post('/:id/token/:token/update-group-description', spec("Change a group's description (empty removes it)", z.object({ groupId: groupPhone, groupDescription: z.string().max(2048) }).strict()), async (c) => {
      await run(c, { op: 'description', group: c.body.groupId, description: c.body.groupDescription });
      return { value: true };
    })
    .post(
      '/:id/token/:token/update-group-settings',
      spec(
        "Change who may send, edit the group, add members, and whether joining needs an admin's approval (admins)",
        z.object({ phone: groupPhone, adminOnlyMessage: z.boolean().optional(), adminOnlySettings: z.boolean().optional(), requireAdminApproval: z.boolean().optional(), adminOnlyAddMember: z.boolean().optional() }).strict(),
      ),
      async (c) => {
        const { phone: group, ...settings } = c.body;
        await run(c, { op: 'settings', group, settings });
        return { value: true };
      },
    )
    .get('/:id/token/:token/group-invitation-link/:groupId', { ...spec("A group's invitation link (admins)"), params: params.extend({ groupId: groupPhone }) }, async (c) => ({
      phone: c.params.groupId,
      invitationLink: await run<string | null>(c as unknown as C, { op: 'invite', group: c.params.groupId, reset: false }),
    }))
    .post('/:id/token/:token/group-invitation-link/:groupId', { ...spec("A group's invitation link (admins)"), params: params.extend({ groupId: groupPhone }) }, async (c) => ({
      phone: c.params.groupId,
      invitationLink: await run<string | null>(c as unknown as C, { op: 'invite', group: c.params.groupId, reset: false }),
    }))
    .post('/:id/token/:token/redefine-invitation-link/:groupId', { ...spec('A new invitation link; the old one stops working (admins)'), params: params.extend({ groupId: groupPhone }) }, async (c) => ({
      invitationLink: await run<string | null>(c as unknown as C, { op: 'invite', group: c.params.groupId, reset: true }),
    }))
    .get('/:id/token/:token/accept-invite-group', { ...spec('Join a group by its invitation link'), query: inviteUrl }, async (c) => {
      await run(c as unknown as C, { op: 'accept', code: inviteCodeOf(c.query.url) });
      return { success: true };
    })
    .get('/:id/token/:token/group-invitation-metadata', { ...spec('A group as its invitation link shows it, before joining'), query: inviteUrl }, async (c) =>
      run<ZapiGroup>(c as unknown as C, { op: 'inviteInfo', code: inviteCodeOf(c.query.url) }),
    );
}

/** The invitation link, sent privately through the instance's queue like any text. */
async function invite(svc: WhatsAppService, row: Instance, to: string[], name: string | null, link: string) {
  for (const p of to) await svc.enqueue(row, p, { kind: 'text', text: name ? `${name}: ${link}` : link });
}
