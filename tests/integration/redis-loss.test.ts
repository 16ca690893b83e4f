import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { freePort, type RunningApp, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HEALTH_TOKEN = "health-token-for-monitoring-0123";

/**
 * Redis holds sessions, sign-in limits and API limits. This suite runs its own Redis (never the
 * machine's shared one) and stops it under a running app: README, "When a dependency is away".
 */
describe("losing Redis", () => {
  let database: TestDatabase;
  let app: RunningApp;
  let ollama: FakeOllama;
  let port: number;

  const startRedis = () =>
    execFileSync("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "yes",
    ]);
  const stopRedis = () => execFileSync("redis-cli", ["-p", String(port), "shutdown", "nosave"]);

  async function health(headers: Record<string, string> = {}) {
    const response = await fetch(`${app.url}/api/health`, { headers });
    // biome-ignore lint/suspicious/noExplicitAny: the report's shape is what the assertions check.
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }
  async function untilHealth(status: string) {
    for (let attempt = 0; attempt < 60 && (await health()).body.status !== status; attempt++)
      await sleep(200);
    return health();
  }
  const me = (token: string) =>
    fetch(`${app.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    port = await freePort();
    startRedis();
    database = await createTestDatabase("redisloss");
    ollama = await startFakeOllama();
    app = await startApp({
      DATABASE_URL: database.url,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_KEY_PREFIX: "ccai-own:",
      OLLAMA_URL: ollama.url,
      RATE_LIMIT_REQUESTS: "3",
      HEALTH_TOKEN,
    });
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    try {
      stopRedis();
    } catch {}
    await database?.drop().catch(() => {});
  });

  test("pages, sign-in and the API answer a clear 503 at once; limits fail closed; health says what is down; all comes back with Redis", async () => {
    const user = new Browser(app.url);
    expect((await user.signup("redis-loss@example.com")).status).toBe(302);
    const { token } = await user.createApiKey();
    // The key uses its whole allowance before Redis goes away.
    for (let i = 0; i < 3; i++) expect((await me(token)).status).toBe(200);
    expect((await me(token)).status).toBe(429);

    stopRedis();
    const down = await untilHealth("down");
    expect(down.status).toBe(503);
    expect(down.body.checks.redis).toEqual({ status: "error" });
    expect(down.body.checks.database).toEqual({ status: "ok" });
    expect(down.body.capabilities).toMatchObject({
      pages: "ok",
      signIn: "unavailable",
      history: "unavailable",
      api: "unavailable",
    });
    // Anonymous callers get no error strings or version; the token shows them.
    expect(JSON.stringify(down.body)).not.toMatch(/version|latency|ECONNREFUSED|redis is/i);
    const detailed = await health({ authorization: `Bearer ${HEALTH_TOKEN}` });
    expect(detailed.body.checks.redis.error).toMatch(/redis/i);
    expect(detailed.body.version).toMatch(/^\d+\.\d+\.\d+/);

    // A signed-in page: a 503 page that says what is wrong, not a 500.
    const page = await user.get("/chat");
    expect(page.status).toBe(503);
    expect(page.headers.get("retry-after")).toBe("5");
    expect(await page.text()).toContain("session store cannot be reached");
    // Signing in: the same 503, never a 500.
    const login = await new Browser(app.url).login("redis-loss@example.com");
    expect(login.status).toBe(503);
    // Public pages still render.
    expect((await fetch(`${app.url}/login`)).status).toBe(200);

    // The key was at its limit: it is refused (503, retryable), not admitted by a fresh counter.
    const refused = await me(token);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      "rate_limits_unavailable",
    );

    startRedis();
    const back = await untilHealth("ok");
    expect(back.status).toBe(200);
    expect(back.body.capabilities).toEqual({
      pages: "ok",
      signIn: "ok",
      history: "ok",
      chatReplies: "ok",
      api: "ok",
    });
    // This Redis restarted empty: the old session is gone, signing in again works.
    expect((await user.get("/chat")).status).toBe(302);
    expect((await user.login("redis-loss@example.com")).status).toBe(302);
    expect((await user.get("/chat")).status).toBe(200);
    expect((await me(token)).status).toBe(200);

    // Every log line is one JSON object (no raw stack traces), and the outage is a warning, not an error.
    const lines = app.output().trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(app.output()).not.toContain('"level":"error"');
    expect(app.output()).toContain('"msg":"redis unavailable"');
  });

  test("a hung Redis is a 503 after one command timeout, not a page that waits", async () => {
    const user = new Browser(app.url);
    expect((await user.signup("redis-hung@example.com")).status).toBe(302);
    // Redis stops answering commands (the connection stays up) for 4 s.
    execFileSync("redis-cli", ["-p", String(port), "client", "pause", "4000", "all"]);
    const page = await user.get("/chat");
    expect(page.status).toBe(503);
    await sleep(4200);
    expect((await user.get("/chat")).status).toBe(200);
  });
});
