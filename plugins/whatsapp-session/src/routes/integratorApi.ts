import { createRouter, HttpError, z } from '@plugchat/core';
import type { InstanceInfoContribution, InstanceSetupContribution, SubscriptionContribution } from '../api.js';
import type { Instance } from '../services/instances.js';
import type { WhatsAppService } from '../services/whatsapp.js';
import { params, type InstanceRequest } from './zapiFields.js';

type C = InstanceRequest;

const callbackUrl = z.string().trim().max(2000);
const CALLBACK_FIELDS = [
  'deliveryCallbackUrl',
  'receivedCallbackUrl',
  'receivedAndDeliveryCallbackUrl',
  'presenceChatCallbackUrl',
  'disconnectedCallbackUrl',
  'connectedCallbackUrl',
  'messageStatusCallbackUrl',
] as const;

const onDemand = z
  .object({
    name: z.string().trim().min(1).max(200),
    sessionName: z.string().trim().max(200).optional().describe('kept for Z-API clients; the instance is named by name'),
    ...Object.fromEntries(CALLBACK_FIELDS.map((f) => [f, callbackUrl.optional()])),
    callRejectAuto: z.boolean().optional(),
    callRejectMessage: z.string().max(4096).optional(),
    autoReadMessage: z.boolean().optional(),
    autoReadStatus: z.literal(false).optional().describe('status posts are never read automatically'),
    isDevice: z.boolean().optional().describe('accepted; every instance is a linked device'),
    businessDevice: z.boolean().optional().describe('accepted; WhatsApp tells whether the number is a business one when it links'),
    disableEnqueueWhenDisconnected: z.literal(false).optional().describe('messages always wait for the instance to connect'),
  })
  .strict();
type OnDemand = z.infer<typeof onDemand>;

const paging = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).default(50),
  query: z.string().trim().max(200).optional().describe("part of the instance's name or id"),
  middleware: z.enum(['web', 'mobile']).optional().describe('accepted; every instance is a linked (web) device'),
});

/**
 * Z-API's integrator API: create an instance with its callbacks and settings in one call, list the
 * account's instances in pages, and subscribe or cancel an instance (through billing, when it is
 * on). The account's API key (Client-Token) of an admin authorizes it.
 */
export function integratorApiRouter(
  svc: WhatsAppService,
  contributions: { setup: () => InstanceSetupContribution[]; subscriptions: () => SubscriptionContribution[]; info: () => InstanceInfoContribution[] },
) {
  /** What the other plugins say of an instance (callback URLs, billing's due date), merged. */
  const info = async (accountId: string, instanceId: string) =>
    Object.assign({}, ...(await Promise.all(contributions.info().map((k) => k.info(accountId, instanceId).catch(() => ({})))))) as Record<string, unknown>;
  const subscriptions = () => {
    const [first] = contributions.subscriptions();
    if (!first) throw new HttpError(409, 'billing_disabled', 'This installation does not bill instances (the billing plugin is off): there is nothing to subscribe or cancel.');
    return first;
  };
  const instance = (c: C): Promise<Instance> => svc.authorize(c.auth, c.params.id, c.params.token);

  return createRouter('/instances')
    .post('/integrator/on-demand', { summary: 'Create an instance with its callback URLs and settings (integrators)', role: 'admin', tags: ['instance API: integrator'], body: onDemand }, async (c) => {
      const body = c.body as OnDemand & Record<string, unknown>;
      const setups = contributions.setup();
      // Every field is checked before the instance exists: a refused request creates nothing.
      for (const f of CALLBACK_FIELDS) {
        if (body[f] && !setups.some((s) => s.fields.includes(f))) {
          throw new HttpError(422, 'webhooks_disabled', 'Callback URLs need the webhooks plugin, which is off here.', { issues: [{ path: `body.${f}`, message: 'the webhooks plugin is off' }] });
        }
      }
      for (const s of setups) s.validate(body);
      const { instance: created, token } = await svc.create(c.auth.accountId, body.name);
      const patch = {
        ...(body.autoReadMessage !== undefined ? { autoReadMessage: body.autoReadMessage } : {}),
        ...(body.callRejectAuto !== undefined ? { callRejectAuto: body.callRejectAuto } : {}),
        ...(body.callRejectMessage !== undefined ? { callRejectMessage: body.callRejectMessage.trim() || null } : {}),
      };
      if (Object.keys(patch).length) await svc.update(created, patch);
      for (const s of setups) await s.apply(c.auth.accountId, created.id, body);
      return { id: created.id, token, due: ((await info(c.auth.accountId, created.id)).due as number | null | undefined) ?? null };
    })
    .get('', { summary: "The account's instances, in pages (integrators)", role: 'admin', tags: ['instance API: integrator'], query: paging }, async (c) => {
      const { page, pageSize, query } = c.query;
      const q = query?.toLowerCase();
      const all = (await svc.list(c.auth.accountId)).filter((i) => !q || i.name.toLowerCase().includes(q) || i.id.toLowerCase().includes(q));
      const content = await Promise.all(
        all.slice((page - 1) * pageSize, page * pageSize).map(async (i) => {
          const [token, extra, connected] = await Promise.all([svc.token(i), info(c.auth.accountId, i.id), svc.connected(i)]);
          return {
            id: i.id,
            token,
            tenant: c.auth.accountId,
            name: i.name,
            created: i.createdAt.getTime(),
            due: null,
            paymentStatus: null,
            deliveryCallbackUrl: null,
            receivedCallbackUrl: null,
            receivedStatusCallbackUrl: null,
            disconnectedCallbackUrl: null,
            connectedCallbackUrl: null,
            messageStatusCallbackUrl: null,
            presenceChatCallbackUrl: null,
            phoneConnected: connected,
            whatsappConnected: connected,
            middleware: 'web',
            ...extra,
          };
        }),
      );
      return { total: all.length, totalPage: Math.ceil(all.length / pageSize), pageSize, page, content };
    })
    .post(
      '/:id/token/:token/integrator/on-demand/subscription',
      { summary: 'Subscribe the instance (billing: charged from today)', role: 'admin', tags: ['instance API: integrator'], params, body: z.object({ withCalls: z.boolean().optional() }).strict().optional() },
      async (c) => {
        const row = await instance(c as unknown as C);
        await subscriptions().subscribe(row.accountId, row.id);
        return { value: true };
      },
    )
    .post('/:id/token/:token/integrator/on-demand/cancel', { summary: 'Cancel the instance’s subscription (it runs to the end of the month)', role: 'admin', tags: ['instance API: integrator'], params }, async (c) => {
      const row = await instance(c as unknown as C);
      await subscriptions().cancel(row.accountId, row.id);
      return { value: true };
    });
}
