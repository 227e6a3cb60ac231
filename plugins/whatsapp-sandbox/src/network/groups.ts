import { randomBytes, randomInt } from 'node:crypto';
import type { BinaryNode } from './baileys.js';
import type { Conn } from './conn.js';
import type { NetworkCore } from './core.js';
import type { Group } from './state.js';
import { bytes, child, children, node, now, parseJid, userJid } from './stanza.js';

export const GROUP_SERVER = '@g.us';
export const groupJid = (id: string) => `${id}${GROUP_SERVER}`;

/** Why a group change was refused, as the w:g2 IQ error carries it. */
export class GroupError extends Error {
  constructor(
    readonly code: string,
    readonly text: string,
  ) {
    super(`${code} ${text}`);
  }
}

type ParticipantAction = 'add' | 'remove' | 'promote' | 'demote';

/**
 * Group chats (`w:g2`): creation, metadata, participants and admins, subject, description,
 * settings, invitation codes and join requests. A change is made by an actor (the number of the
 * device or virtual phone asking) and checked as WhatsApp checks it: members see the group,
 * admins change it (everyone may change the subject and description unless it is locked).
 */
export class Groups {
  constructor(private readonly net: NetworkCore) {}

  get(id: string): Group | undefined {
    return this.net.state.groups[id];
  }

  /** The group a JID (`…@g.us`) or bare id names, checked to exist and to have `actor` in it. */
  member(jidOrId: string, actor: string): Group {
    const id = jidOrId.split('@')[0]!;
    const g = this.get(id);
    if (!g) throw new GroupError('404', 'item-not-found');
    if (!g.participants.some((p) => p.phone === actor)) throw new GroupError('403', 'forbidden');
    return g;
  }

  isAdmin(g: Group, phone: string): boolean {
    return !!g.participants.find((p) => p.phone === phone)?.admin;
  }

  private admin(jidOrId: string, actor: string): Group {
    const g = this.member(jidOrId, actor);
    if (!this.isAdmin(g, actor)) throw new GroupError('401', 'not-authorized');
    return g;
  }

  /** Participants must be numbers on the network; the others are left out (the caller sees who is missing). */
  create(actor: string, subject: string, phones: string[]): Group {
    let id: string;
    do id = `120363${String(randomInt(1e11, 1e12))}`; while (this.get(id));
    const t = now();
    const members = [...new Set(phones)].filter((p) => p !== actor && this.net.state.accounts[p]);
    const g: Group = {
      id,
      subject,
      subjectOwner: actor,
      subjectTime: t,
      creator: actor,
      creation: t,
      participants: [{ phone: actor, admin: 'superadmin' }, ...members.map((phone) => ({ phone }))],
      announce: false,
      locked: false,
      approval: false,
      requests: [],
      inviteCode: newCode(),
    };
    this.net.state.groups[id] = g;
    this.changed(g);
    return g;
  }

  /** Adds, removes, promotes or demotes; each number gets its own outcome (200, or 404/409/403). */
  participants(jidOrId: string, actor: string, action: ParticipantAction, phones: string[]): { phone: string; error?: string }[] {
    const g = action === 'add' && this.get(jidOrId.split('@')[0]!)?.memberAdd ? this.member(jidOrId, actor) : this.admin(jidOrId, actor);
    const out = phones.map((phone) => {
      const i = g.participants.findIndex((p) => p.phone === phone);
      if (action === 'add') {
        if (!this.net.state.accounts[phone]) return { phone, error: '404' };
        if (i >= 0) return { phone, error: '409' };
        g.participants.push({ phone });
        g.requests = g.requests.filter((r) => r !== phone);
        return { phone };
      }
      if (i < 0) return { phone, error: '404' };
      const p = g.participants[i]!;
      // Nobody removes or demotes the group's creator.
      if (p.admin === 'superadmin' && action !== 'promote') return { phone, error: '403' };
      if (action === 'remove') g.participants.splice(i, 1);
      else if (action === 'promote') p.admin ??= 'admin';
      else delete p.admin;
      return { phone };
    });
    this.changed(g);
    return out;
  }

