import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { accessLogger, createLogger } from '../src/services/logger.js';

// The access log batches the lines of one turn of the event loop into few writes.
describe('access log', () => {
  const capture = (level = 'info') => {
    const writes: string[] = [];
    const log = createLogger(level, { write: (chunk: string) => void writes.push(chunk) });
    return { writes, log, access: accessLogger(log) };
  };
  const entry = (i: number) => ({ reqId: `req-${i}`, method: 'GET', path: `/api/items/${i}`, status: 200, ms: 1.5 });

  it('writes the lines of a busy turn together at its end, whole and in order, in pieces of a few KB', async () => {
    const { writes, access } = capture();
    for (let i = 0; i < 200; i++) access(entry(i));
    // Lines past the batch size have gone; the rest wait for the turn's end.
    const early = writes.length;
    await turn();
    expect(writes.length).toBeGreaterThan(early);
    // 200 lines of ~150 bytes: a handful of writes, not one each.
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.length).toBeLessThan(20);
    for (const w of writes) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(4096);
      expect(w.endsWith('\n')).toBe(true);
    }
    const lines = writes.join('').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.reqId)).toEqual(Array.from({ length: 200 }, (_, i) => `req-${i}`));
    expect(lines[7]).toMatchObject({ level: 30, method: 'GET', path: '/api/items/7', status: 200, ms: 1.5, msg: 'request' });
    expect(new Date(lines[7].time).toISOString()).toBe(lines[7].time);
  });

  it('writes a lone request\'s line at the end of its turn, and nothing below the info level', async () => {
    const { writes, access } = capture();
    access(entry(1));
    expect(writes).toEqual([]);
    await turn();
    expect(writes.map((w) => JSON.parse(w).reqId)).toEqual(['req-1']);
    access(entry(2));
    await turn();
    expect(writes.map((w) => JSON.parse(w).reqId)).toEqual(['req-1', 'req-2']);

    const quiet = capture('warn');
    quiet.access(entry(3));
    await turn();
    expect(quiet.writes).toEqual([]);
  });
});
