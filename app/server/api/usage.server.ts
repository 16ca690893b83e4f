import { Prisma } from "~/generated/prisma/client";
import { db } from "../db.server";
import { env } from "../env.server";
import { errorFields, log } from "../log.server";
import { emptyHistogram, latencyBucket } from "../usage/latency";

/**
 * Usage accounting that never delays a request or a reply: recordUsage() (API calls) and
 * recordChatUsage() (finished chat replies) only append to an in-memory buffer. The buffer is
 * written every FLUSH_MS or when it holds FLUSH_EVENTS events, and on shutdown, in one transaction:
 * - API calls: one upsert into `usage_daily` (rows keyed by day, user, key and model, incremented
 *   with ON CONFLICT) and one insert of the raw events into `usage_events`, which are deleted after
 *   USAGE_RETENTION_DAYS (daily rows after USAGE_DAILY_RETENTION_DAYS);
 * - API calls and chat replies: the admin roll-ups `usage_model_daily` (with a latency histogram),
 *   `usage_user_daily` and `usage_user_monthly`, which the admin charts read instead of raw events
 *   (chat's raw record is the message row itself).
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

/** A finished chat reply, with Ollama's own token counts. */
export interface ChatUsage {
  userId: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** From sending the question to the end of the reply. */
  latencyMs: number;
  /** The reply failed (a stopped reply is not an error). */
  failed: boolean;
}

type BufferedEvent = UsageEvent & { source: "api" | "chat"; at: Date };

const FLUSH_MS = 1000;
const FLUSH_EVENTS = 500;
/** If the database is away for long, the oldest events are dropped rather than memory growing. */
const MAX_BUFFERED = 50_000;
const PRUNE_EVERY_MS = 3_600_000;

const buffer: BufferedEvent[] = [];
let timer: NodeJS.Timeout | undefined;
let flushing: Promise<void> | undefined;
let lastPrune = 0;
let stopped = false;

