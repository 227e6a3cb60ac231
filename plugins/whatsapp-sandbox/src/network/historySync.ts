import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { AppState } from './appState.js';
import type { proto as P } from '@whiskeysockets/baileys';
import { Baileys, proto } from './baileys.js';
import { SandboxError } from './conn.js';
import type { NetworkCore } from './core.js';
import type { Account } from './state.js';
import { userJid } from './stanza.js';

const deflateAsync = promisify(deflate);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

/** What a phone already holds when a device is linked to it: chats with that many contacts, and messages spread over them. */
export interface HistorySpec {
  chats: number;
  messages: number;
}

const LIMITS = { chats: 5_000, messages: 200_000 };

export function checkHistorySpec(spec: HistorySpec): void {
  for (const k of ['chats', 'messages'] as const) {
    const v = spec[k];
    if (!Number.isInteger(v) || v < 0 || v > LIMITS[k]) throw new SandboxError('invalid_history', `history.${k} must be a whole number from 0 to ${LIMITS[k]}.`);
  }
}

/** The contacts of a made-up history: numbers derived from the account's, so each account has its own. */
const contactPhone = (account: string, i: number) => `5598${account.slice(-5)}${String(i).padStart(4, '0')}`;

/**
 * A phone's history, as WhatsApp hands it to a newly linked device (§7.5): an INITIAL_BOOTSTRAP
 * sync of its conversations with their messages (newest first), a PUSH_NAME sync of its contacts'
 * names, each a zlib-deflated HistorySync encrypted like media and served by the media host, and
 * the chats the phone archived, pinned and muted as app-state patches (history carries no chat
 * settings; Baileys drops them from it). Made once per account; every device linked later gets it.
 */
export class HistorySync {
  private readonly appState: AppState;

  constructor(private readonly net: NetworkCore) {
    this.appState = new AppState(net);
  }

  /** Gives the account a history (replacing any it had): blobs uploaded, patches written. */
  async prepare(account: Account, spec: HistorySpec): Promise<void> {
    checkHistorySpec(spec);
    const media = this.net.media;
    if (!media) throw new SandboxError('no_media', 'A history needs the media server; start the network with media.');
    const now = Math.floor(Date.now() / 1000);
    const conversations: P.IConversation[] = [];
    const pushnames: P.IPushname[] = [];
    const latest: { jid: string; key: P.IMessageKey; t: number }[] = [];
    for (let c = 0; c < spec.chats; c++) {
      const jid = userJid(contactPhone(account.phone, c));
      const name = `Contact ${c + 1}`;
      pushnames.push({ id: jid, pushname: name });
      // An even share of the messages, the first chats taking the remainder; chat c was last active c hours ago.
      const count = Math.floor(spec.messages / spec.chats) + (c < spec.messages % spec.chats ? 1 : 0);
      const last = now - c * 3600;
      const messages: P.IHistorySyncMsg[] = [];
      for (let m = 0; m < count; m++) {
        const fromMe = m % 3 === 1;
        const key = { remoteJid: jid, fromMe, id: `3EB0${randomBytes(8).toString('hex').toUpperCase()}` };
        const t = last - m * 60;
        if (m === 0) latest.push({ jid, key, t });
        messages.push({
          msgOrderId: count - m,
          message: {
            key,
            message: { conversation: fromMe ? `Reply ${count - m} to ${name}` : `Message ${count - m} from ${name}` },
            messageTimestamp: t,
            ...(fromMe ? { status: proto.WebMessageInfo.Status.READ } : { pushName: name }),
          },
        });
      }
      conversations.push({ id: jid, name, messages, unreadCount: c % 7 === 0 && count ? 1 : 0, conversationTimestamp: count ? last : now });
    }
    const notifications: Buffer[] = [];
    const parts = [
      { syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP, conversations },
      { syncType: proto.HistorySync.HistorySyncType.PUSH_NAME, pushnames },
    ];
    for (const [i, part] of parts.entries()) {
      const plain = await deflateAsync(proto.HistorySync.encode({ ...part, chunkOrder: 0, progress: 100 }).finish());
      const blob = await encrypt(Buffer.from(plain));
      const { directPath } = media.put(blob.body);
      notifications.push(
        Buffer.from(
          proto.Message.encode({
            protocolMessage: {
              type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
              historySyncNotification: {
                fileSha256: blob.fileSha256,
                fileLength: plain.length,
                mediaKey: blob.mediaKey,
                fileEncSha256: blob.fileEncSha256,
                // No url field exists: Baileys builds https://mmg.whatsapp.net<directPath>, where "@host" makes that host userinfo.
                directPath: `@${media.host}${directPath}`,
                syncType: part.syncType,
                chunkOrder: i,
                progress: 100,
              },
            },
          }).finish(),
        ),
      );
    }
    account.history = { spec, notifications };
    // The phone's own chat settings: every tenth chat archived, the three latest pinned, every twentieth muted for good.
    const mods: { mod: object; jid: string }[] = [];
    for (const [c, l] of latest.entries()) {
      const lastMessages = [{ key: l.key, messageTimestamp: l.t }];
      if (c % 10 === 9) mods.push({ jid: l.jid, mod: { archive: true, lastMessages } });
      if (c < 3) mods.push({ jid: l.jid, mod: { pin: true } });
      if (c % 20 === 4) mods.push({ jid: l.jid, mod: { mute: -1 } });
    }
    await this.appState.write(account, mods);
    this.net.save();
  }
}

/** Media encryption as WhatsApp does it for history blobs: AES-256-CBC with keys from the media key, then a 10-byte HMAC. */
async function encrypt(plain: Buffer) {
  const mediaKey = randomBytes(32);
  const { iv, cipherKey, macKey } = await Baileys.getMediaKeys(mediaKey, 'md-msg-hist');
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const enc = Buffer.concat([cipher.update(plain), cipher.final()]);
  const mac = createHmac('sha256', macKey!).update(iv).update(enc).digest().subarray(0, 10);
  const body = Buffer.concat([enc, mac]);
  return { mediaKey, body, fileSha256: sha256(plain), fileEncSha256: sha256(body) };
}
