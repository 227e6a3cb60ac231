import { createRequire } from 'node:module';
import { Agent } from 'node:https';
import { pino } from 'pino';
import type { SandboxNetwork } from '../../src/network/index.js';
import type { ScanOptions } from '../../src/network/conn.js';

const require = createRequire(import.meta.url);
const B: typeof import('@whiskeysockets/baileys') = require('@whiskeysockets/baileys');
type Socket = ReturnType<typeof B.default>;
type WAMessage = import('@whiskeysockets/baileys').WAMessage;
type AuthenticationState = import('@whiskeysockets/baileys').AuthenticationState;

export const { DisconnectReason, proto } = B;
export const WA_VERSION: [number, number, number] = [2, 3000, 1019707846];

/** An in-memory auth state (the shape Baileys' file store has), so a "restart" can reuse it. */
export function memoryAuthState(): { state: AuthenticationState; snapshot(): string } {
  const creds = B.initAuthCreds();
  const data: Record<string, Record<string, unknown>> = {};
  const state: AuthenticationState = {
    creds,
    keys: {
      get: async (type, ids) => {
        const out: Record<string, unknown> = {};
        for (const id of ids) {
          let v = data[type]?.[id];
          if (v && type === 'app-state-sync-key') v = proto.Message.AppStateSyncKeyData.fromObject(v as object);
          if (v !== undefined) out[id] = v;
        }
        return out as never;
      },
      set: async (entries) => {
        for (const [type, values] of Object.entries(entries)) {
          data[type] ??= {};
          for (const [id, v] of Object.entries(values as Record<string, unknown>)) {
            if (v === null || v === undefined) delete data[type]![id];
            else data[type]![id] = v;
          }
        }
      },
    },
  };
  return { state, snapshot: () => JSON.stringify({ creds, data }, B.BufferJSON.replacer) };
}

export interface Update {
  id: string;
  remoteJid: string;
  fromMe: boolean;
  status?: number;
}

/**
 * A real Baileys client pointed at the sandbox network, reconnecting the way a
 * product does: always after 515 (restart required), and after drops unless told not to.
 */
export class TestClient {
  sock?: Socket;
  qr?: string;
  readonly upserts: { type: string; msg: WAMessage }[] = [];
  readonly updates: Update[] = [];
  readonly presences: { id: string; presences: Record<string, { lastKnownPresence: string }> }[] = [];
  readonly closes: number[] = [];
  /** messaging-history.set events: what the phone's history sync brought. */
  readonly histories: { syncType?: number | null; chats: unknown[]; contacts: { id: string; name?: string; notify?: string }[]; messages: WAMessage[] }[] = [];
  /** chats.update events (app state applied). */
  readonly chatUpdates: { id?: string | null; archived?: boolean | null; pinned?: number | null; muteEndTime?: number | null }[] = [];
  open = false;
  autoReconnect = true;
  private waiters: (() => void)[] = [];
  readonly auth: ReturnType<typeof memoryAuthState>;
  private readonly sent = new Map<string, WAMessage>();

  /** Trusts the sandbox's self-signed media certificate, as NODE_EXTRA_CA_CERTS would. */
  readonly httpsAgent: Agent;

  constructor(
    private readonly network: SandboxNetwork,
    auth?: ReturnType<typeof memoryAuthState>,
  ) {
    this.auth = auth ?? memoryAuthState();
    this.httpsAgent = new Agent({ ca: network.media?.cert });
  }

  get jid(): string | undefined {
    return this.auth.state.creds.me?.id;
  }

  get userJid(): string {
    return B.jidNormalizedUser(this.jid!);
  }

