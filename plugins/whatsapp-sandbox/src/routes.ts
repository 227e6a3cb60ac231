import { createRouter, conflict, notFound, HttpError, openEventStream, z, type Caller } from '@plugchat/core';
import { GroupError, SandboxError, type Group, type PhoneMessage, type SandboxNetwork, type VirtualPhone } from './network/index.js';

const phoneNumber = z.string().regex(/^\d{8,15}$/, 'must be 8 to 15 digits with the country code, no +');
const phoneParam = z.object({ phone: phoneNumber });
const base64 = z.string().min(1).max(20_000_000).regex(/^[A-Za-z0-9+/=\s]+$/, 'must be base64');

const messageOut = z.object({
  id: z.string(),
  chat: z.string(),
  direction: z.enum(['in', 'out']),
  at: z.number(),
  kind: z.string(),
  text: z.string().optional(),
  caption: z.string().optional(),
  fileName: z.string().optional(),
  mimetype: z.string().optional(),
  options: z.array(z.string()).optional().describe("a poll's options"),
  status: z.string().optional(),
  read: z.boolean().optional(),
  author: z.string().optional().describe('in a group: who wrote it'),
  mentions: z.array(z.string()).optional().describe('the JIDs a text mentions'),
  link: z.object({ url: z.string(), title: z.string().optional(), description: z.string().optional(), thumbnail: z.boolean() }).optional().describe("a text's link preview"),
  selected: z.array(z.string()).optional().describe("a vote in one of the phone's polls: the options chosen"),
});
const groupOut = z.object({
  id: z.string().describe('as Z-API writes it: …-group'),
  subject: z.string(),
  participants: z.array(z.object({ phone: z.string(), admin: z.enum(['admin', 'superadmin']).optional() })),
});
const groupJson = (g: Group) => ({ id: `${g.id}-group`, subject: g.subject, participants: g.participants.map((p) => ({ phone: p.phone, admin: p.admin })) });
const callOut = z.object({ id: z.string(), to: z.string(), video: z.boolean(), at: z.number(), status: z.enum(['ringing', 'rejected', 'accepted', 'ended']) });
const phoneOut = z.object({ phone: z.string(), name: z.string().nullable(), online: z.boolean(), messages: z.array(messageOut), calls: z.array(callOut) });

const sendBody = z
  .object({
    to: z.string().min(8).max(60).describe('the business number or JID, or a group (…@g.us or …-group)'),
    text: z.string().min(1).max(65_536).optional(),
    image: z.object({ base64, mimetype: z.string().default('image/jpeg'), caption: z.string().max(1024).optional() }).strict().optional(),
    document: z.object({ base64, mimetype: z.string().default('application/pdf'), fileName: z.string().min(1).max(255), caption: z.string().max(1024).optional() }).strict().optional(),
    audio: z.object({ base64, mimetype: z.string().default('audio/ogg; codecs=opus'), ptt: z.boolean().default(true) }).strict().optional(),
    location: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180), name: z.string().max(256).optional() }).strict().optional(),
    contact: z.object({ displayName: z.string().min(1), vcard: z.string().min(10) }).strict().optional(),
    reaction: z.object({ messageId: z.string().min(1), emoji: z.string().max(16) }).strict().optional(),
    poll: z.object({ name: z.string().min(1).max(255), options: z.array(z.string().min(1).max(100)).min(2).max(12), selectableCount: z.number().int().min(0).max(12).default(0) }).strict().optional(),
  })
  .strict()
  .refine((b) => ['text', 'image', 'document', 'audio', 'location', 'contact', 'reaction', 'poll'].filter((k) => k in b).length === 1, {
    message: 'give exactly one of text, image, document, audio, location, contact, reaction, poll',
  });

const summary = (m: PhoneMessage) => ({ id: m.id, chat: m.chat, direction: m.direction, at: m.at, kind: m.kind, text: m.text, caption: m.caption, fileName: m.fileName, mimetype: m.mimetype, options: m.options, status: m.status, read: m.read, author: m.author, mentions: m.mentions, selected: m.selected, link: m.link });
/** Z-API writes groups as `…-group`; the network speaks JIDs. */
const toJid = (to: string) => (to.endsWith('-group') ? `${to.slice(0, -'-group'.length)}@g.us` : to);
const phoneJson = (p: VirtualPhone) => ({ phone: p.phone, name: p.name ?? null, online: p.online, messages: p.messages().map(summary), calls: [...p.calls()] });

