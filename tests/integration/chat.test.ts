import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

interface MessageRow {
  id: string;
  role: string;
  content: string;
  status: string;
  error: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  ttft_ms: number | null;
  total_ms: number | null;
}

/** Reads server-sent events until the end event (or the stream closes); returns the events. */
async function readEvents(response: Response, { stopAfter }: { stopAfter?: number } = {}) {
  const events: Array<{ id?: string; data: { type: string; text?: string } }> = [];
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
      const id = block.match(/^id: (.*)$/m)?.[1];
      const data = block.match(/^data: (.*)$/m)?.[1];
      if (!data) continue;
      events.push({ id, data: JSON.parse(data) });
      if (events.at(-1)?.data.type === "end" || (stopAfter && events.length >= stopAfter)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

describe.each([
  { store: "in-process", withRedis: false },
  { store: "redis", withRedis: true },
])("chat ($store live store)", ({ withRedis }) => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let user: Browser;

  beforeAll(async () => {
    database = await createTestDatabase("chat");
    ollama = await startFakeOllama({
      models: [
        { name: "llama3.2:latest", contextLength: 131072, parameterSize: "3.2B", quantization: "Q4_K_M" },
        { name: "tiny:latest", contextLength: 600 },
      ],
    });
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL: withRedis ? REDIS_URL : undefined,
      REDIS_KEY_PREFIX: redisPrefix(),
    });
    user = new Browser(app.url);
    await user.signup(`chatter-${withRedis}@example.com`);
  });

  afterEach(() => ollama.reset());

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  async function messages(chatId: string) {
    return database.query<MessageRow>(
      "SELECT id::text, role, content, status, error, prompt_tokens, completion_tokens, ttft_ms, total_ms FROM messages WHERE chat_id = $1 ORDER BY messages.id",
      [chatId],
    );
  }

  async function newChat(content: string, { wait = true, model = "llama3.2:latest", browser = user } = {}) {
    const response = await browser.post("/chat?index", {
      intent: "send",
      content,
      model,
      wait: wait ? "1" : "0",
    });
    expect(response.status).toBe(302);
    const chatId = response.headers.get("location")!.match(/^\/chat\/([a-z0-9]+)/)![1];
    return chatId;
  }

  async function live(
    chatId: string,
    messageId: string,
    browser = user,
    headers: Record<string, string> = {},
  ) {
    return fetch(`${app.url}/chat/${chatId}/live/${messageId}`, {
      headers: { cookie: browser.cookieHeader(), accept: "text/event-stream", ...headers },
    });
  }

  test("without JavaScript, posting waits for the whole reply, saves it with Ollama's exact counts", async () => {
    ollama.setChat({ reply: "Hello there, **friend**.", promptEvalCount: 31, evalCount: 7 });
    const chatId = await newChat("Say hello to me\nplease");
    const rows = await messages(chatId);
    expect(rows.map((row) => [row.role, row.content, row.status])).toEqual([
      ["user", "Say hello to me\nplease", "complete"],
      ["assistant", "Hello there, **friend**.", "complete"],
    ]);
    expect(rows[1]).toMatchObject({ prompt_tokens: 31, completion_tokens: 7 });
    expect(rows[1].ttft_ms).toBeGreaterThanOrEqual(0);
    expect(rows[1].total_ms).toBeGreaterThanOrEqual(rows[1].ttft_ms!);
    const [chat] = await database.query<{ title: string }>("SELECT title FROM chats WHERE id = $1", [chatId]);
    expect(chat.title).toBe("Say hello to me");

    const page = await user.get(`/chat/${chatId}`);
    const html = await page.text();
    expect(html).toContain('data-streamdown="strong">friend</span>');
    expect(html).toContain("31 prompt + 7 completion tokens");
    // The chat was sent to Ollama's native API as a stream.
    expect(ollama.chats.at(-1)?.body).toMatchObject({
      model: "llama3.2:latest",
      stream: true,
      messages: [{ role: "user", content: "Say hello to me\nplease" }],
    });
  });

  test("the user's message is saved before Ollama answers, and the reply streams over SSE", async () => {
    ollama.setChat({ reply: "one two three four five", firstTokenDelayMs: 300, tokenDelayMs: 30 });
    const chatId = await newChat("count to five", { wait: false });
    const before = await messages(chatId);
    expect(before.map((row) => [row.role, row.status])).toEqual([
      ["user", "complete"],
      ["assistant", "streaming"],
    ]);
    const response = await live(chatId, before[1].id);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = await readEvents(response);
    const text = events.flatMap((event) => (event.data.type === "delta" ? [event.data.text] : [])).join("");
    expect(text).toBe("one two three four five");
    expect(events.filter((event) => event.data.type === "delta").length).toBeGreaterThan(1);
    expect(events.at(-1)?.data).toEqual({ type: "end", status: "complete" });
    expect((await messages(chatId))[1]).toMatchObject({
      status: "complete",
      content: "one two three four five",
    });
  });

  test("closing the page does not stop the reply; reattaching replays it and resumes after Last-Event-ID", async () => {
    ollama.setChat({ reply: Array.from({ length: 30 }, (_, i) => `w${i}`).join(" "), tokenDelayMs: 25 });
    const chatId = await newChat("long one", { wait: false });
    const replyId = (await messages(chatId))[1].id;
    const first = await readEvents(await live(chatId, replyId), { stopAfter: 2 });
    expect(first).toHaveLength(2);
    // Resume after the first event: the second one comes again, nothing before it.
    const resumed = await readEvents(await live(chatId, replyId, user, { "last-event-id": first[0].id! }));
    expect(resumed[0]).toEqual(first[1]);
    const whole = [first[0], ...resumed]
      .flatMap((event) => (event.data.type === "delta" ? [event.data.text] : []))
      .join("");
    expect(whole).toBe(Array.from({ length: 30 }, (_, i) => `w${i}`).join(" "));
    expect(ollama.chats.at(-1)?.status).toBe("completed");
    expect((await messages(chatId))[1].status).toBe("complete");
  });

  test("Stop aborts the Ollama request and keeps the partial reply, marked stopped", async () => {
    ollama.setChat({ reply: Array.from({ length: 200 }, (_, i) => `t${i}`).join(" "), tokenDelayMs: 20 });
    const chatId = await newChat("go on forever", { wait: false });
    const replyId = (await messages(chatId))[1].id;
    await readEvents(await live(chatId, replyId), { stopAfter: 3 });
    const stop = await user.post(`/chat/${chatId}`, { intent: "stop", messageId: replyId });
    expect(stop.status).toBe(200);
    await ollama.waitFor(() => ollama.chats.at(-1)?.status === "cancelled", 5000);
    await expect.poll(async () => (await messages(chatId))[1].status, { timeout: 5000 }).toBe("stopped");
    const reply = (await messages(chatId))[1];
    expect(reply.content).toMatch(/^t0 t1 t2/);
    expect(reply.content.length).toBeLessThan(200 * 4);
  });

  test("nobody can stop another user's reply through a chat of their own", async () => {
    ollama.setChat({ reply: Array.from({ length: 60 }, (_, i) => `w${i}`).join(" "), tokenDelayMs: 10 });
    const victimChat = await newChat("write a long story", { wait: false });
    const replyId = (await messages(victimChat))[1].id;
    const stranger = new Browser(app.url);
    await stranger.signup(`stopper-${withRedis}@example.com`);
    const strangerChat = await newChat("my own chat", { browser: stranger });
    // The stranger's own chat, the victim's (sequential, guessable) message id.
    const stop = await stranger.post(`/chat/${strangerChat}`, { intent: "stop", messageId: replyId });
    expect(stop.status).toBe(404);
    await expect
      .poll(async () => (await messages(victimChat))[1].status, { timeout: 10_000 })
      .toBe("complete");
    expect((await messages(victimChat))[1].content).toMatch(/w59$/);
    // A message of the right chat that is not a reply is refused too.
    const userMessageId = (await messages(victimChat))[0].id;
    expect(
      (await user.post(`/chat/${victimChat}`, { intent: "stop", messageId: userMessageId })).status,
    ).toBe(404);
  });

  test("an Ollama error mid-stream keeps the partial text, marks it failed, and Retry replaces it", async () => {
    ollama.setChat({
      reply: "alpha beta gamma delta",
      failAfterTokens: { count: 2, error: "model runner crashed" },
    });
    const chatId = await newChat("try this");
    const failed = (await messages(chatId))[1];
    expect(failed).toMatchObject({ status: "failed", content: "alpha beta", error: "model runner crashed" });
    const page = await (await user.get(`/chat/${chatId}`)).text();
    expect(page).toContain("model runner crashed");
    expect(page).toContain(">Retry<");

    ollama.setChat({ reply: "all good now" });
    const retry = await user.post(`/chat/${chatId}`, { intent: "regenerate", wait: "1" });
    expect(retry.status).toBe(302);
    const rows = await messages(chatId);
    expect(rows.map((row) => [row.role, row.content, row.status])).toEqual([
      ["user", "try this", "complete"],
      ["assistant", "all good now", "complete"],
    ]);
    // The failed partial reply is not sent back to the model as context.
    expect(ollama.chats.at(-1)?.body.messages).toEqual([{ role: "user", content: "try this" }]);
  });

  test("an error before the stream (unknown model) is shown inline, the message is kept", async () => {
    const chatId = await newChat("hello?", { model: "missing-model:latest" });
    const rows = await messages(chatId);
    expect(rows[0]).toMatchObject({ role: "user", content: "hello?" });
    expect(rows[1]).toMatchObject({ status: "failed", content: "" });
    expect(rows[1].error).toContain("not found");
  });

  test("regenerate and edit the last message", async () => {
    ollama.setChat({ reply: (req) => `reply to: ${req.messages.at(-1).content}` });
    const chatId = await newChat("first question");
    await user.post(`/chat/${chatId}`, { intent: "send", content: "second question", wait: "1" });
    const regenerated = await user.post(`/chat/${chatId}`, { intent: "regenerate", wait: "1" });
    expect(regenerated.status).toBe(302);
    const edited = await user.post(`/chat/${chatId}`, {
      intent: "edit",
      content: "second, edited",
      wait: "1",
    });
    expect(edited.status).toBe(302);
    const rows = await messages(chatId);
    expect(rows.map((row) => [row.role, row.content])).toEqual([
      ["user", "first question"],
      ["assistant", "reply to: first question"],
      ["user", "second, edited"],
      ["assistant", "reply to: second, edited"],
    ]);
    expect(ollama.chats.at(-1)?.body.messages).toEqual([
      { role: "user", content: "first question" },
      { role: "assistant", content: "reply to: first question" },
      { role: "user", content: "second, edited" },
    ]);
  });

  test("context: the system prompt is always kept and the oldest turns are dropped to fit the window", async () => {
    ollama.setChat({ reply: "ok" });
    const chatId = await newChat("x".repeat(1000), { model: "tiny:latest" });
    await user.post(`/chat/${chatId}`, {
      intent: "system",
      systemPrompt: "You are terse.",
    });
    await user.post(`/chat/${chatId}`, { intent: "send", content: "y".repeat(1000), wait: "1" });
    await user.post(`/chat/${chatId}`, { intent: "send", content: "latest question", wait: "1" });
    const sent = ollama.chats.at(-1)!.body;
    // tiny's window is 600 tokens (450 tokens for the prompt after the reply reserve): the oldest turn goes.
    expect(sent.options.num_ctx).toBe(600);
    expect(sent.messages[0]).toEqual({ role: "system", content: "You are terse." });
    expect(sent.messages.at(-1)).toEqual({ role: "user", content: "latest question" });
    expect(sent.messages.some((message: { content: string }) => message.content === "x".repeat(1000))).toBe(
      false,
    );
    expect(sent.messages.some((message: { content: string }) => message.content === "y".repeat(1000))).toBe(
      true,
    );
  });

  test("over-long and empty messages are refused with a clear error and nothing is saved", async () => {
    const before = await database.query<{ count: string }>("SELECT count(*) FROM messages");
    const tooLong = await user.post("/chat?index", {
      intent: "send",
      content: "z".repeat(32_001),
      model: "llama3.2:latest",
      wait: "1",
    });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain("Messages can be at most 32,000 characters.");
    const empty = await user.post("/chat?index", {
      intent: "send",
      content: "   ",
      model: "llama3.2:latest",
      wait: "1",
    });
    expect(empty.status).toBe(400);
    const after = await database.query<{ count: string }>("SELECT count(*) FROM messages");
    expect(after[0].count).toBe(before[0].count);
  });

  test("another user's chat is a 404 for reading, sending, streaming, renaming and deleting", async () => {
    const chatId = await newChat("private thoughts");
    const replyId = (await messages(chatId))[1].id;
    const stranger = new Browser(app.url);
    await stranger.signup(`stranger-${withRedis}@example.com`);
    expect((await stranger.get(`/chat/${chatId}`)).status).toBe(404);
    expect((await stranger.get("/chat/does-not-exist")).status).toBe(404);
    expect((await live(chatId, replyId, stranger)).status).toBe(404);
    const attempts: Array<Record<string, string>> = [
      { intent: "send", content: "mine now", wait: "1" },
      { intent: "rename", title: "pwned" },
      { intent: "delete" },
      { intent: "stop", messageId: replyId },
    ];
    for (const fields of attempts) {
      expect((await stranger.post(`/chat/${chatId}`, fields)).status).toBe(404);
    }
    const rows = await messages(chatId);
    expect(rows).toHaveLength(2);
    const [chat] = await database.query<{ title: string }>("SELECT title FROM chats WHERE id = $1", [chatId]);
    expect(chat.title).toBe("private thoughts");
    expect(await (await stranger.get("/chat")).text()).not.toContain("private thoughts");
  });

  test("rename and delete (after confirmation) a chat", async () => {
    const chatId = await newChat("to be renamed");
    expect(await (await user.get(`/chat/${chatId}?delete=1`)).text()).toContain("This cannot be undone");
    expect((await user.post(`/chat/${chatId}`, { intent: "rename", title: "  Renamed chat " })).status).toBe(
      302,
    );
    expect(await (await user.get("/chat")).text()).toContain("Renamed chat");
    expect((await user.post(`/chat/${chatId}`, { intent: "rename", title: " " })).status).toBe(400);
    const deleted = await user.post(`/chat/${chatId}`, { intent: "delete" });
    expect(deleted.headers.get("location")).toBe("/chat");
    expect(await database.query("SELECT 1 FROM messages WHERE chat_id = $1", [chatId])).toHaveLength(0);
    expect((await user.get(`/chat/${chatId}`)).status).toBe(404);
  });

  test("defaults: the user's default system prompt starts new chats; the admin's default model applies until a user picks one", async () => {
    ollama.setChat({ reply: "ok" });
    expect((await user.post("/settings/chat", { systemPrompt: "Answer in French." })).status).toBe(302);
    await newChat("bonjour");
    expect(ollama.chats.at(-1)?.body.messages[0]).toEqual({ role: "system", content: "Answer in French." });
    await user.post("/settings/chat", { systemPrompt: "" });

    // The admin (first user) sets tiny as the default (on /admin/models, where the setting moved);
    // a new user with no choice of their own gets it.
    expect((await user.post("/admin/models", { intent: "default", model: "tiny:latest" })).status).toBe(302);
    const newcomer = new Browser(app.url);
    await newcomer.signup(`newcomer-${withRedis}@example.com`);
    expect(await (await newcomer.get("/chat")).text()).toMatch(/<option value="tiny:latest" selected="">/);
    expect(
      (await newcomer.post("/admin/models", { intent: "default", model: "llama3.2:latest" })).status,
    ).toBe(403);
    await user.post("/admin/models", { intent: "default", model: "" });
  });

  test("model picker: Ollama's models with details, the last choice first; a plain message when Ollama is down", async () => {
    await newChat("pick tiny", { model: "tiny:latest" });
    const page = await (await user.get("/chat")).text();
    expect(page).toContain("llama3.2:latest · 3.2B · Q4_K_M");
    expect(page).toMatch(/<option value="tiny:latest" selected="">/);
    await ollama.setDown(true);
    try {
      // The model list is cached for a few seconds.
      await expect
        .poll(async () => (await (await user.get("/chat")).text()).includes("Ollama is not reachable"), {
          timeout: 10_000,
        })
        .toBe(true);
      // Unreachable is not "no models": nothing to pull or add while the server does not answer.
      const down = await (await user.get("/chat")).text();
      expect(down).not.toContain("Pull one");
      expect(down).not.toContain("add one");
    } finally {
      await ollama.setDown(false);
    }
  });
});

