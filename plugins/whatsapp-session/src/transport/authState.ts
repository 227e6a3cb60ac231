import { GroupCommit, insertAll, type Knex, type PluginSecrets } from '@plugchat/core';
import { Baileys, type AuthenticationCreds, type AuthenticationState, type SignalDataTypeMap } from '../baileys.js';
import type { Store } from '../store.js';

const { BufferJSON, initAuthCreds, proto } = Baileys;

/** An instance's Baileys credentials and keys, and the promise that what was set so far is stored. */
export interface DatabaseAuthState {
  state: AuthenticationState;
  saveCreds: () => Promise<void>;
  /** Resolves once every key set so far is committed (rejects if that write failed). */
  flushed: () => Promise<void>;
  clear: () => Promise<void>;
}

/**
 * Baileys credentials and Signal keys in the database, each value sealed with
 * the app secret, with an in-memory cache in front so the hot path (every
 * message encrypts and decrypts) does not read the database.
 *
 * Keys are written behind: Baileys reads them only from the cache, so a send need not wait for
 * its Signal session's commit (Baileys writes it after the frame is out in any case). Writes keep
 * their order, those arriving together go in one statement, and whoever must know them stored (the
 * sender before it records a message as sent, a session closing) waits for `flushed()`.
 */
export async function databaseAuthState(store: Store, secrets: Pick<PluginSecrets, 'encrypt' | 'decrypt'>, instanceId: string): Promise<DatabaseAuthState> {
  const cache = new Map<string, unknown>();
  const seal = (v: unknown) => secrets.encrypt(JSON.stringify(v, BufferJSON.replacer));
  const open = (s: string) => JSON.parse(secrets.decrypt(s), BufferJSON.reviver);

  const rows: { key: string; value: string }[] = await store.auth().where({ instance_id: instanceId }).select('key', 'value');
  for (const r of rows) cache.set(r.key, open(r.value));
  const creds: AuthenticationCreds = (cache.get('creds') as AuthenticationCreds) ?? initAuthCreds();

  // One statement for the common case (a message's session updates are all upserts): every
  // message sent writes here, and a transaction costs the shared connection three more round trips.
  const write = async (all: [string, unknown][]) => {
    // A key set twice in one batch: its last value.
    const entries = [...new Map(all)];
    const upserts = entries.filter(([, v]) => v !== null && v !== undefined).map(([key, value]) => ({ instance_id: instanceId, key, value: seal(value) }));
    const deletes = entries.filter(([, v]) => v === null || v === undefined).map(([key]) => key);
    const run = async (db: Knex) => {
      if (deletes.length) await db('whatsapp_session_auth').where({ instance_id: instanceId }).whereIn('key', deletes).delete();
      await insertAll(db, 'whatsapp_session_auth', upserts, { mergeOnConflict: { on: ['instance_id', 'key'], merge: ['value'] } });
    };
    await (deletes.length && upserts.length ? store.knex.transaction(run) : run(store.knex));
  };
  const writes = new GroupCommit<[string, unknown]>(write);
  let last: Promise<void> = Promise.resolve();
  const enqueue = (entries: [string, unknown][]) => {
    for (const e of entries) {
      last = writes.add(e);
      // Whoever needs the write awaits flushed(); a failure nobody awaits must not be an unhandled rejection.
      last.catch(() => undefined);
    }
    return last;
  };

  return {
    state: {
      creds,
      keys: {
        get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
          const out: { [id: string]: SignalDataTypeMap[T] } = {};
          for (const id of ids) {
            let v = cache.get(`${type}:${id}`);
            if (v !== undefined && type === 'app-state-sync-key') v = proto.Message.AppStateSyncKeyData.fromObject(v as object);
            if (v !== undefined) out[id] = v as SignalDataTypeMap[T];
          }
          return out;
        },
        set: async (data) => {
          const entries: [string, unknown][] = [];
          for (const [type, values] of Object.entries(data)) {
            for (const [id, value] of Object.entries(values ?? {})) {
              const key = `${type}:${id}`;
              if (value === null || value === undefined) cache.delete(key);
              else cache.set(key, value);
              entries.push([key, value ?? null]);
            }
          }
          void enqueue(entries);
        },
      },
    },
    saveCreds: () => enqueue([['creds', creds]]),
    flushed: () => last,
    clear: async () => {
      await last.catch(() => undefined);
      cache.clear();
      await store.auth().where({ instance_id: instanceId }).delete();
    },
  };
}
