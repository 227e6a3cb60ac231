import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, startApp, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';
import { Cipher } from '../../../core/src/services/secrets.js';
import { databaseAuthState } from '../src/transport/authState.js';
import { Store } from '../src/store.js';

// Signal keys are written behind Baileys' sends: what matters is that they reach the database in
// the order set, together, and that whoever waits for flushed() (a message recorded as sent, a
// session stopping) finds them there.
describe.each(STORAGE_MODES)('the instance key store (%s)', (mode) => {
  let ws: Workspace;
  let app: Awaited<ReturnType<typeof startApp>>;
  let store: Store;
  const secrets = new Cipher('a test secret that is long enough');
  const session = (s: string) => Buffer.from(s);
  const reload = async (id: string) => (await databaseAuthState(store, secrets, id)).state.keys;

  beforeAll(async () => {
    ws = await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session'] } });
    app = await startApp(ws);
    store = new Store(app.db.knex);
  });
  afterAll(async () => {
    await app?.stop();
    await ws?.cleanup();
  });

  it('answers at once from memory and has the keys stored, sealed, once flushed() resolves', async () => {
    const auth = await databaseAuthState(store, secrets, 'inst-a');
    await auth.state.keys.set({ session: { '5511999990001.0': session('ratchet 1') } });
    expect((await auth.state.keys.get('session', ['5511999990001.0']))['5511999990001.0']).toEqual(session('ratchet 1'));
    await auth.flushed();
    const rows: { key: string; value: string }[] = await store.auth().where({ instance_id: 'inst-a' });
    expect(rows.map((r) => r.key)).toEqual(['session:5511999990001.0']);
    expect(rows[0]!.value).not.toContain('ratchet');
    expect((await (await reload('inst-a')).get('session', ['5511999990001.0']))['5511999990001.0']).toEqual(session('ratchet 1'));
  });

  it('writes keys set together in one statement, the last value of each, and deletions with them', async () => {
    const auth = await databaseAuthState(store, secrets, 'inst-b');
    await auth.state.keys.set({ 'pre-key': { '1': { public: session('p1'), private: session('q1') }, '2': { public: session('p2'), private: session('q2') } } });
    await auth.flushed();
    let statements = 0;
    // (Only this store's: the process's own housekeeping may use the database meanwhile.)
    const count = (q: { sql: string }) => void (q.sql.includes('whatsapp_session_auth') && statements++);
    app.db.knex.on('query', count);
    try {
      // Sends advancing two sessions' ratchets, all before the first write runs: one upsert.
      const sets = ['ratchet 1', 'ratchet 2', 'ratchet 3'].map((r) => auth.state.keys.set({ session: { '5511999990002.0': session(r) } }));
      sets.push(auth.state.keys.set({ session: { '5511999990009.0': session('other') } }));
      await Promise.all(sets);
      await auth.flushed();
    } finally {
      app.db.knex.off('query', count);
    }
    expect(statements).toBe(1);
    // A pre-key used up and a session set together: the pre-key goes, the session stays.
    void auth.state.keys.set({ 'pre-key': { '1': null } });
    void auth.state.keys.set({ session: { '5511999990009.0': session('other 2') } });
    await auth.flushed();
    const keys = await reload('inst-b');
    expect((await keys.get('session', ['5511999990009.0']))['5511999990009.0']).toEqual(session('other 2'));
    expect((await keys.get('session', ['5511999990002.0']))['5511999990002.0']).toEqual(session('ratchet 3'));
    expect(Object.keys(await keys.get('pre-key', ['1', '2']))).toEqual(['2']);
  });

  it('reports a failed write to whoever waits for it, and to nobody else as an unhandled rejection', async () => {
    let broken = false;
    const failing = { encrypt: (v: string | Buffer) => (broken ? (() => { throw new Error('disk full'); })() : secrets.encrypt(v)), decrypt: (v: string) => secrets.decrypt(v) };
    const auth = await databaseAuthState(store, failing, 'inst-d');
    broken = true;
    // Several keys in one batch, as a send sets them; nobody but flushed() waits for them.
    await auth.state.keys.set({ session: { '5511999990004.0': session('a'), '5511999990005.0': session('b') }, 'pre-key': { '7': { public: session('p'), private: session('q') } } });
    await expect(auth.flushed()).rejects.toThrow('disk full');
    broken = false;
    await auth.state.keys.set({ session: { '5511999990004.0': session('c') } });
    await auth.flushed();
    expect((await (await reload('inst-d')).get('session', ['5511999990004.0']))['5511999990004.0']).toEqual(session('c'));
  });

  it('clears only after the writes still pending, so none of them comes back', async () => {
    const auth = await databaseAuthState(store, secrets, 'inst-c');
    void auth.state.keys.set({ session: { '5511999990003.0': session('ratchet') } });
    void auth.saveCreds();
    await auth.clear();
    await auth.flushed();
    expect(await store.auth().where({ instance_id: 'inst-c' })).toEqual([]);
  });
});
