import { HttpError } from '@plugchat/core';
import type { GroupMetadata, WASocket } from '../baileys.js';
import { jidOf, phoneOf } from './jids.js';

/** What an invitation link looks like; its last path segment is the code. */
export const INVITE_BASE = 'https://chat.whatsapp.com/';
export const inviteLink = (code: string) => `${INVITE_BASE}${code}`;
/** The code of an invitation link (or the bare code). */
export const inviteCodeOf = (urlOrCode: string) => urlOrCode.trim().replace(/\/+$/, '').split('/').pop()!.split('?')[0]!;

export interface GroupSettings {
  adminOnlyMessage?: boolean;
  adminOnlySettings?: boolean;
  requireAdminApproval?: boolean;
  adminOnlyAddMember?: boolean;
}

/** Group operations, run on the socket of the process that holds the instance. Answers are plain data (they may cross processes). */
export type GroupOp =
  | { op: 'create'; subject: string; phones: string[] }
  | { op: 'metadata'; group: string; withLink: boolean }
  | { op: 'list' }
  | { op: 'participants'; group: string; action: 'add' | 'remove' | 'promote' | 'demote'; phones: string[] }
  | { op: 'requests'; group: string; action: 'approve' | 'reject'; phones: string[] }
  | { op: 'leave'; group: string }
  | { op: 'subject'; group: string; subject: string }
  | { op: 'photo'; group: string; image: string }
  | { op: 'description'; group: string; description: string }
  | { op: 'settings'; group: string; settings: GroupSettings }
  | { op: 'invite'; group: string; reset: boolean }
  | { op: 'accept'; code: string }
  | { op: 'inviteInfo'; code: string };

/** Z-API's group metadata shape. */
export function zapiGroup(m: GroupMetadata, invitationLink?: string | null, invitationLinkError?: string) {
  return {
    phone: phoneOf(m.id),
    description: m.desc ?? null,
    owner: m.owner ? phoneOf(m.owner) : null,
    subject: m.subject,
    creation: m.creation ? m.creation * 1000 : null,
    invitationLink: invitationLink ?? null,
    ...(invitationLinkError ? { invitationLinkError } : {}),
    communityId: m.linkedParent ? phoneOf(m.linkedParent) : null,
    adminOnlyMessage: !!m.announce,
    adminOnlySettings: !!m.restrict,
    requireAdminApproval: !!m.joinApprovalMode,
    adminOnlyAddMember: !m.memberAddMode,
    isGroupAnnouncement: !!m.isCommunityAnnounce,
    participants: m.participants.map((p) => ({ phone: phoneOf(p.id), isAdmin: !!p.admin, isSuperAdmin: p.admin === 'superadmin' })),
  };
}
export type ZapiGroup = ReturnType<typeof zapiGroup>;

/** WhatsApp's refusals, as errors that say what to do. */
function explain(err: unknown): never {
  const code = (err as { data?: unknown }).data;
  if (code === 404) throw new HttpError(404, 'group_not_found', 'No such group, or the instance was never in it. List the groups with GET groups.');
  if (code === 403) throw new HttpError(403, 'not_group_participant', 'The instance is not a participant of this group.');
  if (code === 401) throw new HttpError(403, 'not_group_admin', 'Only the group’s admins can do this, and the instance is not one. Ask an admin to promote it.');
  if (code === 406 || code === 410) throw new HttpError(404, 'invitation_not_found', 'The invitation link is invalid or was redefined. Ask for a new link.');
  throw err;
}

export async function runGroupOp(sock: WASocket, g: GroupOp): Promise<unknown> {
  try {
    return await run(sock, g);
  } catch (err) {
    explain(err);
  }
}

async function run(sock: WASocket, g: GroupOp): Promise<unknown> {
  switch (g.op) {
    case 'create': {
      const m = await sock.groupCreate(g.subject, g.phones.map(jidOf));
      const inside = new Set(m.participants.map((p) => phoneOf(p.id)));
      const code = await sock.groupInviteCode(m.id);
      return { phone: phoneOf(m.id), invitationLink: code ? inviteLink(code) : null, phonesNotAdded: g.phones.filter((p) => !inside.has(p)) };
    }
    case 'metadata': {
      const m = await sock.groupMetadata(jidOf(g.group));
      if (!g.withLink) return zapiGroup(m);
      // The link is an admin's to see; others get why it is missing, as Z-API answers.
      try {
        const code = await sock.groupInviteCode(m.id);
        return zapiGroup(m, code ? inviteLink(code) : null);
      } catch (err) {
        const why = (err as { data?: unknown }).data === 401 ? 'not-authorized' : 'forbidden';
        return zapiGroup(m, null, why);
      }
    }
    case 'list':
      return Object.values(await sock.groupFetchAllParticipating()).map((m) => ({ phone: phoneOf(m.id), name: m.subject, announce: !!m.announce }));
    case 'participants': {
      const out = await sock.groupParticipantsUpdate(jidOf(g.group), g.phones.map(jidOf), g.action);
      return out.map((o) => ({ phone: phoneOf(o.jid!), status: o.status }));
    }
    case 'requests': {
      const out = await sock.groupRequestParticipantsUpdate(jidOf(g.group), g.phones.map(jidOf), g.action);
      return out.map((o) => ({ phone: phoneOf(o.jid), status: o.status }));
    }
    case 'leave':
      await sock.groupLeave(jidOf(g.group));
      return null;
    case 'subject':
      await sock.groupUpdateSubject(jidOf(g.group), g.subject);
      return null;
    case 'photo':
      await sock.updateProfilePicture(jidOf(g.group), Buffer.from(g.image, 'base64'));
      return null;
    case 'description':
      await sock.groupUpdateDescription(jidOf(g.group), g.description || undefined);
      return null;
    case 'settings': {
      const jid = jidOf(g.group);
      const s = g.settings;
      if (s.adminOnlyMessage !== undefined) await sock.groupSettingUpdate(jid, s.adminOnlyMessage ? 'announcement' : 'not_announcement');
      if (s.adminOnlySettings !== undefined) await sock.groupSettingUpdate(jid, s.adminOnlySettings ? 'locked' : 'unlocked');
      if (s.requireAdminApproval !== undefined) await sock.groupJoinApprovalMode(jid, s.requireAdminApproval ? 'on' : 'off');
      if (s.adminOnlyAddMember !== undefined) await sock.groupMemberAddMode(jid, s.adminOnlyAddMember ? 'admin_add' : 'all_member_add');
      return null;
    }
    case 'invite': {
      const jid = jidOf(g.group);
      const code = g.reset ? await sock.groupRevokeInvite(jid) : await sock.groupInviteCode(jid);
      return code ? inviteLink(code) : null;
    }
    case 'accept': {
      const jid = await sock.groupAcceptInvite(g.code);
      return jid ? phoneOf(jid) : null;
    }
    case 'inviteInfo':
      return { ...zapiGroup(await sock.groupGetInviteInfo(g.code), inviteLink(g.code)) };
  }
}
