import { insertAll, type Knex, type PluginSecrets } from '@plugchat/core';
import { Baileys, type AuthenticationCreds, type AuthenticationState, type SignalDataTypeMap } from '../baileys.js';
import type { Store } from '../store.js';

const { BufferJSON, initAuthCreds, proto } = Baileys;

/**
 * Baileys credentials and Signal keys in the database, each value sealed with
 * the app secret, with an in-memory cache in front so the hot path (every
 * message encrypts and decrypts) does not read the database.
 */
export async function databaseAuthState(store: Store, secrets: PluginSecrets, instanceId: string): Promise<{ state: AuthenticationState; saveCreds: () => Promise<void>; clear: () => Promise<void> }> {
  const cache = new Map<string, unknown>();
  const seal = (v: unknown) => secrets.encrypt(JSON.stringify(v, BufferJSON.replacer));
  const open = (s: string) => JSON.parse(secrets.decrypt(s), BufferJSON.reviver);

  const rows: { key: string; value: string }[] = await store.auth().where({ instance_id: instanceId }).select('key', 'value');
  for (const r of rows) cache.set(r.key, open(r.value));
  const creds: AuthenticationCreds = (cache.get('creds') as AuthenticationCreds) ?? initAuthCreds();

  // One statement for the common case (a message's session updates are all upserts): every
  // message sent writes here, and a transaction costs the shared connection three more round trips.
  const write = async (entries: [string, unknown][]) => {
    const upserts = entries.filter(([, v]) => v !== null && v !== undefined).map(([key, value]) => ({ instance_id: instanceId, key, value: seal(value) }));
    const deletes = entries.filter(([, v]) => v === null || v === undefined).map(([key]) => key);
    const run = async (db: Knex) => {
      if (deletes.length) await db('whatsapp_session_auth').where({ instance_id: instanceId }).whereIn('key', deletes).delete();
      await insertAll(db, 'whatsapp_session_auth', upserts, { mergeOnConflict: { on: ['instance_id', 'key'], merge: ['value'] } });
    };
    await (deletes.length && upserts.length ? store.knex.transaction(run) : run(store.knex));
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
          await write(entries);
        },
      },
    },
    saveCreds: () => write([['creds', creds]]),
    clear: async () => {
      cache.clear();
      await store.auth().where({ instance_id: instanceId }).delete();
    },
  };
}
