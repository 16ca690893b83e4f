import { checkDatabase } from "./db.server";
import { isOk, ollamaRequest } from "./ollama/transport.server";
import { checkRedis } from "./redis.server";

type CheckStatus = "ok" | "error" | "disabled";
export interface CheckResult {
  status: CheckStatus;
  latencyMs: number;
  error?: string;
}
export interface HealthReport {
  status: "ok" | "degraded" | "down" | "draining";
  version: string;
  uptime: number;
  checks: { database: CheckResult; redis: CheckResult; ollama: CheckResult };
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
    return { status: outcome === "disabled" ? "disabled" : "ok", latencyMs: elapsed(started) };
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
  await response.body.dump();
  if (!isOk(response)) throw new Error(`ollama answered ${response.statusCode}`);
}

async function buildReport(): Promise<HealthReport> {
  const [database, redisCheck, ollama] = await Promise.all([
    timed(() => checkDatabase()),
    timed(() => checkRedis(CHECK_TIMEOUT_MS)),
    timed(checkOllama),
  ]);
  const status =
    database.status !== "ok"
      ? "down"
      : redisCheck.status === "error" || ollama.status === "error"
        ? "degraded"
        : "ok";
  return {
    status,
    version: __APP_VERSION__,
    uptime: Math.round(process.uptime()),
    checks: { database, redis: redisCheck, ollama },
  };
}

export async function healthReport(): Promise<HealthReport> {
  const now = Date.now();
  if (!cached || now - cached.at >= CACHE_MS) cached = { at: now, report: buildReport() };
  const report = await cached.report;
  return draining ? { ...report, status: "draining" } : report;
}
