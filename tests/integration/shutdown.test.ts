import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/**
 * A reply being written keeps a response open (the page follows it over server-sent events); a slow
 * fake reply keeps it open while we send SIGTERM.
 */
describe("graceful shutdown", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;

  beforeAll(async () => {
    database = await createTestDatabase("shutdown");
    ollama = await startFakeOllama();
  });

  afterAll(async () => {
    await ollama?.close();
    await database?.drop();
  });

  /**
   * An open stream: a reply being written, followed over server-sent events (the slow fake reply
   * keeps it open), as the chat page follows it.
   */
  async function openReplyStream(app: { url: string }) {
    const browser = new Browser(app.url);
    const email = `stream-${Date.now()}@example.com`;
    await browser.signup(email);
    const sent = await browser.post("/chat?index", {
      intent: "send",
      content: "hello",
      model: "llama3.2:latest",
      wait: "0",
    });
    expect(sent.status).toBe(302);
    const chatPath = sent.headers.get("location")!.replace(/#.*$/, "");
    const [reply] = await database.query<{ id: string }>(
      `SELECT m.id FROM messages m JOIN chats c ON c.id = m.chat_id JOIN users u ON u.id = c.user_id
       WHERE u.email = $1 AND m.role = 'assistant'`,
      [email],
    );
    const response = await fetch(`${app.url}${chatPath}/live/${reply.id}`, {
      headers: { cookie: browser.cookieHeader(), accept: "text/event-stream" },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('"type":"delta"');
    return reader;
  }

  async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>) {
    let text = "";
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { text, error: null };
        text += decoder.decode(value, { stream: true });
      }
    } catch (error) {
      return { text, error };
    }
  }

  test("stops accepting, lets an open stream finish, then exits 0", async () => {
    const app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      SHUTDOWN_GRACE_MS: "10000",
    });
    // About two seconds of reply, well inside the grace period.
    ollama.setChat({ reply: "one two three four five six seven eight nine ten", tokenDelayMs: 200 });
    try {
      const reader = await openReplyStream(app);
      app.process.kill("SIGTERM");
      await expect.poll(() => app.output()).toContain("shutting down");

      // The listening socket is closed: new connections are refused.
      await expect(fetch(`${app.url}/api/health`)).rejects.toThrow();

      // The in-flight stream still completes with the data that arrived after the signal.
      const rest = await readRest(reader);
      expect(rest.error).toBeNull();
      expect(rest.text).toContain('" ten"');
      expect(rest.text).toContain('"type":"end"');

      expect(await app.exited).toBe(0);
      expect(app.output()).toContain('"msg":"stopped"');
    } finally {
      ollama.reset();
      await app.stop("SIGKILL");
    }
  });

  test("closes what is still open when the grace period ends, and still exits 0", async () => {
    const app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      SHUTDOWN_GRACE_MS: "300",
    });
    // About six seconds of reply: the grace period ends first.
    ollama.setChat({ reply: Array.from({ length: 30 }, (_, i) => `w${i}`).join(" "), tokenDelayMs: 200 });
    try {
      const reader = await openReplyStream(app);
      const signalledAt = Date.now();
      app.process.kill("SIGTERM");
      const rest = await readRest(reader);
      expect(rest.text).not.toContain('" w29"');
      expect(await app.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(2500);
      expect(app.output()).toContain("grace period over");
    } finally {
      ollama.reset();
      await app.stop("SIGKILL");
    }
  });

  test("an idle server exits at once on SIGINT", async () => {
    const app = await startApp({ DATABASE_URL: database.url, OLLAMA_URL: ollama.url });
    const signalledAt = Date.now();
    app.process.kill("SIGINT");
    expect(await app.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(3000);
  });
});
