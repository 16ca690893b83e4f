import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { userId } from "../support/chats";
import { parseCsv } from "../support/csv";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

let counter = 0;
const email = (label: string) => `${label}-${++counter}-${Date.now()}@example.com`;

/** Text of the element with this data-testid in a server-rendered page. */
function testIdText(html: string, testId: string) {
  const match = html.match(new RegExp(`data-testid="${testId}"[^>]*>([^<]*)<`));
  if (!match) throw new Error(`no ${testId} in the page`);
  return match[1];
}
const int = (text: string) => Number(text.replaceAll(",", ""));

function csvObjects(text: string) {
  const [head, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(head.map((name, i) => [name, row[i]])));
}
const sum = (rows: Record<string, string>[], column: string) =>
  rows.reduce((total, row) => total + Number(row[column] || 0), 0);

describe("admin usage analytics and audit log", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let admin: Browser;
  let adminEmail: string;
  let member: Browser;
  let memberEmail: string;

  beforeAll(async () => {
    database = await createTestDatabase("adminusage");
    ollama = await startFakeOllama();
    app = await startApp({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      OLLAMA_URL: ollama.url,
    });
    admin = new Browser(app.url);
    adminEmail = email("admin");
    // The first account is the administrator.
    expect((await admin.signup(adminEmail)).status).toBe(302);
    member = new Browser(app.url);
    memberEmail = email("member");
    expect((await member.signup(memberEmail)).status).toBe(302);
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop().catch(() => {});
  });

  test("chat replies and API calls are rolled up per day, source and user, with a latency histogram", async () => {
    const id = await userId(database, memberEmail);
    ollama.setChat({ reply: "A short answer.", promptEvalCount: 31, evalCount: 7 });
    const sent = await member.post("/chat?index", {
      intent: "send",
      content: "hello",
      model: "llama3.2:latest",
      wait: "1",
    });
    expect(sent.status).toBe(302);
    const { token } = await member.createApiKey({ name: "rollup key" });
    ollama.setChat({ reply: "From the API.", promptEvalCount: 11, evalCount: 3 });
    const completion = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(completion.status).toBe(200);
    await completion.body?.cancel();

    type Row = { source: string; requests: number; errors: number; prompt: string; completion: string };
    const rows = () =>
      database.query<Row & { buckets: number[] }>(
        `SELECT source::text, requests, errors, prompt_tokens::text AS prompt, completion_tokens::text AS completion,
                latency_buckets AS buckets
         FROM usage_model_daily ORDER BY source`,
      );
    await expect
      .poll(async () => (await rows()).map((row) => row.source), { timeout: 10_000 })
      .toEqual(["api", "chat"]);
    const [api, chat] = await rows();
    expect(chat).toMatchObject({ requests: 1, errors: 0, prompt: "31", completion: "7" });
    expect(api).toMatchObject({ requests: 1, errors: 0, prompt: "11", completion: "3" });
    // Every request lands in exactly one latency bucket.
    expect(chat.buckets.reduce((a, b) => a + b, 0)).toBe(1);
    expect(api.buckets.reduce((a, b) => a + b, 0)).toBe(1);
    // The chat roll-up holds the message row's own numbers.
    const [message] = await database.query<{ prompt_tokens: number; completion_tokens: number }>(
      "SELECT prompt_tokens, completion_tokens FROM messages WHERE role = 'assistant'",
    );
    expect(message).toEqual({ prompt_tokens: 31, completion_tokens: 7 });

    const perUser = await database.query<{ source: string; requests: number; tokens: string }>(
      `SELECT source::text, requests, (prompt_tokens + completion_tokens)::text AS tokens
       FROM usage_user_daily WHERE user_id = $1 ORDER BY source`,
      [id],
    );
    expect(perUser).toEqual([
      { source: "api", requests: 1, tokens: "14" },
      { source: "chat", requests: 1, tokens: "38" },
    ]);
    const perMonth = await database.query(
      `SELECT source::text, requests FROM usage_user_monthly WHERE user_id = $1 ORDER BY source`,
      [id],
    );
    expect(perMonth).toEqual([
      { source: "api", requests: 1 },
      { source: "chat", requests: 1 },
    ]);
    // The API's own per-key roll-up is unchanged: chat never enters it.
    const apiDaily = await database.query("SELECT requests FROM usage_daily WHERE user_id = $1", [id]);
    expect(apiDaily).toEqual([{ requests: 1 }]);

    const page = await (await admin.get("/admin/usage?preset=7d")).text();
    expect(int(testIdText(page, "total-requests"))).toBeGreaterThanOrEqual(2);
  });

  test("the page and its CSV files show the seeded roll-ups' totals, whole months and partial ones", async () => {
    const [alice, bob] = [email("alice"), email("bob")];
    for (const address of [alice, bob]) expect((await new Browser(app.url).signup(address)).status).toBe(302);
    const [aliceId, bobId] = [await userId(database, alice), await userId(database, bob)];
    // 2019-01-20 .. 2019-03-05: January and March are partial (daily rows), February whole (monthly).
    const model = (
      day: string,
      source: string,
      name: string,
      requests: number,
      errors: number,
      p: number,
      c: number,
    ) =>
      database.query(
        `INSERT INTO usage_model_daily (day, source, model, requests, errors, prompt_tokens, completion_tokens, latency_ms_total, latency_buckets)
         VALUES ($1, $2::"UsageSource", $3, $4, $5, $6, $7, 0, $8::int[])`,
        [
          day,
          source,
          name,
          requests,
          errors,
          p,
          c,
          `{${[0, 0, 0, requests, ...Array(18).fill(0)].join(",")}}`,
        ],
      );
    await model("2019-01-19", "chat", "seed-a", 1000, 0, 1000, 1000); // outside the range
    await model("2019-01-20", "chat", "seed-a", 10, 1, 100, 200);
    await model("2019-01-20", "api", "seed-b", 5, 0, 50, 60);
    await model("2019-02-14", "api", "seed-a", 20, 2, 300, 400);
    await model("2019-03-05", "chat", "seed-b", 7, 0, 70, 80);
    await model("2019-03-06", "api", "seed-b", 1000, 0, 1000, 1000); // outside the range
    const user = (
      table: string,
      at: string,
      id: string,
      source: string,
      requests: number,
      p: number,
      c: number,
    ) =>
      database.query(
        `INSERT INTO ${table} (${table === "usage_user_daily" ? "day" : "month"}, source, user_id, requests, errors, prompt_tokens, completion_tokens)
         VALUES ($1, $2::"UsageSource", $3, $4, 0, $5, $6)`,
        [at, source, id, requests, p, c],
      );
    await user("usage_user_daily", "2019-01-19", aliceId, "chat", 1000, 1000, 1000); // outside
    await user("usage_user_daily", "2019-01-20", aliceId, "chat", 10, 100, 200);
    await user("usage_user_daily", "2019-01-20", bobId, "api", 5, 50, 60);
    await user("usage_user_monthly", "2019-01-01", aliceId, "chat", 1010, 1100, 1200); // partial month
    await user("usage_user_monthly", "2019-02-01", bobId, "api", 20, 300, 400);
    await user("usage_user_daily", "2019-03-05", bobId, "chat", 7, 70, 80);
    await user("usage_user_monthly", "2019-03-01", bobId, "chat", 7, 70, 80); // partial month
    await user("usage_user_monthly", "2019-03-01", bobId, "api", 1000, 1000, 1000); // partial month

    const query = "preset=custom&from=2019-01-20&to=2019-03-05";
    const page = await admin.get(`/admin/usage?${query}&source=all`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(testIdText(html, "usage-range")).toContain("2019-01-20 to 2019-03-05");
    expect(int(testIdText(html, "total-requests"))).toBe(42);
    expect(int(testIdText(html, "total-prompt-tokens"))).toBe(520);
    expect(int(testIdText(html, "total-completion-tokens"))).toBe(740);
    expect(testIdText(html, "total-error-rate")).toBe("7.1%");
    expect(testIdText(html, "chart-requests-summary")).toBe("17 chat · 25 API");
    // The bars carry the numbers they draw: they add up to the totals.
    const requestBars = html
      .slice(html.indexOf('data-testid="chart-requests"'), html.indexOf('data-testid="chart-tokens"'))
      .matchAll(/data-value="(\d+)"/g);
    expect([...requestBars].reduce((total, match) => total + Number(match[1]), 0)).toBe(42);
    // Top users: Alice 300 tokens (January only), Bob 110 + 700 + 150 = 960, Bob first.
    const users = html.slice(html.indexOf('data-testid="chart-users-table"'));
    expect(users.indexOf(bob)).toBeGreaterThan(0);
    expect(users.indexOf(bob)).toBeLessThan(users.indexOf(alice));

    const csv = async (table: string, source = "all") => {
      const response = await admin.get(`/admin/usage.csv?${query}&source=${source}&table=${table}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/csv");
      expect(response.headers.get("content-disposition")).toContain("attachment");
      return csvObjects(await response.text());
    };
    const daily = await csv("daily");
    expect(daily).toHaveLength(45); // every day of the range, empty ones included
    expect(sum(daily, "requests")).toBe(42);
    expect(sum(daily, "chat_requests")).toBe(17);
    expect(sum(daily, "api_requests")).toBe(25);
    expect(sum(daily, "errors")).toBe(3);
    expect(sum(daily, "prompt_tokens")).toBe(520);
    expect(sum(daily, "completion_tokens")).toBe(740);
    expect(daily.find((row) => row.date === "2019-02-14")).toMatchObject({
      requests: "20",
      error_rate: "0.1000",
      latency_p50_ms: "150",
    });
    const models = await csv("models");
    expect(models.map((row) => [row.model, row.requests])).toEqual([
      ["seed-a", "30"],
      ["seed-b", "12"],
    ]);
    const perUser = await csv("users");
    expect(perUser.map((row) => [row.email, row.requests, row.prompt_tokens, row.completion_tokens])).toEqual(
      [
        [bob, "32", "420", "540"],
        [alice, "10", "100", "200"],
      ],
    );

    const chatOnly = await csv("users", "chat");
    expect(chatOnly.map((row) => [row.email, row.requests])).toEqual([
      [alice, "10"],
      [bob, "7"],
    ]);
    const chatPage = await (await admin.get(`/admin/usage?${query}&source=chat`)).text();
    expect(int(testIdText(chatPage, "total-requests"))).toBe(17);
    expect(sum(await csv("daily", "chat"), "requests")).toBe(17);
  });

  test("a range that is not one is refused with 400 and the form's errors, page and CSV alike", async () => {
    const backwards = await admin.get("/admin/usage?preset=custom&from=2020-02-01&to=2020-01-01");
    expect(backwards.status).toBe(400);
    expect(await backwards.text()).toContain("The end is before the start.");
    const tooLong = await admin.get("/admin/usage?preset=custom&from=2018-01-01&to=2020-12-31");
    expect(tooLong.status).toBe(400);
    const notADate = await admin.get("/admin/usage?preset=custom&from=2019-02-30&to=2019-03-01");
    expect(notADate.status).toBe(400);
    expect((await admin.get("/admin/usage?source=everything")).status).toBe(400);
    expect((await admin.get("/admin/usage.csv?preset=7d&table=secrets")).status).toBe(400);
    expect((await admin.get("/admin/usage.csv?preset=custom&from=x&to=y")).status).toBe(400);
  });

  test("API key creation, revocation and limit overrides are recorded with actor, before/after and IP", async () => {
    const { token } = await member.createApiKey({ name: "audited key" });
    const [key] = await database.query<{ id: string }>("SELECT id FROM api_keys WHERE hash = $1", [
      createHash("sha256").update(token).digest("hex"),
    ]);
    const limits = await admin.post("/settings/keys", {
      intent: "limits",
      keyId: key.id,
      rateLimitRequests: "7",
      rateLimitTokensPerMinute: "",
    });
    expect(limits.status).toBe(200);
    const revoked = await member.post("/settings/keys", { intent: "revoke", keyId: key.id });
    expect(revoked.status).toBe(200);

    const events = await database.query<{
      action: string;
      actor_email: string;
      before: unknown;
      after: Record<string, unknown> | null;
      ip: string;
    }>("SELECT action, actor_email, before, after, ip FROM audit_events WHERE target_id = $1 ORDER BY id", [
      key.id,
    ]);
    expect(events.map((event) => [event.action, event.actor_email])).toEqual([
      ["api_key.created", memberEmail],
      ["api_key.limits_changed", adminEmail],
      ["api_key.revoked", memberEmail],
    ]);
    expect(events[0].after).toMatchObject({ name: "audited key", allowedModels: [] });
    expect(JSON.stringify(events[0].after)).not.toContain(token);
    expect(events[1].before).toEqual({ rateLimitRequests: null, rateLimitTokensPerMinute: null });
    expect(events[1].after).toEqual({ rateLimitRequests: 7, rateLimitTokensPerMinute: null });
    expect(events[2].before).toEqual({ revokedAt: null });
    expect(events.every((event) => event.ip === "127.0.0.1")).toBe(true);

    // A user trying the admin-only override is refused and recorded; nothing changes.
    const refused = await member.post("/settings/keys", {
      intent: "limits",
      keyId: key.id,
      rateLimitRequests: "1000000",
      rateLimitTokensPerMinute: "",
    });
    expect(refused.status).toBe(403);
    const [after] = await database.query("SELECT rate_limit_requests FROM api_keys WHERE id = $1", [key.id]);
    expect(after.rate_limit_requests).toBe(7);

    const page = await (await admin.get(`/admin/audit?action=api_key.limits_changed`)).text();
    expect(page).toContain(key.id);
    expect(page).toContain("API key limits changed");
  });

  test("a signed-in user refused by the admin guard is recorded once per request, as the actor", async () => {
    const intruder = new Browser(app.url);
    const intruderEmail = email("intruder");
    await intruder.signup(intruderEmail);
    const denied = () =>
      database.query<{ target_id: string; ip: string; actor_email: string }>(
        "SELECT target_id, ip, actor_email FROM audit_events WHERE action = 'admin.access_denied' AND actor_email = $1 ORDER BY id",
        [intruderEmail],
      );
    expect((await intruder.get("/admin/usage")).status).toBe(404);
    expect((await intruder.get("/admin/audit?action=user.deleted")).status).toBe(404);
    expect((await intruder.get("/admin/usage.csv?table=users")).status).toBe(404);
    expect((await intruder.post("/admin/audit", { anything: "1" })).status).toBe(403);
    expect((await intruder.get("/admin/usage.data")).status).toBe(404);
    expect(await denied()).toEqual([
      { target_id: "GET /admin/usage", ip: "127.0.0.1", actor_email: intruderEmail },
      { target_id: "GET /admin/audit", ip: "127.0.0.1", actor_email: intruderEmail },
      { target_id: "GET /admin/usage.csv", ip: "127.0.0.1", actor_email: intruderEmail },
      { target_id: "POST /admin/audit", ip: "127.0.0.1", actor_email: intruderEmail },
      { target_id: "GET /admin/usage", ip: "127.0.0.1", actor_email: intruderEmail },
    ]);
    // Anonymous visitors are sent to sign in and not recorded (there is no one to name).
    const before = (await database.query("SELECT count(*)::int AS n FROM audit_events"))[0].n;
    expect((await new Browser(app.url).get("/admin/audit")).status).toBe(302);
    expect((await database.query("SELECT count(*)::int AS n FROM audit_events"))[0].n).toBe(before);
  });

  test("the audit log filters by actor, action and date, pages newest first, and cannot be changed", async () => {
    // 120 events on 2018-06-01 .. 2018-06-03 by a seeded actor, 40 a day.
    await database.query(
      `INSERT INTO audit_events (at, actor_id, actor_email, action, target_type, target_id, ip)
       SELECT timestamp '2018-06-01 00:00' + (g / 40) * interval '1 day' + g * interval '1 minute',
              'seed-actor', 'pager@example.com', CASE WHEN g % 2 = 0 THEN 'user.disabled' ELSE 'user.enabled' END,
              'user', 'target-' || g, '203.0.113.9'
       FROM generate_series(0, 119) g`,
    );
    const ids = async (path: string) => {
      const response = await admin.get(path);
      expect(response.status).toBe(200);
      const html = await response.text();
      const link = (testId: string) => {
        const tag = html.match(new RegExp(`<a [^>]*data-testid="${testId}"[^>]*>`))?.[0];
        return tag ? (tag.match(/href="([^"]*)"/)?.[1] ?? "").replaceAll("&amp;", "&") : null;
      };
      return {
        targets: [...html.matchAll(/data-testid="audit-target"[^>]*>([^<]*)</g)].map((match) => match[1]),
        older: link("audit-older"),
        newer: link("audit-newer"),
      };
    };
    const first = await ids("/admin/audit?actor=PAGER@example.com");
    expect(first.targets).toHaveLength(50);
    expect(first.targets[0]).toBe("user target-119");
    expect(first.newer).toBeNull();
    expect(first.older).toContain("before=");
    const second = await ids(first.older ?? "");
    expect(second.targets[0]).toBe("user target-69");
    expect(second.newer).toContain("after=");
    const third = await ids(second.older ?? "");
    expect(third.targets).toHaveLength(20);
    expect(third.targets.at(-1)).toBe("user target-0");
    expect(third.older).toBeNull();
    const back = await ids(third.newer ?? "");
    expect(back.targets).toEqual(second.targets);

    const disabledOnDay2 = await ids(
      "/admin/audit?actor=pager%40example.com&action=user.disabled&from=2018-06-02&to=2018-06-02",
    );
    expect(disabledOnDay2.targets).toHaveLength(20);
    expect(disabledOnDay2.targets.every((target) => /target-(4\d|[5-7]\d)$/.test(target))).toBe(true);
    expect((await admin.get("/admin/audit?action=user.pwned")).status).toBe(400);
    expect((await admin.get("/admin/audit?from=2018-06-03&to=2018-06-01")).status).toBe(400);
    expect((await admin.get("/admin/audit?before=abc")).status).toBe(400);

    // No route edits or deletes: the page has no action for anyone.
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const response = await fetch(`${app.url}/admin/audit`, {
        method,
        headers: { cookie: admin.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
        body: "id=1",
        redirect: "manual",
      });
      expect(response.status).toBe(405);
    }
    // And the database refuses changes from any connection, the app's included.
    const count = async () => (await database.query("SELECT count(*)::int AS n FROM audit_events"))[0].n;
    const before = await count();
    await expect(database.query("UPDATE audit_events SET action = 'x'")).rejects.toThrow(/append-only/);
    await expect(database.query("DELETE FROM audit_events")).rejects.toThrow(/append-only/);
    await expect(database.query("TRUNCATE audit_events")).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
  });
});
