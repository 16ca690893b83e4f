import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { type RunningApp, startApp } from "../support/app";
import { seedChat, userId } from "../support/chats";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/** The chat list's pins and date groups, the start page and the starter prompts, over HTTP. */
describe("the chat shell", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let alice: Browser;
  let mallory: Browser;
  let aliceId: string;

  const listSection = (html: string, name: string) =>
    html.match(new RegExp(`<section aria-label="${name}"[\\s\\S]*?</section>`))?.[0] ?? "";
  const pinnedAt = async (chatId: string) =>
    (
      await database.query<{ pinned_at: Date | null }>("SELECT pinned_at FROM chats WHERE id = $1", [chatId])
    )[0].pinned_at;

  beforeAll(async () => {
    database = await createTestDatabase("shell");
    ollama = await startFakeOllama();
    app = await startApp({ DATABASE_URL: database.url, OLLAMA_URL: ollama.url });
    alice = new Browser(app.url);
    await alice.signup("shell-alice@example.com");
    mallory = new Browser(app.url);
    await mallory.signup("shell-mallory@example.com");
    aliceId = await userId(database, "shell-alice@example.com");
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  test("signed in, the start page is a new chat", async () => {
    const home = await alice.get("/");
    expect(home.status).toBe(302);
    expect(home.headers.get("location")).toBe("/chat");
    expect(await (await fetch(`${app.url}/`)).text()).toContain("Create an account");
  });

  test("a pinned chat heads the list; pin and unpin are the owner's alone", async () => {
    const old = await seedChat(database, aliceId, "Old but important", [], {
      updatedAt: new Date(Date.now() - 40 * 86_400_000),
    });
    await seedChat(database, aliceId, "Fresh chat");
    let html = await (await alice.get("/chat")).text();
    expect(listSection(html, "Pinned")).toBe("");
    expect(listSection(html, "Older")).toContain("Old but important");

    expect((await alice.post(`/chat/${old.chatId}`, { intent: "pin", pinned: "on" })).status).toBe(302);
    html = await (await alice.get("/chat")).text();
    expect(listSection(html, "Pinned")).toContain("Old but important");
    expect(listSection(html, "Older")).not.toContain("Old but important");
    expect(html.indexOf('aria-label="Pinned"')).toBeLessThan(html.indexOf('aria-label="Today"'));
    // The chat's menu offers the way back.
    expect(await (await alice.get(`/chat/${old.chatId}`)).text()).toContain("Unpin");

    // Someone else's chat id is a 404, and nothing changes.
    const before = await pinnedAt(old.chatId);
    expect((await mallory.post(`/chat/${old.chatId}`, { intent: "pin", pinned: "off" })).status).toBe(404);
    expect(await pinnedAt(old.chatId)).toEqual(before);
    expect((await alice.post(`/chat/${old.chatId}`, { intent: "pin", pinned: "maybe" })).status).toBe(400);

    expect((await alice.post(`/chat/${old.chatId}`, { intent: "pin", pinned: "off" })).status).toBe(302);
    expect(await pinnedAt(old.chatId)).toBeNull();
  });

  test("Today and Yesterday are the reader's days, from the browser's time zone", async () => {
    const reader = new Browser(app.url);
    await reader.signup("shell-tz@example.com");
    const owner = await userId(database, "shell-tz@example.com");
    // 23:30 UTC yesterday is "Yesterday" in UTC, but in Tokyo (UTC+9) it is already today, 08:30.
    const now = new Date();
    const lateYesterday = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1, 23, 30),
    );
    await seedChat(database, owner, "Late last night", [], { updatedAt: lateYesterday });
    const utc = await (await reader.get("/chat")).text();
    expect(listSection(utc, "Yesterday")).toContain("Late last night");
    reader.cookies.set("tz", "Pacific/Kiritimati");
    const kiritimati = await (await reader.get("/chat")).text();
    // UTC+14: 23:30 yesterday UTC is 13:30 today there.
    expect(listSection(kiritimati, "Today")).toContain("Late last night");
    // A made-up zone, or a cookie that is not even valid percent-encoding, is ignored (UTC days
    // again), never an error.
    for (const value of ["Mars%2FOlympus", "%E0%A4"]) {
      reader.cookies.set("tz", value);
      const made = await reader.get("/chat");
      expect(made.status).toBe(200);
      expect(listSection(await made.text(), "Yesterday")).toContain("Late last night");
    }
  });

  test("a starter prompt starts a chat with its text, even with the box empty", async () => {
    const page = await (await alice.get("/chat")).text();
    const button = page.match(/<button[^>]*name="starter"[^>]*>/)?.[0] ?? "";
    const starter = button.match(/value="([^"]+)"/)?.[1];
    expect(starter).toBeTruthy();
    const response = await alice.post("/chat?index", {
      intent: "send",
      content: "",
      starter: starter!,
      model: "llama3.2:latest",
      wait: "1",
    });
    expect(response.status).toBe(302);
    const chatId = response.headers.get("location")!.match(/^\/chat\/([a-z0-9]+)#m\d+$/)?.[1];
    const [first] = await database.query<{ content: string }>(
      "SELECT content FROM messages WHERE chat_id = $1 AND role = 'user'",
      [chatId],
    );
    expect(first.content).toBe(starter!.replaceAll("&#x27;", "'"));
    // Neither box nor starter: the usual form error.
    expect(
      (await alice.post("/chat?index", { intent: "send", content: " ", model: "llama3.2:latest" })).status,
    ).toBe(400);
  });
});
