import { randomBytes } from 'node:crypto';
import type { BinaryNode } from './baileys.js';

export const SERVER = '@s.whatsapp.net';

type Attrs = Record<string, string | number | boolean | undefined | null>;

/**
 * Builds a node. Every attribute value becomes a string and empty ones are
 * dropped: the encoder counts non-string attributes but never writes them,
 * which silently corrupts the stream.
 */
export function node(tag: string, attrs: Attrs = {}, content?: BinaryNode[] | Uint8Array | string): BinaryNode {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) clean[k] = String(v);
  return content === undefined ? { tag, attrs: clean } : { tag, attrs: clean, content };
}

export function children(n: BinaryNode | undefined, tag?: string): BinaryNode[] {
  if (!n || !Array.isArray(n.content)) return [];
  return tag ? n.content.filter((c) => c.tag === tag) : n.content;
}

export function child(n: BinaryNode | undefined, tag: string): BinaryNode | undefined {
  return children(n, tag)[0];
}

export function bytes(n: BinaryNode | undefined): Buffer | undefined {
  if (!n) return undefined;
  if (n.content instanceof Uint8Array) return Buffer.from(n.content);
  if (typeof n.content === 'string') return Buffer.from(n.content, 'utf8');
  return undefined;
}

export const now = () => Math.floor(Date.now() / 1000);

let serverCounter = 0;
/** Server-originated ids use their own prefix so they never collide with the client's. */
export const serverId = () => `sim-${(++serverCounter).toString(36)}-${randomBytes(3).toString('hex')}`;
export const messageId = () => '3A' + randomBytes(9).toString('hex').toUpperCase();

export interface Jid {
  user: string;
  device: number;
  server: string;
}

export function parseJid(jid: string | undefined): Jid | undefined {
  if (!jid) return undefined;
  const at = jid.indexOf('@');
  if (at < 0) return undefined;
  const userPart = jid.slice(0, at);
  const server = jid.slice(at + 1);
  const [userAgent, device] = userPart.split(':');
  const user = userAgent!.split('_')[0]!;
  return { user, device: device ? Number(device) : 0, server };
}

export const userJid = (phone: string) => `${phone}${SERVER}`;
export const deviceJid = (phone: string, device: number) => (device === 0 ? `${phone}${SERVER}` : `${phone}:${device}${SERVER}`);

/** A short XML-ish rendering for traces and debugging; binary content as hex (truncated). */
export function render(n: BinaryNode, depth = 0): string {
  const attrs = Object.entries(n.attrs ?? {})
    .map(([k, v]) => ` ${k}='${v}'`)
    .join('');
  let inner = '';
  if (Array.isArray(n.content)) inner = n.content.map((c) => render(c, depth + 1)).join('');
  else if (n.content instanceof Uint8Array) inner = Buffer.from(n.content).subarray(0, 32).toString('hex') + (n.content.length > 32 ? `…(${n.content.length}B)` : '');
  else if (typeof n.content === 'string') inner = n.content;
  return inner ? `<${n.tag}${attrs}>${inner}</${n.tag}>` : `<${n.tag}${attrs}/>`;
}