  leave(jidOrId: string, actor: string): void {
    const g = this.member(jidOrId, actor);
    g.participants = g.participants.filter((p) => p.phone !== actor);
    // The creator leaving hands the group to the longest-standing member, as WhatsApp does.
    if (g.participants.length && !g.participants.some((p) => p.admin)) g.participants[0]!.admin = 'admin';
    if (!g.participants.length) delete this.net.state.groups[g.id];
    this.changed(g);
  }

  setSubject(jidOrId: string, actor: string, subject: string): void {
    const g = this.member(jidOrId, actor);
    if (g.locked && !this.isAdmin(g, actor)) throw new GroupError('401', 'not-authorized');
    Object.assign(g, { subject, subjectOwner: actor, subjectTime: now() });
    this.changed(g);
  }

  setDescription(jidOrId: string, actor: string, text: string | undefined, id?: string): void {
    const g = this.member(jidOrId, actor);
    if (g.locked && !this.isAdmin(g, actor)) throw new GroupError('401', 'not-authorized');
    g.description = text ? { text, id: id ?? randomBytes(8).toString('hex').toUpperCase() } : undefined;
    this.changed(g);
  }

  setting(jidOrId: string, actor: string, setting: 'announcement' | 'not_announcement' | 'locked' | 'unlocked' | 'approval_on' | 'approval_off' | 'all_member_add' | 'admin_add'): void {
    const g = this.admin(jidOrId, actor);
    if (setting === 'announcement' || setting === 'not_announcement') g.announce = setting === 'announcement';
    else if (setting === 'all_member_add' || setting === 'admin_add') g.memberAdd = setting === 'all_member_add';
    else if (setting === 'locked' || setting === 'unlocked') g.locked = setting === 'locked';
    else g.approval = setting === 'approval_on';
    this.changed(g);
  }

  inviteCode(jidOrId: string, actor: string, reset = false): string {
    const g = this.admin(jidOrId, actor);
    if (reset) {
      g.inviteCode = newCode();
      this.changed(g);
    }
    return g.inviteCode;
  }

  byCode(code: string): Group {
    const g = Object.values(this.net.state.groups).find((x) => x.inviteCode === code);
    if (!g) throw new GroupError('406', 'not-acceptable');
    return g;
  }

  /** Joins by an invitation code; with approval on, the number waits in the group's requests. */
  join(code: string, actor: string): { group: Group; joined: boolean } {
    const g = this.byCode(code);
    if (g.participants.some((p) => p.phone === actor)) return { group: g, joined: true };
    if (g.approval) {
      if (!g.requests.includes(actor)) g.requests.push(actor);
      this.changed(g);
      return { group: g, joined: false };
    }
    g.participants.push({ phone: actor });
    this.changed(g);
    return { group: g, joined: true };
  }

  requestsAction(jidOrId: string, actor: string, action: 'approve' | 'reject', phones: string[]): { phone: string; error?: string }[] {
    const g = this.admin(jidOrId, actor);
    const out = phones.map((phone) => {
      if (!g.requests.includes(phone)) return { phone, error: '404' };
      g.requests = g.requests.filter((r) => r !== phone);
      if (action === 'approve' && !g.participants.some((p) => p.phone === phone)) g.participants.push({ phone });
      return { phone };
    });
    this.changed(g);
    return out;
  }

  /** The groups a number is in. */
  of(phone: string): Group[] {
    return Object.values(this.net.state.groups).filter((g) => g.participants.some((p) => p.phone === phone));
  }

  private changed(g: Group) {
    this.net.save();
    this.net.emit('group-changed', { id: g.id });
  }

  // ---------------------------------------------------------------- the w:g2 IQ

  onIq(conn: Conn, iq: BinaryNode): void {
    const actor = conn.device!.phone;
    try {
      const content = this.handle(actor, iq);
      this.net.result(conn, iq, content);
    } catch (err) {
      if (!(err instanceof GroupError)) throw err;
      this.net.iqError(conn, iq, err.code, err.text);
    }
  }

