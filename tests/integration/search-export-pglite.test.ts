// Search and export on the embedded database (PGlite, what `npm start` uses without DATABASE_URL),
// calling the server modules in-process: the SQL must work there exactly as on PostgreSQL.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { exportResponse, findOwnChat } from "~/server/chat/export.server";
import { messageCandidates, searchChats, tsQuerySql } from "~/server/chat/search.server";
import { closeDatabase, db, initDatabase } from "~/server/db.server";
import { tempDir } from "../support/app";
import { parseCsv } from "../support/csv";

const dataDir = tempDir("pglite-search");

beforeAll(async () => {
  process.env.LOG_LEVEL = "warn";
  await initDatabase({ dataDir });
  await db().$executeRaw`INSERT INTO users (id, email, updated_at) VALUES ('u1', 'one@example.com', now()),
    ('u2', 'two@example.com', now())`;
  await db().$executeRaw`INSERT INTO chats (id, user_id, title, model) VALUES
    ('c1', 'u1', 'Streaming with <b>Ollama</b>', 'llama3.2'), ('c2', 'u2', 'Other streaming', 'llama3.2')`;
  await db().$executeRaw`INSERT INTO messages (chat_id, role, content)
    SELECT 'c1', 'user', 'message ' || g || ': streaming, "quoted" =formula' FROM generate_series(1, 1200) g`;
  await db()
    .$executeRaw`INSERT INTO messages (chat_id, role, content) VALUES ('c2', 'user', 'streaming elsewhere')`;
}, 120_000); // a cold PGlite start (initdb in WebAssembly) is slow on a busy machine

afterAll(async () => {
  await closeDatabase();
  rmSync(dataDir, { recursive: true, force: true });
});

test("search: prefix match, highlights, ranking window and paging, one user only", async () => {
  const first = await searchChats("u1", "strea");
  expect(first.hits).toHaveLength(20);
  expect(first.hasMore).toBe(true);
  expect(first.hits.every((hit) => hit.chatId === "c1")).toBe(true);
  const message = first.hits.find((hit) => hit.messageId)!;
  expect(message.snippet?.filter((piece) => piece.mark).map((piece) => piece.text)).toEqual(["streaming"]);
  const title = (await searchChats("u1", "ollama")).hits[0];
  expect(title.messageId).toBeNull();
  expect(title.title).toEqual([
    { text: "Streaming with <b>", mark: false },
    { text: "Ollama", mark: true },
    { text: "</b>", mark: false },
  ]);
  // The newest 1,000 of the 1,200 matching messages are ranked; the last page is the 50th.
  const last = await searchChats("u1", "streaming", 50);
  expect(last.hits).toHaveLength(20);
  expect(last.hasMore).toBe(false);
  expect((await searchChats("u2", "streaming")).hits.map((hit) => hit.chatId)).toEqual(["c2", "c2"]);
  expect((await searchChats("nobody", "streaming")).hits).toEqual([]);
});

test("the bounded newest-first walk, its extension and the index path find the same newest matches", async () => {
  // Oldest 1,200 say "streaming", every one says "padding", every 40th "sparse".
  await db()
    .$executeRaw`INSERT INTO chats (id, user_id, title, model) VALUES ('c3', 'u2', 'Padding', 'llama3.2')`;
  await db().$executeRaw`INSERT INTO messages (chat_id, role, content)
    SELECT 'c3', 'assistant', 'padding ' || g || CASE WHEN g <= 1200 THEN ' streaming' ELSE '' END
                                                || CASE WHEN g % 40 = 0 THEN ' sparse' ELSE '' END
    FROM generate_series(1, 2000) g`;
  const ids = async (q: string, recentRows: number) =>
    (await messageCandidates(["c3"], tsQuerySql(q), recentRows)).map((c) => c.message_id);
  for (const q of ["streaming", "padding", "sparse", "nothing"]) {
    // One window over the whole table is the plain answer: the newest 1,000 matches.
    const expected = await ids(q, 1_000_000);
    expect(expected.length, q).toBe(
      Math.min(1000, { streaming: 1200, padding: 2000, sparse: 50, nothing: 0 }[q]!),
    );
    expect(
      [...expected].sort((a, b) => Number(b! - a!)),
      q,
    ).toEqual(expected);
    // 300 rows: "padding" fills a quarter of the 1,000 there and takes the 4× step; "streaming"
    // (only in older messages) and "sparse" fall through to the index path. 100 rows: everything
    // does. 2,500 rows: one window covers the table.
    for (const recentRows of [300, 100, 2500]) {
      expect(await ids(q, recentRows), `${q} with ${recentRows}`).toEqual(expected);
    }
  }
});

test("export: CSV and JSON stream from PGlite in batches", async () => {
  const chat = await findOwnChat("u1", "c1");
  expect(chat).not.toBeNull();
  expect(await findOwnChat("u2", "c1")).toBeNull();
  const csv = parseCsv(await exportResponse({ userId: "u1", chat: chat! }, "csv").text());
  expect(csv).toHaveLength(1 + 1200);
  expect(csv[1][4]).toBe('message 1: streaming, "quoted" =formula');
  const json = await exportResponse({ userId: "u1" }, "json").json();
  expect(json.chats.map((c: { id: string }) => c.id)).toEqual(["c1"]);
  expect(json.chats[0].messages).toHaveLength(1200);
});
