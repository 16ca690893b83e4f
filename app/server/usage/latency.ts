/**
 * Latency percentiles from daily roll-ups. A percentile of several days cannot be computed from the
 * days' percentiles, so each roll-up row keeps a small histogram instead: the number of requests
 * whose latency fell in each of these fixed buckets. Histograms add up element by element, and
 * p50/p95 of any range are read from the summed counts, interpolated linearly inside the bucket
 * where the percentile falls. The answer is exact to within that bucket's width (a step of 1.3–2×),
 * which is what a chart needs; the bounds are stored nowhere else, so changing them needs a
 * migration that rewrites `latency_buckets`.
 *
 * Bucket i holds latencies in [LOWER_BOUNDS[i], LOWER_BOUNDS[i + 1]) milliseconds; the last one is
 * open-ended.
 */
export const LATENCY_LOWER_BOUNDS_MS = [
  0, 25, 50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000,
  30_000, 45_000, 60_000, 120_000, 300_000,
] as const;

export const LATENCY_BUCKETS = LATENCY_LOWER_BOUNDS_MS.length;

export function latencyBucket(ms: number) {
  let index = 0;
  while (index + 1 < LATENCY_BUCKETS && ms >= LATENCY_LOWER_BOUNDS_MS[index + 1]) index++;
  return index;
}

export function emptyHistogram() {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/** Adds `from` into `into` (rows written before the histogram existed have an empty array). */
export function addHistogram(into: number[], from: readonly number[] | null | undefined) {
  if (!from) return into;
  for (let i = 0; i < Math.min(into.length, from.length); i++) into[i] += Number(from[i]) || 0;
  return into;
}

/**
 * The `fraction` percentile (0.5 for p50) in milliseconds, or null when the histogram is empty.
 * In the open-ended last bucket the answer is its lower bound: "at least five minutes".
 */
export function percentileMs(histogram: readonly number[], fraction: number): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = fraction * total;
  let below = 0;
  for (let i = 0; i < histogram.length; i++) {
    const count = histogram[i];
    if (count > 0 && below + count >= rank) {
      const lower = LATENCY_LOWER_BOUNDS_MS[i];
      const upper = LATENCY_LOWER_BOUNDS_MS[i + 1];
      if (upper === undefined) return lower;
      return Math.round(lower + ((rank - below) / count) * (upper - lower));
    }
    below += count;
  }
  return LATENCY_LOWER_BOUNDS_MS[histogram.length - 1] ?? null;
}
