import { timingSafeEqual } from "node:crypto";
import { checkDatabase } from "./db.server";
import { env } from "./env.server";
import { isOk, ollamaRequest } from "./ollama/transport.server";
import { checkRedis } from "./redis.server";

type CheckStatus = "ok" | "error" | "disabled";
export interface CheckResult {
  status: CheckStatus;
  latencyMs: number;
  error?: string;
  /** What the service reported about itself (Ollama's /api/version). */
  version?: string;
}
type Capability = "ok" | "unavailable";
export interface Capabilities {
  /** Public pages: sign-in and sign-up forms, the API docs. */
  pages: Capability;
  /** Signing in, and every page that needs a session (sessions and sign-in limits live in Redis). */
  signIn: Capability;
  /** Chat history, search and export. */
  history: Capability;
  /** New chat replies (Ollama, and Redis for the shared live log when configured). */
  chatReplies: Capability;
  /** /api/v1 (keys in the database, limits in Redis, models in Ollama). */
  api: Capability;
}
export interface HealthReport {
  /**
   * ok: everything works. degraded: Ollama is away, so no new replies, but people can sign in and read
   * their history. down: the database, or Redis when configured, is away; signed-in pages, sign-in and
   * the API answer 503, so this is a 503 too. draining: shutting down.
   */
  status: "ok" | "degraded" | "down" | "draining";
  version: string;
  uptime: number;
  checks: { database: CheckResult; redis: CheckResult; ollama: CheckResult };
  capabilities: Capabilities;
}
/** What anyone may see: status, check names and statuses, capabilities. No versions, timings or errors. */
export interface PublicHealthReport {
  status: HealthReport["status"];
  checks: Record<keyof HealthReport["checks"], { status: CheckStatus }>;
  capabilities: Capabilities;
}

const CHECK_TIMEOUT_MS = 1000;
/** Load balancers may call every second per replica; results are shared for this long. */
const CACHE_MS = 1000;
let cached: { at: number; report: Promise<HealthReport> } | undefined;
let draining = false;

export function markDraining() {
  draining = true;
}

async function timed(check: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  try {
    const outcome = await check();
    const version =
      typeof outcome === "object" && outcome && "version" in outcome ? outcome.version : undefined;
    return {
      status: outcome === "disabled" ? "disabled" : "ok",
      latencyMs: elapsed(started),
      ...(typeof version === "string" ? { version } : {}),
    };
  } catch (error) {
    return {
      status: "error",
      latencyMs: elapsed(started),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

function elapsed(started: number) {
  return Math.round((performance.now() - started) * 10) / 10;
}

async function checkOllama() {
  const response = await ollamaRequest("/api/version", { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  if (!isOk(response)) {
    await response.body.dump();
    throw new Error(`ollama answered ${response.statusCode}`);
  }
  const body = (await response.body.json().catch(() => null)) as { version?: unknown } | null;
  return { version: typeof body?.version === "string" ? body.version.slice(0, 50) : undefined };
}

/** What works, given the checks (README, "When a dependency is away"). */
export function capabilitiesOf(checks: HealthReport["checks"]): Capabilities {
  const database = checks.database.status === "ok";
  const redis = checks.redis.status !== "error";
  const ollama = checks.ollama.status === "ok";
  const state = (ok: boolean): Capability => (ok ? "ok" : "unavailable");
  return {
    pages: "ok",
    signIn: state(database && redis),
    history: state(database && redis),
    chatReplies: state(database && redis && ollama),
    api: state(database && redis && ollama),
  };
}

async function buildReport(): Promise<HealthReport> {
  const [database, redisCheck, ollama] = await Promise.all([
    timed(() => checkDatabase()),
    timed(() => checkRedis(CHECK_TIMEOUT_MS)),
    timed(checkOllama),
  ]);
  const checks = { database, redis: redisCheck, ollama };
  const status =
    database.status !== "ok" || redisCheck.status === "error"
      ? "down"
      : ollama.status === "error"
        ? "degraded"
        : "ok";
  return {
    status,
    version: __APP_VERSION__,
    uptime: Math.round(process.uptime()),
    checks,
    capabilities: capabilitiesOf(checks),
  };
}

export async function healthReport(): Promise<HealthReport> {
  const now = Date.now();
  if (!cached || now - cached.at >= CACHE_MS) cached = { at: now, report: buildReport() };
  const report = await cached.report;
  return draining ? { ...report, status: "draining" } : report;
}

export function publicView(report: HealthReport): PublicHealthReport {
  const only = (check: CheckResult) => ({ status: check.status });
  return {
    status: report.status,
    checks: {
      database: only(report.checks.database),
      redis: only(report.checks.redis),
      ollama: only(report.checks.ollama),
    },
    capabilities: report.capabilities,
  };
}

/** `Authorization: Bearer <HEALTH_TOKEN>` unlocks the detailed report for monitoring. */
export function hasHealthToken(authorization: string | null) {
  const expected = env().HEALTH_TOKEN;
  if (!expected || !authorization?.startsWith("Bearer ")) return false;
  const given = Buffer.from(authorization.slice("Bearer ".length));
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
