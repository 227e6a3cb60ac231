import type { PluginContext } from '@plugchat/core';
import type { Logger } from 'pino';
import type { WASocket } from '../baileys.js';
import type { SessionHooks } from '../transport/session.js';
import type { OutgoingRequest } from './content.js';
import type { Instance, Instances } from './instances.js';
import { phoneOf } from './jids.js';
import type { Settings } from './settings.js';

type Call = Parameters<SessionHooks['onCall']>[0];

/** How many calls' outcomes are remembered per process (a call rings for a minute at most). */
const RINGING_MAX = 10_000;

/**
 * Calls to the instance's number: with call-reject on, each is turned down as it rings and the
 * caller gets the instance's message; a call nobody answered (rejected here, or given up by the
 * caller) is announced once, for webhooks.
 */
export class Calls {
  /**
   * Calls ringing now: whether someone (a device of ours, or the reject setting) answered it, and
   * the decision on its offer, which later news of the same call waits for.
   */
  private readonly ringing = new Map<string, { answered: boolean; decided: Promise<void> }>();

  constructor(
    private readonly ctx: PluginContext<Settings>,
    private readonly deps: {
      instances: Instances;
      socket: (instanceId: string) => WASocket | undefined;
      enqueue: (instance: Instance, phone: string, req: OutgoingRequest) => Promise<unknown>;
      log: () => Logger;
    },
  ) {}

  async onCall(instance: Instance, call: Call): Promise<void> {
    if (call.isGroup) return;
    const key = `${instance.id} ${call.id}`;
    if (call.status === 'offer') {
      if (this.ringing.size >= RINGING_MAX) this.ringing.clear();
      const ring = { answered: false, decided: Promise.resolve() };
      // Registered before anything is awaited: the caller may hang up while the setting is read.
      this.ringing.set(key, ring);
      ring.decided = this.onOffer(instance, call, ring);
      return ring.decided;
    }
    const ring = this.ringing.get(key);
    if (!ring) return;
    await ring.decided.catch(() => {});
    if (call.status === 'accept' || call.status === 'reject') {
      // Answered or turned down on the phone or another device: a person saw it.
      if (!ring.answered && call.status === 'reject') await this.missed(instance, call, true);
      ring.answered = true;
      return;
    }
    if (call.status === 'timeout' || call.status === 'terminate') {
      this.ringing.delete(key);
      if (!ring.answered) await this.missed(instance, call, false);
    }
  }

  private async onOffer(instance: Instance, call: Call, ring: { answered: boolean }): Promise<void> {
    const row = await this.deps.instances.find(instance.id);
    if (!row?.callRejectAuto) return;
    ring.answered = true;
    await this.deps.socket(instance.id)?.rejectCall(call.id, call.from);
    await this.missed(row, call, true);
    // The caller learns why, through the queue like any message (pacing, opt-outs and the ramp apply).
    if (row.callRejectMessage) {
      await this.deps.enqueue(row, phoneOf(call.from), { kind: 'text', text: row.callRejectMessage }).catch((err) => this.deps.log().warn({ err, instance: instance.id }, 'could not queue the call-reject message'));
    }
  }

  private async missed(instance: Instance, call: Call, rejected: boolean) {
    await this.ctx.events.emit('whatsapp-session.call.missed', { instanceId: instance.id, accountId: instance.accountId, phone: phoneOf(call.from), callId: call.id, isVideo: call.isVideo, rejected, at: call.at });
  }
}
