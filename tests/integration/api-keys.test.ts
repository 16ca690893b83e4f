import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

const LIMIT = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let counter = 0;
const email = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

async function signedIn(app: RunningApp, label: string) {
  const browser = new Browser(app.url);
  const response = await browser.signup(email(label));
  expect(response.status).toBe(302);
  return browser;
}

const createKey = (browser: Browser, fields: Record<string, string> = {}) => browser.createApiKey(fields);

function me(app: RunningApp, token: string | null, query = "") {
  return fetch(`${app.url}/api/v1/me${query}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

/** A key's row id, found the way the server finds a key: by the SHA-256 of its token. */
async function keyIdOf(database: TestDatabase, token: string): Promise<string> {
  const [row] = await database.query<{ id: string }>("SELECT id FROM api_keys WHERE hash = $1", [
    createHash("sha256").update(token).digest("hex"),
  ]);
  return row.id;
}

async function expectEnvelope(response: Response, status: number, code: string | null) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = (await response.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

describe("API keys, limits and usage across two replicas sharing Redis", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let replicas: RunningApp[];
  let admin: Browser;

  beforeAll(async () => {
    database = await createTestDatabase("apikeys");
    ollama = await startFakeOllama();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      OLLAMA_URL: ollama.url,
      RATE_LIMIT_REQUESTS: String(LIMIT),
      RATE_LIMIT_WINDOW: "60000",
      LOG_LEVEL: "debug",
    };
    replicas = await Promise.all([startApp(env), startApp(env)]);
    // The first account is the administrator.
    admin = await signedIn(replicas[0], "admin");
  });

  afterAll(async () => {
    await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
    await ollama?.close();
    await database?.drop().catch(() => {});
  });

  test("a new key is shown once; only its SHA-256 and visible prefix are stored", async () => {
    const browser = await signedIn(replicas[0], "create");
    const { token } = await createKey(browser, { name: "My script" });
    expect(token).toMatch(/^ccai-[A-Za-z0-9_-]{43}$/);

    const rows = await database.query("SELECT * FROM api_keys WHERE name = 'My script'");
    expect(rows).toHaveLength(1);
    expect(rows[0].hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(rows[0].prefix).toBe(token.slice(0, 13));
    expect(JSON.stringify(rows[0])).not.toContain(token.slice(13));

    const list = await (await browser.get("/settings/keys")).text();
    expect(list).not.toContain(token);
    expect(list).toContain(token.slice(0, 13));
    expect(list).toContain("My script");

    const response = await me(replicas[1], token);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ key_id: rows[0].id, user_id: rows[0].user_id, allowed_models: [] });
  });

  test("/dashboard/keys redirects to /settings/keys", async () => {
    const response = await fetch(`${replicas[0].url}/dashboard/keys`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/settings/keys");
  });

  test("invalid form input is refused with field errors and nothing is stored", async () => {
    const browser = await signedIn(replicas[0], "invalid");
    const response = await browser.post("/settings/keys", {
      intent: "create",
      name: "  ",
      expiresInDays: "-3",
      expiresOn: "2001-01-01",
      allowedModelsText: "",
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("Name the key");
    expect(html).toContain("must be at least 1");
    expect(html).toContain("Choose a date in the future");
    expect(await database.query("SELECT id FROM api_keys WHERE name = '  '")).toHaveLength(0);
  });

  test("missing, malformed, unknown, revoked and expired keys get 401 envelopes; a disabled user 403", async () => {
    const app = replicas[0];
    const missing = await expectEnvelope(await me(app, null), 401, null);
    expect(missing.type).toBe("invalid_request_error");
    expect(missing.message).toContain("didn't provide an API key");
    await expectEnvelope(
      await fetch(`${app.url}/api/v1/me`, { headers: { authorization: "Basic abc" } }),
      401,
      null,
    );
    await expectEnvelope(await me(app, "ccai-not-a-real-key"), 401, "invalid_api_key");
    await expectEnvelope(await me(app, "sk-something-else"), 401, "invalid_api_key");

    const browser = await signedIn(app, "statuses");
    const revoked = await createKey(browser, { name: "to revoke" });
    const keyId = await keyIdOf(database, revoked.token);
    const revoke = await browser.post("/settings/keys", { intent: "revoke", keyId });
    expect(revoke.status).toBe(200);
    expect(await revoke.text()).toMatch(/data-testid="key-status">revoked</);
    await expectEnvelope(await me(app, revoked.token), 401, "invalid_api_key");
    // Someone else cannot revoke (or learn about) this user's keys.
    const other = await signedIn(app, "other");
    const key = await createKey(browser, { name: "not yours" });
    const [keyRow] = await database.query("SELECT id FROM api_keys WHERE name = 'not yours'");
    expect((await other.post("/settings/keys", { intent: "revoke", keyId: keyRow.id })).status).toBe(404);
    expect((await me(app, key.token)).status).toBe(200);

    const expired = await createKey(browser, { name: "to expire", expiresInDays: "1" });
    await database.query(
      "UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE name = 'to expire'",
    );
    await expectEnvelope(await me(app, expired.token), 401, "invalid_api_key");
    const page = await (await browser.get("/settings/keys")).text();
    expect(page).toMatch(/data-testid="key-status">expired</);

    const disabledUser = await signedIn(app, "disabled");
    const disabledKey = await createKey(disabledUser);
    await database.query(
      "UPDATE users SET disabled_at = now() WHERE id = (SELECT user_id FROM api_keys WHERE hash = $1)",
      [createHash("sha256").update(disabledKey.token).digest("hex")],
    );
    const forbidden = await expectEnvelope(await me(app, disabledKey.token), 403, "account_disabled");
    expect(forbidden.message).toContain("disabled");
  });

  test("revoking on one replica stops the key on the other within one second", async () => {
    const browser = await signedIn(replicas[0], "revoke-replica");
    const { token } = await createKey(browser);
    // Replica 1 has now looked the key up and cached it.
    expect((await me(replicas[1], token)).status).toBe(200);
    const keyId = await keyIdOf(database, token);
    expect((await browser.post("/settings/keys", { intent: "revoke", keyId })).status).toBe(200);
    await sleep(1000);
    await expectEnvelope(await me(replicas[1], token), 401, "invalid_api_key");
  });

  test("a model allow-list is enforced with a 403 naming the model", async () => {
    const browser = await signedIn(replicas[0], "allowlist");
    const { token } = await createKey(browser, {
      allowedModels: "qwen2.5:7b",
      allowedModelsText: "llama3.2",
    });
    const body = await (await me(replicas[0], token)).json();
    expect(body.allowed_models.sort()).toEqual(["llama3.2", "qwen2.5:7b"]);
    expect((await me(replicas[0], token, "?model=llama3.2:latest")).status).toBe(200);
    expect((await me(replicas[0], token, "?model=qwen2.5:7b")).status).toBe(200);
    const refused = await me(replicas[0], token, "?model=mistral");
    expect(refused.headers.get("x-ratelimit-limit-requests")).toBe(String(LIMIT));
    const error = await expectEnvelope(refused, 403, "model_not_allowed");
    expect(error.param).toBe("model");
    expect(error.message).toContain("mistral");
  });

  test("two replicas sharing Redis admit exactly the limit; headers count down; then 429 with Retry-After", async () => {
    const browser = await signedIn(replicas[0], "limits");
    const { token } = await createKey(browser);
    const statuses: number[] = [];
    const remaining: string[] = [];
    let rejected: Response | undefined;
    for (let i = 0; i < LIMIT * 2 + 2; i++) {
      const response = await me(replicas[i % 2], token);
      statuses.push(response.status);
      expect(response.headers.get("x-ratelimit-limit-requests")).toBe(String(LIMIT));
      expect(response.headers.get("x-ratelimit-reset-requests")).toMatch(/^(\d+ms|\d+s|\d+m\d+s)$/);
      if (response.status === 200)
        remaining.push(response.headers.get("x-ratelimit-remaining-requests") ?? "");
      if (response.status === 429 && !rejected) rejected = response;
      else await response.body?.cancel();
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(LIMIT + 2);
    expect(remaining).toEqual(["4", "3", "2", "1", "0"]);

    if (!rejected) throw new Error("no 429");
    const retryAfter = Number(rejected.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(rejected.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const error = await expectEnvelope(rejected, 429, "rate_limit_exceeded");
    expect(error.type).toBe("requests");
  });

  test("the user-wide limit holds across several keys of one user", async () => {
    const browser = await signedIn(replicas[0], "user-limit");
    const first = await createKey(browser, { name: "first" });
    const second = await createKey(browser, { name: "second" });
    let admitted = 0;
    for (let i = 0; i < LIMIT * 2; i++) {
      const response = await me(replicas[i % 2], i % 4 < 2 ? first.token : second.token);
      if (response.status === 200) admitted++;
      await response.body?.cancel();
    }
    expect(admitted).toBe(LIMIT);
  });

  test("a key refused at its own limit does not use up its user's other keys", async () => {
    const browser = await signedIn(replicas[0], "key-over-limit");
    const hammer = await createKey(browser, { name: "hammer" });
    const other = await createKey(browser, { name: "other" });
    const keyId = await keyIdOf(database, hammer.token);
    const saved = await admin.post("/settings/keys", {
      intent: "limits",
      keyId,
      rateLimitRequests: "2",
    });
    expect(saved.status).toBe(200);

    const hammered: number[] = [];
    for (let i = 0; i < LIMIT * 2; i++) {
      const response = await me(replicas[i % 2], hammer.token);
      hammered.push(response.status);
      await response.body?.cancel();
    }
    expect(hammered).toEqual([200, 200, ...Array(LIMIT * 2 - 2).fill(429)]);

    // The user has used two of LIMIT: the other key gets exactly the rest.
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const response = await me(replicas[i % 2], other.token);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([...Array(LIMIT - 2).fill(200), 429, 429]);
  });

  test("an administrator's per-key overrides change the limit and add token headers", async () => {
    const browser = await signedIn(replicas[0], "override");
    const { token } = await createKey(browser);
    const keyId = await keyIdOf(database, token);
    const refused = await browser.post("/settings/keys", {
      intent: "limits",
      keyId,
      rateLimitRequests: "2",
    });
    expect(refused.status).toBe(403);

    const invalid = await admin.post("/settings/keys", {
      intent: "limits",
      keyId,
      rateLimitRequests: "zero",
      rateLimitTokensPerMinute: "",
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain("Requests per window must be a whole number");

    const saved = await admin.post("/settings/keys", {
      intent: "limits",
      keyId,
      rateLimitRequests: "2",
      rateLimitTokensPerMinute: "1000",
    });
    expect(saved.status).toBe(200);
    expect(
      await database.query(
        "SELECT rate_limit_requests, rate_limit_tokens_per_minute FROM api_keys WHERE id = $1",
        [keyId],
      ),
    ).toEqual([{ rate_limit_requests: 2, rate_limit_tokens_per_minute: 1000 }]);
    const first = await me(replicas[0], token);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("1000");
    expect(first.headers.get("x-ratelimit-remaining-tokens")).toBe("1000");
    expect((await me(replicas[0], token)).status).toBe(200);
    await expectEnvelope(await me(replicas[0], token), 429, "rate_limit_exceeded");
  });

  test("a tokens-per-minute limit is charged with Ollama's counts, then refuses with a tokens 429", async () => {
    const browser = await signedIn(replicas[0], "tokens");
    const { token } = await createKey(browser);
    const keyId = await keyIdOf(database, token);
    const saved = await admin.post("/settings/keys", {
      intent: "limits",
      keyId,
      // Room for the polling below: only the token limit is under test.
      rateLimitRequests: "100",
      rateLimitTokensPerMinute: "30",
    });
    expect(saved.status).toBe(200);

    ollama.setChat({ reply: "Hi there.", promptEvalCount: 20, evalCount: 5 });
    const completion = await fetch(`${replicas[0].url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(completion.status).toBe(200);
    expect(completion.headers.get("x-ratelimit-remaining-tokens")).toBe("30");
    await completion.body?.cancel();

    // 25 of 30 tokens used: still admitted (the charge lands just after the call), from either replica.
    let remaining: string | null = null;
    for (let attempt = 0; attempt < 50 && remaining !== "5"; attempt++) {
      const response = await me(replicas[1], token);
      remaining = response.headers.get("x-ratelimit-remaining-tokens");
      await response.body?.cancel();
      if (remaining !== "5") await sleep(50);
    }
    expect(remaining).toBe("5");

    const second = await fetch(`${replicas[1].url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(second.status).toBe(200);
    await second.body?.cancel();

    // 50 of 30: one call may overshoot by its own size, then every call is refused until the minute ends.
    let refused: Response | undefined;
    for (let attempt = 0; attempt < 50 && !refused; attempt++) {
      const response = await me(replicas[attempt % 2], token);
      if (response.status === 429) refused = response;
      else {
        await response.body?.cancel();
        await sleep(50);
      }
    }
    if (!refused) throw new Error("no 429 after the token budget was used up");
    expect(refused.headers.get("x-ratelimit-limit-tokens")).toBe("30");
    expect(refused.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    const error = await expectEnvelope(refused, 429, "rate_limit_exceeded");
    expect(error.type).toBe("tokens");
  });

  test("usage is written in batches, rolled up per day, and shown on the usage page", async () => {
    const browser = await signedIn(replicas[0], "usage");
    const { token } = await createKey(browser, { name: "usage key", allowedModelsText: "llama3.2" });
    const before = (replicas[0].output().match(/"msg":"api usage written"/g) ?? []).length;
    const calls = 4;
    await Promise.all(
      Array.from({ length: calls }, () => me(replicas[0], token).then((r) => r.body?.cancel())),
    );
    // One more that is refused (403): counted as an error.
    await me(replicas[0], token, "?model=mistral").then((r) => r.body?.cancel());

    const [key] = await database.query("SELECT id, user_id FROM api_keys WHERE name = 'usage key'");
    let daily: { requests: number; errors: number }[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      daily = await database.query("SELECT requests, errors FROM usage_daily WHERE key_id = $1", [key.id]);
      if (daily[0]?.requests === calls + 1) break;
      await sleep(100);
    }
    expect(daily).toEqual([{ requests: calls + 1, errors: 1 }]);
    const events = await database.query("SELECT endpoint, status FROM usage_events WHERE key_id = $1", [
      key.id,
    ]);
    expect(events).toHaveLength(calls + 1);
    expect(events.every((event) => event.endpoint === "/v1/me")).toBe(true);
    const writes = (replicas[0].output().match(/"msg":"api usage written"/g) ?? []).length - before;
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThan(calls + 1);

    const page = await (await browser.get("/settings/usage")).text();
    expect(page).toContain("usage key");
    expect(page).toMatch(/data-testid="usage-requests">5</);
  });
});

describe("usage retention", () => {
  let database: TestDatabase;
  let app: RunningApp;
  let ollama: FakeOllama;

  beforeAll(async () => {
    database = await createTestDatabase("apiretention");
    ollama = await startFakeOllama();
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      USAGE_RETENTION_DAYS: "30",
      USAGE_DAILY_RETENTION_DAYS: "365",
    });
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop().catch(() => {});
  });

  test("raw events and daily roll-ups older than their retention are deleted; newer ones stay", async () => {
    const browser = await signedIn(app, "retention");
    const { token } = await createKey(browser, { name: "retention key" });
    const [key] = await database.query<{ id: string; user_id: string }>(
      "SELECT id, user_id FROM api_keys WHERE name = 'retention key'",
    );
    const event = (daysAgo: number, model: string) =>
      database.query(
        `INSERT INTO usage_events (at, user_id, key_id, model, endpoint, latency_ms, status)
         VALUES (now() - make_interval(days => $1), $2, $3, $4, '/v1/chat/completions', 5, 200)`,
        [daysAgo, key.user_id, key.id, model],
      );
    const daily = (daysAgo: number, model: string) =>
      database.query(
        `INSERT INTO usage_daily (day, user_id, key_id, model, requests)
         VALUES (current_date - $1::int, $2, $3, $4, 1)`,
        [daysAgo, key.user_id, key.id, model],
      );
    // The admin roll-ups (per model, user and month) follow the daily retention.
    const adminRollups = (daysAgo: number, model: string) =>
      database.query(
        `WITH d AS (SELECT current_date - $1::int AS day)
         INSERT INTO usage_model_daily (day, source, model, requests) SELECT day, 'api', $2, 1 FROM d;`,
        [daysAgo, model],
      );
    const userRollups = (daysAgo: number) =>
      database.query(
        `INSERT INTO usage_user_daily (day, source, user_id, requests) VALUES (current_date - $1::int, 'api', $2, 1);`,
        [daysAgo, key.user_id],
      );
    const monthRollup = (monthsAgo: number) =>
      database.query(
        `INSERT INTO usage_user_monthly (month, source, user_id, requests)
         VALUES ((date_trunc('month', current_date) - make_interval(months => $1))::date, 'api', $2, 1);`,
        [monthsAgo, key.user_id],
      );
    await Promise.all([
      event(40, "old"),
      event(10, "recent"),
      daily(400, "old"),
      daily(100, "recent"),
      adminRollups(400, "old"),
      adminRollups(100, "recent"),
      userRollups(400),
      userRollups(100),
      monthRollup(14),
      monthRollup(3),
    ]);

    // The first write of this process also prunes (then at most once an hour).
    const response = await me(app, token);
    expect(response.status).toBe(200);
    await response.body?.cancel();

    const models = async (table: string) =>
      (await database.query<{ model: string }>(`SELECT model FROM ${table} ORDER BY model`)).map(
        (row) => row.model,
      );
    await expect.poll(() => models("usage_events"), { timeout: 10_000 }).toEqual(["", "recent"]);
    expect(await models("usage_daily")).toEqual(["", "recent"]);
    expect(await models("usage_model_daily")).toEqual(["", "recent"]);
    const left = await database.query<{ user: number; month: number }>(
      `SELECT (SELECT count(*)::int FROM usage_user_daily WHERE day < current_date - 300) AS user,
              (SELECT count(*)::int FROM usage_user_monthly WHERE month < current_date - 365) AS month`,
    );
    expect(left).toEqual([{ user: 0, month: 0 }]);
    expect(app.output()).toContain('"msg":"api usage pruned"');
  });
});
