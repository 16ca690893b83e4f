import { describe, expect, test } from "vitest";
import { addHistogram, emptyHistogram, LATENCY_BUCKETS, latencyBucket, percentileMs } from "./latency";

describe("latency histogram", () => {
  test("buckets are half-open [lower, next lower) and the last is open-ended", () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(24)).toBe(0);
    expect(latencyBucket(25)).toBe(1);
    expect(latencyBucket(999)).toBe(7);
    expect(latencyBucket(1_000)).toBe(8);
    expect(latencyBucket(10_000_000)).toBe(LATENCY_BUCKETS - 1);
  });

  test("percentiles of summed days fall in the bucket of the true percentile", () => {
    const latencies = [...Array.from({ length: 90 }, () => 120), ...Array.from({ length: 10 }, () => 4_000)];
    const dayOne = emptyHistogram();
    const dayTwo = emptyHistogram();
    latencies.forEach((ms, i) => {
      (i % 2 ? dayOne : dayTwo)[latencyBucket(ms)]++;
    });
    const both = addHistogram(addHistogram(emptyHistogram(), dayOne), dayTwo);
    const p50 = percentileMs(both, 0.5) ?? -1;
    const p95 = percentileMs(both, 0.95) ?? -1;
    expect(p50).toBeGreaterThanOrEqual(100);
    expect(p50).toBeLessThan(200);
    expect(p95).toBeGreaterThanOrEqual(3_000);
    expect(p95).toBeLessThan(5_000);
  });

  test("empty and short (pre-histogram) rows", () => {
    expect(percentileMs(emptyHistogram(), 0.5)).toBeNull();
    expect(addHistogram(emptyHistogram(), [])).toEqual(emptyHistogram());
    const slow = emptyHistogram();
    slow[LATENCY_BUCKETS - 1] = 3;
    expect(percentileMs(slow, 0.95)).toBe(300_000);
  });
});
