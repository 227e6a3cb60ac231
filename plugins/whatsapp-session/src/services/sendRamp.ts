import { isGroupJid } from './jids.js';
import { DateTime } from 'luxon';
import type { Clock, PluginContext } from '@plugchat/core';
import type { Store } from '../store.js';
import type { Instance } from './instances.js';
import type { Settings } from './settings.js';

/**
 * A new number's warm-up ("maturação do chip"): for its first weeks it may start only so many
 * conversations a day. `dailyLimits[0]` holds for days 1-7, `[1]` for days 8-14 and so on; after
 * the last week there is no limit. Days are calendar days in the plugin's time zone.
 */
export interface SendRampConfig {
  dailyLimits: number[];
  startedAt: Date;
}

/** Where a number stands in its ramp, for `status` and the instance page. */
export interface RampStanding {
  day: number;
  /** Today's limit; null once the ramp is over. */
  limitToday: number | null;
  sentToday: number;
  /** Messages held for a later day. */
  held: number;
  /** When the held ones are tried again (the next local midnight), if any are held. */
  releasesAt: string | null;
}

/** What the sender may do with a message now. */
export type RampVerdict = { go: true; day: string | null } | { go: false; until: Date };

/** Counts, per instance and local day, sends to contacts who never wrote first, and holds those over the day's limit. */
export class SendRamp {
  constructor(
    private readonly store: Store,
    private readonly ctx: PluginContext<Settings>,
    private readonly clock: Clock,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  private local(at: Date) {
    return DateTime.fromJSDate(at, { zone: this.ctx.settings.get('whatsapp-session.timeZone') });
  }

  /** The ramp's day number (1 on the day it started) and that day's limit (null after the last week). */
  limitOn(cfg: SendRampConfig, at: Date): { day: number; limit: number | null } {
    const day = Math.floor(this.local(at).startOf('day').diff(this.local(cfg.startedAt).startOf('day'), 'days').days) + 1;
    const week = Math.floor(Math.max(0, day - 1) / 7);
    return { day, limit: week < cfg.dailyLimits.length ? cfg.dailyLimits[week]! : null };
  }

  /** Whether a message to `chat` may go now: always to a contact who wrote first; else within today's limit. */
  async verdict(instance: Instance, chat: string): Promise<RampVerdict> {
    const cfg = instance.sendRamp;
    // A group is not a contact the number starts a conversation with: its messages do not count.
    if (!cfg || isGroupJid(chat)) return { go: true, day: null };
    const now = this.now();
    const { limit } = this.limitOn(cfg, now);
    if (limit === null) return { go: true, day: null };
    const wrote = await this.store.messages().where({ instance_id: instance.id, chat, direction: 'in' }).first('id');
    if (wrote) return { go: true, day: null };
    const today = this.local(now);
    if ((await this.sentOn(instance.id, today.toISODate()!)) >= limit) return { go: false, until: today.startOf('day').plus({ days: 1 }).toJSDate() };
    return { go: true, day: today.toISODate()! };
  }

  private async sentOn(instanceId: string, day: string): Promise<number> {
    const row = await this.store.messages().where({ instance_id: instanceId, ramp_day: day }).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  async standing(instance: Instance): Promise<RampStanding | null> {
    const cfg = instance.sendRamp;
    if (!cfg) return null;
    const now = this.now();
    const { day, limit } = this.limitOn(cfg, now);
    const held = await this.store.messages().where({ instance_id: instance.id, direction: 'out', status: 'QUEUED' }).andWhere('hold_until', '>', now).count({ n: '*' }).first();
    const heldCount = Number(held?.n ?? 0);
    return {
      day,
      limitToday: limit,
      sentToday: await this.sentOn(instance.id, this.local(now).toISODate()!),
      held: heldCount,
      releasesAt: heldCount ? this.local(now).startOf('day').plus({ days: 1 }).toUTC().toISO() : null,
    };
  }
}
