import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/** Reads server-sent events until the end event (or the stream closes). */
async function readEvents(response: Response) {
  const events: Array<{ type: string; text?: string }> = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    buffered += decoder.decode(value, { stream: true });
    for (let split = buffered.indexOf("\n\n"); split >= 0; split = buffered.indexOf("\n\n")) {
      const data = buffered.slice(0, split).match(/^data: (.*)$/m)?.[1];
      buffered = buffered.slice(split + 2);
      if (!data) continue;
      events.push(JSON.parse(data));
      if (events.at(-1)?.type === "end") {
        await reader.cancel();
        return events;
      }
    }
  }
}

const THINKER = "qwen3:latest";

describe.each([
  { store: "in-process", withRedis: false },
  { store: "redis", withRedis: true },
])("reasoning models and per-chat parameters ($store live store)", ({ withRedis }) => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let user: Browser;

  beforeAll(async () => {
    database = await createTestDatabase("thinking");
    ollama = await startFakeOllama({
      models: [
        {
          name: "llama3.2:latest",
          contextLength: 131072,
          family: "llama",
          capabilities: ["completion", "tools"],
        },
        {
          name: THINKER,
          contextLength: 40960,
          family: "qwen3",
          capabilities: ["completion", "thinking"],
          parameters:
            'temperature                    0.6\ntop_p                          0.95\nstop                           "<|im_end|>"',
        },
      ],
    });
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL: withRedis ? REDIS_URL : undefined,
      REDIS_KEY_PREFIX: redisPrefix(),
    });
    user = new Browser(app.url);
    await user.signup(`thinker-${withRedis}@example.com`);
  });

  afterEach(() => ollama.reset());

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  async function replies(chatId: string) {
    return database.query<{
      id: string;
      content: string;
      thinking: string | null;
      thinking_ms: number | null;
    }>(
      "SELECT id::text, content, thinking, thinking_ms FROM messages WHERE chat_id = $1 AND role = 'assistant' ORDER BY id",
      [chatId],
    );
  }

  async function chatRow(chatId: string) {
    const [row] = await database.query<{ think: boolean; options: unknown }>(
      "SELECT think, options FROM chats WHERE id = $1",
      [chatId],
    );
    return row;
  }

  async function newChat(content: string, { wait = true, model = THINKER } = {}) {
    const response = await user.post("/chat?index", {
      intent: "send",
      content,
      model,
      wait: wait ? "1" : "0",
    });
    expect(response.status).toBe(302);
    return response.headers.get("location")!.match(/^\/chat\/([a-z0-9]+)/)![1];
  }

  async function send(chatId: string, content: string) {
    const response = await user.post(`/chat/${chatId}`, { intent: "send", content, wait: "1" });
    expect(response.status).toBe(302);
  }

  test("thinking is saved apart from the answer and shown in a collapsed Thinking block", async () => {
    ollama.setChat({
      thinking: ["Let me ", "weigh <b>this</b>."],
      reply: "The answer is 4.",
      tokenDelayMs: 5,
    });
    const chatId = await newChat("What is 2+2?");
    const [reply] = await replies(chatId);
    expect(reply).toMatchObject({ content: "The answer is 4.", thinking: "Let me weigh <b>this</b>." });
    expect(reply.thinking_ms).toBeGreaterThanOrEqual(0);
    // Thinking is on by default: nothing is said, Ollama's default applies.
    expect(ollama.chats.at(-1)?.body).not.toHaveProperty("think");

    const html = await (await user.get(`/chat/${chatId}`)).text();
    expect(html).toContain('data-testid="thinking"');
    expect(html).toMatch(/Thought for (less than a second|\d+ s)/);
    expect(html).toContain("Let me weigh &lt;b&gt;this&lt;/b&gt;.");
    expect(html).not.toContain("<b>this</b>");
    // Finished replies render the block closed (no open attribute on the <details>).
    expect(html).toMatch(/<details[^>]*data-testid="thinking"/);
    expect(html).not.toMatch(/<details[^>]*open=""[^>]*data-testid="thinking"/);
  });

  test("over SSE, thinking arrives as its own events before the answer's deltas", async () => {
    ollama.setChat({ thinking: ["hmm ", "so ", "yes"], reply: "one two three", tokenDelayMs: 30 });
    const chatId = await newChat("stream it", { wait: false });
    const [reply] = await replies(chatId);
    const response = await fetch(`${app.url}/chat/${chatId}/live/${reply.id}`, {
      headers: { cookie: user.cookieHeader(), accept: "text/event-stream" },
    });
    const events = await readEvents(response);
    const kinds = events.map((event) => event.type);
    expect(kinds.lastIndexOf("thinking")).toBeLessThan(kinds.indexOf("delta"));
    const join = (type: string) =>
      events.flatMap((event) => (event.type === type ? [event.text] : [])).join("");
    expect(join("thinking")).toBe("hmm so yes");
    expect(join("delta")).toBe("one two three");
    expect(events.at(-1)).toEqual({ type: "end", status: "complete" });
    await expect.poll(async () => (await replies(chatId))[0].thinking).toBe("hmm so yes");
  });

  test("the thinking switch: off sends think:false (only to models that can think) and is saved with the chat", async () => {
    ollama.setChat({ thinking: ["secret thoughts"], reply: "Plain answer." });
    const chatId = await newChat("first");
    const page = await (await user.get(`/chat/${chatId}?settings=1`)).text();
    expect(page).toContain("Turn thinking off");

    const off = await user.post(`/chat/${chatId}`, { intent: "think", think: "off" });
    expect(off.status).toBe(302);
    expect((await chatRow(chatId)).think).toBe(false);
    expect(await (await user.get(`/chat/${chatId}?settings=1`)).text()).toContain("Turn thinking on");

    await send(chatId, "second");
    expect(ollama.chats.at(-1)?.body.think).toBe(false);
    const [, second] = await replies(chatId);
    expect(second).toMatchObject({ content: "Plain answer.", thinking: null, thinking_ms: null });

    // A model without the capability is never sent `think` (Ollama would refuse it).
    const llama = await newChat("no thinking here", { model: "llama3.2:latest" });
    expect(await (await user.get(`/chat/${llama}?settings=1`)).text()).not.toContain("Turn thinking");
    await user.post(`/chat/${llama}`, { intent: "think", think: "off" });
    await send(llama, "again");
    expect(ollama.chats.at(-1)?.body).not.toHaveProperty("think");
    expect(ollama.chats.at(-1)?.status).toBe("completed");

    const bad = await user.post(`/chat/${chatId}`, { intent: "think", think: "maybe" });
    expect(bad.status).toBe(400);
    expect((await chatRow(chatId)).think).toBe(false);
  });

  test("exports keep the thinking: JSON field, CSV last column, Markdown quote with HTML neutralised", async () => {
    ollama.setChat({ thinking: ["Consider <script>alert(1)</script>\n", "then answer."], reply: "Done." });
    const chatId = await newChat("export me");
    const json = (await (await user.get(`/chat/${chatId}/export?format=json`)).json()) as {
      chats: Array<{
        think: boolean;
        messages: Array<{ role: string; thinking: string | null; thinkingMs: number }>;
      }>;
    };
    const assistant = json.chats[0].messages.find((message) => message.role === "assistant")!;
    expect(assistant.thinking).toBe("Consider <script>alert(1)</script>\nthen answer.");
    expect(assistant.thinkingMs).toBeGreaterThanOrEqual(0);
    expect(json.chats[0].think).toBe(true);

    const csv = await (await user.get(`/chat/${chatId}/export?format=csv`)).text();
    expect(csv.split("\r\n")[0].split(",").slice(-2)).toEqual(["thinking", "images"]);
    expect(csv).toContain('"Consider <script>alert(1)</script>\nthen answer.",0\r\n');

    const markdown = await (await user.get(`/chat/${chatId}/export?format=md`)).text();
    expect(markdown).toMatch(
      /> \*\*Thinking\*\* \(\d+\.\d s\)\n>\n> Consider &lt;script>alert\(1\)&lt;\/script>\n> then answer\.\n\nDone\./,
    );
    expect(markdown).not.toContain("<script>");
  });

  test("parameters: saved with the chat, sent to Ollama as options, the model's defaults shown", async () => {
    ollama.setChat({ reply: "ok" });
    const chatId = await newChat("params please");
    // Before anything is set: only the context window goes, and the page shows the model's defaults.
    expect(ollama.chats.at(-1)?.body.options).toEqual({ num_ctx: 8192 });
    const before = await (await user.get(`/chat/${chatId}?settings=1`)).text();
    expect(before).toContain('placeholder="0.6"');
    expect(before).toContain('placeholder="0.95"');
    expect(before).toContain('placeholder="8192"');

    const saved = await user.post(`/chat/${chatId}`, {
      intent: "params",
      temperature: "0.3",
      topP: "0.5",
      numCtx: "2048",
      seed: "42",
      numPredict: "100",
    });
    expect(saved.status).toBe(302);
    expect((await chatRow(chatId)).options).toEqual({
      temperature: 0.3,
      topP: 0.5,
      numCtx: 2048,
      seed: 42,
      numPredict: 100,
    });
    const after = await (await user.get(`/chat/${chatId}?settings=1`)).text();
    expect(after).toContain('value="0.3"');
    expect(after).toContain("Parameters (5 set)");

    await send(chatId, "with params");
    expect(ollama.chats.at(-1)?.body.options).toEqual({
      num_ctx: 2048,
      temperature: 0.3,
      top_p: 0.5,
      seed: 42,
      num_predict: 100,
    });

    // Emptying a field goes back to the model's default.
    await user.post(`/chat/${chatId}`, {
      intent: "params",
      temperature: "",
      topP: "",
      numCtx: "",
      seed: "7",
      numPredict: "",
    });
    expect((await chatRow(chatId)).options).toEqual({ seed: 7 });
    await send(chatId, "fewer params");
    expect(ollama.chats.at(-1)?.body.options).toEqual({ num_ctx: 8192, seed: 7 });
  });

  test.each([
    [{ temperature: "5" }, "Temperature must be between 0 and 2."],
    [{ topP: "-0.1" }, "Top P must be between 0 and 1."],
    [{ numCtx: "1.5" }, "Context length must be a whole number."],
    [{ numCtx: "10" }, "Context length must be at least 256 tokens."],
    [{ seed: "abc" }, "Seed must be a number."],
    [{ numPredict: "0" }, "Max tokens must be at least 1."],
  ])("bad parameters %j are refused with a form error and nothing is saved", async (fields, message) => {
    const chatId = await newChat("bad params");
    await user.post(`/chat/${chatId}`, { intent: "params", seed: "1" });
    const response = await user.post(`/chat/${chatId}`, { intent: "params", temperature: "0.5", ...fields });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain(message);
    expect(html).toContain('data-testid="params-error"');
    expect((await chatRow(chatId)).options).toEqual({ seed: 1 });
  });

  test("another user cannot change a chat's parameters or thinking switch", async () => {
    const chatId = await newChat("mine");
    const mallory = new Browser(app.url);
    await mallory.signup(`mallory-thinking-${withRedis}@example.com`);
    expect((await mallory.post(`/chat/${chatId}`, { intent: "params", seed: "9" })).status).toBe(404);
    expect((await mallory.post(`/chat/${chatId}`, { intent: "think", think: "off" })).status).toBe(404);
    expect(await chatRow(chatId)).toEqual({ think: true, options: null });
  });
});
