import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/**
 * The signed-in home page streams: the shell first, then the model list once Ollama answers.
 * A slow /api/tags keeps that response open while we send SIGTERM.
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

  async function openStreamingPage(app: { url: string }) {
    const browser = new Browser(app.url);
    await browser.signup(`stream-${Date.now()}@example.com`);
    const response = await fetch(`${app.url}/`, {
      // A browser user agent: for bots (and Node's fetch counts as one) React waits for everything.
      headers: {
        cookie: browser.cookieHeader(),
        accept: "text/html",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36",
      },
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    const shell = new TextDecoder().decode(first.value);
    expect(shell).toContain("Asking Ollama for its models");
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
    ollama.setRouteDelay("/api/tags", 2000);
    try {
      const reader = await openStreamingPage(app);
      app.process.kill("SIGTERM");
      await expect.poll(() => app.output()).toContain("shutting down");

      // The listening socket is closed: new connections are refused.
      await expect(fetch(`${app.url}/api/health`)).rejects.toThrow();

      // The in-flight stream still completes with the data that arrived after the signal.
      const rest = await readRest(reader);
      expect(rest.error).toBeNull();
      expect(rest.text).toContain("llama3.2:latest");

      expect(await app.exited).toBe(0);
      expect(app.output()).toContain('"msg":"stopped"');
    } finally {
      ollama.setRouteDelay("/api/tags", 0);
      await app.stop("SIGKILL");
    }
  });

  test("closes what is still open when the grace period ends, and still exits 0", async () => {
    const app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      SHUTDOWN_GRACE_MS: "300",
    });
    ollama.setRouteDelay("/api/tags", 2800);
    try {
      const reader = await openStreamingPage(app);
      const signalledAt = Date.now();
      app.process.kill("SIGTERM");
      const rest = await readRest(reader);
      expect(rest.text).not.toContain("llama3.2:latest");
      expect(await app.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(2500);
      expect(app.output()).toContain("grace period over");
    } finally {
      ollama.setRouteDelay("/api/tags", 0);
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