  private handle(actor: string, iq: BinaryNode): BinaryNode[] | undefined {
    const first = children(iq)[0];
    if (!first) throw new GroupError('400', 'bad-request');
    const to = iq.attrs.to ?? '';
    const get = iq.attrs.type === 'get';
    const phonesOf = (n: BinaryNode) => children(n, 'participant').map((p) => parseJid(p.attrs.jid)?.user ?? '');
    if (to === GROUP_SERVER) {
      switch (first.tag) {
        case 'create':
          return [groupNode(this.create(actor, first.attrs.subject ?? '', phonesOf(first)))];
        case 'participating':
          return [node('groups', {}, this.of(actor).map((g) => groupNode(g)))];
        case 'leave':
          for (const g of children(first, 'group')) this.leave(g.attrs.id ?? '', actor);
          return undefined;
        case 'invite': {
          const g = this.byCode(first.attrs.code ?? '');
          if (get) return [groupNode(g)];
          const { joined } = this.join(first.attrs.code ?? '', actor);
          return joined ? [node('group', { jid: groupJid(g.id) })] : [node('membership_approval_request', { jid: groupJid(g.id) })];
        }
      }
      throw new GroupError('400', 'bad-request');
    }
    switch (first.tag) {
      case 'query':
        return [groupNode(this.member(to, actor))];
      case 'add':
      case 'remove':
      case 'promote':
      case 'demote': {
        const out = this.participants(to, actor, first.tag, phonesOf(first));
        return [node(first.tag, {}, out.map((o) => node('participant', { jid: userJid(o.phone), error: o.error })))];
      }
      case 'subject':
        this.setSubject(to, actor, bytes(first)?.toString('utf8') ?? '');
        return undefined;
      case 'description':
        this.setDescription(to, actor, first.attrs.delete === 'true' ? undefined : bytes(child(first, 'body'))?.toString('utf8'), first.attrs.id);
        return undefined;
      case 'announcement':
      case 'not_announcement':
      case 'locked':
      case 'unlocked':
        this.setting(to, actor, first.tag);
        return undefined;
      case 'member_add_mode': {
        const mode = bytes(first)?.toString('utf8');
        if (mode !== 'all_member_add' && mode !== 'admin_add') throw new GroupError('400', 'bad-request');
        this.setting(to, actor, mode);
        return undefined;
      }
      case 'membership_approval_mode':
        this.setting(to, actor, child(first, 'group_join')?.attrs.state === 'on' ? 'approval_on' : 'approval_off');
        return undefined;
      case 'invite': {
        const code = this.inviteCode(to, actor, !get);
        return [node('invite', { code })];
      }
      case 'membership_approval_requests': {
        const g = this.admin(to, actor);
        return [node('membership_approval_requests', {}, g.requests.map((r) => node('membership_approval_request', { jid: userJid(r), request_time: now() })))];
      }
      case 'membership_requests_action': {
        const act = children(first)[0];
        if (!act || (act.tag !== 'approve' && act.tag !== 'reject')) throw new GroupError('400', 'bad-request');
        const out = this.requestsAction(to, actor, act.tag, phonesOf(act));
        return [node('membership_requests_action', {}, [node(act.tag, {}, out.map((o) => node('participant', { jid: userJid(o.phone), error: o.error })))])];
      }
    }
    throw new GroupError('501', 'feature-not-implemented');
  }
}

const newCode = () => randomBytes(16).toString('base64url').slice(0, 22);

/** A group as the w:g2 answers describe it (Baileys' extractGroupMetadata reads it). */
export function groupNode(g: Group): BinaryNode {
  const content: BinaryNode[] = g.participants.map((p) => node('participant', { jid: userJid(p.phone), type: p.admin }));
  if (g.description) content.push(node('description', { id: g.description.id }, [node('body', {}, Buffer.from(g.description.text, 'utf8'))]));
  if (g.announce) content.push(node('announcement'));
  if (g.locked) content.push(node('locked'));
  if (g.approval) content.push(node('membership_approval_mode', {}, [node('group_join', { state: 'on' })]));
  content.push(node('member_add_mode', {}, g.memberAdd ? 'all_member_add' : 'admin_add'));
  return node(
    'group',
    { id: g.id, creator: userJid(g.creator), creation: g.creation, subject: g.subject, s_t: g.subjectTime, s_o: userJid(g.subjectOwner), size: g.participants.length },
    content,
  );
}
