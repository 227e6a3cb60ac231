import { AsyncLocalStorage } from 'node:async_hooks';
import { Baileys, type WASocket } from '../baileys.js';

interface Device {
  user: string;
  device?: number;
}

/** The users a one-to-one send looked up, and those whose device list its query returned. */
interface OneToOneSend {
  missed: Set<string>;
  answered: Set<string>;
}

/** Baileys' own lifetime for a device list (DEFAULT_CACHE_TTLS.USER_DEVICES). */
export const DEVICE_LIST_TTL_MS = 5 * 60_000;

/**
 * The device lists Baileys asks WhatsApp for before it encrypts a message (its
 * `userDevicesCache`), kept once per user whichever kind of send asked.
 *
 * Baileys reads and writes one cache with two shapes: a one-to-one send stores a user's
 * companions without the phone (device 0), a group send stores them with it, and each
 * then reads the other's shape. It also stores nothing for a user whose only device is
 * the phone, so every message to such a contact (and to our own number, when PlugChat is
 * its only companion) cost one more round trip to WhatsApp. Here the companions are the
 * one truth: a one-to-one send gets them as they are, an empty list included, and any
 * other send gets them behind device 0, as its own query would have.
 */
export class DeviceLists {
  private readonly companions = new Map<string, { devices: Device[]; until: number }>();
  private readonly scope = new AsyncLocalStorage<OneToOneSend>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = DEVICE_LIST_TTL_MS,
  ) {}

  /**
   * Marks the socket's sends to one person, so that its device lookups get that send's shape, and
   * forgets a user's list when WhatsApp says it changed (a device linked or removed), which
   * Baileys itself ignores: the next message goes to the new device, not five minutes later.
   */
  attachTo(sock: Pick<WASocket, 'sendMessage' | 'relayMessage' | 'ws'>): void {
    const toPerson = (jid: string) => jid.endsWith('@s.whatsapp.net') || jid.endsWith('@lid');
    const { sendMessage, relayMessage } = sock;
    sock.sendMessage = (jid, ...rest) => (toPerson(jid) ? this.oneToOne(() => sendMessage(jid, ...rest)) : sendMessage(jid, ...rest));
    sock.relayMessage = (jid, ...rest) => (toPerson(jid) ? this.oneToOne(() => relayMessage(jid, ...rest)) : relayMessage(jid, ...rest));
    sock.ws.on('CB:notification,type:devices', (n: { attrs: { from?: string } }) => {
      // Keyed as Baileys keys its lookups: the JID's user part.
      const user = n.attrs.from && Baileys.jidDecode(n.attrs.from)?.user;
      if (user) this.del(user);
    });
  }

  /** Runs a one-to-one send; the users its query returned no companions for are then known to have none. */
  async oneToOne<T>(send: () => Promise<T>): Promise<T> {
    const seen: OneToOneSend = { missed: new Set(), answered: new Set() };
    const result = await this.scope.run(seen, send);
    for (const user of seen.missed) if (!seen.answered.has(user)) this.store(user, []);
    return result;
  }

  get<T>(user: string): T | undefined {
    const hit = this.companions.get(user);
    const send = this.scope.getStore();
    if (!hit || hit.until <= this.now()) {
      send?.missed.add(user);
      return undefined;
    }
    return (send ? hit.devices : [{ user, device: 0 }, ...hit.devices]) as T;
  }

  set<T>(user: string, value: T): void {
    this.scope.getStore()?.answered.add(user);
    this.store(user, (value as Device[]).filter((d) => !!d.device));
  }

  del(user: string): void {
    this.companions.delete(user);
  }

  flushAll(): void {
    this.companions.clear();
  }

  private store(user: string, devices: Device[]) {
    const now = this.now();
    this.companions.delete(user);
    this.companions.set(user, { devices, until: now + this.ttlMs });
    // Entries go in in expiry order (one lifetime for all), so the expired ones lead.
    for (const [key, entry] of this.companions) {
      if (entry.until > now) break;
      this.companions.delete(key);
    }
  }
}
