// Chat export against the production build and real PostgreSQL: the three formats parsed back
// properly, CSV formula neutralisation, a 20,000-message export streamed, and who may export what.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { seedChat, seedManyMessages, userId } from "../support/chats";
import { parseCsv } from "../support/csv";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

let database: TestDatabase;
let app: RunningApp;
let alice: Browser;
let bob: Browser;
let aliceId: string;
let main: { chatId: string; messageIds: string[] };
let second: { chatId: string; messageIds: string[] };
let bobs: { chatId: string; messageIds: string[] };

const HEADER = [
  "chat_id",
  "chat_title",
  "message_id",
  "role",
  "content",
  "model",
  "status",
  "prompt_tokens",
  "completion_tokens",
  "created_at",
  "thinking",
  "images",
];

// Contents chosen to break naive CSV writers and to try formula injection.
const CONTENTS = [
  "plain words",
  "two\nlines, and a comma",
  'She said "hi", then left',
  "carriage\r\nreturn line",
  '=HYPERLINK("http://evil.example","click")',
  "+1+1",
  "-2+3",
  "@SUM(A1:A2)",
  "\tstarts with a tab",
  "\rstarts with a carriage return",
  'ends with a quote"',
  "emoji 📚 and ünïcödé",
];

interface ExportJson {
  format: string;
  version: number;
  exportedAt: string;
  chats: {
    id: string;
    title: string;
    model: string;
    systemPrompt: string | null;
    createdAt: string;
    updatedAt: string;
    messages: {
      id: string;
      role: string;
      content: string;
      status: string;
      error: string | null;
      model: string | null;
      promptTokens: number | null;
      completionTokens: number | null;
      createdAt: string;
    }[];
  }[];
}

beforeAll(async () => {
  database = await createTestDatabase("export");
  app = await startApp({ DATABASE_URL: database.url });
  alice = new Browser(app.url);
  bob = new Browser(app.url);
  await alice.signup("alice@example.com");
  await bob.signup("bob@example.com");
  aliceId = await userId(database, "alice@example.com");
  main = await seedChat(
    database,
    aliceId,
    'Ünïcode, "quoted" title 📚',
    CONTENTS.map((content, i) => ({
      role: i % 2 === 0 ? "user" : "assistant",
      content,
      model: i % 2 === 0 ? null : "llama3.2:latest",
      promptTokens: i % 2 === 0 ? null : 10 + i,
      completionTokens: i % 2 === 0 ? null : 20 + i,
      createdAt: new Date(Date.UTC(2026, 10, 1, 12, 0, i)),
    })),
    { systemPrompt: "Be brief." },
  );
  await database.query("UPDATE chats SET created_at = '2026-11-01T12:00:00Z' WHERE id = $1", [main.chatId]);
  second = await seedChat(database, aliceId, "=cmd|' /C calc'!A0", [
    { role: "user", content: "Tell me a joke", createdAt: new Date(Date.UTC(2026, 10, 2)) },
    {
      role: "assistant",
      content: "Half a joke",
      status: "failed",
      error: "model went away",
      createdAt: new Date(Date.UTC(2026, 10, 2, 0, 0, 1)),
    },
  ]);
  await database.query("UPDATE chats SET created_at = '2026-11-02T00:00:00Z' WHERE id = $1", [second.chatId]);
  bobs = await seedChat(database, await userId(database, "bob@example.com"), "Bob's", [
    { content: "bob only" },
  ]);
});

afterAll(async () => {
  await app?.stop();
  await database?.drop();
});