  start(): this {
    const sock = B.default({
      auth: { creds: this.auth.state.creds, keys: this.auth.state.keys },
      waWebSocketUrl: this.network.url,
      version: WA_VERSION,
      logger: pino({ level: 'silent' }) as never,
      browser: ['PlugChat', 'Chrome', '1.0'],
      markOnlineOnConnect: true,
      syncFullHistory: false,
      keepAliveIntervalMs: 2_000,
      connectTimeoutMs: 20_000,
      defaultQueryTimeoutMs: 20_000,
      getMessage: async (key) => this.sent.get(key.id!)?.message ?? undefined,
      fetchAgent: this.httpsAgent,
      // History and app-state blobs are downloaded with these options, not with fetchAgent.
      options: { httpsAgent: this.httpsAgent },
    });
    this.sock = sock;
    sock.ev.on('creds.update', (u) => Object.assign(this.auth.state.creds, u));
    sock.ev.on('connection.update', (u) => {
      if (u.qr) this.qr = u.qr;
      if (u.connection === 'open') this.open = true;
      if (u.connection === 'close') {
        this.open = false;
        const code = (u.lastDisconnect?.error as { output?: { statusCode?: number } })?.output?.statusCode ?? 0;
        this.closes.push(code);
        if (this.sock === sock && (code === DisconnectReason.restartRequired || (this.autoReconnect && code !== DisconnectReason.loggedOut && code !== DisconnectReason.connectionReplaced))) {
          setTimeout(() => this.start(), code === DisconnectReason.restartRequired ? 0 : 200);
        }
      }
      this.notify();
    });
    sock.ev.on('messaging-history.set', (h) => {
      this.histories.push(h as never);
      this.notify();
    });
    sock.ev.on('chats.update', (list) => {
      this.chatUpdates.push(...(list as never[]));
      this.notify();
    });
    sock.ev.on('messages.upsert', ({ messages, type }) => {
      for (const msg of messages) this.upserts.push({ type, msg });
      this.notify();
    });
    sock.ev.on('messages.update', (list) => {
      for (const { key, update } of list) this.updates.push({ id: key.id!, remoteJid: key.remoteJid!, fromMe: !!key.fromMe, status: update.status ?? undefined });
      this.notify();
    });
    sock.ev.on('presence.update', (p) => {
      this.presences.push(p as never);
      this.notify();
    });
    return this;
  }

  /** Stops this client without logging out (as a process exit would). */
  stop(): void {
    const s = this.sock;
    this.sock = undefined;
    this.open = false;
    s?.end(undefined);
  }

  private notify() {
    const w = this.waiters.splice(0);
    for (const fn of w) fn();
  }

  async waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitOpen(timeoutMs?: number) {
    return this.waitFor(() => this.open, 'connection open', timeoutMs);
  }

  waitQr() {
    return this.waitFor(() => this.qr, 'a QR code');
  }

  async sendText(to: string, text: string): Promise<WAMessage> {
    return this.send(to, { text });
  }

  async send(to: string, content: import('@whiskeysockets/baileys').AnyMessageContent): Promise<WAMessage> {
    const msg = (await this.sock!.sendMessage(to, content))!;
    this.sent.set(msg.key.id!, msg);
    return msg;
  }

  /** Downloads and decrypts a received media message. */
  download(msg: WAMessage): Promise<Buffer> {
    return B.downloadMediaMessage(msg, 'buffer', { options: { httpsAgent: this.httpsAgent } } as never) as Promise<Buffer>;
  }

  received(text: string) {
    return this.upserts.find((u) => !u.msg.key.fromMe && (u.msg.message?.conversation === text || u.msg.message?.extendedTextMessage?.text === text));
  }

  statusOf(id: string): number[] {
    return this.updates.filter((u) => u.id === id && u.status !== undefined).map((u) => u.status!);
  }
}

/** Pairs a fresh client with `phone` through the network, waiting until it is open after the 515 restart. */
export async function pairClient(network: SandboxNetwork, phone: string, name: string, opts: Omit<ScanOptions, 'name'> = {}): Promise<TestClient> {
  const client = new TestClient(network).start();
  const qr = await client.waitQr();
  await network.scan(qr, phone, { ...opts, name });
  await client.waitOpen();
  return client;
}

export interface Pair {
  network: SandboxNetwork;
  biz: TestClient;
  customer: TestClient;
}

/**
 * For a describe block: a fresh network with a business and a customer client
 * paired before the tests and everything stopped after. Read the fields inside tests.
 */
export function useTwoClients(hooks: { beforeAll: (fn: () => Promise<void>) => void; afterAll: (fn: () => Promise<void>) => void }, phones: [string, string], names: [string, string]): Pair {
  const pair = {} as Pair;
  hooks.beforeAll(async () => {
    const { SandboxNetwork: Network } = await import('../../src/network/index.js');
    pair.network = new Network();
    await pair.network.start();
    pair.biz = await pairClient(pair.network, phones[0], names[0]);
    pair.customer = await pairClient(pair.network, phones[1], names[1]);
  });
  hooks.afterAll(async () => {
    pair.biz?.stop();
    pair.customer?.stop();
    await pair.network?.stop();
  });
  return pair;
}
