import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { type RunningApp, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/** Starting points: the API docs' examples, the settings navigation, the icon and the manifest. */
describe("pages people start from", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let admin: Browser;

  beforeAll(async () => {
    database = await createTestDatabase("pages");
    ollama = await startFakeOllama({ models: [{ name: "qwen3:0.6b" }, { name: "gemma3:1b" }] });
    app = await startApp({ DATABASE_URL: database.url, OLLAMA_URL: ollama.url });
    admin = new Browser(app.url);
    await admin.signup("pages-admin@example.com");
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  test("the API docs' examples name a model that is installed (the admin's default when set), and wrap", async () => {
    const docs = await (await fetch(`${app.url}/docs/api`)).text();
    expect(docs).toContain("The examples use qwen3:0.6b, a model installed here.");
    expect(docs).toContain("&quot;model&quot;: &quot;qwen3:0.6b&quot;");
    expect(docs).not.toContain("llama3.2");
    expect(docs).toContain("whitespace-pre-wrap");
    expect((await admin.post("/admin/models", { intent: "default", model: "gemma3:1b" })).status).toBe(302);
    await expect
      .poll(async () =>
        (await (await fetch(`${app.url}/docs/api`)).text()).includes("The examples use gemma3:1b"),
      )
      .toBe(true);
    // Linked from the header and from the keys page.
    const keys = await (await admin.get("/settings/keys")).text();
    expect(keys).toContain('href="/docs/api"');
    expect(await (await admin.get("/chat")).text()).toMatch(/<a[^>]*href="\/docs\/api"[^>]*>API<\/a>/);
  });

  test("every settings page has the settings navigation, with the current page marked", async () => {
    for (const [path, label] of [
      ["/settings", "Account"],
      ["/settings/chat", "Chat"],
      ["/settings/keys", "API keys"],
      ["/settings/usage", "Usage"],
    ]) {
      const html = await (await admin.get(path)).text();
      const nav = html.match(/<nav aria-label="Settings"[\s\S]*?<\/nav>/)?.[0] ?? "";
      for (const href of ["/settings", "/settings/chat", "/settings/keys", "/settings/usage"]) {
        expect(nav, path).toContain(`href="${href}"`);
      }
      expect(nav.match(/<a[^>]*aria-current="page"[^>]*>([^<]*)</)?.[1], path).toBe(label);
    }
  });

  test("a favicon and a web manifest are served and linked", async () => {
    const html = await (await fetch(`${app.url}/login`)).text();
    expect(html).toContain('rel="icon" href="/favicon.svg"');
    expect(html).toContain('rel="manifest" href="/manifest.webmanifest"');
    const icon = await fetch(`${app.url}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toContain("image/svg+xml");
    const manifest = await fetch(`${app.url}/manifest.webmanifest`);
    expect(manifest.status).toBe(200);
    expect(await manifest.json()).toMatchObject({ name: "CustomChatAI", start_url: "/chat" });
  });
});
