import type { ZodType } from 'zod';

export interface JobInfo {
  id: string;
  name: string;
  /** 0 on the first attempt. */
  retryCount: number;
}

export interface JobDefinition<P> {
  /** "<plugin>.<name>", declared in the manifest's contributes.jobs. */
  name: string;
  /** Validates the payload when it is sent, so a bad payload fails at the caller, not in a worker. */
  payload?: ZodType<P>;
  retry?: { limit?: number; delaySeconds?: number; backoff?: boolean };
  /** A running attempt that takes longer is failed and retried. */
  expireInSeconds?: number;
  /** After the last attempt the job moves to "<name>.dead" (default true). */
  deadLetter?: boolean;
  /** Cron schedule (UTC unless tz is set); the payload sent each time. */
  cron?: { schedule: string; payload?: P; tz?: string };
  /**
   * pg-boss queue policy. "stately": at most one waiting and one running job per
   * singletonKey, e.g. one wake-up per instance however many messages arrive.
   */
  policy?: 'standard' | 'short' | 'singleton' | 'stately';
  /** Parallel workers in this process (default 1). */
  concurrency?: number;
  /**
   * How often the worker looks for due jobs (default 1). On the embedded queue at least 5: there
   * only this process sends jobs, and a send (or a retry coming due) wakes the worker at once.
   */
  pollingIntervalSeconds?: number;
  /** Must be idempotent: a job may run more than once (at-least-once). */
  handler: (payload: P, job: JobInfo) => Promise<void>;
}

export interface SendOptions {
  startAfterSeconds?: number;
  /** Jobs with the same key are only queued once while one is waiting. */
  singletonKey?: string;
  priority?: number;
}

/** What ctx.jobs.register returns: send typed payloads, dispose to stop the workers. */
export interface JobHandle<P> {
  readonly name: string;
  readonly deadLetterName?: string;
  /** The job id, or null when the queue's policy already holds an equivalent job (same singletonKey). */
  send(payload: P, options?: SendOptions): Promise<string | null>;
  /** Where a job sent earlier stands; undefined when the queue no longer has it. */
  state(jobId: string): Promise<'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed' | undefined>;
  dispose(): Promise<void>;
}

export function defineJob<P>(def: JobDefinition<P>): JobDefinition<P> {
  return def;
}
