import { z, type RouteContext } from '@plugchat/core';

/** The fields and path parameters the Z-API compatible routes share. */
export const phone = z.string().regex(/^\d{10,15}$/, 'must be the number with country and area code, digits only (e.g. 5511999999999)');
/** A group as Z-API writes it: `120363019502650977-group`, or an older group's `5511999999999-1623281429`. */
export const groupPhone = z.string().regex(/^(\d{10,25}-group|\d{10,15}-\d{9,12})$/, "must be the group's id as Z-API writes it (e.g. 120363019502650977-group)");
/** Whom a message goes to: a number or a group. */
export const chat = z.union([phone, groupPhone], { error: 'must be a number with country and area code, digits only (e.g. 5511999999999), or a group id (e.g. 120363019502650977-group)' });
export const seconds = z.number().int().min(1).max(15);
/** What every send takes besides its content. */
export const common = {
  phone: chat,
  delayMessage: seconds.optional().describe('seconds to wait before sending (1-15); default: the instance pacing'),
  delayTyping: seconds.optional().describe('seconds to show "typing…" first (1-15)'),
  messageId: z.string().min(1).max(100).optional().describe('reply to this message'),
};
export const ids = z.object({ zaapId: z.string(), messageId: z.string(), id: z.string() });
export const params = z.object({ id: z.string().regex(/^[A-Za-z0-9]{8,64}$/), token: z.string().min(8).max(128) });
/** A media field: an http(s) URL or a data URI. */
export const media = z.string().min(1).max(30_000_000);

/** A request to /instances/{id}/token/{token}/… */
export type InstanceRequest = RouteContext<{ id: string; token: string }, unknown, unknown>;

/** The spec of an instance API route (agents and up, the instance's id and token in the path). */
export const instanceSpec =
  (tag: string) =>
  <B>(summary: string, body?: z.ZodType<B>) => ({
    summary,
    role: 'agent' as const,
    params,
    tags: [tag],
    ...(body ? { body } : {}),
    ...(summary.startsWith('Send') || summary.startsWith('React') ? { response: ids } : {}),
  });
