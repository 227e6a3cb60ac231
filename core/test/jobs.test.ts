import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { openQueue, type Queue } from '../src/services/queue.js';
import { registerJob } from '../src/contributions/jobs.js';
import { createLogger } from '../src/services/logger.js';
import { defineJob } from '../src/api/jobs.js';
import { z } from 'zod';
import { createWorkspace, waitFor, type Workspace } from './support/app.js';
import { STORAGE_MODES } from './support/db.js';

describe.each(STORAGE_MODES)('jobs on pg-boss (%s)', (mode) => {
  let ws: Workspace;
  let queue: Queue;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    'debug',
    new Writable({
      write(c, _e, cb) {
        lines.push(JSON.parse(String(c)));
        cb();
      },
    }),
  );

  beforeAll(async () => {
    ws = await createWorkspace({ mode });
    queue = await openQueue({ dataDir: ws.dataDir, databaseUrl: ws.env.DATABASE_URL, logger: log });
  });
  afterAll(async () => {
    await queue?.close(5_000);
    await ws?.cleanup();
    rmSync(ws.dir, { recursive: true, force: true });
  });

  it('retries with exponential backoff, then dead-letters with the payload intact', async () => {
    const attempts: { at: number; retryCount: number }[] = [];
    const handle = await registerJob(
      queue.boss,
      defineJob<{ order: number }>({
        name: 'test.flaky',
        retry: { limit: 2, delaySeconds: 1, backoff: true },
        pollingIntervalSeconds: 0.5,
        handler: async (_p, job) => {
          attempts.push({ at: Date.now(), retryCount: job.retryCount });
          throw new Error('receiver is down');
        },
      }),
      log,
    );
    const dead: unknown[] = [];
    const deadHandle = await registerJob(queue.boss, defineJob({ name: 'test.flaky.dead', deadLetter: false, pollingIntervalSeconds: 0.5, handler: async (p) => void dead.push(p) }), log);
    await handle.send({ order: 42 });
    await waitFor(async () => dead.length === 1, 30_000, 'the dead letter');
    expect(attempts.map((a) => a.retryCount)).toEqual([0, 1, 2]);
    const gap1 = attempts[1]!.at - attempts[0]!.at;
    const gap2 = attempts[2]!.at - attempts[1]!.at;
    // Backoff: the n-th retry waits between delay·2^(n-1) and delay·2^n seconds.
    expect(gap1).toBeGreaterThanOrEqual(900);
    expect(gap2).toBeGreaterThanOrEqual(1_900);
    expect(dead).toEqual([{ order: 42 }]);
    expect(lines.some((l) => l.msg?.toString().includes('job attempt failed') && l.job === 'test.flaky')).toBe(true);
    await handle.dispose();
    await deadHandle.dispose();
  });

  it('with a long poll (the embedded queue), runs a sent job and its retries when they are due, not at the next poll', async () => {
    const attempts: number[] = [];
    const handle = await registerJob(
      queue.boss,
      defineJob<{ order: number }>({
        name: 'test.woken',
        retry: { limit: 2, delaySeconds: 1, backoff: true },
        deadLetter: false,
        handler: async (_p, job) => {
          attempts.push(job.retryCount);
          throw new Error('receiver is down');
        },
      }),
      log,
      // A poll a minute: within the wait below only the wake-ups can run the job.
      { pollFloorSeconds: 60 },
    );
    await handle.send({ order: 7 });
    await waitFor(async () => attempts.length === 3, 20_000, 'the first attempt and both retries');
    expect(attempts).toEqual([0, 1, 2]);
    await handle.dispose();
  });

  it('validates the payload at send time', async () => {
    const handle = await registerJob(queue.boss, defineJob({ name: 'test.typed', payload: z.object({ to: z.string().min(5) }), handler: async () => {} }), log);
    await expect(handle.send({ to: 'x' })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
    await handle.dispose();
  });

  it('keeps one cron schedule per job, across a stop and a second registration', async () => {
    await queue.boss.createQueue('test.cron').catch(() => {});
    const def = defineJob({ name: 'test.cron', cron: { schedule: '* * * * *' }, handler: async () => {} });
    const handle = await registerJob(queue.boss, def, log);
    expect((await queue.boss.getSchedules()).filter((s) => s.name === 'test.cron')).toHaveLength(1);
    // A process stopping leaves the schedule to the others on the same queue database.
    await handle.dispose();
    expect((await queue.boss.getSchedules()).filter((s) => s.name === 'test.cron')).toHaveLength(1);
    const again = await registerJob(queue.boss, { ...def, cron: { schedule: '*/5 * * * *' } }, log);
    const schedules = (await queue.boss.getSchedules()).filter((s) => s.name === 'test.cron');
    expect(schedules.map((s) => s.cron)).toEqual(['*/5 * * * *']);
    await again.dispose();
  });
});
