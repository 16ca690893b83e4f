import { Prisma } from "~/generated/prisma/client";
import { db } from "../db.server";
import { env } from "../env.server";
import { errorFields, log } from "../log.server";

/**
 * API usage accounting that never delays a request: recordUsage() only appends to an in-memory
 * buffer. The buffer is written every FLUSH_MS or when it holds FLUSH_EVENTS events, and on
 * shutdown: one upsert into `usage_daily` (rows keyed by day, user, key and model, incremented with
 * ON CONFLICT) and one insert of the raw events into `usage_events`, which are deleted after
 * USAGE_RETENTION_DAYS (daily rows after USAGE_DAILY_RETENTION_DAYS).
 */
export interface UsageEvent {
  userId: string;
  keyId: string | null;
  model: string;
  endpoint: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /** The HTTP status sent (or, for a stream that failed midway, the status it would have had). */
  status: number;
}

const FLUSH_MS = 1000;
const FLUSH_EVENTS = 500;
/** If the database is away for long, the oldest events are dropped rather than memory growing. */
const MAX_BUFFERED = 50_000;
const PRUNE_EVERY_MS = 3_600_000;

const buffer: (UsageEvent & { at: Date })[] = [];
let timer: NodeJS.Timeout | undefined;
let flushing: Promise<void> | undefined;
let lastPrune = 0;
let stopped = false;

