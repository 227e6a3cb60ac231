import type { WASocket } from '../baileys.js';
import { jidOf } from './jids.js';

/** Contact operations, run on the socket of the process that holds the instance. */
export type ContactOp = { op: 'block' | 'unblock'; phone: string } | { op: 'picture'; phone: string } | { op: 'about'; phone: string };

/** WhatsApp answers "no picture" (or "not allowed to see it") with an error: both mean none to show. */
const orNull = <T>(p: Promise<T>) => p.catch((err: { data?: unknown }) => (err?.data === 404 || err?.data === 401 || err?.data === 403 ? null : Promise.reject(err)));

export async function runContactOp(sock: WASocket, c: ContactOp): Promise<unknown> {
  switch (c.op) {
    case 'block':
    case 'unblock':
      await sock.updateBlockStatus(jidOf(c.phone), c.op);
      return null;
    case 'picture':
      return (await orNull(sock.profilePictureUrl(jidOf(c.phone), 'image'))) ?? null;
    case 'about': {
      const [found] = (await orNull(sock.fetchStatus(jidOf(c.phone)))) ?? [];
      return (found?.status as { status?: string | null } | undefined)?.status ?? null;
    }
  }
}
