import { Prisma } from "~/generated/prisma/client";
import type { UsageSourceFilter } from "~/lib/admin-usage";
import { formatDay, TOP_USERS } from "~/lib/admin-usage";
import { csvRow } from "../chat/export.server";
import { db } from "../db.server";
import { addHistogram, emptyHistogram, percentileMs } from "../usage/latency";

/**
 * The numbers behind /admin/usage and its CSV files, read only from the daily roll-ups written by
 * api/usage.server.ts (never from raw events or messages):
 * - `usage_model_daily` (day × source × model, with a latency histogram): every per-day series,
 *   the per-model totals and the overall totals — a few thousand rows for a year;
 * - `usage_user_monthly` for whole months plus `usage_user_daily` for the partial months at either
 *   end: the per-user totals, so a year over 1,000 users sums ~24,000 rows, not ~730,000.
 */
export interface UsageRange {
  /** Inclusive UTC days. */
  from: Date;
  to: Date;
  source: UsageSourceFilter;
}

const DAY_MS = 86_400_000;

export interface DayUsage {
  day: string;
  requests: number;
  chatRequests: number;
  apiRequests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  /** Null on a day without requests (or without latency data: roll-ups from before the histogram). */
  p50Ms: number | null;
  p95Ms: number | null;
  /** errors / requests, 0..1; null on a day without requests. */
  errorRate: number | null;
}

export interface Totals {
  requests: number;
  chatRequests: number;
  apiRequests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface ModelUsage {
  model: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
}

export interface UserUsage {
  userId: string;
  email: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
}

function sourceCondition(source: UsageSourceFilter) {
  return source === "all" ? Prisma.sql`TRUE` : Prisma.sql`source = ${source}::"UsageSource"`;
}

/** Per-day series, per-model totals and overall totals for the range. */
export async function usageByDayAndModel(range: UsageRange) {
  const rows = await db().$queryRaw<
    {
      day: Date;
      source: "chat" | "api";
      model: string;
      requests: number;
      errors: number;
      promptTokens: bigint;
      completionTokens: bigint;
      latencyBuckets: number[] | null;
    }[]
  >`
    SELECT day, source, model, requests, errors, prompt_tokens AS "promptTokens",
           completion_tokens AS "completionTokens", latency_buckets AS "latencyBuckets"
    FROM usage_model_daily
    WHERE day BETWEEN ${formatDay(range.from)}::date AND ${formatDay(range.to)}::date
      AND ${sourceCondition(range.source)}`;

  const days = new Map<string, Omit<DayUsage, "p50Ms" | "p95Ms" | "errorRate"> & { histogram: number[] }>();
  for (let t = range.from.getTime(); t <= range.to.getTime(); t += DAY_MS) {
    const day = formatDay(new Date(t));
    days.set(day, {
      day,
      requests: 0,
      chatRequests: 0,
      apiRequests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      histogram: emptyHistogram(),
    });
  }
  const models = new Map<string, ModelUsage>();
  const overall = emptyHistogram();
  for (const row of rows) {
    const day = days.get(formatDay(row.day));
    if (!day) continue;
    const promptTokens = Number(row.promptTokens);
    const completionTokens = Number(row.completionTokens);
    day.requests += row.requests;
    if (row.source === "chat") day.chatRequests += row.requests;
    else day.apiRequests += row.requests;
    day.errors += row.errors;
    day.promptTokens += promptTokens;
    day.completionTokens += completionTokens;
    addHistogram(day.histogram, row.latencyBuckets);
    addHistogram(overall, row.latencyBuckets);
    let model = models.get(row.model);
    if (!model) {
      model = { model: row.model, requests: 0, errors: 0, promptTokens: 0, completionTokens: 0 };
      models.set(row.model, model);
    }
    model.requests += row.requests;
    model.errors += row.errors;
    model.promptTokens += promptTokens;
    model.completionTokens += completionTokens;
  }

  const series: DayUsage[] = [...days.values()].map(({ histogram, ...day }) => ({
    ...day,
    p50Ms: percentileMs(histogram, 0.5),
    p95Ms: percentileMs(histogram, 0.95),
    errorRate: day.requests ? day.errors / day.requests : null,
  }));
  const totals: Totals = {
    requests: 0,
    chatRequests: 0,
    apiRequests: 0,
    errors: 0,
    promptTokens: 0,
    completionTokens: 0,
    p50Ms: percentileMs(overall, 0.5),
    p95Ms: percentileMs(overall, 0.95),
  };
  for (const day of series) {
    totals.requests += day.requests;
    totals.chatRequests += day.chatRequests;
    totals.apiRequests += day.apiRequests;
    totals.errors += day.errors;
    totals.promptTokens += day.promptTokens;
    totals.completionTokens += day.completionTokens;
  }
  const byModel = [...models.values()].sort(
    (a, b) => tokens(b) - tokens(a) || b.requests - a.requests || a.model.localeCompare(b.model),
  );
  return { series, byModel, totals };
}

const tokens = (row: { promptTokens: number; completionTokens: number }) =>
  row.promptTokens + row.completionTokens;

/**
 * Per-user totals over the range, most tokens first; `limit` null = every user with usage.
 * Whole calendar months come from the monthly roll-up, the partial months at either end from the
 * daily one.
 */
export async function usageByUser(range: UsageRange, limit: number | null) {
  const from = range.from;
  const afterTo = new Date(range.to.getTime() + DAY_MS);
  const monthStart = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
  const firstWhole =
    from.getUTCDate() === 1
      ? from
      : monthStart(new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)));
  const wholeEnd = afterTo.getUTCDate() === 1 ? afterTo : monthStart(afterTo);
  const condition = sourceCondition(range.source);
  const parts =
    firstWhole < wholeEnd
      ? Prisma.sql`
          SELECT user_id, requests, errors, prompt_tokens, completion_tokens FROM usage_user_monthly
          WHERE month >= ${formatDay(firstWhole)}::date AND month < ${formatDay(wholeEnd)}::date AND ${condition}
          UNION ALL
          SELECT user_id, requests, errors, prompt_tokens, completion_tokens FROM usage_user_daily
          WHERE ((day >= ${formatDay(from)}::date AND day < ${formatDay(firstWhole)}::date)
              OR (day >= ${formatDay(wholeEnd)}::date AND day < ${formatDay(afterTo)}::date))
            AND ${condition}`
      : Prisma.sql`
          SELECT user_id, requests, errors, prompt_tokens, completion_tokens FROM usage_user_daily
          WHERE day >= ${formatDay(from)}::date AND day < ${formatDay(afterTo)}::date AND ${condition}`;
  const rows = await db().$queryRaw<
    {
      userId: string;
      email: string | null;
      requests: bigint;
      errors: bigint;
      promptTokens: bigint;
      completionTokens: bigint;
    }[]
  >`
    WITH totals AS (
      SELECT p.user_id, sum(p.requests) AS requests, sum(p.errors) AS errors,
             sum(p.prompt_tokens) AS prompt, sum(p.completion_tokens) AS completion
      FROM (${parts}) AS p
      GROUP BY p.user_id
      ORDER BY sum(p.prompt_tokens) + sum(p.completion_tokens) DESC, sum(p.requests) DESC, p.user_id
      ${limit === null ? Prisma.empty : Prisma.sql`LIMIT ${limit}`}
    )
    -- Summed first, then joined: the addresses of the top N only, and no sort of every row by address.
    SELECT t.user_id AS "userId", u.email, t.requests, t.errors, t.prompt AS "promptTokens",
           t.completion AS "completionTokens"
    FROM totals t LEFT JOIN users u ON u.id = t.user_id
    ORDER BY t.prompt + t.completion DESC, t.requests DESC, t.user_id`;
  return rows.map(
    (row): UserUsage => ({
      userId: row.userId,
      email: row.email,
      requests: Number(row.requests),
      errors: Number(row.errors),
      promptTokens: Number(row.promptTokens),
      completionTokens: Number(row.completionTokens),
    }),
  );
}