function count(value: number) {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

export function recordUsage(event: UsageEvent) {
  if (stopped) return;
  buffer.push({
    ...event,
    promptTokens: count(event.promptTokens),
    completionTokens: count(event.completionTokens),
    latencyMs: count(event.latencyMs),
    at: new Date(),
  });
  if (buffer.length > MAX_BUFFERED) buffer.splice(0, buffer.length - MAX_BUFFERED);
  if (buffer.length >= FLUSH_EVENTS) void flushUsage();
  else timer ??= setTimeout(() => void flushUsage(), FLUSH_MS).unref();
}

/** Writes whatever is buffered. Safe to call any time; concurrent calls share one write. */
export function flushUsage(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = undefined;
  flushing ??= (async () => {
    try {
      while (buffer.length) {
        const batch = buffer.splice(0, FLUSH_EVENTS * 4);
        try {
          await writeBatch(batch);
        } catch (error) {
          log.error("could not write api usage; will retry", { events: batch.length, ...errorFields(error) });
          buffer.unshift(...batch);
          if (!stopped) timer ??= setTimeout(() => void flushUsage(), FLUSH_MS * 5).unref();
          return;
        }
      }
      await pruneIfDue();
    } finally {
      flushing = undefined;
    }
  })();
  return flushing;
}

function utcDay(at: Date) {
  return at.toISOString().slice(0, 10);
}

async function writeBatch(batch: (UsageEvent & { at: Date })[]) {
  const rollup = new Map<
    string,
    {
      day: string;
      userId: string;
      keyId: string;
      model: string;
      requests: number;
      errors: number;
      promptTokens: number;
      completionTokens: number;
      latencyMs: number;
    }
  >();
  for (const event of batch) {
    const day = utcDay(event.at);
    const keyId = event.keyId ?? "";
    const id = JSON.stringify([day, event.userId, keyId, event.model]);
    let row = rollup.get(id);
    if (!row) {
      row = {
        day,
        userId: event.userId,
        keyId,
        model: event.model,
        requests: 0,
        errors: 0,
        promptTokens: 0,
        completionTokens: 0,
        latencyMs: 0,
      };
      rollup.set(id, row);
    }
    row.requests++;
    if (event.status >= 400) row.errors++;
    row.promptTokens += event.promptTokens;
    row.completionTokens += event.completionTokens;
    row.latencyMs += event.latencyMs;
  }
  const dailyValues = Prisma.join(
    [...rollup.values()].map(
      (row) =>
        Prisma.sql`(${row.day}::date, ${row.userId}::text, ${row.keyId}::text, ${row.model}::text, ${row.requests}::int, ${row.errors}::int, ${row.promptTokens}::bigint, ${row.completionTokens}::bigint, ${row.latencyMs}::bigint)`,
    ),
  );
  const eventValues = Prisma.join(
    batch.map(
      (event) =>
        Prisma.sql`(${event.at.toISOString()}::timestamp, ${event.userId}::text, ${event.keyId}::text, ${event.model}::text, ${event.endpoint}::text, ${event.promptTokens}::int, ${event.completionTokens}::int, ${event.latencyMs}::int, ${event.status}::int)`,
    ),
  );
  // Joined with users so an event of a user deleted meanwhile is skipped instead of failing the batch.
  await db().$transaction([
    db().$executeRaw`
      INSERT INTO usage_daily (day, user_id, key_id, model, requests, errors, prompt_tokens, completion_tokens, latency_ms_total)
      SELECT v.* FROM (VALUES ${dailyValues}) AS v(day, user_id, key_id, model, requests, errors, prompt_tokens, completion_tokens, latency_ms_total)
      JOIN users ON users.id = v.user_id
      ON CONFLICT (day, user_id, key_id, model) DO UPDATE SET
        requests = usage_daily.requests + EXCLUDED.requests,
        errors = usage_daily.errors + EXCLUDED.errors,
        prompt_tokens = usage_daily.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = usage_daily.completion_tokens + EXCLUDED.completion_tokens,
        latency_ms_total = usage_daily.latency_ms_total + EXCLUDED.latency_ms_total`,
    db().$executeRaw`
      INSERT INTO usage_events (at, user_id, key_id, model, endpoint, prompt_tokens, completion_tokens, latency_ms, status)
      SELECT v.* FROM (VALUES ${eventValues}) AS v(at, user_id, key_id, model, endpoint, prompt_tokens, completion_tokens, latency_ms, status)
      JOIN users ON users.id = v.user_id`,
  ]);
  log.debug("api usage written", { events: batch.length, dailyRows: rollup.size });
}

async function pruneIfDue() {
  const now = Date.now();
  if (now - lastPrune < PRUNE_EVERY_MS) return;
  lastPrune = now;
  const { USAGE_RETENTION_DAYS, USAGE_DAILY_RETENTION_DAYS } = env();
  try {
    const events = await db().usageEvent.deleteMany({
      where: { at: { lt: new Date(now - USAGE_RETENTION_DAYS * 86_400_000) } },
    });
    const days = await db().usageDaily.deleteMany({
      where: { day: { lt: new Date(now - USAGE_DAILY_RETENTION_DAYS * 86_400_000) } },
    });
    if (events.count || days.count)
      log.info("api usage pruned", { events: events.count, dailyRows: days.count });
  } catch (error) {
    log.warn("could not prune api usage", errorFields(error));
  }
}

/** On shutdown: write what is buffered, then refuse new events. */
export async function stopUsage() {
  await flushUsage().catch(() => {});
  stopped = true;
  if (timer) clearTimeout(timer);
  timer = undefined;
}

/** A user's usage over the last `days` days, per key and model, newest first. */
export async function usageSummary(userId: string, days = 30) {
  const since = new Date(Date.now() - (days - 1) * 86_400_000);
  since.setUTCHours(0, 0, 0, 0);
  const [rows, keys] = await Promise.all([
    db().usageDaily.groupBy({
      by: ["keyId", "model"],
      where: { userId, day: { gte: since } },
      _sum: {
        requests: true,
        errors: true,
        promptTokens: true,
        completionTokens: true,
        latencyMsTotal: true,
      },
      orderBy: { _sum: { requests: "desc" } },
    }),
    db().apiKey.findMany({ where: { userId }, select: { id: true, name: true, prefix: true } }),
  ]);
  const byId = new Map(keys.map((key) => [key.id, key]));
  return rows.map((row) => {
    const requests = row._sum.requests ?? 0;
    const key = byId.get(row.keyId);
    return {
      keyId: row.keyId,
      keyName: key ? key.name : row.keyId ? "(deleted key)" : "(no key)",
      keyPrefix: key?.prefix ?? null,
      model: row.model,
      requests,
      errors: row._sum.errors ?? 0,
      promptTokens: Number(row._sum.promptTokens ?? 0),
      completionTokens: Number(row._sum.completionTokens ?? 0),
      averageLatencyMs: requests ? Math.round(Number(row._sum.latencyMsTotal ?? 0) / requests) : 0,
    };
  });
}