function translate(err: unknown): never {
  if (err instanceof GroupError) {
    if (err.code === '404') throw new HttpError(404, 'group_not_found', 'No such group.');
    if (err.code === '401') throw new HttpError(403, 'not_group_admin', 'Only the group’s admins may do this.');
    throw new HttpError(403, 'not_group_participant', 'The phone is not in this group.');
  }
  if (err instanceof SandboxError) {
    const status = err.code === 'phone_taken' ? 409 : err.code === 'not_connected' || err.code === 'unknown_device' ? 404 : err.code === 'qr_expired' ? 410 : 400;
    throw new HttpError(status, err.code, err.message);
  }
  throw err;
}

/** The control API: phones belong to the account that created them; network faults are for operators. */
export function sandboxRouter(network: () => SandboxNetwork) {
  const own = (auth: Caller, phone: string) => {
    const p = network().phone(phone);
    if (!p || p.owner !== auth.accountId) throw notFound('Phone');
    return p;
  };

  return createRouter('/api/whatsapp-sandbox')
    .get('/status', { summary: 'Where the sandbox network listens', role: 'agent', response: z.object({ wsUrl: z.string(), mediaHost: z.string(), devices: z.number() }) }, () => ({
      wsUrl: network().url,
      mediaHost: network().media?.host ?? '',
      devices: network().devices().length,
    }))
    .get('/phones', { summary: "This account's virtual phones", role: 'agent', response: z.object({ phones: z.array(phoneOut) }) }, (c) => ({
      phones: network()
        .phones()
        .filter((p) => p.owner === c.auth.accountId)
        .map(phoneJson),
    }))
    .post(
      '/phones',
      { summary: 'Create a virtual customer phone', role: 'agent', status: 201, body: z.object({ phone: phoneNumber, name: z.string().min(1).max(100).optional() }).strict(), response: phoneOut },
      (c) => {
        try {
          if (network().phone(c.body.phone)) throw conflict(`${c.body.phone} already exists.`, 'phone_taken');
          return phoneJson(network().createPhone(c.body.phone, { name: c.body.name, owner: c.auth.accountId }));
        } catch (err) {
          return translate(err);
        }
      },
    )
    .get('/stream', { summary: "Live changes of this account's virtual phones (Server-Sent Events: a phone to read again)", role: 'agent' }, (c) => {
      const net = network();
      const stream = openEventStream(c.koa);
      // What changes a phone's page: a message in or out, a status tick, a phone created or brought online.
      const events = ['phone-received', 'phone-sent', 'phone-status', 'phone-changed', 'phone-call'] as const;
      const onEvent = (p: { phone?: string }) => {
        const phone = p.phone ? net.phone(p.phone) : undefined;
        if (phone && phone.owner === c.auth.accountId) stream.send('phone', { phone: phone.phone });
      };
      for (const e of events) net.on(e, onEvent);
      stream.onClose(() => {
        for (const e of events) net.off(e, onEvent);
      });
      return undefined;
    })
    .get('/phones/:phone', { summary: 'A virtual phone and its messages', role: 'agent', params: phoneParam, response: phoneOut }, (c) => phoneJson(own(c.auth, c.params.phone)))
    .post(
      '/phones/:phone/messages',
      { summary: 'Send as the customer: text, image, document, audio, location, contact or reaction', role: 'agent', status: 201, params: phoneParam, body: sendBody, response: messageOut },
      async (c) => {
        const p = own(c.auth, c.params.phone);
        const b = c.body;
        const buf = (s: string) => Buffer.from(s, 'base64');
        const content = b.text
          ? { text: b.text }
          : b.image
            ? { image: buf(b.image.base64), mimetype: b.image.mimetype, caption: b.image.caption }
            : b.document
              ? { document: buf(b.document.base64), mimetype: b.document.mimetype, fileName: b.document.fileName, caption: b.document.caption }
              : b.audio
                ? { audio: buf(b.audio.base64), mimetype: b.audio.mimetype, ptt: b.audio.ptt }
                : b.location
                  ? { location: { degreesLatitude: b.location.latitude, degreesLongitude: b.location.longitude, name: b.location.name } }
                  : b.contact
                    ? { contacts: { displayName: b.contact.displayName, contacts: [{ vcard: b.contact.vcard }] } }
                    : b.poll
                      ? { poll: { name: b.poll.name, values: b.poll.options, selectableCount: b.poll.selectableCount } }
                      : { react: { text: b.reaction!.emoji, key: { id: b.reaction!.messageId, remoteJid: b.to.includes('@') ? b.to : toJid(b.to).includes('@') ? toJid(b.to) : `${b.to}@s.whatsapp.net`, fromMe: false } } };
        try {
          return summary(await p.send(toJid(b.to), content as never));
        } catch (err) {
          return translate(err);
        }
      },
    )
    .post(
      '/phones/:phone/read',
      { summary: 'Mark received messages read (all unread, or the given ids)', role: 'agent', params: phoneParam, body: z.object({ chat: z.string().optional(), ids: z.array(z.string()).optional(), played: z.boolean().optional() }).strict() },
      (c) => ({ read: own(c.auth, c.params.phone).markRead(c.body) }),
    )
    .post(
      '/phones/:phone/votes',
      {
        summary: 'Vote in a poll the phone received (an empty list takes the vote back)',
        role: 'agent',
        status: 201,
        params: phoneParam,
        body: z.object({ messageId: z.string().min(1).max(100), options: z.array(z.string().min(1).max(100)).max(12) }).strict(),
        response: messageOut,
      },
      async (c) => {
        try {
          return summary(await own(c.auth, c.params.phone).vote(c.body.messageId, c.body.options));
        } catch (err) {
          if (err instanceof Error && !(err instanceof HttpError)) throw new HttpError(400, 'bad_vote', err.message);
          throw err;
        }
      },
    )
    .get(
      '/phones/:phone/groups',
      { summary: 'The groups the phone is in', role: 'agent', params: phoneParam, response: z.object({ groups: z.array(groupOut) }) },
      (c) => {
        const p = own(c.auth, c.params.phone);
        return { groups: network().groups.of(p.phone).map(groupJson) };
      },
    )
    .post(
      '/phones/:phone/groups/join',
      { summary: 'Join a group by its invitation link or code (asks to, when the group wants approval)', role: 'agent', params: phoneParam, body: z.object({ link: z.string().min(10).max(300) }).strict(), response: z.object({ joined: z.boolean(), group: groupOut }) },
      (c) => {
        const p = own(c.auth, c.params.phone);
        try {
          const { group, joined } = p.joinGroup(c.body.link.trim().split('/').pop()!);
          return { joined, group: groupJson(group) };
        } catch (err) {
          if (err instanceof GroupError) throw new HttpError(404, 'invitation_not_found', 'The invitation link is invalid or was redefined.');
          throw err;
        }
      },
    )
    .post('/phones/:phone/groups/:group/leave', { summary: 'Leave a group', role: 'agent', params: phoneParam.extend({ group: z.string().regex(/^\d{10,25}(-group|@g\.us)?$/) }) }, (c) => {
      try {
        own(c.auth, c.params.phone).leaveGroup(c.params.group.replace(/(-group|@g\.us)$/, ''));
      } catch (err) {
        translate(err);
      }
      return { ok: true };
    })
    .post(
      '/phones/:phone/calls',
      { summary: 'Call a number (voice or video) from the phone; it rings until rejected or hung up', role: 'agent', status: 201, params: phoneParam, body: z.object({ to: phoneNumber, video: z.boolean().default(false) }).strict(), response: callOut },
      (c) => own(c.auth, c.params.phone).call(c.body.to, { video: c.body.video }),
    )
    .post('/phones/:phone/calls/:call/hang-up', { summary: 'Hang up a ringing call', role: 'agent', params: phoneParam.extend({ call: z.string().regex(/^[0-9A-F]{8,64}$/) }) }, (c) => {
      own(c.auth, c.params.phone).hangUp(c.params.call);
      return { ok: true };
    })
    .put(
      '/phones/:phone/picture',
      { summary: "Set the phone's profile picture (a JPEG, base64); businesses see it with profile-picture", role: 'agent', params: phoneParam, body: z.object({ base64 }).strict() },
      (c) => {
        const jpeg = Buffer.from(c.body.base64, 'base64');
        if (jpeg.subarray(0, 3).toString('hex') !== 'ffd8ff') throw new HttpError(400, 'validation_failed', 'The picture must be a JPEG.', { issues: [{ path: 'body.base64', message: 'must be a JPEG image' }] });
        own(c.auth, c.params.phone).setPicture(jpeg);
        return { ok: true };
      },
    )
    .delete('/phones/:phone/picture', { summary: "Remove the phone's profile picture", role: 'agent', params: phoneParam }, (c) => {
      own(c.auth, c.params.phone).setPicture(undefined);
      return { ok: true };
    })
    .put(
      '/phones/:phone/online',
      { summary: 'Bring the phone online or offline', role: 'agent', params: phoneParam, body: z.object({ online: z.boolean() }).strict() },
      (c) => {
        const p = own(c.auth, c.params.phone);
        p.setOnline(c.body.online);
        return { online: p.online };
      },
    )
    .post(
      '/scan',
      {
        summary: "Scan a QR code as a phone: links a new device to the phone's number",
        role: 'admin',
        body: z
          .object({
            qr: z.string().min(10).max(2000),
            phone: phoneNumber,
            name: z.string().max(100).optional(),
            business: z.boolean().optional(),
            // The past the phone hands the new device (history sync): chats with that many contacts, messages spread over them.
            history: z.object({ chats: z.number().int().min(0).max(5000), messages: z.number().int().min(0).max(200_000) }).strict().optional(),
          })
          .strict(),
        response: z.object({ jid: z.string() }),
      },
      async (c) => {
        try {
          return { jid: await network().scan(c.body.qr, c.body.phone, { name: c.body.name, business: c.body.business, history: c.body.history }) };
        } catch (err) {
          return translate(err);
        }
      },
    )
    .post(
      '/pairing-code',
      {
        summary: "Type a device's pairing code on a phone (link-code pairing): links the device that asked for it to the phone's number",
        role: 'admin',
        body: z.object({ phone: phoneNumber, code: z.string().regex(/^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$/, 'must be the 8-character code the device shows, like ABCD-EFGH'), name: z.string().max(100).optional() }).strict(),
        response: z.object({ jid: z.string() }),
      },
      async (c) => {
        try {
          return { jid: await network().enterPairingCode(c.body.phone, c.body.code, { name: c.body.name }) };
        } catch (err) {
          return translate(err);
        }
      },
    )
    .get('/devices', { summary: 'Linked devices on the network (operators)', operator: true }, () => ({ devices: network().devices() }))
    .post(
      '/devices/:jid/faults',
      {
        summary: 'Inject a fault into a linked device (operators)',
        operator: true,
        params: z.object({ jid: z.string().regex(/^\d+:\d+@s\.whatsapp\.net$/, 'must be a device JID like 5511...:2@s.whatsapp.net') }),
        body: z.object({ type: z.enum(['drop', 'partition', 'conflict', 'unlink', 'restart', 'fail-next-login']), ms: z.number().int().min(1).max(600_000).optional(), reason: z.string().regex(/^\d{3}$/).optional() }).strict(),
      },
      (c) => {
        const n = network();
        try {
          const jid = c.params.jid;
          switch (c.body.type) {
            case 'drop':
              n.drop(jid);
              break;
            case 'partition':
              n.partition(jid, c.body.ms ?? 30_000);
              break;
            case 'conflict':
              n.replace(jid);
              break;
            case 'unlink':
              n.unlink(jid);
              break;
            case 'restart':
              n.restart(jid);
              break;
            case 'fail-next-login':
              n.failNextLogin(jid, c.body.reason);
              break;
          }
        } catch (err) {
          translate(err);
        }
        return { ok: true };
      },
    )
    .post(
      '/ack-errors',
      { summary: 'Answer the next message with this id with an error ack (operators)', operator: true, body: z.object({ messageId: z.string().min(1), code: z.string().regex(/^\d{3}$/).default('479') }).strict() },
      (c) => {
        network().ackError(c.body.messageId, c.body.code);
        return { ok: true };
      },
    )
    .get('/trace', { summary: 'The last stanzas in and out (operators)', operator: true, query: z.object({ limit: z.coerce.number().int().min(1).max(2000).default(200) }) }, (c) => ({
      trace: network().trace().slice(-c.query.limit),
    }));
}
