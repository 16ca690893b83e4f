// Finished replies are drawn to HTML on the server (app/server/chat/markdown.server.tsx) and put
// into the page as is: this checks that HTML through the real page, with hostile replies seeded in
// PostgreSQL, so a change to the renderer cannot quietly let markup from a model through.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { type RunningApp, startApp } from "../support/app";
import { seedChat, userId } from "../support/chats";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

let database: TestDatabase;
let ollama: FakeOllama;
let app: RunningApp;
let user: Browser;
let owner: string;

beforeAll(async () => {
  database = await createTestDatabase("messages");
  ollama = await startFakeOllama();
  app = await startApp({ DATABASE_URL: database.url, OLLAMA_URL: ollama.url });
  user = new Browser(app.url);
  await user.signup("messages@example.com");
  owner = await userId(database, "messages@example.com");
});

afterAll(async () => {
  await app?.stop();
  await ollama?.close();
  await database?.drop();
});

/** The page's HTML for one seeded chat, and the part of it that is the messages list. */
async function chatPage(reply: string, status: "complete" | "failed" | "streaming" = "complete") {
  const { chatId } = await seedChat(database, owner, "render", [
    { content: "question" },
    { role: "assistant", content: reply, status, model: "llama3.2:latest" },
  ]);
  const response = await user.get(`/chat/${chatId}`);
  expect(response.status).toBe(200);
  const html = await response.text();
  const start = html.indexOf('data-testid="messages"');
  expect(start).toBeGreaterThan(0);
  // The list ends before the loader data the page carries for hydration (a <script>).
  return html.slice(start, html.indexOf("<script", start));
}

describe("finished replies drawn on the server", () => {
  test("raw HTML from the model never becomes markup; unsafe links are dropped, safe ones open apart", async () => {
    const list = await chatPage(
      [
        "Careful: <script>window.__pwned = true</script>",
        '<img src="x" onerror="window.__pwned = true">',
        '<a href="https://evil.example" onclick="steal()">raw link</a> <iframe src="https://evil.example"></iframe>',
        "[click me](javascript:window.__pwned=true) [data](data:text/html,hi) [docs](https://example.com/docs)",
        "![tracker](https://evil.example/pixel.png)",
      ].join("\n\n"),
    );
    expect(list).not.toMatch(/<script/i);
    expect(list).not.toMatch(/<img/i);
    expect(list).not.toMatch(/<iframe/i);
    // No event handler on any element (the model's tags are shown as text, escaped).
    expect(list).not.toMatch(/<[a-z][^>]*\son[a-z]+\s*=/i);
    expect(list).toContain("&lt;script&gt;window.__pwned = true&lt;/script&gt;");
    expect(list).not.toContain('href="javascript:');
    expect(list).not.toContain('href="data:');
    expect(list).not.toContain("https://evil.example/pixel.png");
    expect(list).not.toContain('href="https://evil.example"');
    expect(list).toMatch(/<a href="https:\/\/example\.com\/docs" target="_blank" rel="noopener noreferrer"/);
  });

  test("code blocks come highlighted, with their language, and escaped", async () => {
    const list = await chatPage("```ts\nconst tag: string = '<b>';\n```\n\n```\nno language\n```");
    expect(list).toContain('data-testid="code-language">ts<');
    expect(list).toContain('data-testid="code-language">text<');
    expect(list).toMatch(/<span style="--shiki-light:#[0-9A-F]{6};--shiki-dark:#[0-9A-F]{6}">const<\/span>/);
    expect(list).toContain("&#x27;&lt;b&gt;&#x27;");
    expect(list).not.toContain("<b>");
  });

  test("tables sit in their own scrolling box", async () => {
    const list = await chatPage("| a | b |\n|---|---|\n| 1 | 2 |");
    expect(list).toMatch(/<div class="[^"]*overflow-x-auto[^"]*" data-testid="table-box"><table/);
  });

  test("a failed reply keeps its partial text and explains the error, with the raw text in a disclosure", async () => {
    const { chatId } = await seedChat(database, owner, "failed", [
      { content: "question" },
      {
        role: "assistant",
        content: "partial **answer**",
        status: "failed",
        error: "llama runner process has terminated: exit status 2",
        model: "llama3.2:latest",
      },
    ]);
    const html = await (await user.get(`/chat/${chatId}`)).text();
    expect(html).toContain('<span class="font-semibold" data-streamdown="strong">answer</span>');
    expect(html).toContain("The model crashed while writing this reply.");
    expect(html).toMatch(
      /<details[^>]*><summary[^>]*>Details<\/summary><p[^>]*>llama runner process has terminated: exit status 2<\/p><\/details>/,
    );
  });
});
