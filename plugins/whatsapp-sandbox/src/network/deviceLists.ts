import type { NetworkCore } from './core.js';
import { node, now, serverId, userJid } from './stanza.js';
import type { Device } from './state.js';

/**
 * §6.1: who may have a number's device list cached (the devices that asked for it with usync),
 * and telling them when it changes.
 */
export class DeviceLists {
  /** Per number, the devices that asked for its device list. */
  private readonly readers = new Map<string, Set<string>>();

  constructor(private readonly net: NetworkCore) {}

  /** A device asked for `phone`'s device list: it may keep it, and hears when it changes. */
  read(phone: string, by: string): void {
    let readers = this.readers.get(phone);
    if (!readers) this.readers.set(phone, (readers = new Set()));
    readers.add(by);
  }

  /**
   * A number's device list changed. WhatsApp tells the devices that may have it cached
   * (`<notification type='devices'>`, one change each, with the key index list): here those that
   * asked for it, while they are connected.
   */
  announce(change: 'add' | 'remove', device: Device): void {
    const readers = this.readers.get(device.phone);
    if (!readers) return;
    const n = node('notification', { from: userJid(device.phone), type: 'devices', id: serverId(), t: now() }, [
      node(change, {}, [node('device', { jid: device.jid, 'key-index': String(device.keyIndex) }), node('key-index-list', { ts: now() })]),
    ]);
    for (const jid of readers) {
      const conn = this.net.live.get(jid);
      if (!this.net.state.devices[jid]) readers.delete(jid);
      else if (conn?.ready && jid !== device.jid) this.net.send(conn, n);
    }
  }
}
