import type PgBoss from 'pg-boss';
import type { JobDefinition, JobHandle, SendOptions } from '../api/jobs.js';
import { badRequest } from '../api/errors.js';
import type { Logger } from '../services/logger.js';
import { zodIssues } from '../http/validation.js';

const DEFAULTS = { limit: 5, delaySeconds: 5, backoff: true };

/** Creates the queue (and its dead-letter queue), starts workers and the cron schedule. */
export async function registerJob<P>(boss: PgBoss, def: JobDefinition<P>, log: Logger): Promise<JobHandle<P>> {
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

  const workerIds: string[] = [];
  const concurrency = Math.max(1, def.concurrency ?? 1);
  for (let i = 0; i < concurrency; i++) {
    workerIds.push(
      await boss.work<P>(def.name, { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: def.pollingIntervalSeconds ?? 1 }, async ([job]) => {
        if (!job) return;
        const retryCount = job.retryCount ?? 0;
        try {
          await def.handler(job.data, { id: job.id, name: job.name, retryCount });
        } catch (err) {
          log.warn({ err, job: def.name, jobId: job.id, contribution: 'job' }, 'job attempt failed; it will be retried or dead-lettered');
          throw err;
        }
      }),
    );
  }
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
      return boss.send(def.name, data as object, sendOptions);
    },
    async dispose() {
      for (const id of workerIds) await boss.offWork({ id });
      if (def.cron) await boss.unschedule(def.name);
    },
  };
}

async function upsertQueue(boss: PgBoss, name: string, options: PgBoss.Queue) {
  const existing = await boss.getQueue(name);
  if (existing) await boss.updateQueue(name, options);
  else await boss.createQueue(name, options);
}
