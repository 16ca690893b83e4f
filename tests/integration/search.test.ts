// /search against the production build and real PostgreSQL: what is found, how it is highlighted
// and escaped, whose chats are searched, paging and input validation.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningApp, startApp } from "../support/app";
import { seedChat, userId } from "../support/chats";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

let database: TestDatabase;
let app: RunningApp;
let alice: Browser;
let bob: Browser;
const chats: Record<string, { chatId: string; messageIds: string[] }> = {};

/** The search page's hits, read from the server-rendered HTML. */
interface Hit {
  href: string;
  html: string;
}

function hitsOf(html: string): Hit[] {
  return [...html.matchAll(/<li[^>]*data-testid="search-hit"[^>]*>([\s\S]*?)<\/li>/g)].map((match) => ({
    href: match[1].match(/href="([^"]*)"/)?.[1] ?? "",
    html: match[1],
  }));
}

/** The text inside every <mark> of a hit. */
const marks = (html: string) => [...html.matchAll(/<mark[^>]*>([^<]*)<\/mark>/g)].map((match) => match[1]);

async function search(browser: Browser, query: Record<string, string>) {
  const response = await browser.get(`/search?${new URLSearchParams(query)}`);
  const html = await response.text();
  return { status: response.status, html, hits: hitsOf(html) };
}

beforeAll(async () => {
  database = await createTestDatabase("search");
  app = await startApp({ DATABASE_URL: database.url });
  alice = new Browser(app.url);
  bob = new Browser(app.url);
  expect((await alice.signup("alice@example.com")).status).toBe(302);
  expect((await bob.signup("bob@example.com")).status).toBe(302);
  const aliceId = await userId(database, "alice@example.com");
  const bobId = await userId(database, "bob@example.com");

  chats.streaming = await seedChat(database, aliceId, "Streaming answers from Ollama", [
    { role: "user", content: "How do I show tokens as they arrive?" },
    {
      role: "assistant",
      content: "Read the response body as a stream and render each chunk; that is what streaming means.",
      model: "llama3.2:latest",
    },
  ]);
  chats.tuning = await seedChat(database, aliceId, "Postgres tuning", [
    { role: "user", content: "When should autovacuum run on a busy table?" },
    { role: "assistant", content: "Lower the scale factor so vacuum runs before bloat builds up." },
  ]);
  chats.hostile = await seedChat(database, aliceId, "Odd <b>markup</b> & things", [
    { role: "user", content: "Please explain <script>alert(1)</script> this snippet" },
    { role: "user", content: "fake\u0002highlight\u0003 in a quokka message" },
    { role: "user", content: "Look at <img src=x onerror=alert(2)> now" },
  ]);
  chats.paging = await seedChat(
    database,
    aliceId,
    "Wildlife log",
    Array.from({ length: 45 }, (_, i) => ({
      content: `zebra sighting number ${i + 1}`,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
    })),
  );
  chats.bobs = await seedChat(database, bobId, "Bob's secret streaming plans", [
    { role: "user", content: "The banana stream is mine alone, zebra included." },
  ]);
});

afterAll(async () => {
  await app?.stop();
  await database?.drop();
});