describe("chat across replicas sharing Redis", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let replicas: RunningApp[];

  beforeAll(async () => {
    database = await createTestDatabase("chat-replicas");
    ollama = await startFakeOllama();
    const shared = {
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
    };
    replicas = [await startApp(shared), await startApp(shared)];
  });

  afterAll(async () => {
    await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
    await ollama?.close();
    await database?.drop();
  });

  test("a reply started on one replica is followed and stopped from the other", async () => {
    const [a, b] = replicas;
    ollama.setChat({ reply: Array.from({ length: 300 }, (_, i) => `r${i}`).join(" "), tokenDelayMs: 15 });
    const onA = new Browser(a.url);
    await onA.signup("replicas@example.com");
    const started = await onA.post("/chat?index", {
      intent: "send",
      content: "hi",
      model: "llama3.2:latest",
      wait: "0",
    });
    const chatId = started.headers.get("location")!.split("/").at(-1)!;
    const [, reply] = await database.query<{ id: string }>(
      "SELECT id::text FROM messages WHERE chat_id = $1 ORDER BY messages.id",
      [chatId],
    );
    const onB = new Browser(b.url);
    onB.cookies = onA.cookies;
    const events = await readEvents(
      await fetch(`${b.url}/chat/${chatId}/live/${reply.id}`, { headers: { cookie: onB.cookieHeader() } }),
      { stopAfter: 3 },
    );
    expect(events[0].data).toEqual({ type: "delta", text: expect.stringMatching(/^r0/) });
    expect((await onB.post(`/chat/${chatId}`, { intent: "stop", messageId: reply.id })).status).toBe(200);
    await ollama.waitFor(() => ollama.chats.at(-1)?.status === "cancelled", 5000);
    await expect
      .poll(
        async () =>
          (
            await database.query<{ status: string }>("SELECT status FROM messages WHERE id = $1", [reply.id])
          )[0].status,
        { timeout: 5000 },
      )
      .toBe("stopped");
  });
});
