import { PassThrough } from 'node:stream';
import type { Context } from 'koa';

export interface EventStream {
  /** With `id`, a reconnecting EventSource sends it back as Last-Event-ID. */
  send(event: string, data: unknown, id?: string | number): void;
  /** Runs when the client goes away (and keep-alives stop). */
  onClose(fn: () => void): void;
}

/**
 * Turns a route's response into a Server-Sent Events stream: headers, no socket
 * timeout, a comment every 15 s so proxies keep it open, cleanup on disconnect.
 */
export function openEventStream(koa: Context): EventStream {
  const stream = new PassThrough();
  const closers: (() => void)[] = [];
  const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), 15_000);
  koa.req.on('close', () => {
    clearInterval(keepAlive);
    for (const fn of closers) fn();
  });
  koa.req.socket.setTimeout(0);
  koa.set('Cache-Control', 'no-cache');
  koa.set('X-Accel-Buffering', 'no');
  koa.type = 'text/event-stream';
  koa.body = stream;
  stream.write(': connected\n\n');
  return {
    send: (event, data, id) => void stream.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    onClose: (fn) => void closers.push(fn),
  };
}

/** A strictly increasing number (microseconds since the epoch) for ordering rows written by this process. */
let lastSeq = 0;
export function nextSeq(): number {
  const candidate = Date.now() * 1000;
  lastSeq = candidate > lastSeq ? candidate : lastSeq + 1;
  return lastSeq;
}
