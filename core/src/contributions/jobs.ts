import type PgBoss from 'pg-boss';
import type { JobDefinition, JobHandle, SendOptions } from '../api/jobs.js';
import { badRequest } from '../api/errors.js';
import type { Logger } from '../services/logger.js';
import { zodIssues } from '../http/validation.js';

const DEFAULTS = { limit: 5, delaySeconds: 5, backoff: true };

/**
 * How often workers look for due jobs on the embedded queue at least. Only this process sends jobs
 * there and each send wakes its worker at once (a retry too, when it is due), so the poll is a
 * safety net (cron ticks, dead letters); every poll is a query on the embedded PostgreSQL, and
 * a poll a second on each queue kept an idle server busy.
 */
export const EMBEDDED_POLL_SECONDS = 5;

export interface RegisterOptions {
  /** The least polling interval (the embedded queue's EMBEDDED_POLL_SECONDS). */
  pollFloorSeconds?: number;
}

/** Creates the queue (and its dead-letter queue), starts workers and the cron schedule. */
export async function registerJob<P>(boss: PgBoss, def: JobDefinition<P>, log: Logger, opts: RegisterOptions = {}): Promise<JobHandle<P>> {
  const retry = { ...DEFAULTS, ...def.retry };
  const deadLetterName = def.deadLetter === false ? undefined : `${def.name}.dead`;
  if (deadLetterName) await upsertQueue(boss, deadLetterName, { name: deadLetterName, retentionDays: 30 } as PgBoss.Queue);
  await upsertQueue(boss, def.name, {
    name: def.name,
    retryLimit: retry.limit,
    retryDelay: retry.delaySeconds,
    retryBackoff: retry.backoff,
    expireInSeconds: def.expireInSeconds ?? 15 * 60,
    ...(def.policy ? { policy: def.policy } : {}),
    ...(deadLetterName ? { deadLetter: deadLetterName } : {}),
  });

  // One worker fetches up to `concurrency` jobs per poll and runs them side by side;
  // each job completes or fails on its own, so one failure never fails its batch-mates.
  const concurrency = Math.max(1, def.concurrency ?? 1);
  const pollingIntervalSeconds = Math.max(def.pollingIntervalSeconds ?? 1, opts.pollFloorSeconds ?? 0);
  // With a long poll, a failed job's worker is woken when its retry is due at the latest (the backoff's upper bound).
  // (A job can fail before work() has answered with the worker's id: its retry is then found by the poll.)
  let workerId = '';
  const wakeForRetry = (retryCount: number) => {
    if (!opts.pollFloorSeconds || retryCount >= retry.limit) return;
    const seconds = retry.backoff ? retry.delaySeconds * 2 ** (retryCount + 1) : retry.delaySeconds;
    if (workerId && seconds < pollingIntervalSeconds) setTimeout(() => boss.notifyWorker(workerId), seconds * 1000 + 50).unref();
  };
  workerId = await boss.work<P>(
    def.name,
    { batchSize: concurrency, includeMetadata: true, pollingIntervalSeconds },
    async (jobs) => {
      await Promise.all(
        jobs.map(async (job) => {
          try {
            await def.handler(job.data, { id: job.id, name: job.name, retryCount: job.retryCount ?? 0 });
            await boss.complete(def.name, job.id);
          } catch (err) {
            log.warn({ err, job: def.name, jobId: job.id, contribution: 'job' }, 'job attempt failed; it will be retried or dead-lettered');
            await boss.fail(def.name, job.id, { message: (err as Error).message }).catch(() => {});
            wakeForRetry(job.retryCount ?? 0);
          }
        }),
      );
    },
  );
  if (def.cron) await boss.schedule(def.name, def.cron.schedule, (def.cron.payload ?? {}) as object, { tz: def.cron.tz ?? 'UTC' });

  return {
    name: def.name,
    deadLetterName,
    async send(payload: P, options: SendOptions = {}) {
      let data = payload;
      if (def.payload) {
        const parsed = def.payload.safeParse(payload);
        if (!parsed.success) throw badRequest(`Invalid payload for job ${def.name}`, zodIssues(parsed.error));
        data = parsed.data;
      }
      // pg-boss asserts on keys that are present but undefined, so pass only what was given.
      const sendOptions: PgBoss.SendOptions = {};
      // A Date keeps sub-second delays (pg-boss rounds a number of seconds).
      if (options.startAfterSeconds !== undefined) sendOptions.startAfter = new Date(Date.now() + options.startAfterSeconds * 1000);
      if (options.singletonKey !== undefined) sendOptions.singletonKey = options.singletonKey;
      if (options.priority !== undefined) sendOptions.priority = options.priority;
      const id = await boss.send(def.name, data as object, sendOptions);
      // Work starts when it is due, not at the worker's next poll: now, or at its time (in this process).
      if (id && options.startAfterSeconds === undefined) boss.notifyWorker(workerId);
      else if (id) setTimeout(() => boss.notifyWorker(workerId), options.startAfterSeconds! * 1000 + 5).unref();
      return id;
    },
    async state(jobId: string) {
      return (await boss.getJobById(def.name, jobId))?.state;
    },
    async dispose() {
      // The schedule stays: it lives in the queue's database, is shared by every process on it and
      // is upserted again at each start, so one process stopping must not end it for the others.
      await boss.offWork({ id: workerId });
    },
  };
}

async function upsertQueue(boss: PgBoss, name: string, options: PgBoss.Queue) {
  // Processes started together on one database race to create a queue (pg-boss creates a table
  // per queue, and concurrent creations can deadlock): the loser looks again and updates instead.
  for (let attempt = 1; ; attempt++) {
    try {
      if (await boss.getQueue(name)) return await boss.updateQueue(name, options);
      return await boss.createQueue(name, options);
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400 * attempt));
    }
  }
}
