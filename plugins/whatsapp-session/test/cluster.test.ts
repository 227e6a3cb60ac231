import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../../core/test/support/db.js';
import { Receiver } from '../../webhooks/test/receiver.js';
import { Api, createFleet, leaseOwners, pairInstances, sleep, waitUntil } from './fleet.js';

const PROCESSES = 3;
const INSTANCES = 30;
const FAILOVER_SECONDS = 15;
const CUSTOMER = '5521977000001';
const BIZ_PREFIX = '55119700';

type Fleet = Awaited<ReturnType<typeof createFleet>>;
type Paired = Awaited<ReturnType<typeof pairInstances>>;
type Received = { text?: string; chat: string; direction: string };

/**
 * Several processes on one PostgreSQL with the sandbox network outside them and real Baileys
 * clients: one socket per instance, failover after SIGKILL, routing to the owner, live events
 * across processes and a rolling restart under traffic (issue: scale-out).
 */
describe.skipIf(!TEST_DATABASE_URL)('several processes on one PostgreSQL', () => {
  let fleet: Fleet;
  let paired: Paired;
  const receiver = new Receiver();
  let customer: { messages(): Received[] };

  /** The network's view of our instances: open sockets, logins and replacements per device. */
  const bizDevices = () => fleet.devices().filter((d) => d.phone.startsWith(BIZ_PREFIX));
  /** Every instance has exactly one socket and nothing replaced another in the last `ms`. */
  const steady = async (ms: number) => {
    await waitUntil(async () => {
      const d = bizDevices();
      return d.length === INSTANCES && d.every((x) => x.connections === 1 && x.online);
    }, 90_000, 'one socket per instance');
    const before = new Map(bizDevices().map((d) => [d.jid, d]));
    await sleep(ms);
    for (const d of bizDevices()) {
      expect(d.connections, d.phone).toBe(1);
      expect(d.replaced - before.get(d.jid)!.replaced, `${d.phone} was replaced`).toBe(0);
      expect(d.logins - before.get(d.jid)!.logins, `${d.phone} logged in again`).toBe(0);
    }
  };
  const nodeOf = async (instanceId: string) => (await leaseOwners(fleet.databaseUrl)).get(instanceId);
  const indexOfNode = (node: string) => fleet.nodes.findIndex((n) => n?.node === node);
  const inbox = () => customer.messages().filter((m) => m.direction === 'in');

  /** Before failing: what PlugChat holds for the messages whose DeliveryCallback never came. */
  const explainMissing = async (ids: string[]) => {
    const missing = ids.filter((id) => !receiver.requests.some((r) => r.json?.type === 'DeliveryCallback' && r.json.messageId === id));
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: fleet.databaseUrl });
    await c.connect();
    const msgs = await c.query('select wa_id, status, instance_id from whatsapp_session_messages where wa_id = any($1)', [missing.slice(0, 5)]);
    const outbox = await c.query('select count(*) from whatsapp_session_outbox');
    const deliveries = await c.query("select event_type, status, attempts, lease_owner, next_attempt_at, payload from webhooks_deliveries where payload like any($1)", [missing.slice(0, 5).map((m) => `%${m}%`)]);
    await c.end();
    console.error('missing DeliveryCallbacks', missing.length, JSON.stringify(msgs.rows), 'outbox rows', outbox.rows[0].count, JSON.stringify(deliveries.rows).slice(0, 2000));
  };

  beforeAll(async () => {
    await receiver.start();
    fleet = await createFleet({
      baseUrl: TEST_DATABASE_URL!,
      plugins: { webhooks: { settings: { allowHttp: true, allowPrivateNetworks: true, retryBaseSeconds: 0.2, retryMaxSeconds: 2, maxAttempts: 50 } } },
      sessionSettings: { failoverSeconds: FAILOVER_SECONDS },
    });
    customer = fleet.network.createPhone(CUSTOMER, { name: 'Cliente' }) as never;
    await fleet.startAll(PROCESSES);
    paired = await pairInstances(fleet, INSTANCES, { bizPrefix: BIZ_PREFIX });
    for (const [i, inst] of paired.instances.entries()) {
      for (const kind of ['update-webhook-delivery', 'update-webhook-message-status']) {
        const res = await paired.api(inst, i).put(`/${kind}`, { value: receiver.url });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    }
  }, 300_000);

  afterAll(async () => {
    await fleet?.cleanup();
    await receiver.stop();
  });

  it('spreads 30 instances over 3 processes with one socket each, also after all three restart', async () => {
    await waitUntil(async () => {
      const owners = await leaseOwners(fleet.databaseUrl);
      const per = new Map<string, number>();
      for (const o of owners.values()) per.set(o, (per.get(o) ?? 0) + 1);
      return owners.size === INSTANCES && per.size === PROCESSES && [...per.values()].every((n) => n === INSTANCES / PROCESSES);
    }, 60_000, 'ten instances per process');
    await steady(5_000);
    const view = (await paired.owner.get('/api/whatsapp-session/cluster')).body;
    expect(view.mode).toBe('cluster');
    expect(view.unassigned).toBe(0);
    expect(view.processes.map((p: { instances: number }) => p.instances)).toEqual([10, 10, 10]);
    expect((await new Api(fleet.nodes[1]!.url).get('/api/whatsapp-session/cluster')).status).toBe(401);

    await Promise.all(fleet.nodes.map((_, i) => fleet.stop(i)));
    await fleet.startAll(PROCESSES);
    await waitUntil(async () => (await leaseOwners(fleet.databaseUrl)).size === INSTANCES, 60_000, 'every instance to be taken again');
    await steady(8_000);
    const per = new Map<string, number>();
    for (const o of (await leaseOwners(fleet.databaseUrl)).values()) per.set(o, (per.get(o) ?? 0) + 1);
    expect([...per.keys()].sort()).toEqual(fleet.nodes.map((n) => n!.node).sort());
  }, 240_000);

  it('routes a send and a restart to the owner, and streams its state to a browser on a third process', async () => {
    const inst = paired.instances[0]!;
    const owner = await nodeOf(inst.id);
    const b = indexOfNode(owner!);
    const a = (b + 1) % PROCESSES;
    const c = (b + 2) % PROCESSES;
    const viaA = new Api(`${fleet.nodes[a]!.url}/instances/${inst.id}/token/${inst.token}`, { 'client-token': paired.key });

    const sent = await viaA.post('/send-text', { phone: CUSTOMER, message: 'roteada pelo dono' });
    expect(sent.status).toBe(200);
    expect(sent.body.messageId).toMatch(/^[0-9A-F]{10,}$/);
    await waitUntil(async () => inbox().some((m) => m.text === 'roteada pelo dono'), 20_000, 'the routed text at the phone');
    expect(await nodeOf(inst.id)).toBe(owner); // B sent it: the instance never moved

    // Requests that need the socket answer the same through any process.
    expect((await viaA.get('/status')).body.connected).toBe(true);
    const exists = await viaA.get(`/phone-exists/${CUSTOMER}`);
    expect(exists.status).toBe(200);
    expect(exists.body[0].exists).toBe(true);

    // A browser signed in on C sees B's instance go through a restart that A asked for.
    const browser = new Api(fleet.nodes[c]!.url);
    expect((await browser.post('/api/auth/login', { email: 'dona@frota.test', password: 'uma senha comprida' })).status).toBe(200);
    const ctrl = new AbortController();
    const res = await fetch(`${fleet.nodes[c]!.url}/api/whatsapp-session/events`, { headers: { cookie: browser.cookie! }, signal: ctrl.signal });
    const reader = res.body!.getReader();
    let text = '';
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })().catch(() => {});
    await waitUntil(async () => text.includes(': connected'), 5_000, 'the stream to open');
    expect((await viaA.get('/restart')).status).toBe(200);
    const seen = (state: string) => text.split('\n\n').some((e) => e.includes(`"instanceId":"${inst.id}"`) && e.includes(`"state":"${state}"`));
    await waitUntil(async () => seen('connecting') && seen('connected'), 20_000, 'the state changes on the stream of process C');
    ctrl.abort();
    await read;
  }, 120_000);

  it('applies a revoked API key and a changed setting on every process at once', async () => {
    const owner = new Api(fleet.nodes[0]!.url);
    await owner.post('/api/auth/login', { email: 'dona@frota.test', password: 'uma senha comprida' });
    const created = (await owner.post('/api/api-keys', { name: 'temporária' })).body;
    const onB = new Api(fleet.nodes[1]!.url, { authorization: `Bearer ${created.key}` });
    expect((await onB.get('/api/whatsapp-session/instances')).status).toBe(200); // now cached on B
    expect((await owner.req('DELETE', `/api/api-keys/${created.id}`)).status).toBe(200);
    // Well inside the 10 s the cache would otherwise keep it.
    await waitUntil(async () => (await onB.get('/api/whatsapp-session/instances')).status === 401, 1_000, 'the revoked key refused on another process');

    // A user disabled through one process, and a session ended through another, stop at once everywhere.
    const agent = (await owner.post('/api/users', { email: 'agente@frota.test', name: 'Agente', password: 'senha do agente 1', role: 'agent' })).body;
    const asAgent = new Api(fleet.nodes[1]!.url);
    await asAgent.post('/api/auth/login', { email: 'agente@frota.test', password: 'senha do agente 1' });
    expect((await asAgent.get('/api/auth/me')).status).toBe(200); // cached on B
    expect((await owner.req('PATCH', `/api/users/${agent.id}`, { disabled: true })).status).toBe(200);
    await waitUntil(async () => (await asAgent.get('/api/auth/me')).status === 401, 1_000, 'the disabled user refused on another process');
    const second = new Api(fleet.nodes[2]!.url);
    await second.post('/api/auth/login', { email: 'dona@frota.test', password: 'uma senha comprida' });
    const elsewhere = new Api(fleet.nodes[1]!.url);
    elsewhere.cookie = second.cookie;
    expect((await elsewhere.get('/api/auth/me')).status).toBe(200); // cached on B
    expect((await second.post('/api/auth/logout')).status).toBe(204);
    await waitUntil(async () => (await elsewhere.get('/api/auth/me')).status === 401, 1_000, 'the ended session refused on another process');

    expect((await owner.put('/api/plugins/whatsapp-session/settings', { 'whatsapp-session.queueLimit': 777 })).status).toBe(200);
    const onC = new Api(fleet.nodes[2]!.url);
    onC.cookie = owner.cookie;
    await waitUntil(async () => {
      const list = (await onC.get('/api/plugins/whatsapp-session/settings')).body.settings as { key: string; value: unknown; source: string }[];
      const s = list.find((x) => x.key === 'whatsapp-session.queueLimit');
      return s?.value === 777 && s.source === 'changed';
    }, 1_000, 'the setting on another process');
  });

  it('takes over the instances of a process killed with 300 messages queued, sending each once', async () => {
    const owners = await leaseOwners(fleet.databaseUrl);
    const victimNode = owners.get(paired.instances[1]!.id)!;
    const victim = indexOfNode(victimNode);
    const theirs = paired.instances.map((inst, i) => ({ inst, i })).filter((x) => owners.get(x.inst.id) === victimNode);
    expect(theirs.length).toBe(INSTANCES / PROCESSES);
    const survivor = (victim + 1) % PROCESSES;
    // Pacing keeps most of them queued when the process dies.
    for (const { inst } of theirs) expect((await paired.owner.req('PATCH', `/api/whatsapp-session/instances/${inst.id}`, { delayMinMs: 150, delayMaxMs: 150 })).status).toBe(200);
    const texts: string[] = [];
    const ids: string[] = [];
    const perInstance = 300 / theirs.length;
    for (let k = 0; k < perInstance; k++) {
      for (const { inst } of theirs) {
        const text = `fila ${inst.id.slice(0, 6)} ${k}`;
        const res = await new Api(`${fleet.nodes[survivor]!.url}/instances/${inst.id}/token/${inst.token}`, { 'client-token': paired.key }).post('/send-text', { phone: CUSTOMER, message: text });
        expect(res.status).toBe(200);
        texts.push(text);
        ids.push(res.body.messageId);
      }
    }
    await waitUntil(async () => inbox().filter((m) => texts.includes(m.text!)).length >= 20, 30_000, 'the first messages to go out');
    await fleet.kill(victim);
    const killedAt = Date.now();

    // Every instance of the dead process is run by a live one within the bound.
    await waitUntil(async () => {
      const now = await leaseOwners(fleet.databaseUrl);
      return theirs.every(({ inst }) => now.has(inst.id) && now.get(inst.id) !== victimNode);
    }, (FAILOVER_SECONDS + 5) * 1000, 'the take-over');
    const takenAfter = Date.now() - killedAt;
    expect(takenAfter).toBeLessThan(FAILOVER_SECONDS * 1000);
    await waitUntil(async () => {
      const d = bizDevices();
      return theirs.every(({ inst }) => d.find((x) => x.phone === inst.phone)?.connections === 1);
    }, 20_000, 'their sockets on the others');

    await waitUntil(async () => texts.every((t) => inbox().some((m) => m.text === t)), 120_000, 'all 300 at the phone');
    const counts = new Map<string, number>();
    for (const m of inbox()) if (m.text && texts.includes(m.text)) counts.set(m.text, (counts.get(m.text) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(300);

    // Webhooks: per message one DeliveryCallback, and one status event per status, by event id.
    await waitUntil(async () => ids.every((id) => receiver.requests.some((r) => r.json?.type === 'DeliveryCallback' && r.json.messageId === id)), 60_000, 'a DeliveryCallback per message').catch(async (err) => {
      await explainMissing(ids);
      throw err;
    });
    await sleep(2_000);
    for (const id of ids) {
      const about = receiver.requests.filter((r) => r.json?.messageId === id || r.json?.ids?.includes(id));
      const events = new Map<string, string>(about.map((r) => [r.eventId, `${r.json.type}:${r.json.status ?? ''}`]));
      const kinds = [...events.values()];
      expect(new Set(kinds).size, `${id}: ${kinds.join(', ')}`).toBe(kinds.length);
      expect(kinds.filter((k) => k.startsWith('DeliveryCallback'))).toHaveLength(1);
    }
    await fleet.start(victim);
  }, 300_000);

  it('loses and duplicates nothing through a rolling restart under steady traffic', async () => {
    await waitUntil(async () => (await leaseOwners(fleet.databaseUrl)).size === INSTANCES, 60_000, 'every instance owned');
    for (const inst of paired.instances) await paired.owner.req('PATCH', `/api/whatsapp-session/instances/${inst.id}`, { delayMinMs: 0, delayMaxMs: 0 });
    const accepted: { text: string; messageId: string }[] = [];
    let stop = false;
    let n = 0;
    const traffic = (async () => {
      while (!stop) {
        const i = n % INSTANCES;
        const inst = paired.instances[i]!;
        const text = `rolagem ${n++}`;
        // A client retries on another process when one is down, like behind a load balancer.
        for (let attempt = 0; attempt < PROCESSES * 3; attempt++) {
          const node = fleet.nodes[(n + attempt) % PROCESSES];
          if (!node || node.proc.exitCode !== null || node.proc.signalCode) continue;
          const res = await new Api(`${node.url}/instances/${inst.id}/token/${inst.token}`, { 'client-token': paired.key })
            .post('/send-text', { phone: CUSTOMER, message: text })
            .catch(() => undefined);
          if (res?.status === 200) {
            accepted.push({ text, messageId: res.body.messageId });
            break;
          }
          await sleep(50);
        }
        await sleep(40);
      }
    })();
    for (let i = 0; i < PROCESSES; i++) {
      await fleet.stop(i);
      await fleet.start(i);
      await waitUntil(async () => (await leaseOwners(fleet.databaseUrl)).size === INSTANCES, 60_000, `every instance owned after restarting process ${i}`);
    }
    await sleep(3_000);
    stop = true;
    await traffic;
    expect(accepted.length).toBeGreaterThan(100);

    await waitUntil(async () => accepted.every((a) => inbox().some((m) => m.text === a.text)), 120_000, 'every accepted text at the phone');
    const counts = new Map<string, number>();
    for (const m of inbox()) if (m.text?.startsWith('rolagem ')) counts.set(m.text, (counts.get(m.text) ?? 0) + 1);
    expect([...counts.entries()].filter(([, c]) => c > 1)).toEqual([]);
    await waitUntil(async () => accepted.every((a) => receiver.requests.some((r) => r.json?.type === 'DeliveryCallback' && r.json.messageId === a.messageId)), 60_000, 'a DeliveryCallback per accepted text').catch(async (err) => {
      await explainMissing(accepted.map((a) => a.messageId));
      throw err;
    });
    for (const a of accepted) {
      const deliveries = new Set(receiver.requests.filter((r) => r.json?.type === 'DeliveryCallback' && r.json.messageId === a.messageId).map((r) => r.eventId));
      expect(deliveries.size, a.text).toBe(1);
    }
    await steady(3_000);
  }, 400_000);
});
