import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkspace, startApp, type Workspace } from './support/app.js';
import { STORAGE_MODES } from './support/db.js';

const v1 = `export default { migrations: [
  { name: '0001_notes', async up({ knex }) { await knex.schema.createTable('notes_notes', (t) => { t.string('id', 36).primary(); t.string('body', 200).notNullable(); }); } },
], activate() {} };`;
const v2 = `export default { migrations: [
  { name: '0001_notes', async up({ knex }) { await knex.schema.createTable('notes_notes', (t) => { t.string('id', 36).primary(); t.string('body', 200).notNullable(); }); } },
  { name: '0002_pinned', async up({ knex }) { await knex.schema.alterTable('notes_notes', (t) => { t.boolean('pinned').notNullable().defaultTo(false); }); } },
], activate() {} };`;
const broken = `export default { migrations: [{ name: '0001_fail', async up() { throw new Error('cannot migrate'); } }], activate() {} };`;

describe.each(STORAGE_MODES)('schema migrations (%s)', (mode) => {
  let ws: Workspace;
  afterAll(async () => ws?.cleanup());

  it('applies new migrations on upgrade, once, keeping the data', async () => {
    ws = await createWorkspace({
      mode,
      plugins: {
        notes: { manifest: { id: 'notes', displayName: 'Notes', engines: { plugchat: '^1.0.0' } }, code: v1 },
        bad: { manifest: { id: 'bad', displayName: 'Bad', engines: { plugchat: '^1.0.0' } }, code: broken },
      },
    });
    let app = await startApp(ws);
    expect(app.host.records.get('bad')).toMatchObject({ state: 'failed', reason: 'migration failed: cannot migrate' });
    expect(app.host.records.get('notes')!.state).toBe('active');
    await app.db.knex('notes_notes').insert({ id: 'n1', body: 'keep me' });
    await app.stop();

    // Ship version 2 of the plugin (a new entry file, as an upgrade would).
    const dir = path.join(ws.dir, 'plugins/notes');
    writeFileSync(path.join(dir, 'index2.js'), v2);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, main: 'index2.js' }));
    app = await startApp(ws);
    expect(await app.db.knex('notes_notes').select('id', 'body', 'pinned')).toEqual([{ id: 'n1', body: 'keep me', pinned: mode === 'embedded' ? 0 : false }]);
    const applied = await app.db.knex('core_migrations').where({ owner: 'notes' }).orderBy('name').pluck('name');
    expect(applied).toEqual(['0001_notes', '0002_pinned']);
    await app.stop();

    // A third boot applies nothing new.
    app = await startApp(ws);
    expect(app.logs.filter((l) => l.msg === 'migration applied')).toEqual([]);
    await app.stop();
  });
});
