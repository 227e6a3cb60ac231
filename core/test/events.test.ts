import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/api/groupCommit.js';
import { EventBus } from '../src/contributions/events.js';
import { createLogger } from '../src/services/logger.js';

type Created = { accountId: string; name: string };
const created = (name: string): Created => ({ accountId: 'a', name });

describe('event runs and group commit', () => {
  it('hands a run to a batch listener at once and to the others one payload at a time, in order', async () => {
    const bus = new EventBus(createLogger('silent'));
    const batches: string[][] = [];
    const singles: string[] = [];
    bus.onBatch('p', 'core.account.created', (list) => void batches.push(list.map((e) => e.name)));
    bus.on('q', 'core.account.created', async (e) => {
      await new Promise((r) => setTimeout(r, 5 - singles.length)); // later ones answer sooner: order must hold anyway
      singles.push(e.name);
    });
    expect(await bus.emitMany('core.account.created', ['a', 'b', 'c'].map(created))).toEqual({ failed: 0 });
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(singles).toEqual(['a', 'b', 'c']);
    // A single emit is a run of one for the batch listener.
    await bus.emit('core.account.created', created('d'));
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('counts a listener that throws on any payload of a run as failed, without stopping the others', async () => {
    const bus = new EventBus(createLogger('silent'));
    const seen: string[] = [];
    bus.on('p', 'core.account.created', (e) => {
      if (e.name === 'b') throw new Error('no b');
      seen.push(e.name);
    });
    bus.onBatch('q', 'core.account.created', (list) => void seen.push(`batch:${list.length}`));
    expect(await bus.emitMany('core.account.created', ['a', 'b', 'c'].map(created))).toEqual({ failed: 1 });
    expect(seen).toEqual(['a', 'batch:3']);
  });

  it('writes what arrives during a write in the next one, and each caller learns how its write went', async () => {
    const writes: number[][] = [];
    let fail = false;
    const gc = new GroupCommit<number>(async (items) => {
      writes.push(items);
      await new Promise((r) => setTimeout(r, 10));
      if (fail) throw new Error('disk full');
    }, 3);
    const first = gc.add(1);
    const rest = [2, 3, 4, 5].map((n) => gc.add(n)); // same tick as the first: they share its write, up to 3
    await first;
    const late = gc.add(6); // arrives while [4, 5] is being written
    await Promise.all([...rest, late]);
    expect(writes).toEqual([[1, 2, 3], [4, 5], [6]]);
    fail = true;
    await expect(gc.add(7)).rejects.toThrow('disk full');
    fail = false;
    await gc.add(8);
    expect(writes.at(-1)).toEqual([8]);
  });

  it('lets the first item of an idle group wait a moment for company, when asked to', async () => {
    const writes: number[][] = [];
    const gc = new GroupCommit<number>(async (items) => void writes.push(items), 100, 30);
    const first = gc.add(1);
    await new Promise((r) => setTimeout(r, 5)); // a later tick, inside the 30 ms
    await Promise.all([first, gc.add(2)]);
    expect(writes).toEqual([[1, 2]]);
    const alone = new GroupCommit<number>(async (items) => void writes.push(items));
    const a = alone.add(3);
    await new Promise((r) => setTimeout(r, 5));
    await Promise.all([a, alone.add(4)]);
    expect(writes.slice(1)).toEqual([[3], [4]]);
  });
});
