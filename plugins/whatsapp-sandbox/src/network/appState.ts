import { createRequire } from 'node:module';
import { proto, type BinaryNode } from './baileys.js';
import type { Conn } from './conn.js';
import type { NetworkCore } from './core.js';
import type { Account, AppStateCollection as Collection, LtState } from './state.js';
import { bytes, child, children, node } from './stanza.js';

const require = createRequire(import.meta.url);
const { decodeSyncdMutations, newLTHashState, chatModificationToAppPatch, encodeSyncdPatch } = require('@whiskeysockets/baileys/lib/Utils/chat-utils.js') as {
  decodeSyncdMutations(
    mutations: unknown[],
    state: LtState,
    getKey: (keyId: string) => Promise<{ keyData: Uint8Array } | undefined>,
    onMutation: (m: { syncAction: { value?: Record<string, unknown> | null }; index: string[] }) => void,
    validateMacs: boolean,
  ): Promise<{ hash: Buffer; indexValueMap: Record<string, { valueMac: Uint8Array }> }>;
  newLTHashState(): LtState;
  chatModificationToAppPatch(mod: object, jid: string): { type: string; index: string[]; syncAction: object; apiVersion: number; operation: number };
  encodeSyncdPatch(
    create: object,
    keyId: string,
    state: LtState,
    getKey: (keyId: string) => Promise<{ keyData: Uint8Array } | undefined>,
  ): Promise<{ patch: Parameters<typeof proto.SyncdPatch.encode>[0] }>;
};

/**
 * App state (w:sync:app:state, §4.2): the devices of an account write patches (settings such as
 * the push name, chats archived, pinned, muted, read, cleared, deleted) and read the ones they
 * miss. Each collection's patches are kept in order; the network decrypts them with the account's
 * app-state key (it hands that key to every companion at bootstrap) to apply what it models.
 */
export class AppState {
  constructor(private readonly net: NetworkCore) {}

  async onSync(conn: Conn, iq: BinaryNode): Promise<void> {
    const account = this.net.state.accounts[conn.device!.phone]!;
    const out: BinaryNode[] = [];
    for (const c of children(child(iq, 'sync'), 'collection')) {
      const name = c.attrs.name ?? '';
      const col = ((account.appState ??= {})[name] ??= { patches: [], lt: newLTHashState() });
      const patch = child(c, 'patch');
      if (patch) {
        const version = await this.apply(account, name, col, bytes(patch)!);
        out.push(node('collection', { name, version }));
        continue;
      }
      // A device catching up: the patches after the version it holds (it checks their MACs).
      const from = Number(c.attrs.version ?? '0');
      const missed = col.patches.slice(from);
      out.push(node('collection', { name, version: col.patches.length, has_more_patches: 'false' }, missed.length ? [node('patches', {}, missed.map((p) => node('patch', {}, p)))] : undefined));
    }
    this.net.save();
    this.net.result(conn, iq, [node('sync', {}, out)]);
  }

  /** Patches the account's own phone writes (a history's archived, pinned, muted chats), each as the next version of its collection. */
  async write(account: Account, mods: { mod: object; jid: string }[]): Promise<void> {
    const keyId = account.appStateKey.keyId.toString('base64');
    const getKey = async (id: string) => (id === keyId ? { keyData: account.appStateKey.keyData } : undefined);
    for (const { mod, jid } of mods) {
      const create = chatModificationToAppPatch(mod, jid);
      const col = ((account.appState ??= {})[create.type] ??= { patches: [], lt: newLTHashState() });
      const { patch } = await encodeSyncdPatch(create, keyId, col.lt, getKey);
      await this.apply(account, create.type, col, Buffer.from(proto.SyncdPatch.encode(patch).finish()));
    }
  }

  /** Stores a device's patch as the collection's next version and applies what it says. */
  private async apply(account: Account, name: string, col: Collection, raw: Buffer): Promise<number> {
    const patch = proto.SyncdPatch.decode(raw);
    const version = col.patches.length + 1;
    patch.version = { version };
    col.patches.push(Buffer.from(proto.SyncdPatch.encode(patch).finish()));
    const key = account.appStateKey;
    const getKey = async (keyId: string) => (Buffer.from(keyId, 'base64').equals(key.keyId) ? { keyData: key.keyData } : undefined);
    try {
      const result = await decodeSyncdMutations(patch.mutations ?? [], col.lt, getKey, (m) => this.effect(account, m.index, m.syncAction.value ?? {}), false);
      col.lt = { version, hash: result.hash, indexValueMap: result.indexValueMap };
    } catch (err) {
      // A patch the network cannot read is still kept for the other devices, as WhatsApp's server would.
      this.net.log.warn({ err: (err as Error).message, collection: name }, 'app-state patch not understood');
      col.lt = { ...col.lt, version };
    }
    return version;
  }

  private effect(account: Account, index: string[], value: Record<string, unknown>) {
    const [kind, jid] = index;
    const v = value as Record<string, { [k: string]: unknown } | undefined>;
    if (kind === 'setting_pushName' && typeof v.pushNameSetting?.name === 'string') {
      account.name = v.pushNameSetting.name;
      this.net.emit('account-changed', { phone: account.phone });
      return;
    }
    if (!jid) return;
    const chats = (account.chats ??= {});
    const chat = (chats[jid] ??= {});
    const now = Date.now();
    if (kind === 'archive') chat.archived = !!v.archiveChatAction?.archived;
    else if (kind === 'pin_v1') chat.pinned = !!v.pinAction?.pinned;
    else if (kind === 'mute') {
      if (v.muteAction?.muted) chat.mutedUntil = Number(v.muteAction.muteEndTimestamp ?? -1) || -1;
      else delete chat.mutedUntil;
    } else if (kind === 'markChatAsRead') chat.read = !!v.markChatAsReadAction?.read;
    else if (kind === 'clearChat') chat.cleared = now;
    else if (kind === 'deleteChat') chats[jid] = { deleted: now };
    else return;
    this.net.emit('account-changed', { phone: account.phone });
  }
}

