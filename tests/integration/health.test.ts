import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

interface Health {
  status: string;
  version: string;
  uptime: number;
  checks: Record<"database" | "redis" | "ollama", { status: string; latencyMs: number; error?: string }>;
  capabilities: Record<string, string>;
}

const HEALTH_TOKEN = "monitoring-token-0123456789";

/** The detailed report, as monitoring sees it with HEALTH_TOKEN. */
async function health(app: RunningApp) {
  const response = await fetch(`${app.url}/api/health`, {
    headers: { authorization: `Bearer ${HEALTH_TOKEN}` },
  });
  return { status: response.status, body: (await response.json()) as Health, headers: response.headers };
}

describe("GET /api/health", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;

  beforeAll(async () => {
    database = await createTestDatabase("health");
    ollama = await startFakeOllama();
    app = await startApp({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      OLLAMA_URL: ollama.url,
      HEALTH_TOKEN,
    });
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop().catch(() => {});
  });

  test("200 with every check ok, latencies, version and uptime", async () => {
    const { status, body, headers } = await health(app);
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{24}$/);
    expect(body.status).toBe("ok");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.uptime).toBeGreaterThanOrEqual(0);
    for (const name of ["database", "redis", "ollama"] as const) {
      expect(body.checks[name].status).toBe("ok");
      expect(body.checks[name].latencyMs).toBeGreaterThanOrEqual(0);
    }
  });

  test("anonymous callers see the status, the check names and what works; no version, timings or errors", async () => {
    const wrongToken = await fetch(`${app.url}/api/health`, { headers: { authorization: "Bearer nope" } });
    for (const response of [await fetch(`${app.url}/api/health`), wrongToken]) {
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        status: "ok",
        checks: { database: { status: "ok" }, redis: { status: "ok" }, ollama: { status: "ok" } },
        capabilities: { pages: "ok", signIn: "ok", history: "ok", chatReplies: "ok", api: "ok" },
      });
    }
  });

  test("an admin's session sees the details too", async () => {
    const admin = new Browser(app.url);
    await admin.signup("health-admin@example.com"); // the first account is the admin
    const response = await fetch(`${app.url}/api/health`, { headers: { cookie: admin.cookieHeader() } });
    const body = (await response.json()) as Health;
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.checks.database.latencyMs).toBeGreaterThanOrEqual(0);
    const user = new Browser(app.url);
    await user.signup("health-user@example.com");
    const plain = await (
      await fetch(`${app.url}/api/health`, { headers: { cookie: user.cookieHeader() } })
    ).json();
    expect(plain).not.toHaveProperty("version");
  });

  test("Ollama down is reported as degraded, still 200", async () => {
    ollama.setDown(true);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // past the 1 s result cache
      const { status, body } = await health(app);
      expect(status).toBe(200);
      expect(body.status).toBe("degraded");
      expect(body.checks.ollama.status).toBe("error");
      expect(body.checks.database.status).toBe("ok");
      expect(body.capabilities).toMatchObject({ signIn: "ok", history: "ok", chatReplies: "unavailable" });
    } finally {
      ollama.setDown(false);
    }
  });

  test("a burst of calls is answered from one round of checks", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = ollama.requests.filter((request) => request.path === "/api/version").length;
    const results = await Promise.all(Array.from({ length: 20 }, () => health(app)));
    expect(results.every((result) => result.status === 200)).toBe(true);
    const after = ollama.requests.filter((request) => request.path === "/api/version").length;
    expect(after - before).toBeLessThanOrEqual(2);
  });

  test("503 when the database does not answer", async () => {
    await database.drop();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { status, body } = await health(app);
    expect(status).toBe(503);
    expect(body.status).toBe("down");
    expect(body.checks.database.status).toBe("error");
  });
});

describe("health with Redis unreachable", () => {
  test("reports redis as an error and the app as down (503): sign-in and the API need it", async () => {
    const database = await createTestDatabase("health_redis");
    // Nothing listens on port 1: Redis is configured but down.
    const app = await startApp({
      DATABASE_URL: database.url,
      REDIS_URL: "redis://127.0.0.1:1",
      HEALTH_TOKEN,
    });
    try {
      const { status, body } = await health(app);
      expect(status).toBe(503);
      expect(body.status).toBe("down");
      expect(body.checks.redis.status).toBe("error");
      expect(body.checks.database.status).toBe("ok");
    } finally {
      await app.stop();
      await database.drop();
    }
  });
});
