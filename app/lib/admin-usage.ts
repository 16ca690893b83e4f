import { z } from "zod";

/** The date ranges offered on /admin/usage; "custom" takes `from` and `to`. Days are UTC. */
export const USAGE_PRESETS = {
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  "90d": "Last 90 days",
  "365d": "Last 12 months",
  month: "This month",
  "last-month": "Last month",
  custom: "Custom",
} as const;
export type UsagePreset = keyof typeof USAGE_PRESETS;

export const USAGE_SOURCES = { all: "Chat and API", chat: "Chat only", api: "API only" } as const;
export type UsageSourceFilter = keyof typeof USAGE_SOURCES;

/** Roll-ups are kept up to USAGE_DAILY_RETENTION_DAYS (730 by default); a range may span that. */
export const MAX_RANGE_DAYS = 731;

const DAY_MS = 86_400_000;
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "Use a date like 2026-01-31.");

export const usageQuerySchema = z
  .object({
    preset: z.enum(Object.keys(USAGE_PRESETS) as [UsagePreset, ...UsagePreset[]]).default("30d"),
    from: z.union([isoDay, z.literal("")]).optional(),
    to: z.union([isoDay, z.literal("")]).optional(),
    source: z.enum(Object.keys(USAGE_SOURCES) as [UsageSourceFilter, ...UsageSourceFilter[]]).default("all"),
  })
  .superRefine((value, ctx) => {
    if (value.preset !== "custom") return;
    for (const field of ["from", "to"] as const) {
      const text = value[field];
      if (!text) ctx.addIssue({ code: "custom", path: [field], message: "Choose a date." });
      else if (Number.isNaN(parseDay(text)?.getTime() ?? Number.NaN))
        ctx.addIssue({ code: "custom", path: [field], message: "That is not a date." });
    }
    const from = value.from ? parseDay(value.from) : undefined;
    const to = value.to ? parseDay(value.to) : undefined;
    if (from && to) {
      if (from > to) ctx.addIssue({ code: "custom", path: ["to"], message: "The end is before the start." });
      else if ((to.getTime() - from.getTime()) / DAY_MS + 1 > MAX_RANGE_DAYS)
        ctx.addIssue({
          code: "custom",
          path: ["to"],
          message: `Choose at most ${MAX_RANGE_DAYS} days.`,
        });
    }
  });
export type UsageQuery = z.infer<typeof usageQuerySchema>;

/** A YYYY-MM-DD string as midnight UTC; undefined unless it names a real calendar day. */
export function parseDay(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text ? date : undefined;
}

export function formatDay(date: Date) {
  return date.toISOString().slice(0, 10);
}

/** The inclusive UTC day range a valid query stands for, `today` being the current UTC day. */
export function resolveRange(query: UsageQuery, today: Date): { from: Date; to: Date } {
  const day = (offset: number) => new Date(today.getTime() + offset * DAY_MS);
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth();
  switch (query.preset) {
    case "7d":
      return { from: day(-6), to: today };
    case "30d":
      return { from: day(-29), to: today };
    case "90d":
      return { from: day(-89), to: today };
    case "365d":
      return { from: day(-364), to: today };
    case "month":
      return { from: new Date(Date.UTC(y, m, 1)), to: today };
    case "last-month":
      return { from: new Date(Date.UTC(y, m - 1, 1)), to: new Date(Date.UTC(y, m, 0)) };
    case "custom":
      return { from: parseDay(query.from ?? "") ?? today, to: parseDay(query.to ?? "") ?? today };
  }
}

/** The query string for a range and source (links to the CSV files keep the page's choice). */
export function usageSearch(query: { preset: UsagePreset; from?: string; to?: string; source: string }) {
  const params = new URLSearchParams({ preset: query.preset });
  if (query.preset === "custom") {
    params.set("from", query.from ?? "");
    params.set("to", query.to ?? "");
  }
  params.set("source", query.source);
  return params.toString();
}

/** How many users (and models) the top charts show; the CSV has them all. */
export const TOP_USERS = 10;
