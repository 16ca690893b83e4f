import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/**
 * Ollama's own API under /ollama, behind the same API keys, with the official `ollama` npm client:
 * what editors and note apps that speak Ollama (not OpenAI) use.
 */
describe.each([
  { way: "node:http fast path", API_FAST_PATH: "true" },
  { way: "React Router resource route", API_FAST_PATH: "false" },
])("Ollama's API at /ollama with a key, $way", ({ API_FAST_PATH }) => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let admin: Browser;
  let token: string;
  let client: Ollama;

  beforeAll(async () => {
    database = await createTestDatabase("ollamanative");
    ollama = await startFakeOllama({
      models: [
        { name: "llama3.2:latest", capabilities: ["completion", "tools"] },
        { name: "secret:latest" },
        { name: "all-minilm:latest", capabilities: ["embedding"], embeddingLength: 4 },
      ],
    });
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      RATE_LIMIT_REQUESTS: "40",
      API_FAST_PATH,
    });
    admin = new Browser(app.url);
    await admin.signup(`native-admin-${API_FAST_PATH}@example.com`);
    ({ token } = await admin.createApiKey());
    client = new Ollama({ host: `${app.url}/ollama`, headers: { Authorization: `Bearer ${token}` } });
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  const usage = () =>
    database.query<{
      endpoint: string;
      model: string;
      prompt_tokens: number;
      completion_tokens: number;
      status: number;
    }>("SELECT endpoint, model, prompt_tokens, completion_tokens, status FROM usage_events ORDER BY id");

  test("chat (streamed and not), generate, embed and list, with usage from Ollama's counts", async () => {
    ollama.setChat({ reply: "Hello from Ollama", promptEvalCount: 9, evalCount: 3 });
    const whole = await client.chat({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] });
    expect(whole.message.content).toBe("Hello from Ollama");
    expect(whole.eval_count).toBe(3);

    let streamed = "";
    for await (const part of await client.chat({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    })) {
      streamed += part.message.content;
    }
    expect(streamed).toBe("Hello from Ollama");

    const generated = await client.generate({ model: "llama3.2", prompt: "Say hello" });
    expect(generated.response).toBe("Hello from Ollama");
    const embedded = await client.embed({ model: "all-minilm", input: ["one", "two"] });
    expect(embedded.embeddings).toHaveLength(2);

    const list = await client.list();
    expect(list.models.map((model) => model.name).sort()).toEqual([
      "all-minilm:latest",
      "llama3.2:latest",
      "secret:latest",
    ]);
    expect((await client.version()).version).toMatch(/^\d+\.\d+/);
    expect((await client.show({ model: "llama3.2" })).details.family).toBeTruthy();

    await expect
      .poll(async () => (await usage()).filter((row) => row.endpoint.startsWith("/ollama/api/")).length, {
        timeout: 5000,
      })
      .toBeGreaterThanOrEqual(7);
    const rows = await usage();
    expect(rows.filter((row) => row.endpoint === "/ollama/api/chat")).toEqual([
      {
        endpoint: "/ollama/api/chat",
        model: "llama3.2",
        prompt_tokens: 9,
        completion_tokens: 3,
        status: 200,
      },
      {
        endpoint: "/ollama/api/chat",
        model: "llama3.2",
        prompt_tokens: 9,
        completion_tokens: 3,
        status: 200,
      },
    ]);
  });

  test("a bad key, a model outside the key's allow-list, a hidden model, and model management are refused", async () => {
    const stranger = new Ollama({
      host: `${app.url}/ollama`,
      headers: { Authorization: "Bearer ccai-nope" },
    });
    await expect(stranger.list()).rejects.toMatchObject({ status_code: 401 });
    const anonymous = await fetch(`${app.url}/ollama/api/tags`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: expect.any(String) });

    const { token: limited } = await admin.createApiKey({ name: "limited", allowedModelsText: "all-minilm" });
    const limitedClient = new Ollama({
      host: `${app.url}/ollama`,
      headers: { Authorization: `Bearer ${limited}` },
    });
    await expect(
      limitedClient.chat({ model: "llama3.2", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status_code: 403 });
    expect((await limitedClient.list()).models.map((model) => model.name)).toEqual(["all-minilm:latest"]);

    // An admin hides a model: it is gone from the list and refused as Ollama refuses a missing one.
    expect(
      (await admin.post("/admin/models/secret:latest", { intent: "settings", displayName: "", hidden: "on" }))
        .status,
    ).toBe(302);
    await expect
      .poll(async () => (await client.list()).models.map((model) => model.name), { timeout: 15_000 })
      .not.toContain("secret:latest");
    const before = ollama.chats.length;
    await expect(
      client.chat({ model: "secret", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status_code: 404, error: "model 'secret' not found" });
    expect(ollama.chats.length).toBe(before); // Ollama was never asked

    // Pulling, deleting, creating, copying and pushing stay with administrators in the app.
    await expect(client.pull({ model: "tinyllama" })).rejects.toMatchObject({ status_code: 403 });
    await expect(client.delete({ model: "llama3.2" })).rejects.toMatchObject({ status_code: 403 });
    expect(
      ollama.requests.some((request) => request.path === "/api/pull" || request.path === "/api/delete"),
    ).toBe(false);
  });

  test("the key's rate limit applies, in Ollama's error shape", async () => {
    const { token: small } = await admin.createApiKey({ name: "small" });
    await admin.post("/settings/keys", {
      intent: "limits",
      keyId: (
        await database.query<{ id: string }>(
          "SELECT id FROM api_keys WHERE name = 'small' ORDER BY created_at DESC LIMIT 1",
        )
      )[0].id,
      rateLimitRequests: "2",
      rateLimitTokensPerMinute: "",
    });
    const smallClient = new Ollama({
      host: `${app.url}/ollama`,
      headers: { Authorization: `Bearer ${small}` },
    });
    const outcomes = await Promise.allSettled([smallClient.list(), smallClient.list(), smallClient.list()]);
    const refused = outcomes.find((outcome) => outcome.status === "rejected") as
      | PromiseRejectedResult
      | undefined;
    expect(refused?.reason).toMatchObject({ status_code: 429 });
  });
});
