import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { type RunningApp, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

const PASSWORD = "s3cret-Ollama-pass";

/** Ollama behind an authenticating proxy: OLLAMA_URL=http://user:pass@host. */
describe("credentials in OLLAMA_URL", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase("ollamacreds");
    ollama = await startFakeOllama();
    const url = new URL(ollama.url);
    url.username = "gateway";
    url.password = PASSWORD;
    app = await startApp({ DATABASE_URL: database.url, OLLAMA_URL: url.href });
    const user = new Browser(app.url);
    await user.signup("creds@example.com");
    ({ token } = await user.createApiKey());
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  const chat = () =>
    fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
    });

  test("are sent to Ollama as Basic auth, never in a URL", async () => {
    expect((await chat()).status).toBe(200);
    const sent = ollama.requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from(`gateway:${PASSWORD}`).toString("base64")}`);
  });

  test("never reach API clients, pages or the log, whatever Ollama answers", async () => {
    const bodies: string[] = [];
    // Ollama (or its proxy) failing and quoting the URL it was called with.
    ollama.setChat({
      failBeforeStart: { status: 500, error: `upstream http://gateway:${PASSWORD}@ollama/api/chat failed` },
    });
    const failed = await chat();
    expect(failed.status).toBe(502);
    bodies.push(await failed.text());
    ollama.reset();
    await ollama.setDown(true);
    try {
      const down = await chat();
      expect(down.status).toBe(503);
      bodies.push(await down.text());
      const models = await fetch(`${app.url}/api/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
      });
      bodies.push(await models.text());
      const admin = new Browser(app.url);
      await admin.login("creds@example.com");
      bodies.push(await (await admin.get("/")).text(), await (await admin.get("/chat")).text());
    } finally {
      await ollama.setDown(false);
    }
    for (const body of bodies) expect(body).not.toContain(PASSWORD);
    expect(bodies[0]).toContain("upstream http://ollama/api/chat failed");
    expect(app.output()).toContain(`"ollama":"${ollama.url}"`);
    expect(app.output()).not.toContain(PASSWORD);
  });
});
