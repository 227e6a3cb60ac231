import type { WASocket } from '../baileys.js';
import { runChatModify, type ChatAction, type LastMessage } from './chatSettings.js';
import { runContactOp, type ContactOp } from './contacts.js';
import { runGroupOp, type GroupOp } from './groups.js';
import { jidOf, phoneOf } from './jids.js';

/** What needs only the instance's open socket; the arguments travel between processes as JSON. */
export type SocketOp = 'read' | 'typing' | 'delete' | 'exists' | 'existing' | 'profileName' | 'setAbout' | 'about' | 'group' | 'contact' | 'chat' | 'profilePicture';

/** Runs one socket operation in the process that holds the socket. */
export async function runSocketOp(sock: WASocket, op: SocketOp, args: unknown[]): Promise<unknown> {
  switch (op) {
    case 'read':
      return sock.readMessages(args[0] as { remoteJid: string; id: string; fromMe: false; participant?: string }[]);
    case 'typing':
      return sock.sendPresenceUpdate(args[1] as 'composing' | 'paused', jidOf(args[0] as string));
    case 'delete': {
      const [phone, id, owner] = args as [string, string, boolean];
      await sock.sendMessage(jidOf(phone), { delete: { remoteJid: jidOf(phone), id, fromMe: owner } });
      return null;
    }
    case 'exists': {
      const result = await sock.onWhatsApp(args[0] as string);
      return !!result?.[0]?.exists;
    }
    case 'existing': {
      const found = (await sock.onWhatsApp(...(args[0] as string[]))) ?? [];
      return found.filter((r) => r.exists).map((r) => phoneOf(r.jid));
    }
    case 'profileName':
      return sock.updateProfileName(args[0] as string);
    case 'setAbout':
      return sock.updateProfileStatus(args[0] as string);
    case 'about': {
      const me = sock.user?.id;
      return me ? runContactOp(sock, { op: 'about', phone: phoneOf(me) }) : null;
    }
    case 'group':
      return runGroupOp(sock, args[0] as GroupOp);
    case 'contact':
      return runContactOp(sock, args[0] as ContactOp);
    case 'profilePicture':
      return sock.updateProfilePicture(sock.user!.id, Buffer.from(args[0] as string, 'base64'));
    case 'chat':
      return runChatModify(sock, args[0] as string, args[1] as ChatAction, args[2] as LastMessage[]);
  }
}
