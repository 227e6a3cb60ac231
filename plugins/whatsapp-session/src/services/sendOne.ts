import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { proto } from '@whiskeysockets/baileys';
import { Baileys } from '../baileys.js';
import type { Store } from '../store.js';
import type { InstanceSession } from '../transport/session.js';
import { buildContent, type OutgoingRequest } from './content.js';
import { imageThumbnail } from './images.js';
import { jidOf } from './jids.js';
import { rawOf, toMessage, type Message } from './messages.js';
import { pollVoteMessage, receivedPoll } from './polls.js';

/** How a send ended. */
export type Outcome = { status: 'SENT'; raw: string | null; error?: undefined } | { status: 'FAILED'; error: string };

type MessageSource = { key: { remoteJid: string; id: string; fromMe: boolean; participant?: string }; message: proto.IMessage; raw: string };

/** Sends one message: SENT (with WhatsApp's bytes of it) or FAILED; undefined when the socket closed under it (it stays queued). */
export async function sendOne(store: Store, instanceId: string, session: InstanceSession, msg: Message, req: OutgoingRequest, now: Date): Promise<Outcome | undefined> {
  // The socket is read at each use: a reconnect during the typing delay replaces it.
  const sock = () => session.sock!;
  // A socket that closes mid-send leaves Baileys' pending queries waiting to their timeout (a
  // minute): the send gives up with the socket, and the message stays queued for the next one.
  const CLOSED = Symbol('closed');
  const whileOpen = async <T>(work: Promise<T>): Promise<T> => {
    work.catch(() => undefined);
    const r = await Promise.race([work, session.closed.then(() => CLOSED)]);
    if (r === CLOSED) throw new Error('the connection closed while sending');
    return r as T;
  };
  try {
    if (req.delayTypingMs) {
      await whileOpen(sock().sendPresenceUpdate('composing', msg.chat));
      await sleep(req.delayTypingMs);
      await whileOpen(sock().sendPresenceUpdate('paused', msg.chat));
    }
    const source = await sourceOf(store, instanceId, req);
    if (!session.open) return undefined;
    let sentMessage: proto.IMessage | null | undefined;
    if (req.kind === 'pollVote') {
      sentMessage = pollVoteMessage(pollOfSource(source), Baileys.jidNormalizedUser(sock().user!.id), req.pollVote!.options, now.getTime());
      await whileOpen(sock().relayMessage(msg.chat, sentMessage, { messageId: msg.waId }));
    } else {
      const thumbnail = req.kind === 'image' && msg.mediaPath ? await imageThumbnail(await readFile(msg.mediaPath)) : undefined;
      const { content, quoted } = buildContent(req, msg.chat, msg.mediaPath, source, thumbnail);
      sentMessage = (await whileOpen(sock().sendMessage(msg.chat, content, { messageId: msg.waId, quoted })))?.message;
    }
    return { status: 'SENT', raw: sentMessage ? rawOf(sentMessage) : null };
  } catch (err) {
    if (!session.open) return undefined; // disconnected mid-send: it stays queued and goes out after the reconnect
    return { status: 'FAILED', error: (err as Error).message };
  }
}

/** The stored message a forward or a poll vote is about, with WhatsApp's bytes of it. */
async function sourceOf(store: Store, instanceId: string, req: OutgoingRequest): Promise<MessageSource | undefined> {
  const ref = req.kind === 'forward' ? { id: req.forward!.messageId, chat: jidOf(req.forward!.phone) } : req.kind === 'pollVote' ? { id: req.pollVote!.pollMessageId } : undefined;
  if (!ref) return undefined;
  const row = await store.messages().where({ instance_id: instanceId, wa_id: ref.id, ...(ref.chat ? { chat: ref.chat } : {}) }).whereNotNull('raw').first();
  if (!row?.raw) throw new Error(`message ${ref.id} is no longer stored`);
  const m = toMessage(row);
  const participant = (m.content as { participantPhone?: string }).participantPhone;
  return {
    key: { remoteJid: m.chat, id: m.waId, fromMe: m.direction === 'out', ...(participant ? { participant: jidOf(participant) } : {}) },
    message: Baileys.proto.Message.decode(Buffer.from(row.raw, 'base64')),
    raw: row.raw,
  };
}

/** The poll a vote is about: its id, chat, creator and secret. */
function pollOfSource(source: MessageSource | undefined) {
  const poll = source && receivedPoll(source.raw);
  if (!source || !poll) throw new Error('the poll is no longer stored');
  return { id: source.key.id, chat: source.key.remoteJid, creator: source.key.participant ?? source.key.remoteJid, secret: poll.secret };
}
