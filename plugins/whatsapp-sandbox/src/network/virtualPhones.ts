import type { BinaryNode } from './baileys.js';
import { assertPhone, SandboxError } from './conn.js';
import type { NetworkCore } from './core.js';
import { newPhoneState, VirtualPhone, type PhoneHost } from './phones.js';
import type { Presence } from './presence.js';

/** §11: the virtual customer phones, created by tests and the sandbox page, kept across restarts in the state. */
export class VirtualPhones {
  private readonly objects = new Map<string, VirtualPhone>();
  private readonly host: PhoneHost;

  constructor(
    private readonly net: NetworkCore,
    private readonly parts: { presence: Presence; bundleFor: (jid: string) => BinaryNode },
  ) {
    // Built once the network has its state and media server (its constructor's last step).
    const { state } = net;
    this.host = {
      account: (phone) => state.accounts[phone],
      getOrCreateAccount: (phone, o) => net.getOrCreateAccount(phone, o),
      phoneState: (phone) => state.phones[phone],
      setPhoneState: (st) => {
        state.phones[st.phone] = st;
        net.save();
      },
      companions: (phone) => net.companions(phone),
      deliverTo: (jid, n) => {
        const d = state.devices[jid];
        if (d) net.deliver(d, n);
      },
      bundleFor: (jid) => parts.bundleFor(jid),
      setPhoneOnline: (phone, online) => parts.presence.setPhoneOnline(phone, online),
      save: () => net.save(),
      media: net.media,
      groups: net.groups,
      phone: (phone) => this.get(phone),
      emit: (event, payload) => net.emit(event, payload),
    };
  }

  /** Creates (or returns) a virtual customer phone with its own number and keys. */
  create(phone: string, opts: { name?: string; owner?: string }): VirtualPhone {
    assertPhone(phone);
    const { state } = this.net;
    const existing = state.phones[phone];
    if (existing && existing.owner !== opts.owner) throw new SandboxError('phone_taken', `${phone} is already a phone of another account.`);
    if (this.net.companions(phone).length) throw new SandboxError('phone_taken', `${phone} has linked devices; a virtual phone needs a number of its own.`);
    this.net.getOrCreateAccount(phone, { name: opts.name });
    if (!existing) {
      state.phones[phone] = newPhoneState(phone, opts.name, opts.owner);
      this.net.save();
    }
    const p = this.get(phone)!;
    if (p.online) this.parts.presence.setPhoneOnline(phone, true);
    this.net.emit('phone-changed', { phone });
    return p;
  }

  /** A virtual phone created earlier (also after a restart), or undefined. */
  get(phone: string): VirtualPhone | undefined {
    const st = this.net.state.phones[phone];
    if (!st) return undefined;
    let p = this.objects.get(phone);
    if (!p) {
      p = new VirtualPhone(this.host, phone);
      this.objects.set(phone, p);
      if (st.online) this.parts.presence.restoreOnline(phone);
    }
    return p;
  }

  all(): VirtualPhone[] {
    return Object.keys(this.net.state.phones).map((p) => this.get(p)!);
  }
}