describe("GET /chat/:id/export", () => {
  test("JSON: one valid document with the chat and its messages in order", async () => {
    const response = await alice.get(`/chat/${main.chatId}/export?format=json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="customchatai-[\w.-]+\.json"/,
    );
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const body = (await response.json()) as ExportJson;
    expect(body.format).toBe("customchatai-export");
    expect(body.version).toBe(1);
    expect(Number.isNaN(Date.parse(body.exportedAt))).toBe(false);
    expect(body.chats).toHaveLength(1);
    const [chat] = body.chats;
    expect(chat).toMatchObject({
      id: main.chatId,
      title: 'Ünïcode, "quoted" title 📚',
      model: "llama3.2:latest",
      systemPrompt: "Be brief.",
      createdAt: "2026-11-01T12:00:00.000Z",
    });
    expect(chat.messages.map((message) => message.id)).toEqual(main.messageIds);
    expect(chat.messages.map((message) => message.content)).toEqual(CONTENTS);
    expect(chat.messages[1]).toEqual({
      id: main.messageIds[1],
      role: "assistant",
      content: CONTENTS[1],
      thinking: null,
      thinkingMs: null,
      status: "complete",
      error: null,
      model: "llama3.2:latest",
      promptTokens: 11,
      completionTokens: 21,
      ttftMs: null,
      totalMs: null,
      createdAt: "2026-11-01T12:00:01.000Z",
      images: [],
    });
  });

  test("CSV: RFC 4180, header row, quoted multi-line cells and neutralised formulas", async () => {
    const response = await alice.get(`/chat/${main.chatId}/export?format=csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(response.headers.get("content-disposition")).toMatch(/filename="[^"]+\.csv"; filename\*=UTF-8''/);
    const text = await response.text();
    expect(text.endsWith("\r\n")).toBe(true);
    const rows = parseCsv(text); // strict: throws on a bare LF record end or a stray quote
    expect(rows[0]).toEqual(HEADER);
    expect(rows).toHaveLength(1 + CONTENTS.length);
    const records = rows.slice(1).map((row) => Object.fromEntries(HEADER.map((name, i) => [name, row[i]])));
    for (const record of records) {
      expect(record.chat_id).toBe(main.chatId);
      expect(record.chat_title).toBe('Ünïcode, "quoted" title 📚');
    }
    expect(records.map((record) => record.message_id)).toEqual(main.messageIds);
    expect(records.map((record) => record.content)).toEqual([
      "plain words",
      "two\nlines, and a comma",
      'She said "hi", then left',
      "carriage\r\nreturn line",
      `'=HYPERLINK("http://evil.example","click")`,
      "'+1+1",
      "'-2+3",
      "'@SUM(A1:A2)",
      "'\tstarts with a tab",
      "'\rstarts with a carriage return",
      'ends with a quote"',
      "emoji 📚 and ünïcödé",
    ]);
    expect(records[1]).toMatchObject({
      role: "assistant",
      model: "llama3.2:latest",
      status: "complete",
      prompt_tokens: "11",
      completion_tokens: "21",
      created_at: "2026-11-01T12:00:01.000Z",
    });
    expect(records[0]).toMatchObject({ role: "user", model: "", prompt_tokens: "", completion_tokens: "" });
    // Quoting is done properly in the raw text, not just tolerated by the parser.
    expect(text).toContain(`,"She said ""hi"", then left",`);
    expect(text).toContain(`,"two\nlines, and a comma",`);
  });

  test("CSV: a formula in the chat title is neutralised too", async () => {
    const text = await (await alice.get(`/chat/${second.chatId}/export?format=csv`)).text();
    const rows = parseCsv(text).slice(1);
    expect(rows.map((row) => row[1])).toEqual(["'=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"]);
    expect(rows[1][6]).toBe("failed");
  });

  test("Markdown: a heading for the chat, each message with its role and time", async () => {
    const response = await alice.get(`/chat/${second.chatId}/export?format=md`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(/filename="[^"]*\.md"/);
    const text = await response.text();
    expect(text).toMatch(/^# =cmd\|' \/C calc'!A0\n/);
    expect(text).toContain("## User · 2026-11-02 00:00:00 UTC\n\nTell me a joke\n");
    expect(text).toContain(
      "## Assistant · 2026-11-02 00:00:01 UTC · failed\n\nHalf a joke\n\n> Error: model went away\n",
    );
    const full = await (await alice.get(`/chat/${main.chatId}/export?format=md`)).text();
    expect(full).toContain("**System prompt:** Be brief.");
    expect(full).toContain(
      "## Assistant (llama3.2:latest) · 2026-11-01 12:00:01 UTC\n\ntwo\nlines, and a comma\n",
    );
  });

  test("Markdown: raw HTML in titles, prompts and messages is escaped; code keeps its text", async () => {
    const hostile = await seedChat(
      database,
      aliceId,
      "<script>alert('title')</script>",
      [
        { content: "look <img src=x onerror=alert(1)> here" },
        {
          role: "assistant",
          content:
            'Use `<div>` like this:\n\n```html\n<div onclick="x()">hi</div>\n```\n\n<iframe src=//evil>',
          status: "failed",
          error: "<b>boom</b>",
        },
      ],
      { systemPrompt: "<style>body{display:none}</style>" },
    );
    const text = await (await alice.get(`/chat/${hostile.chatId}/export?format=md`)).text();
    expect(text).not.toMatch(/<(script|img|iframe|style|b)\b/);
    expect(text).toContain("# &lt;script&gt;alert('title')&lt;/script&gt;\n");
    expect(text).toContain("look &lt;img src=x onerror=alert(1)> here");
    expect(text).toContain("&lt;iframe src=//evil>");
    expect(text).toContain("> Error: &lt;b&gt;boom&lt;/b&gt;");
    // Inside code, Markdown already shows text literally: left as written.
    expect(text).toContain("Use `<div>` like this:");
    expect(text).toContain('```html\n<div onclick="x()">hi</div>\n```');
    await database.query("DELETE FROM chats WHERE id = $1", [hostile.chatId]);
  });

  test("format defaults to JSON; an unknown format is 400", async () => {
    const fallback = await alice.get(`/chat/${main.chatId}/export`);
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get("content-type")).toBe("application/json; charset=utf-8");
    await fallback.body?.cancel();
    for (const format of ["xml", "JSON", "csv ", "pdf"]) {
      const response = await alice.get(`/chat/${main.chatId}/export?format=${encodeURIComponent(format)}`);
      expect(response.status, format).toBe(400);
      expect(await response.text()).toContain("Unknown export format");
    }
  });

  test("an unknown format answers a page with the app's look, for one chat and for all of them", async () => {
    for (const path of [`/chat/${main.chatId}/export?format=nope`, "/chat/export?format=nope"]) {
      const response = await alice.get(path);
      expect(response.status, path).toBe(400);
      expect(response.headers.get("content-type"), path).toMatch(/^text\/html/);
      const html = await response.text();
      expect(html, path).toMatch(/^<!DOCTYPE html>/i);
      // The app's page (its stylesheet, the error boundary's heading) with the sentence, as the 404
      // page is drawn; not a bare text body.
      expect(html, path).toMatch(/rel="stylesheet" href="\/assets\/[^"]+\.css"/);
      expect(html, path).toContain("Unknown export format: use json, csv or md.");
      expect(html, path).toContain("Error 400");
    }
    // Signed out, the page still asks for a sign-in first (no hint about the chat).
    const anonymous = await fetch(`${app.url}/chat/${main.chatId}/export?format=nope`, {
      redirect: "manual",
    });
    expect(anonymous.status).toBe(302);
  });

  test("another user's chat is a 404, exactly like a missing one", async () => {
    const theirs = await bob.get(`/chat/${main.chatId}/export?format=csv`);
    const missing = await bob.get("/chat/no-such-chat/export?format=csv");
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await theirs.text()).toBe(await missing.text());
    expect(theirs.headers.get("content-type")).toBe(missing.headers.get("content-type"));
    // And Alice cannot read Bob's.
    expect((await alice.get(`/chat/${bobs.chatId}/export?format=json`)).status).toBe(404);
  });

  test("anonymous requests are sent to log in", async () => {
    const response = await new Browser(app.url).get(`/chat/${main.chatId}/export?format=json`);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toMatch(/^\/login\?redirectTo=/);
  });
});

describe("GET /chat/export (all chats)", () => {
  test("JSON has every chat of the user, oldest first, and nobody else's", async () => {
    const response = await alice.get("/chat/export?format=json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="customchatai-chats-\d{4}-\d{2}-\d{2}\.json"/,
    );
    const body = (await response.json()) as ExportJson;
    const ids = body.chats.map((chat) => chat.id);
    expect(ids.slice(0, 2)).toEqual([main.chatId, second.chatId]);
    expect(ids).not.toContain(bobs.chatId);
    expect(JSON.stringify(body)).not.toContain("bob only");
  });

  test("CSV and Markdown cover every chat", async () => {
    const rows = parseCsv(await (await alice.get("/chat/export?format=csv")).text());
    const chatIds = new Set(rows.slice(1).map((row) => row[0]));
    expect(chatIds.has(main.chatId) && chatIds.has(second.chatId)).toBe(true);
    expect(chatIds.has(bobs.chatId)).toBe(false);
    const markdown = await (await alice.get("/chat/export?format=md")).text();
    expect(markdown).toContain('# Ünïcode, "quoted" title 📚\n');
    expect(markdown).toContain("\n---\n\n# =cmd|' /C calc'!A0\n");
  });

  test("a user without chats gets valid, empty exports", async () => {
    const carol = new Browser(app.url);
    await carol.signup("carol@example.com");
    expect(await (await carol.get("/chat/export?format=json")).json()).toMatchObject({ chats: [] });
    expect(parseCsv(await (await carol.get("/chat/export?format=csv")).text())).toEqual([HEADER]);
    expect(await (await carol.get("/chat/export?format=md")).text()).toBe("");
  });

  test("unknown format is 400", async () => {
    expect((await alice.get("/chat/export?format=yaml")).status).toBe(400);
  });
});

describe("a large export", () => {
  const COUNT = 20_000;
  let big: { chatId: string };
  let dave: Browser;

  beforeAll(async () => {
    dave = new Browser(app.url);
    await dave.signup("dave@example.com");
    const daveId = await userId(database, "dave@example.com");
    big = await seedChat(database, daveId, "Twenty thousand messages");
    await seedManyMessages(database, big.chatId, COUNT, 'message, "number"');
    // A second chat, so the all-chats export has to move on from a chat with many batches.
    await seedChat(database, daveId, "After the big one", [{ content: "the last message" }], {
      updatedAt: new Date(),
    });
    await database.query(
      "UPDATE chats SET created_at = now() + interval '1 second' WHERE title = 'After the big one'",
    );
  });

  async function readStream(response: Response) {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let chunks = 0;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    return { text: text + decoder.decode(), chunks };
  }

  test("streams as CSV, chunk by chunk, with every message once and in order", async () => {
    const browser = dave;
    const response = await browser.get(`/chat/${big.chatId}/export?format=csv`);
    expect(response.status).toBe(200);
    // Streamed: no length known up front.
    expect(response.headers.get("content-length")).toBeNull();
    const { text, chunks } = await readStream(response);
    expect(chunks).toBeGreaterThan(1);
    const rows = parseCsv(text).slice(1);
    expect(rows).toHaveLength(COUNT);
    const ids = rows.map((row) => BigInt(row[2]));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
    expect(rows[0][4]).toBe('message, "number" 1');
    expect(rows[COUNT - 1][4]).toBe(`message, "number" ${COUNT}`);
  });

  test("streams as one valid JSON document, and the all-chats export continues past it", async () => {
    const browser = dave;
    const one = JSON.parse(
      (await readStream(await browser.get(`/chat/${big.chatId}/export?format=json`))).text,
    );
    expect(one.chats[0].messages).toHaveLength(COUNT);
    const all = (await browser.get("/chat/export?format=json").then((r) => r.json())) as ExportJson;
    expect(all.chats.map((chat) => chat.messages.length)).toEqual([COUNT, 1]);
    expect(all.chats[1].messages[0].content).toBe("the last message");
  });

  test("a client that stops reading does not break the server", async () => {
    const browser = dave;
    const response = await browser.get(`/chat/${big.chatId}/export?format=md`);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await reader.cancel();
    const after = await browser.get(`/chat/${big.chatId}/export?format=csv`);
    expect(after.status).toBe(200);
    expect(parseCsv(await after.text())).toHaveLength(COUNT + 1);
  });
});