function count(value: number) {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

export function recordUsage(event: UsageEvent) {
  buffer_({ ...event, source: "api" });
}

export function recordChatUsage(usage: ChatUsage) {
  buffer_({
    userId: usage.userId,
    keyId: null,
    model: usage.model,
    endpoint: "chat",
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    latencyMs: usage.latencyMs,
    // Only "error or not" is kept for chat; 500 makes the one rule (status >= 400) serve both.
    status: usage.failed ? 500 : 200,
    source: "chat",
  });
}

function buffer_(event: Omit<BufferedEvent, "at">) {
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

function sumInto<
  T extends { requests: number; errors: number; promptTokens: number; completionTokens: number },
>(map: Map<string, T>, key: unknown[], create: () => T, event: BufferedEvent) {
  const id = JSON.stringify(key);
  let row = map.get(id);
  if (!row) {
    row = create();
    map.set(id, row);
  }
  row.requests++;
  if (event.status >= 400) row.errors++;
  row.promptTokens += event.promptTokens;
  row.completionTokens += event.completionTokens;
  return row;
}

const counters = () => ({ requests: 0, errors: 0, promptTokens: 0, completionTokens: 0 });

async function writeBatch(batch: BufferedEvent[]) {
  const api = batch.filter((event) => event.source === "api");
  const perKey = new Map<
    string,
    ReturnType<typeof counters> & {
      day: string;
      userId: string;
      keyId: string;
      model: string;
      latencyMs: number;
    }
  >();
  const perModel = new Map<
    string,
    ReturnType<typeof counters> & {
      day: string;
      source: string;
      model: string;
      latencyMs: number;
      histogram: number[];
    }
  >();
  const perUser = new Map<
    string,
    ReturnType<typeof counters> & { day: string; source: string; userId: string }
  >();
  // `day` is the month's first day here.
  const perUserMonth = new Map<
    string,
    ReturnType<typeof counters> & { day: string; source: string; userId: string }
  >();
  for (const event of batch) {
    const day = utcDay(event.at);
    const { source, userId, model } = event;
    if (source === "api") {
      const keyId = event.keyId ?? "";
      const row = sumInto(
        perKey,
        [day, userId, keyId, model],
        () => ({ day, userId, keyId, model, latencyMs: 0, ...counters() }),
        event,
      );
      row.latencyMs += event.latencyMs;
    }
    const modelRow = sumInto(
      perModel,
      [day, source, model],
      () => ({ day, source, model, latencyMs: 0, histogram: emptyHistogram(), ...counters() }),
      event,
    );
    modelRow.latencyMs += event.latencyMs;
    modelRow.histogram[latencyBucket(event.latencyMs)]++;
    sumInto(perUser, [day, source, userId], () => ({ day, source, userId, ...counters() }), event);
    const month = `${day.slice(0, 7)}-01`;
    sumInto(
      perUserMonth,
      [month, source, userId],
      () => ({ day: month, source, userId, ...counters() }),
      event,
    );
  }

  const statements = [];
  if (api.length) {
    const dailyValues = Prisma.join(
      [...perKey.values()].map(
        (row) =>
          Prisma.sql`(${row.day}::date, ${row.userId}::text, ${row.keyId}::text, ${row.model}::text, ${row.requests}::int, ${row.errors}::int, ${row.promptTokens}::bigint, ${row.completionTokens}::bigint, ${row.latencyMs}::bigint)`,
      ),
    );
    const eventValues = Prisma.join(
      api.map(
        (event) =>
          Prisma.sql`(${event.at.toISOString()}::timestamp, ${event.userId}::text, ${event.keyId}::text, ${event.model}::text, ${event.endpoint}::text, ${event.promptTokens}::int, ${event.completionTokens}::int, ${event.latencyMs}::int, ${event.status}::int)`,
      ),
    );
    // Joined with users so an event of a user deleted meanwhile is skipped instead of failing the batch.
    statements.push(
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
    );
  }

  // The histogram goes in as one array literal per row (a parameter per bucket would run into the
  // protocol's 65,535-parameter limit on a big batch); existing rows add it element by element.
  const modelValues = Prisma.join(
    [...perModel.values()].map(
      (row) =>
        Prisma.sql`(${row.day}::date, ${row.source}::"UsageSource", ${row.model}::text, ${row.requests}::int, ${row.errors}::int, ${row.promptTokens}::bigint, ${row.completionTokens}::bigint, ${row.latencyMs}::bigint, ${`{${row.histogram.join(",")}}`}::int[])`,
    ),
  );
  const userValues = (
    rows: Iterable<ReturnType<typeof counters> & { day: string; source: string; userId: string }>,
  ) =>
    Prisma.join(
      [...rows].map(
        (row) =>
          Prisma.sql`(${row.day}::date, ${row.source}::"UsageSource", ${row.userId}::text, ${row.requests}::int, ${row.errors}::int, ${row.promptTokens}::bigint, ${row.completionTokens}::bigint)`,
      ),
    );
  statements.push(
    db().$executeRaw`
      INSERT INTO usage_model_daily (day, source, model, requests, errors, prompt_tokens, completion_tokens, latency_ms_total, latency_buckets)
      SELECT v.* FROM (VALUES ${modelValues}) AS v(day, source, model, requests, errors, prompt_tokens, completion_tokens, latency_ms_total, latency_buckets)
      ON CONFLICT (day, source, model) DO UPDATE SET
        requests = usage_model_daily.requests + EXCLUDED.requests,
        errors = usage_model_daily.errors + EXCLUDED.errors,
        prompt_tokens = usage_model_daily.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = usage_model_daily.completion_tokens + EXCLUDED.completion_tokens,
        latency_ms_total = usage_model_daily.latency_ms_total + EXCLUDED.latency_ms_total,
        latency_buckets = ARRAY(
          SELECT coalesce(old, 0) + coalesce(new, 0)
          FROM unnest(usage_model_daily.latency_buckets, EXCLUDED.latency_buckets) WITH ORDINALITY AS b(old, new, i)
          ORDER BY i
        )`,
    db().$executeRaw`
      INSERT INTO usage_user_daily (day, source, user_id, requests, errors, prompt_tokens, completion_tokens)
      SELECT v.* FROM (VALUES ${userValues(perUser.values())}) AS v(day, source, user_id, requests, errors, prompt_tokens, completion_tokens)
      JOIN users ON users.id = v.user_id
      ON CONFLICT (day, source, user_id) DO UPDATE SET
        requests = usage_user_daily.requests + EXCLUDED.requests,
        errors = usage_user_daily.errors + EXCLUDED.errors,
        prompt_tokens = usage_user_daily.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = usage_user_daily.completion_tokens + EXCLUDED.completion_tokens`,
    db().$executeRaw`
      INSERT INTO usage_user_monthly (month, source, user_id, requests, errors, prompt_tokens, completion_tokens)
      SELECT v.* FROM (VALUES ${userValues(perUserMonth.values())}) AS v(month, source, user_id, requests, errors, prompt_tokens, completion_tokens)
      JOIN users ON users.id = v.user_id
      ON CONFLICT (month, source, user_id) DO UPDATE SET
        requests = usage_user_monthly.requests + EXCLUDED.requests,
        errors = usage_user_monthly.errors + EXCLUDED.errors,
        prompt_tokens = usage_user_monthly.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = usage_user_monthly.completion_tokens + EXCLUDED.completion_tokens`,
  );
  await db().$transaction(statements);
  log.debug("api usage written", {
    events: batch.length,
    apiDailyRows: perKey.size,
    modelDailyRows: perModel.size,
  });
}

async function pruneIfDue() {
  const now = Date.now();
  if (now - lastPrune < PRUNE_EVERY_MS) return;
  lastPrune = now;
  const { USAGE_RETENTION_DAYS, USAGE_DAILY_RETENTION_DAYS } = env();
  const dailyCutoff = new Date(now - USAGE_DAILY_RETENTION_DAYS * 86_400_000);
  // The admin roll-ups follow the same retention; a month goes once all of it is past.
  const monthCutoff = new Date(Date.UTC(dailyCutoff.getUTCFullYear(), dailyCutoff.getUTCMonth() - 1, 1));
  try {
    // One transaction, so readers never see one table pruned and another not yet.
    const [events, days] = await db().$transaction([
      db().usageEvent.deleteMany({
        where: { at: { lt: new Date(now - USAGE_RETENTION_DAYS * 86_400_000) } },
      }),
      db().usageDaily.deleteMany({ where: { day: { lt: dailyCutoff } } }),
      db().usageModelDaily.deleteMany({ where: { day: { lt: dailyCutoff } } }),
      db().usageUserDaily.deleteMany({ where: { day: { lt: dailyCutoff } } }),
      db().usageUserMonthly.deleteMany({ where: { month: { lte: monthCutoff } } }),
    ]);
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
