import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, PULL_NOT_FOUND_ERROR, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

interface PullEvent {
  name: string;
  status: string;
  line: string;
  percent: number;
  completed: number;
  total: number;
  error?: string;
}

/** Reads the pull's server-sent events until `until` is true for one (or the stream ends). */
async function readPullEvents(response: Response, until: (event: PullEvent) => boolean) {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const events: PullEvent[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    buffered += decoder.decode(value, { stream: true });
    for (let split = buffered.indexOf("\n\n"); split >= 0; split = buffered.indexOf("\n\n")) {
      const block = buffered.slice(0, split);
      buffered = buffered.slice(split + 2);
      const data = block.match(/^data: (.*)$/m)?.[1];
      if (!data || /^event: gone/m.test(block)) continue;
      events.push(JSON.parse(data));
      if (until(events.at(-1)!)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

/** A pull that takes about a minute: 40 MB at 100 kB per 150 ms tick. Long enough to watch. */
const SLOW = { layers: [{ size: 40_000_000 }, { size: 1_500 }], chunkBytes: 100_000, intervalMs: 150 };

describe("admin models across two replicas sharing Redis and PostgreSQL", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let a: RunningApp;
  let b: RunningApp;
  let adminOnA: Browser;
  let adminOnB: Browser;
  let user: Browser;
  let userKey: string;

  beforeAll(async () => {
    database = await createTestDatabase("admin-models");
    ollama = await startFakeOllama({
      pull: {
        known: [
          "llama3.2",
          "tinyllama",
          { name: "slowpoke", family: "llama", pull: SLOW },
          { name: "slowcancel", pull: SLOW },
          { name: "slowdelete", pull: SLOW },
          { name: "broken", pull: { error: "pull model manifest: 500: registry is down for maintenance" } },
        ],
      },
    });
    const shared = {
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
    };
    [a, b] = await Promise.all([startApp(shared), startApp(shared)]);
    adminOnA = new Browser(a.url);
    // The first account is the administrator.
    expect((await adminOnA.signup("models-admin@example.com")).status).toBe(302);
    adminOnB = new Browser(b.url);
    adminOnB.cookies = adminOnA.cookies;
    user = new Browser(b.url);
    expect((await user.signup("models-user@example.com")).status).toBe(302);
    userKey = (await user.createApiKey()).token;
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await ollama?.close();
    await database?.drop();
  });

  const api = (app: RunningApp, path: string, body?: unknown) =>
    fetch(`${app.url}/api/v1${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const pullEvents = (app: RunningApp, name: string) =>
    fetch(`${app.url}/admin/models/pull-events?${new URLSearchParams({ name })}`, {
      headers: { cookie: adminOnA.cookieHeader() },
    });

  test("anonymous visitors are sent to sign in; a USER gets 404 on the pages and 403 on every action", async () => {
    const anonymous = new Browser(a.url);
    for (const path of [
      "/admin/models",
      "/admin/models/llama3.2:latest",
      "/admin/models/pull-events?name=x",
    ]) {
      const response = await anonymous.get(path);
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(`/login?${new URLSearchParams({ redirectTo: path })}`);
      expect((await user.get(path)).status).toBe(404);
    }
    const pullsBefore = ollama.pulls.length;
    for (const [path, fields] of [
      ["/admin/models", { intent: "pull", name: "tinyllama" }],
      ["/admin/models", { intent: "cancel", name: "tinyllama" }],
      ["/admin/models", { intent: "default", model: "llama3.2:latest" }],
      ["/admin/models/llama3.2:latest", { intent: "delete" }],
      ["/admin/models/llama3.2:latest", { intent: "settings", hidden: "on", displayName: "Mine" }],
    ] as const) {
      expect((await user.post(path, fields)).status).toBe(403);
      expect((await anonymous.post(path, fields)).status).toBe(302);
    }
    expect(ollama.pulls.length).toBe(pullsBefore);
    expect(ollama.requests.some((request) => request.path === "/api/delete")).toBe(false);
    expect(await database.query("SELECT 1 FROM model_settings")).toHaveLength(0);
    expect(await database.query("SELECT 1 FROM app_settings WHERE key = 'chat.default_model'")).toHaveLength(
      0,
    );
  });

  test("the page lists installed models with their details and memory state; the details page has /api/show's", async () => {
    // A chat loads the model into memory, as /api/ps then reports.
    expect(
      (await api(a, "/chat/completions", { model: "llama3.2", messages: [{ role: "user", content: "hi" }] }))
        .status,
    ).toBe(200);
    const page = await (await adminOnA.get("/admin/models")).text();
    expect(page).toContain("llama3.2:latest");
    expect(page).toContain("all-minilm:latest");
    expect(page).toContain("Q4_K_M");
    expect(page).toMatch(/yes, 2\.0 GB VRAM/);
    const details = await adminOnB.get("/admin/models/llama3.2:latest");
    expect(details.status).toBe(200);
    const html = await details.text();
    expect(html).toContain("131,072");
    expect(html).toContain("tools");
    expect(html).toContain("Modelfile");
    expect((await adminOnA.get("/admin/models/not-installed:7b")).status).toBe(404);
  });

  test("bad names are refused with a form error and nothing is pulled", async () => {
    const before = ollama.pulls.length;
    const response = await adminOnA.post("/admin/models", { intent: "pull", name: "not a model!" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("That is not a model name");
    expect((await adminOnA.post("/admin/models", { intent: "pull", name: "" })).status).toBe(400);
    expect(ollama.pulls.length).toBe(before);
  });

  test("a pull started on one replica is followed from the other, shared by a second admin, and cancelled from the other", async () => {
    const started = await adminOnA.post("/admin/models", { intent: "pull", name: "slowpoke" });
    expect(started.status).toBe(302);
    expect(started.headers.get("location")).toBe("/admin/models");

    // Replica B streams the same pull, and its bytes grow.
    const events = await readPullEvents(
      await pullEvents(b, "slowpoke"),
      (event) => event.completed >= 400_000,
    );
    expect(events.at(-1)).toMatchObject({ name: "slowpoke", status: "running", total: 40_000_000 });
    expect(events.at(-1)!.line).toMatch(/^pulling [0-9a-f]{12}$/);

    // Another admin pulling the same model (spelled differently) joins it: Ollama gets one request.
    expect((await adminOnB.post("/admin/models", { intent: "pull", name: "SlowPoke:latest" })).status).toBe(
      302,
    );
    expect(ollama.pulls.filter((pull) => pull.model.toLowerCase().startsWith("slowpoke"))).toHaveLength(1);

    // The page on B (a reload, as it were) shows it running with its percent in the title.
    const page = await (await adminOnB.get("/admin/models")).text();
    expect(page).toMatch(/<title>\d+% · Models/);
    expect(page).toContain('data-status="running"');
    expect(page).toContain("Refresh");
    // The overview on either replica lists it among running pulls.
    const overview = await (await adminOnA.get("/admin")).text();
    const pulls = overview.match(/data-testid="running-pulls"[\s\S]*?<\/ul>/)?.[0] ?? overview.slice(0, 0);
    expect(pulls.replace(/<!-- -->/g, "")).toMatch(/slowpoke<\/a> — \d+ %/);

    // Cancel on B: A, which owns the Ollama request, closes it.
    expect((await adminOnB.post("/admin/models", { intent: "cancel", name: "slowpoke" })).status).toBe(302);
    await ollama.waitFor(
      () => ollama.pulls.find((pull) => pull.model === "slowpoke")?.status === "cancelled",
      5000,
    );
    const after = await (await adminOnA.get("/admin/models")).text();
    expect(after).toContain('data-status="cancelled"');
    const final = await readPullEvents(await pullEvents(a, "slowpoke"), () => false);
    expect(final.at(-1)).toMatchObject({ status: "cancelled" });
    // One start (the second request joined the running pull) and one cancel, each with its admin.
    const audit = await database.query<{ action: string; actor_email: string }>(
      "SELECT action, actor_email FROM audit_events WHERE target_type = 'model' AND lower(target_id) LIKE 'slowpoke%' ORDER BY id",
    );
    expect(audit.map((row) => row.action)).toEqual(["model.pull_started", "model.pull_cancelled"]);
    expect(audit.map((row) => row.actor_email)).toEqual([
      "models-admin@example.com",
      "models-admin@example.com",
    ]);
  });

  test("a finished pull is in every user's picker and /api/v1/models at once, on every replica", async () => {
    // Both replicas have cached the list (the picker's cache lives a few seconds).
    expect(await (await user.get("/chat")).text()).not.toContain("tinyllama");
    expect(
      ((await (await api(b, "/models")).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id),
    ).not.toContain("tinyllama:latest");
    expect((await adminOnA.post("/admin/models", { intent: "pull", name: "tinyllama" })).status).toBe(302);
    const events = await readPullEvents(
      await pullEvents(b, "tinyllama"),
      (event) => event.status !== "running",
    );
    expect(events.at(-1)).toMatchObject({ status: "success", percent: 100 });
    await expect
      .poll(async () =>
        (
          await database.query<{ action: string }>(
            "SELECT action FROM audit_events WHERE target_id = 'tinyllama' ORDER BY id",
          )
        ).map((row) => row.action),
      )
      .toEqual(["model.pull_started", "model.pull_finished"]);
    // The news travels over pub/sub, which may land a moment after the SSE read the final state.
    await expect
      .poll(
        async () => (await (await user.get("/chat")).text()).includes('<option value="tinyllama:latest"'),
        {
          timeout: 5000,
        },
      )
      .toBe(true);
    const listed = (await (await api(b, "/models")).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((model) => model.id)).toContain("tinyllama:latest");
  });

  test("an unknown model and a registry error are shown with Ollama's own message", async () => {
    expect((await adminOnA.post("/admin/models", { intent: "pull", name: "no-such-model:1b" })).status).toBe(
      302,
    );
    const events = await readPullEvents(
      await pullEvents(b, "no-such-model:1b"),
      (event) => event.status !== "running",
    );
    expect(events.at(-1)).toMatchObject({ status: "failed", error: PULL_NOT_FOUND_ERROR });
    expect(await (await adminOnB.get("/admin/models")).text()).toContain(PULL_NOT_FOUND_ERROR);

    await adminOnB.post("/admin/models", { intent: "pull", name: "broken" });
    const broken = await readPullEvents(await pullEvents(a, "broken"), (event) => event.status !== "running");
    expect(broken.at(-1)).toMatchObject({
      status: "failed",
      error: "pull model manifest: 500: registry is down for maintenance",
    });
    // Dismissed, it is gone from the page.
    expect((await adminOnA.post("/admin/models", { intent: "dismiss", name: "broken" })).status).toBe(302);
    expect(await (await adminOnB.get("/admin/models")).text()).not.toContain("registry is down");
  });

  test("delete is refused while the model is being pulled, and works with Ollama's empty 200 otherwise", async () => {
    await adminOnA.post("/admin/models", { intent: "pull", name: "slowdelete" });
    await readPullEvents(await pullEvents(b, "slowdelete"), (event) => event.completed > 0);
    const refused = await adminOnB.post("/admin/models/slowdelete", { intent: "delete" });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("being pulled right now");
    expect(ollama.requests.some((request) => request.path === "/api/delete")).toBe(false);
    await adminOnB.post("/admin/models", { intent: "cancel", name: "slowdelete" });

    expect(await (await adminOnA.get("/admin/models/all-minilm:latest?delete=1")).text()).toContain(
      "Delete model",
    );
    const deleted = await adminOnA.post("/admin/models/all-minilm:latest", { intent: "delete" });
    expect(deleted.status).toBe(302);
    expect(deleted.headers.get("location")).toBe("/admin/models?deleted=all-minilm%3Alatest");
    expect(ollama.requests.filter((request) => request.path === "/api/delete")).toHaveLength(1);
    expect((await adminOnB.get("/admin/models/all-minilm:latest")).status).toBe(404);
    const listed = (await (await api(b, "/models")).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((model) => model.id)).not.toContain("all-minilm:latest");
  });

  test("a hidden model is refused on the API and in chat exactly like an unknown one, on every replica", async () => {
    const hide = await adminOnA.post("/admin/models/llama3.2:latest", {
      intent: "settings",
      hidden: "on",
      displayName: "",
    });
    expect(hide.status).toBe(302);

    const unknown = await api(b, "/chat/completions", {
      model: "ghost-model",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(unknown.status).toBe(404);
    const unknownBody = await unknown.json();
    // The other replica hears of the change over pub/sub (a moment later, not 10 s of cache later).
    await expect
      .poll(
        async () =>
          (
            await api(b, "/chat/completions", {
              model: "llama3.2",
              messages: [{ role: "user", content: "hi" }],
            })
          ).status,
        {
          timeout: 5000,
        },
      )
      .toBe(404);
    for (const spelling of ["llama3.2", "LLAMA3.2:latest", "library/llama3.2"]) {
      const hidden = await api(b, "/chat/completions", {
        model: spelling,
        messages: [{ role: "user", content: "hi" }],
      });
      expect(hidden.status).toBe(404);
      expect(await hidden.json()).toEqual(
        JSON.parse(JSON.stringify(unknownBody).replaceAll("ghost-model", spelling)),
      );
    }
    const completion = await api(b, "/completions", { model: "llama3.2", prompt: "hi" });
    expect(completion.status).toBe(404);
    expect(((await completion.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    const embeddings = await api(b, "/embeddings", { model: "llama3.2", input: "hi" });
    expect(embeddings.status).toBe(404);
    expect(((await embeddings.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    const one = await api(a, "/models/llama3.2:latest");
    expect(one.status).toBe(404);
    expect(((await one.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    const listed = (await (await api(b, "/models")).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((model) => model.id)).not.toContain("llama3.2:latest");
    expect(await (await user.get("/chat")).text()).not.toContain('value="llama3.2:latest"');
    // Nor is it offered for a key's model allow-list.
    const keysPage = await (await user.get("/settings/keys")).text();
    expect(keysPage).toContain('value="tinyllama:latest"');
    expect(keysPage).not.toContain('value="llama3.2:latest"');

    // A hand-made chat send fails the reply as an unknown model's does; Ollama is never asked.
    const chatsBefore = ollama.chats.length;
    const sent = await user.post("/chat?index", {
      intent: "send",
      content: "hi",
      model: "llama3.2:latest",
      wait: "1",
    });
    expect(sent.status).toBe(302);
    const [reply] = await database.query<{ status: string; error: string }>(
      "SELECT status, error FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1",
    );
    expect(reply).toEqual({
      status: "failed",
      error: 'model "llama3.2:latest" not found, try pulling it first',
    });
    expect(ollama.chats.length).toBe(chatsBefore);

    // Shown again, with a display name that the picker uses.
    await adminOnB.post("/admin/models/llama3.2:latest", { intent: "settings", displayName: "Llama (fast)" });
    expect(
      (await api(a, "/chat/completions", { model: "llama3.2", messages: [{ role: "user", content: "hi" }] }))
        .status,
    ).toBe(200);
    expect(await (await user.get("/chat")).text()).toContain("Llama (fast) · 3.2B");
    expect(await database.query("SELECT name, hidden, display_name FROM model_settings")).toEqual([
      { name: "registry.ollama.ai/library/llama3.2:latest", hidden: false, display_name: "Llama (fast)" },
    ]);
  });

  test("the default model for new chats is set here; hidden models cannot be the default", async () => {
    expect(
      (await adminOnA.post("/admin/models", { intent: "default", model: "tinyllama:latest" })).status,
    ).toBe(302);
    const newcomer = new Browser(b.url);
    await newcomer.signup("models-newcomer@example.com");
    expect(await (await newcomer.get("/chat")).text()).toMatch(
      /<option value="tinyllama:latest" selected="">/,
    );
    expect((await adminOnA.post("/admin/models", { intent: "default", model: "ghost:1b" })).status).toBe(404);

    // Hiding the default clears it; a hidden model is refused as the default.
    await adminOnA.post("/admin/models/tinyllama:latest", { intent: "settings", hidden: "on" });
    expect(await database.query("SELECT 1 FROM app_settings WHERE key = 'chat.default_model'")).toHaveLength(
      0,
    );
    const refused = await adminOnA.post("/admin/models", { intent: "default", model: "tinyllama:latest" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("hidden from users");
    await adminOnA.post("/admin/models/tinyllama:latest", { intent: "settings" });
  });

  // Last: it stops replica A.
  test("a replica shutting down mid-pull records the pull as interrupted, which the other replica shows", async () => {
    await adminOnA.post("/admin/models", { intent: "pull", name: "slowcancel" });
    await readPullEvents(await pullEvents(b, "slowcancel"), (event) => event.completed > 0);
    await a.stop();
    await ollama.waitFor(
      () => ollama.pulls.find((pull) => pull.model === "slowcancel")?.status === "cancelled",
      5000,
    );
    const events = await readPullEvents(
      await pullEvents(b, "slowcancel"),
      (event) => event.status !== "running",
    );
    expect(events.at(-1)).toMatchObject({ status: "failed" });
    expect(events.at(-1)!.error).toContain("The server restarted during the pull");
    // Nothing holds the model any more: it can be pulled again (Ollama resumes it).
    expect((await adminOnB.post("/admin/models", { intent: "pull", name: "slowcancel" })).status).toBe(302);
    await adminOnB.post("/admin/models", { intent: "cancel", name: "slowcancel" });
  });
});

describe("admin model pulls without Redis (in-process state)", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let admin: Browser;

  beforeAll(async () => {
    database = await createTestDatabase("admin-models-local");
    ollama = await startFakeOllama({ pull: { known: ["tinyllama", { name: "slowpoke", pull: SLOW }] } });
    app = await startApp({ DATABASE_URL: database.url, OLLAMA_URL: ollama.url });
    admin = new Browser(app.url);
    await admin.signup("models-local-admin@example.com");
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  const events = (name: string) =>
    fetch(`${app.url}/admin/models/pull-events?${new URLSearchParams({ name })}`, {
      headers: { cookie: admin.cookieHeader() },
    });

  test("a pull completes and a slow one is cancelled, with the state kept in the process", async () => {
    await admin.post("/admin/models", { intent: "pull", name: "tinyllama" });
    const done = await readPullEvents(await events("tinyllama"), (event) => event.status !== "running");
    expect(done.at(-1)).toMatchObject({ status: "success", percent: 100 });
    expect(await (await admin.get("/chat")).text()).toContain('<option value="tinyllama:latest"');

    await admin.post("/admin/models", { intent: "pull", name: "slowpoke" });
    await readPullEvents(await events("slowpoke"), (event) => event.completed > 0);
    expect(await (await admin.get("/admin/models")).text()).toContain('data-status="running"');
    expect((await admin.post("/admin/models", { intent: "cancel", name: "slowpoke" })).status).toBe(302);
    await ollama.waitFor(
      () => ollama.pulls.find((pull) => pull.model === "slowpoke")?.status === "cancelled",
      5000,
    );
    expect(await (await admin.get("/admin/models")).text()).toContain('data-status="cancelled"');
  });
});