describe("GET /search", () => {
  test("asks anonymous visitors to log in", async () => {
    const response = await new Browser(app.url).get("/search?q=zebra");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/login?redirectTo=%2Fsearch%3Fq%3Dzebra");
  });

  test("without a query shows the empty state and a GET form", async () => {
    for (const query of [{}, { q: "" }, { q: "   " }] as Record<string, string>[]) {
      const { status, html, hits } = await search(alice, query);
      expect(status).toBe(200);
      expect(hits).toEqual([]);
      expect(html).toContain('data-testid="search-empty"');
      const form = html.match(/<form[^>]*role="search"[^>]*>/)?.[0] ?? "";
      expect(form).toContain('method="get"');
      expect(form).toContain('action="/search"');
      expect(html).toMatch(/<input[^>]*name="q"/);
    }
  });

  test("finds a chat by its title and links to the chat", async () => {
    const { status, hits } = await search(alice, { q: "tuning" });
    expect(status).toBe(200);
    expect(hits).toHaveLength(1);
    expect(hits[0].href).toBe(`/chat/${chats.tuning.chatId}`);
    expect(marks(hits[0].html)).toEqual(["tuning"]);
    expect(hits[0].html).toContain("Chat title");
  });

  test("finds a message by its content and links to the message, with a highlighted snippet", async () => {
    const { hits } = await search(alice, { q: "vacuum" });
    expect(hits).toHaveLength(1);
    expect(hits[0].href).toBe(`/chat/${chats.tuning.chatId}#m${chats.tuning.messageIds[1]}`);
    expect(hits[0].html).toContain("Assistant message");
    expect(marks(hits[0].html)).toEqual(["vacuum"]);
    expect(hits[0].html).toContain("Lower the scale factor so ");
  });

  test("the last word matches as a prefix: 'strea' finds stream and streaming", async () => {
    const { hits } = await search(alice, { q: "strea" });
    const hrefs = hits.map((hit) => hit.href);
    expect(hrefs).toContain(`/chat/${chats.streaming.chatId}`); // the title "Streaming answers…"
    expect(hrefs).toContain(`/chat/${chats.streaming.chatId}#m${chats.streaming.messageIds[1]}`);
    const message = hits.find((hit) => hit.href.includes("#m"))!;
    expect(marks(message.html)).toEqual(expect.arrayContaining(["stream", "streaming"]));
    // Words before the last one match whole words only.
    expect((await search(alice, { q: "answers strea" })).hits).toHaveLength(1);
    expect((await search(alice, { q: "answ strea" })).hits).toHaveLength(0);
  });

  test("websearch syntax: phrases and excluded words", async () => {
    expect((await search(alice, { q: '"scale factor"' })).hits).toHaveLength(1);
    expect((await search(alice, { q: '"factor scale"' })).hits).toHaveLength(0);
    expect((await search(alice, { q: "vacuum -bloat" })).hits).toHaveLength(0);
    expect((await search(alice, { q: "vacuum or autovacuum" })).hits).toHaveLength(2);
  });

  test("words inside angle brackets are found (PostgreSQL's parser would drop them as a tag)", async () => {
    const { html, hits } = await search(alice, { q: "onerror" });
    expect(hits).toHaveLength(1);
    expect(marks(hits[0].html)).toEqual(["onerror"]);
    expect(html).not.toContain("<img src=x");
    expect(hits[0].html).toContain("&lt;img src=x");
    // A query written with brackets is words too.
    expect((await search(alice, { q: "<img onerror" })).hits).toHaveLength(1);
    expect((await search(alice, { q: "alert" })).hits).toHaveLength(2);
  });

  test("message text is escaped, never rendered as HTML", async () => {
    const { html, hits } = await search(alice, { q: "explain" });
    expect(hits).toHaveLength(1);
    expect(html).not.toContain("<script>alert(1)");
    // Kept in the excerpt (ts_headline alone would drop it as a tag), as text.
    expect(hits[0].html).toContain(" &lt;script&gt;alert(1)&lt;/script&gt; this snippet");
    expect(marks(hits[0].html)).toEqual(["explain"]);
    // The title's markup is text too.
    const titled = await search(alice, { q: "markup" });
    expect(titled.hits[0].html).toContain("&lt;b&gt;");
    expect(marks(titled.hits[0].html)).toEqual(["markup"]);
  });

  test("highlight markers inside a message cannot fake a highlight", async () => {
    const { hits } = await search(alice, { q: "quokka" });
    expect(hits).toHaveLength(1);
    expect(marks(hits[0].html)).toEqual(["quokka"]);
    expect(hits[0].html).toContain("fakehighlight in a ");
  });

  test("only the signed-in user's chats are searched", async () => {
    // Bob's chat has "banana", "secret" (title) and "streaming" (title); Alice sees none of it.
    expect((await search(alice, { q: "banana" })).hits).toEqual([]);
    expect((await search(alice, { q: "secret" })).hits).toEqual([]);
    const aliceStreaming = await search(alice, { q: "streaming" });
    expect(aliceStreaming.hits.map((hit) => hit.href).join(" ")).not.toContain(chats.bobs.chatId);
    const bobs = await search(bob, { q: "banana" });
    expect(bobs.hits.map((hit) => hit.href)).toEqual([
      `/chat/${chats.bobs.chatId}#m${chats.bobs.messageIds[0]}`,
    ]);
    // Bob's zebra does not show up among Alice's 45.
    const zebras = [];
    for (let page = 1; page <= 3; page++)
      zebras.push(...(await search(alice, { q: "zebra", page: String(page) })).hits);
    expect(zebras.every((hit) => hit.href.startsWith(`/chat/${chats.paging.chatId}#m`))).toBe(true);
  });

  test("results come 20 a page, with a More results link that works without JavaScript", async () => {
    const seen: string[] = [];
    let next: string | null = "/search?q=zebra";
    const pageSizes: number[] = [];
    while (next) {
      const response = await alice.get(next);
      expect(response.status).toBe(200);
      const html = await response.text();
      const hits = hitsOf(html);
      pageSizes.push(hits.length);
      seen.push(...hits.map((hit) => hit.href));
      const more = html.match(/<a[^>]*href="([^"]*)"[^>]*>More results<\/a>/)?.[1];
      next = more ? more.replaceAll("&amp;", "&") : null;
      if (more) expect(next).toBe(`/search?q=zebra&page=${pageSizes.length + 1}`);
    }
    expect(pageSizes).toEqual([20, 20, 5]);
    expect(new Set(seen).size).toBe(45);
    // Equal ranks: newest first.
    const ids = chats.paging.messageIds;
    expect(seen[0]).toBe(`/chat/${chats.paging.chatId}#m${ids[44]}`);
    expect(seen[44]).toBe(`/chat/${chats.paging.chatId}#m${ids[0]}`);
    // Past the end: an empty page, not an error.
    const past = await search(alice, { q: "zebra", page: "4" });
    expect(past.status).toBe(200);
    expect(past.html).toContain("No more results.");
  });

  test("better matches rank first", async () => {
    const aliceId = await userId(database, "alice@example.com");
    const ranked = await seedChat(database, aliceId, "Ranking check", [
      { content: "platypus platypus platypus, all about the platypus" },
      { content: "a platypus, once" },
    ]);
    const { hits } = await search(alice, { q: "platypus" });
    expect(hits.map((hit) => hit.href)).toEqual([
      `/chat/${ranked.chatId}#m${ranked.messageIds[0]}`,
      `/chat/${ranked.chatId}#m${ranked.messageIds[1]}`,
    ]);
  });

  test("an over-long query or a bad page is refused with 400 and a message", async () => {
    const tooLong = await search(alice, { q: "zebra ".repeat(40) + "x".repeat(1) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.html).toContain("Search for at most 200 characters.");
    expect(tooLong.hits).toEqual([]);
    // 200 characters after trimming is fine.
    const longest = await search(alice, { q: `  ${"zebra ".repeat(33)}ze  ` });
    expect(longest.status).toBe(200);
    for (const page of ["0", "-1", "abc", "1.5", "51"]) {
      const response = await search(alice, { q: "zebra", page });
      expect(response.status, `page=${page}`).toBe(400);
      expect(response.html).toContain('data-testid="search-error"');
    }
  });

  test("punctuation-only and no-match queries show 'nothing matches', not an error", async () => {
    for (const q of ["!!!", "&|:*", "'", "nonexistentword"]) {
      const { status, html, hits } = await search(alice, { q });
      expect(status, q).toBe(200);
      expect(hits).toEqual([]);
      expect(html).toContain("Nothing in your chats matches that.");
    }
  });

  test("tsquery syntax in the input is treated as text, never as query syntax", async () => {
    for (const q of ["zebra:*", "zebra & (banana", "zebra') OR 1=1 --", "!zebra", "zebra <-> sighting"]) {
      const { status } = await search(alice, { q });
      expect(status, q).toBe(200);
    }
    expect((await search(alice, { q: "zebra ' ; DROP TABLE messages; --" })).status).toBe(200);
    const [{ count }] = await database.query<{ count: string }>("SELECT count(*) FROM messages");
    expect(Number(count)).toBeGreaterThan(45);
  });
});
