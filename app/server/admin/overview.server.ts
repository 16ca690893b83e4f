import { db } from "../db.server";
import { healthReport } from "../health.server";
import { listPulls } from "../models/pulls.server";
import { isOk, ollamaRequest } from "../ollama/transport.server";

/**
 * The numbers on /admin. Counts are exact except messages, which can run to many millions: past
 * ESTIMATE_ABOVE rows PostgreSQL's own estimate (pg_class.reltuples, kept by autovacuum) is shown
 * instead of a full count, marked as approximate.
 */
const ESTIMATE_ABOVE = 1_000_000;

async function messageCount(): Promise<{ value: number; approximate: boolean }> {
  const [estimate] = await db().$queryRaw<{ rows: number }[]>`
    SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = 'messages'::regclass`;
  if (estimate && estimate.rows > ESTIMATE_ABOVE)
    return { value: Math.round(estimate.rows), approximate: true };
  return { value: await db().message.count(), approximate: false };
}

/** Today's API traffic (UTC day), from the daily roll-up (written about once a second). */
async function apiToday() {
  const today = new Date(new Date().toISOString().slice(0, 10));
  const sum = await db().usageDaily.aggregate({
    where: { day: today },
    _sum: { requests: true, errors: true, promptTokens: true, completionTokens: true },
  });
  const requests = sum._sum.requests ?? 0;
  const errors = sum._sum.errors ?? 0;
  return {
    requests,
    errors,
    tokens: Number(sum._sum.promptTokens ?? 0) + Number(sum._sum.completionTokens ?? 0),
    errorRate: requests ? errors / requests : null,
  };
}

export interface LoadedModel {
  name: string;
  size: number;
  sizeVram: number;
  expiresAt: string | null;
}

/** Ollama's GET /api/ps; null when Ollama cannot be asked. */
async function loadedModels(): Promise<LoadedModel[] | null> {
  try {
    const response = await ollamaRequest("/api/ps", { signal: AbortSignal.timeout(2000) });
    if (!isOk(response)) {
      await response.body.dump();
      return null;
    }
    const body = (await response.body.json()) as {
      models?: Array<{
        name?: string;
        model?: string;
        size?: number;
        size_vram?: number;
        expires_at?: string;
      }>;
    } | null;
    return (body?.models ?? []).map((model) => ({
      name: String(model.name ?? model.model ?? "?"),
      size: Number(model.size ?? 0),
      sizeVram: Number(model.size_vram ?? 0),
      expiresAt: typeof model.expires_at === "string" ? model.expires_at : null,
    }));
  } catch {
    return null;
  }
}

export async function adminOverview() {
  const [users, disabledUsers, admins, chats, messages, apiKeys, today, health, models, pulls] =
    await Promise.all([
      db().user.count(),
      db().user.count({ where: { disabledAt: { not: null } } }),
      db().user.count({ where: { role: "ADMIN", disabledAt: null } }),
      db().chat.count(),
      messageCount(),
      db().apiKey.count({ where: { revokedAt: null } }),
      apiToday(),
      healthReport(),
      loadedModels(),
      listPulls().then((all) => all.filter((pull) => pull.status === "running")),
    ]);
  return {
    counts: { users, disabledUsers, admins, chats, messages, apiKeys },
    today,
    health: {
      status: health.status,
      checks: health.checks,
    },
    loadedModels: models,
    runningPulls: pulls.map((pull) => ({ name: pull.name, percent: pull.percent, line: pull.line })),
    appVersion: __APP_VERSION__,
    uptimeSeconds: health.uptime,
  };
}
