/**
 * Coarse duration buckets for the per-agent and per-queue quantiles. A group's durations of a
 * month are counted per bucket (helpdesk_report_buckets), so a period's counts say which bucket
 * holds the rank a quantile needs and how far into it; only that bucket's events are then walked
 * in value order. Few buckets keep the counts quick to read (a year of 20 agents is some
 * thousands of rows); each bucket stays narrow enough that its walk is short. Each width divides
 * the start of its range, so no bucket straddles two.
 */
const STEPS: readonly [below: number, width: number][] = [
  [60, 5],
  [600, 30],
  [3_600, 300],
  [86_400, 1_800],
  [Infinity, 21_600],
];

/** The bucket (its first second) a duration of whole seconds falls in. */
export function bucketOf(seconds: number): number {
  const s = Math.max(0, Math.floor(seconds));
  const width = STEPS.find(([below]) => s < below)![1];
  return s - (s % width);
}

/** How many whole seconds the bucket starting at `start` spans. */
export function bucketWidth(start: number): number {
  return STEPS.find(([below]) => start < below)![1];
}

/** The same as bucketOf() in SQL, over an expression of whole seconds (`floor` casts a number to an integer in the dialect). */
export function bucketSql(seconds: string, floor: (expr: string) => string): string {
  const cases = STEPS.map(([below, width]) => {
    const value = `${floor(`${seconds} / ${width}`)} * ${width}`;
    return below === Infinity ? `else ${value}` : `when ${seconds} < ${below} then ${value}`;
  });
  return `(case ${cases.join(' ')} end)`;
}
