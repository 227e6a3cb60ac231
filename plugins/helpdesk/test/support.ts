import type { ManualClock } from '@plugchat/core';
import { Client, createWorkspace, setupOwner, startApp } from '../../../core/test/support/app.js';
import { makeHarness, pairedInstance, waitFor, BIZ, type Harness } from '../../whatsapp-session/test/support.js';
import type { VirtualPhone } from '../../whatsapp-sandbox/src/network/index.js';

export { waitFor, BIZ };

export interface Agent {
  id: string;
  client: Client;
}

export interface HelpdeskHarness extends Harness {
  inst: { id: string; token: string };
  /** A user of the owner's account, signed in. */
  agent(name: string, role?: 'agent' | 'supervisor' | 'admin'): Promise<Agent>;
  /** A virtual customer phone on the sandbox network. */
  phone(number: string, name?: string): VirtualPhone;
  /** The owner's view of one attendance of a phone (the newest). */
  attendanceOf(phone: string): Promise<any>;
}

let seq = 0;

/** PlugChat with whatsapp-session, the sandbox and the helpdesk, an owner, and one paired instance. */
export async function helpdeskHarness(opts: { mode?: 'embedded' | 'postgresql'; clock?: ManualClock; settings?: Record<string, unknown>; sessionSettings?: Record<string, unknown>; plugins?: NonNullable<Parameters<typeof createWorkspace>[0]>['plugins']; packages?: string[]; pluginSettings?: Record<string, Record<string, unknown>> } = {}): Promise<HelpdeskHarness> {
  const ws = await createWorkspace({
    mode: opts.mode,
    plugins: opts.plugins,
    config: { packages: ['@plugchat/whatsapp-session', '@plugchat/whatsapp-sandbox', '@plugchat/helpdesk', ...(opts.packages ?? [])], plugins: { ...Object.fromEntries(Object.entries(opts.pluginSettings ?? {}).map(([id, settings]) => [id, { settings }])), helpdesk: { settings: opts.settings ?? {} }, 'whatsapp-session': { settings: opts.sessionSettings ?? {} } } },
  });
  const app = await startApp(ws, {}, { clock: opts.clock });
  const owner = await setupOwner(app.url);
  const key = (await owner.post('/api/api-keys', { name: 'integration' })).body.key as string;
  const h = makeHarness(ws, app, owner, key);
  const inst = await pairedInstance(h);
  return {
    ...h,
    inst,
    async agent(name, role = 'agent') {
      const email = `${name.toLowerCase().replace(/\W/g, '')}${++seq}@acme.test`;
      const created = await owner.post('/api/users', { email, name, password: 'agent password 123', role });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
      const client = new Client(app.url);
      const login = await client.post('/api/auth/login', { email, password: 'agent password 123' });
      if (login.status !== 200) throw new Error('login failed');
      return { id: created.body.id as string, client };
    },
    phone(number, name) {
      const net = h.sandbox().network();
      return net.phone(number) ?? net.createPhone(number, { name: name ?? `Cliente ${number.slice(-4)}`, owner: undefined });
    },
    async attendanceOf(phone) {
      const list = await owner.get(`/api/helpdesk/attendances?status=pending,open,snoozed,resolved&q=${phone}`);
      return list.body.attendances?.[0];
    },
  };
}

/** Waits until the phone's number has an attendance whose timeline has `n` customer messages. */
export async function waitForInbound(h: HelpdeskHarness, phone: string, n: number, client: Client = h.owner): Promise<any> {
  return waitFor(
    async () => {
      const att = await h.attendanceOf(phone);
      if (!att) return undefined;
      const tl = await client.get(`/api/helpdesk/attendances/${att.id}/timeline?limit=200`);
      const inbound = (tl.body.items ?? []).filter((i: any) => i.kind === 'message' && i.direction === 'in');
      return inbound.length >= n ? { att: (await client.get(`/api/helpdesk/attendances/${att.id}`)).body, items: tl.body.items } : undefined;
    },
    20_000,
    `${n} messages from ${phone} in an attendance`,
  );
}

/** Reads a Server-Sent Events stream with fetch, as a browser's EventSource would. */
export function sse(url: string, cookie: string | undefined, lastEventId?: string) {
  const events: { id?: string; event: string; data: any }[] = [];
  const controller = new AbortController();
  const ready = (async () => {
    const res = await fetch(url, { headers: { ...(cookie ? { cookie } : {}), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: controller.signal });
    if (res.status !== 200) throw new Error(`stream answered ${res.status}`);
    return res;
  })();
  const done = ready.then(async (res) => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: { id?: string; event: string; data: any } = { event: 'message', data: undefined };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
          }
          if (e.data !== undefined) events.push(e);
        }
      }
    } catch {
      /* aborted */
    }
  });
  return {
    events,
    ready,
    close: async () => {
      controller.abort();
      await done.catch(() => {});
    },
    lastId: () => [...events].reverse().find((e) => e.id)?.id,
  };
}
