import type { CacheStore } from '@whiskeysockets/baileys';

/** How long a user's device list is trusted: Baileys' own default for it. */
const LIST_TTL_MS = 5 * 60_000;
/** How long "no devices besides the phone" is trusted. */
const NONE_TTL_MS = 60_000;
/** A lookup's answer is in by then: until it, a miss still makes Baileys ask. */
const SETTLE_MS = 2_000;
/** Past this many entries, a write first drops the expired ones (a campaign reaches many numbers once). */
const SWEEP_AT = 2_000;

interface Entry {
  value: unknown;
  until: number;
  /** For a "none" entry: trusted from this moment (a lookup made meanwhile stores its list over it). */
  from?: number;
}

/**
 * The device lists Baileys encrypts each message for, per user. Baileys' own cache keeps only the
 * users whose lookup named devices beyond the phone; most people use WhatsApp on their phone alone
 * (and our own number has no device but the phone and this one), so every message to them asked
 * WhatsApp again: a round trip before each send. Here a lookup that stored nothing is remembered as
 * "no other devices" (for a minute), while a list found is trusted as long as Baileys trusts it.
 */
export class DeviceListCache implements CacheStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  get<T>(key: string): T | undefined {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.from === undefined || hit.from <= now ? (hit.value as T) : undefined;
    // This miss makes Baileys look the user up: a list it finds is stored over this "none".
    this.entries.set(key, { value: [], until: now + NONE_TTL_MS, from: now + SETTLE_MS });
    this.sweep(now);
    return undefined;
  }

  set<T>(key: string, value: T): void {
    const now = this.now();
    this.sweep(now);
    this.entries.set(key, { value, until: now + LIST_TTL_MS });
  }

  del(key: string): void {
    this.entries.delete(key);
  }

  flushAll(): void {
    this.entries.clear();
  }

  private sweep(now: number) {
    if (this.entries.size < SWEEP_AT) return;
    for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
  }
}
