import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, createWorkspace, killedSessionsSettled, openWorkspaceDatabase, OWNER, setupOwner, spawnServer, waitFor, type ServerProcess, type Workspace } from '../../../core/test/support/app.js';
import { STORAGE_MODES } from '../../../core/test/support/db.js';

const ACCOUNTS = 300;

/**
 * The close killed with SIGKILL while it writes: 300 accounts, each with three instances
 * subscribed in October 2026; the process dies once some invoices exist, and the close run again
 * after the restart leaves exactly one invoice per account, each with all its lines.
 */
describe.each(STORAGE_MODES)('the monthly close across a SIGKILL (%s)', (mode) => {
  let ws: Workspace | undefined;
  let server: ServerProcess | undefined;
  let db: Knex | undefined;
  afterEach(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    await db?.destroy();
    await ws?.cleanup();
    ws = server = db = undefined;
  });

  it('writes every account’s invoice exactly once when run again', async () => {
    ws = await createWorkspace({ mode, config: { packages: ['@plugchat/whatsapp-session', '@plugchat/billing'] } });
    server = await spawnServer(ws);
    await setupOwner(server.url);
    db = openWorkspaceDatabase(ws);
    const t = (iso: string) => (mode === 'postgresql' ? new Date(iso) : Date.parse(iso));
    // October 2026's subscriptions, as the plugin records them (spans of subscribed time).
    const spans = [];
    for (let a = 0; a < ACCOUNTS; a++) {
      const accountId = randomUUID();
      for (let i = 0; i < 3; i++) spans.push({ id: randomUUID(), account_id: accountId, instance_id: `I${a}x${i}`, start_at: t(`2026-10-0${i + 1}T12:00:00Z`), end_at: null });
    }
    for (let i = 0; i < spans.length; i += 300) await db('billing_spans').insert(spans.slice(i, i + 300));

    const owner = new Client(server.url);
    await owner.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    const closing = owner.post('/api/billing/admin/close', { period: '2026-10' }).catch(() => undefined);
    const count = async () => Number((await db!('billing_invoices').count({ n: '*' }).first())?.n ?? 0);
    await waitFor(async () => (await count()) > 0, 30_000, 'the first invoices');
    server.proc.kill('SIGKILL');
    await server.exited;
    await closing;
    await killedSessionsSettled(ws, db);
    const before = await count();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(ACCOUNTS);
    // No invoice without all its lines: each account's is one transaction.
    const partial = await db('billing_invoices as i').leftJoin('billing_invoice_lines as l', 'l.invoice_id', 'i.id').groupBy('i.id').select('i.id').count({ n: 'l.instance_id' });
    expect(partial.every((r) => Number(r.n) === 3)).toBe(true);

    server = await spawnServer(ws);
    const again = new Client(server.url);
    await again.post('/api/auth/login', { email: OWNER.email, password: OWNER.password });
    const rerun = await again.post('/api/billing/admin/close', { period: '2026-10' });
    expect(rerun.status).toBe(200);
    expect(rerun.body).toEqual({ created: ACCOUNTS - before, skipped: before });
    const invoices = await db('billing_invoices').select('account_id', 'number', 'total_cents');
    expect(invoices).toHaveLength(ACCOUNTS);
    expect(new Set(invoices.map((i) => i.account_id)).size).toBe(ACCOUNTS);
    expect(new Set(invoices.map((i) => Number(i.number))).size).toBe(ACCOUNTS);
    // October has 31 days: 31, 30 and 29 days of 9900 → 9900 + 9581 + 9261.
    expect(new Set(invoices.map((i) => Number(i.total_cents)))).toEqual(new Set([9900 + 9581 + 9261]));
    expect(Number((await db('billing_invoice_lines').count({ n: '*' }).first())?.n)).toBe(ACCOUNTS * 3);
  }, 180_000);
});
