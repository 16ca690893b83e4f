import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { type RunningApp, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/**
 * A small fuzz pass: hostile values (NUL, lone surrogates, huge numbers, deep nesting, wrong
 * types, very long strings) thrown at every form action and at the API's JSON bodies. Whatever
 * the input, the answer is a 2xx/3xx/4xx with a proper body, never a 500, and the log has no
 * error and no stack trace. Values come from a seeded generator, so a failure can be replayed.
 */

/** mulberry32: tiny, seedable, good enough to pick values. */
function random(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "😀".repeat(3),
  "9".repeat(400),
  "-1",
  "1e309",
  "NaN",
  "null",
  "[]",
  "{}",
  nested(50),
  "<script>alert(1)</script>",
  "'; DROP TABLE users; --",
  "../../etc/passwd",
  "%00",
  "%ZZ",
  "\r\nSet-Cookie: x=y",
  "x".repeat(70_000),
];
const HOSTILE_JSON: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER * 1000,
  0.1,
  "",
  "\u0000",
  "\ud800",
  [],
  {},
  [[[[[[[[[[]]]]]]]]]],
  { "\u0000": 1 },
  "x".repeat(10_000),
];

describe("fuzz: hostile values never cause a 500", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let user: Browser;
  let token: string;
  let chatId: string;
  let messageId: string;

  beforeAll(async () => {
    database = await createTestDatabase("fuzz");
    ollama = await startFakeOllama();
    app = await startApp({ DATABASE_URL: database.url, OLLAMA_URL: ollama.url });
    user = new Browser(app.url);
    await user.signup("fuzz@example.com");
    ({ token } = await user.createApiKey());
    const sent = await user.post("/chat?index", {
      intent: "send",
      content: "hello",
      model: "llama3.2",
      wait: "1",
    });
    chatId = sent.headers.get("location")!.match(/^\/chat\/([a-z0-9]+)/)![1];
    [{ id: messageId }] = await database.query<{ id: string }>(
      "SELECT id::text FROM messages WHERE chat_id = $1 AND role = 'assistant'",
      [chatId],
    );
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  function expectCleanLog() {
    const output = app.output();
    expect(output).not.toContain('"level":"error"');
    expect(output).not.toMatch(/\n\s+at [\w.<]+ \(/);
  }

  test("every form action, with random hostile fields", async () => {
    const next = random(20261206);
    const pick = <T>(values: T[]) => values[Math.floor(next() * values.length)];
    const forms: Array<[string, string[]]> = [
      ["/login", ["email", "password", "redirectTo"]],
      ["/signup", ["email", "password", "name", "redirectTo"]],
      ["/chat?index", ["intent", "content", "model", "wait"]],
      [`/chat/${chatId}`, ["intent", "content", "model", "messageId", "title", "systemPrompt", "wait"]],
      ["/settings", ["intent", "name", "currentPassword", "newPassword"]],
      ["/settings/chat", ["intent", "systemPrompt", "defaultModel"]],
      ["/settings/keys", ["intent", "name", "expiresInDays", "expiresOn", "allowedModelsText", "keyId"]],
      ["/theme", ["theme", "redirectTo"]],
    ];
    const intents = ["send", "stop", "rename", "system", "edit", "regenerate", "create", "revoke", "delete"];
    for (let round = 0; round < 12; round++) {
      for (const [path, names] of forms) {
        const fields: Record<string, string> = {};
        for (const name of names) {
          if (next() < 0.2) continue;
          fields[name] =
            name === "intent" && next() < 0.7
              ? pick(intents)
              : name === "messageId" && next() < 0.3
                ? messageId
                : pick(HOSTILE_STRINGS);
        }
        // Never let the fuzz delete the chat the other rounds post to.
        if (fields.intent === "delete") fields.intent = "rename";
        const response = await user.post(path, fields);
        expect(response.status, `${path} ${JSON.stringify(fields).slice(0, 300)}`).toBeLessThan(500);
        await response.arrayBuffer();
      }
    }
    for (const query of HOSTILE_STRINGS.slice(0, 20)) {
      // encodeURIComponent refuses lone surrogates; send their (invalid) UTF-8 bytes as is.
      const surrogate = /[\ud800-\udfff]/g;
      const encoded =
        encodeURIComponent(query.replace(surrogate, "")) + (surrogate.test(query) ? "%ED%A0%80" : "");
      const response = await user.get(`/search?q=${encoded}`);
      expect(response.status, query).toBeLessThan(500);
      await response.arrayBuffer();
    }
    expectCleanLog();
  });

  test("API bodies with hostile values get a 4xx envelope (or an answer), never a 5xx", async () => {
    const next = random(61220);
    const pick = <T>(values: T[]) => values[Math.floor(next() * values.length)];
    const base = () => ({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] });
    const fields = [
      "model",
      "messages",
      "temperature",
      "top_p",
      "max_tokens",
      "seed",
      "stop",
      "tools",
      "response_format",
      "stream",
      "n",
      "user",
    ];
    for (let round = 0; round < 60; round++) {
      const body: Record<string, unknown> = base();
      body[pick(fields)] = pick(HOSTILE_JSON);
      if (next() < 0.3)
        body.messages = [{ role: pick(["user", "system", "tool", "nope"]), content: pick(HOSTILE_JSON) }];
      const path = pick(["/chat/completions", "/embeddings"]);
      if (path === "/embeddings") body.input = pick(HOSTILE_JSON);
      const response = await fetch(`${app.url}/api/v1${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status, `${path} ${JSON.stringify(body).slice(0, 300)}`).toBeLessThan(500);
      if (response.status >= 400) expect(JSON.parse(text).error.type).toBe("invalid_request_error");
    }
    expectCleanLog();
  });

  test("deep nesting is refused before parsing: a 10 MB bracket bomb and a deep tool schema are a 400", async () => {
    const post = (body: string) =>
      fetch(`${app.url}/api/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
    const bomb = await post(nested(5_000_000));
    expect(bomb.status).toBe(400);
    expect(((await bomb.json()) as { error: { message: string } }).error.message).toMatch(
      /nests .* 128 levels/,
    );

    // Written out as text: building it as an object and stringifying would overflow the test's own stack.
    const schema = `${'{"type":"object","properties":{"deeper":'.repeat(5000)}{"type":"string"}${"}}".repeat(5000)}`;
    const deepTool = await post(
      `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}]}`,
    );
    // Before, this overflowed JSON.stringify on the way to Ollama and came back as a 503
    // "Ollama is not reachable", which SDKs retry.
    expect(deepTool.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const inString = await post(
      JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: nested(1000) }] }),
    );
    expect(inString.status).toBe(200);
    expect((await fetch(`${app.url}/api/health`)).status).toBe(200);
    expectCleanLog();
  });
});