/** Everything the page shows. */
export async function usageOverview(range: UsageRange) {
  const [byDay, topUsers] = await Promise.all([usageByDayAndModel(range), usageByUser(range, TOP_USERS)]);
  return { ...byDay, topUsers };
}

export const USAGE_CSV_TABLES = ["daily", "models", "users"] as const;
export type UsageCsvTable = (typeof USAGE_CSV_TABLES)[number];

/**
 * The page's numbers as CSV (RFC 4180, CRLF): per day, per model, or per user (every user, not only
 * the top ones). Tokens are exact counts; latencies are the histogram percentiles the chart shows.
 */
export async function usageCsv(range: UsageRange, table: UsageCsvTable) {
  if (table === "users") {
    const users = await usageByUser(range, null);
    return [
      csvRow(["user_id", "email", "requests", "errors", "prompt_tokens", "completion_tokens"]),
      ...users.map((user) =>
        csvRow([
          user.userId,
          user.email,
          user.requests,
          user.errors,
          user.promptTokens,
          user.completionTokens,
        ]),
      ),
    ].join("");
  }
  const { series, byModel } = await usageByDayAndModel(range);
  if (table === "models") {
    return [
      csvRow(["model", "requests", "errors", "prompt_tokens", "completion_tokens"]),
      ...byModel.map((model) =>
        csvRow([model.model, model.requests, model.errors, model.promptTokens, model.completionTokens]),
      ),
    ].join("");
  }
  return [
    csvRow([
      "date",
      "requests",
      "chat_requests",
      "api_requests",
      "errors",
      "error_rate",
      "prompt_tokens",
      "completion_tokens",
      "latency_p50_ms",
      "latency_p95_ms",
    ]),
    ...series.map((day) =>
      csvRow([
        day.day,
        day.requests,
        day.chatRequests,
        day.apiRequests,
        day.errors,
        day.errorRate === null ? null : day.errorRate.toFixed(4),
        day.promptTokens,
        day.completionTokens,
        day.p50Ms,
        day.p95Ms,
      ]),
    ),
  ].join("");
}
