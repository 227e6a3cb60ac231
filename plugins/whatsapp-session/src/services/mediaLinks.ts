import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, PluginSecrets } from '@plugchat/core';

const KEY = 'media-link-key';
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * Links to a received message's media that work with a plain GET, without the instance
 * token, until they expire (Z-API's links last 30 days): the instance, the message and the
 * expiry, signed with HMAC-SHA256 under a key kept encrypted in the plugin's secrets.
 */
export class MediaLinks {
  private key?: Promise<Buffer>;

  constructor(
    private readonly secrets: PluginSecrets,
    private readonly clock: Clock,
    private readonly days: () => number,
  ) {}

  private secret(): Promise<Buffer> {
    this.key ??= (async () => {
      let k = await this.secrets.get(KEY);
      if (!k) {
        k = randomBytes(32).toString('base64');
        await this.secrets.set(KEY, k);
      }
      return Buffer.from(k, 'base64');
    })();
    return this.key;
  }

  async sign(instanceId: string, messageId: string): Promise<string> {
    const expires = Math.floor(this.clock.now().getTime() / 1000) + this.days() * 86_400;
    const payload = b64url(JSON.stringify({ i: instanceId, m: messageId, e: expires }));
    return `${payload}.${b64url(createHmac('sha256', await this.secret()).update(payload).digest())}`;
  }

  /** The message a link names; 'expired' past its time; undefined when it is not ours (bad signature or shape). */
  async verify(link: string): Promise<{ instanceId: string; messageId: string } | 'expired' | undefined> {
    const [payload, sig] = link.split('.');
    if (!payload || !sig) return undefined;
    // Compared as text: decoding would accept other spellings of the same bytes (base64's spare bits).
    const want = Buffer.from(b64url(createHmac('sha256', await this.secret()).update(payload).digest()));
    const got = Buffer.from(sig);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { i: string; m: string; e: number };
    if (body.e * 1000 <= this.clock.now().getTime()) return 'expired';
    return { instanceId: body.i, messageId: body.m };
  }
}
