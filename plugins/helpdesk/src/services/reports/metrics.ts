/** The duration metrics the reports give quantiles of, and the figure each fills. */
export const TIME_METRICS = { first_response: 'firstResponse', reply_time: 'replyTime', resolution: 'resolution', assignment_wait: 'assignmentWait' } as const;
export type TimeMetric = keyof typeof TIME_METRICS;

/** The quantiles every duration figure reports: the median and the 90th percentile. */
export const QUANTILES = [0.5, 0.9];

/** Keeps the database's floor and quantile()'s equal where (n - 1) * p is a whole number. */
export const EPSILON = 1e-9;

/** Runs jobs with at most `width` at a time. */
export async function inBatches(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) await jobs[next++]!();
  }));
}

/** The p-quantile of n sorted values by linear interpolation, from the (1-based) rows it needs. */
export function quantile(n: number, values: Map<number, number>, p: number): number | null {
  if (!n) return null;
  const h = (n - 1) * p;
  const lo = Math.floor(h + EPSILON);
  const a = values.get(lo + 1);
  if (a === undefined) return null;
  const b = values.get(lo + 2) ?? a;
  return a + Math.max(0, h - lo) * (b - a);
}
