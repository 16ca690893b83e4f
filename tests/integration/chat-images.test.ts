import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_MODELS, type FakeOllama, startFakeOllama, VISION_MODEL } from "../fakes/ollama";
import { REDIS_URL, ROOT, type RunningApp, redisPrefix, startApp } from "../support/app";
import { userId } from "../support/chats";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

const fixture = (name: string) => readFileSync(path.join(ROOT, "tests/fixtures/images", name));
// Real images drawn by Chromium: 96 × 64, 80 × 60 and 48 × 48.
const PNG = fixture("sunset.png");
const JPEG = fixture("leaf.jpg");
const WEBP = fixture("square.webp");
// A 1 × 1 GIF: a real image, but not a type we accept.
const GIF = Buffer.from(
  "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b",
  "hex",
);

const VISION = VISION_MODEL.name;
const TEXT_ONLY = "llama3.2:latest";

interface Upload {
  name: string;
  type: string;
  bytes: Buffer;
}

/** A multipart form post, as a browser sends the composer with files (never follows redirects). */
async function postMultipart(
  browser: Browser,
  pathname: string,
  fields: Record<string, string>,
  files: Upload[],
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const file of files) {
    form.append("images", new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
  }
  return fetch(browser.baseUrl + pathname, {
    method: "POST",
    redirect: "manual",
    body: form,
    headers: { accept: "text/html", cookie: browser.cookieHeader() },
  });
}

const png = (name = "sunset.png"): Upload => ({ name, type: "image/png", bytes: PNG });
const jpeg: Upload = { name: "leaf.jpg", type: "image/jpeg", bytes: JPEG };
const webp: Upload = { name: "square.webp", type: "image/webp", bytes: WEBP };

/** The text of the composer's error on a page, entities decoded enough for these messages. */
function composerError(html: string) {
  const text = html.match(/data-testid="composer-error">([^<]*)</)?.[1];
  return text?.replaceAll("&quot;", '"').replaceAll("&#x27;", "'").replaceAll("&amp;", "&");
}

describe("images for vision models", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let replica: RunningApp;
  let alice: Browser;
  let bob: Browser;
  let aliceId: string;

  beforeAll(async () => {
    database = await createTestDatabase("images");
    ollama = await startFakeOllama({
      models: [...DEFAULT_MODELS, VISION_MODEL],
      chat: { reply: "I see it." },
    });
    const env = {
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
    };
    // Two replicas on one database: an image sent through one is shown by the other.
    [app, replica] = await Promise.all([startApp(env), startApp(env)]);
    alice = new Browser(app.url);
    await alice.signup("alice-images@example.com");
    aliceId = await userId(database, "alice-images@example.com");
    bob = new Browser(app.url);
    await bob.signup("bob-images@example.com");
  });

  afterEach(() => ollama.reset());

  afterAll(async () => {
    await app?.stop();
    await replica?.stop();
    await ollama?.close();
    await database?.drop();
  });

  async function counts(owner = aliceId) {
    const [row] = await database.query<{ chats: number; messages: number; images: number }>(
      `SELECT (SELECT count(*) FROM chats WHERE user_id = $1)::int AS chats,
              (SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.user_id = $1)::int AS messages,
              (SELECT count(*) FROM message_images i JOIN messages m ON m.id = i.message_id
                 JOIN chats c ON c.id = m.chat_id WHERE c.user_id = $1)::int AS images`,
      [owner],
    );
    return row;
  }

  async function imageRows(chatId: string) {
    return database.query<{ id: string; mime: string; size: number; width: number; height: number }>(
      `SELECT i.id, i.mime, i.size, i.width, i.height FROM message_images i
         JOIN messages m ON m.id = i.message_id WHERE m.chat_id = $1 ORDER BY m.id, i.position`,
      [chatId],
    );
  }

  async function newChatWithImages(files: Upload[], content = "What is in these pictures?") {
    const response = await postMultipart(
      alice,
      "/chat?index",
      { intent: "send", content, model: VISION, wait: "1" },
      files,
    );
    expect(response.status).toBe(302);
    return response.headers.get("location")!.match(/^\/chat\/([a-z0-9]+)/)![1];
  }

  test("a PNG and a JPEG reach Ollama as base64 of the exact bytes, and are stored with the message", async () => {
    const chatId = await newChatWithImages([png(), jpeg]);

    expect(ollama.chats).toHaveLength(1);
    const request = ollama.chats[0];
    const last = request.body.messages.at(-1);
    expect(last).toMatchObject({ role: "user", content: "What is in these pictures?" });
    // Raw base64, no data: prefix (Ollama refuses it), decoding to what was uploaded, in order.
    expect(last.images).toEqual([PNG.toString("base64"), JPEG.toString("base64")]);
    expect(request.images.at(-1)).toEqual([PNG, JPEG]);

    expect(await imageRows(chatId)).toEqual([
      { id: expect.any(String), mime: "image/png", size: PNG.length, width: 96, height: 64 },
      { id: expect.any(String), mime: "image/jpeg", size: JPEG.length, width: 80, height: 60 },
    ]);
    const [reply] = await database.query<{ content: string; status: string }>(
      "SELECT content, status FROM messages WHERE chat_id = $1 AND role = 'assistant'",
      [chatId],
    );
    expect(reply).toEqual({ content: "I see it.", status: "complete" });
  });

  test("thumbnails: the page links them, the route serves the bytes to the owner only, on any replica", async () => {
    const chatId = await newChatWithImages([png(), jpeg]);
    const [first, second] = await imageRows(chatId);

    const page = await alice.get(`/chat/${chatId}`);
    const html = await page.text();
    expect(html).toContain(`src="/chat/${chatId}/images/${first.id}"`);
    expect(html).toContain(`src="/chat/${chatId}/images/${second.id}"`);
    expect(html.match(/data-testid="message-image"/g)).toHaveLength(2);

    for (const server of [app, replica]) {
      const viewer = new Browser(server.url);
      viewer.cookies = alice.cookies;
      const response = await viewer.get(`/chat/${chatId}/images/${first.id}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toBe("private, no-cache");
      expect(Buffer.from(await response.arrayBuffer())).toEqual(PNG);
      // The browser asks again each time; the same image is a 304 without the bytes.
      const etag = response.headers.get("etag")!;
      const again = await viewer.get(`/chat/${chatId}/images/${first.id}`, {
        headers: { "if-none-match": etag },
      });
      expect(again.status).toBe(304);
    }
    const jpegResponse = await alice.get(`/chat/${chatId}/images/${second.id}`);
    expect(jpegResponse.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await jpegResponse.arrayBuffer())).toEqual(JPEG);

    // Another user, the right image under another of the owner's chats, and nobody signed in.
    const bobs = await bob.get(`/chat/${chatId}/images/${first.id}`);
    expect(bobs.status).toBe(404);
    // Knowing the ETag does not help either.
    const guessed = await bob.get(`/chat/${chatId}/images/${first.id}`, {
      headers: { "if-none-match": `"img-${first.id}"` },
    });
    expect(guessed.status).toBe(404);
    expect(await bobs.text()).not.toContain("PNG");
    const otherChat = await newChatWithImages([webp]);
    expect((await alice.get(`/chat/${otherChat}/images/${first.id}`)).status).toBe(404);
    expect((await alice.get(`/chat/${chatId}/images/nope`)).status).toBe(404);
    const anonymous = await new Browser(app.url).get(`/chat/${chatId}/images/${first.id}`);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toMatch(/^\/login/);
  });

  test("images of earlier messages are sent again with the next turn (Ollama keeps no state)", async () => {
    const chatId = await newChatWithImages([png(), jpeg], "Describe these.");
    const second = await postMultipart(
      alice,
      `/chat/${chatId}`,
      { intent: "send", content: "And this one?", wait: "1" },
      [webp],
    );
    expect(second.status).toBe(302);
    const third = await alice.post(`/chat/${chatId}`, {
      intent: "send",
      content: "Which was reddest?",
      wait: "1",
    });
    expect(third.status).toBe(302);

    expect(ollama.chats).toHaveLength(3);
    const messages = ollama.chats[2].body.messages as Array<{
      role: string;
      content: string;
      images?: string[];
    }>;
    expect(messages.map(({ role, content }) => [role, content])).toEqual([
      ["user", "Describe these."],
      ["assistant", "I see it."],
      ["user", "And this one?"],
      ["assistant", "I see it."],
      ["user", "Which was reddest?"],
    ]);
    expect(ollama.chats[2].images).toEqual([[PNG, JPEG], [], [WEBP], [], []]);
    // Messages without images carry no `images` key at all.
    expect(messages[4]).not.toHaveProperty("images");
  });

  test("a chat with pictures can go on with a text-only model: earlier pictures are left out for it", async () => {
    const chatId = await newChatWithImages([png()], "What is this?");
    const next = await alice.post(`/chat/${chatId}`, {
      intent: "send",
      content: "Now just talk.",
      model: TEXT_ONLY,
      wait: "1",
    });
    expect(next.status).toBe(302);
    const request = ollama.chats.at(-1)!;
    expect(request.model).toBe(TEXT_ONLY);
    const messages = request.body.messages as Array<{ content: string; images?: string[] }>;
    expect(messages.map((message) => message.content)).toEqual([
      "What is this?",
      "I see it.",
      "Now just talk.",
    ]);
    for (const message of messages) expect(message).not.toHaveProperty("images");
    const [reply] = await database.query<{ status: string }>(
      "SELECT status FROM messages WHERE chat_id = $1 AND role = 'assistant' ORDER BY id DESC LIMIT 1",
      [chatId],
    );
    expect(reply.status).toBe("complete");
    // Back on the vision model, the picture is sent again.
    await alice.post(`/chat/${chatId}`, { intent: "send", content: "And again?", model: VISION, wait: "1" });
    expect(ollama.chats.at(-1)!.images[0]).toEqual([PNG]);
  });

  test("a model without the vision capability is refused with a clear message, and nothing is stored", async () => {
    const before = await counts();
    const response = await postMultipart(
      alice,
      "/chat?index",
      { intent: "send", content: "Look", model: TEXT_ONLY, wait: "1" },
      [png()],
    );
    expect(response.status).toBe(400);
    const error = composerError(await response.text());
    expect(error).toContain(`${TEXT_ONLY} cannot see images`);
    expect(error).toContain(VISION);

    // In an existing chat too, switching it to the text-only model.
    const chatId = await newChatWithImages([png()]);
    const during = await counts();
    const inChat = await postMultipart(
      alice,
      `/chat/${chatId}`,
      { intent: "send", content: "Now you", model: TEXT_ONLY, wait: "1" },
      [jpeg],
    );
    expect(inChat.status).toBe(400);
    expect(composerError(await inChat.text())).toContain(`${TEXT_ONLY} cannot see images`);
    expect(await counts()).toEqual(during);
    expect(during).toEqual({
      chats: before.chats + 1,
      messages: before.messages + 2,
      images: before.images + 1,
    });
    const [chat] = await database.query<{ model: string }>("SELECT model FROM chats WHERE id = $1", [chatId]);
    expect(chat.model).toBe(VISION);
    // Only the accepted message reached Ollama.
    expect(ollama.chats).toHaveLength(1);
  });

  test.each([
    { label: "a GIF", file: { name: "dot.gif", type: "image/gif", bytes: GIF } },
    {
      label: "a text file renamed .png and declared image/png",
      file: { name: "notes.png", type: "image/png", bytes: Buffer.from("just some text, not a picture\n") },
    },
    {
      label: "an SVG",
      file: {
        name: "x.svg",
        type: "image/svg+xml",
        bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      },
    },
  ])("wrong type: $label is refused by its content, nothing stored", async ({ file }) => {
    const before = await counts();
    const response = await postMultipart(
      alice,
      "/chat?index",
      { intent: "send", content: "Look", model: VISION, wait: "1" },
      [png(), file],
    );
    expect(response.status).toBe(400);
    expect(composerError(await response.text())).toBe(
      `“${file.name}” is not a PNG, JPEG or WebP image. Attach PNG, JPEG or WebP, up to 4 images of 5 MB each.`,
    );
    expect(await counts()).toEqual(before);
    expect(ollama.chats).toHaveLength(0);
  });

  test("an image over 5 MB is refused with a form error (not a 413), nothing stored", async () => {
    const before = await counts();
    // A PNG signature followed by padding: the size is checked before the content.
    const big = Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024 + 1 - PNG.length)]);
    const response = await postMultipart(
      alice,
      "/chat?index",
      { intent: "send", content: "Big one", model: VISION, wait: "1" },
      [{ name: "huge.png", type: "image/png", bytes: big }],
    );
    expect(response.status).toBe(400);
    expect(composerError(await response.text())).toBe(
      "“huge.png” is larger than 5 MB, the most an image can be. Attach a smaller copy.",
    );
    expect(await counts()).toEqual(before);
  });

  test("an image of exactly 5 MB is accepted (the body limit leaves room for four)", async () => {
    const limitSized = Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024 - PNG.length)]);
    const chatId = await newChatWithImages([
      { name: "a.png", type: "image/png", bytes: limitSized },
      { name: "b.png", type: "image/png", bytes: limitSized },
      { name: "c.png", type: "image/png", bytes: limitSized },
      { name: "d.png", type: "image/png", bytes: limitSized },
    ]);
    expect((await imageRows(chatId)).map((row) => row.size)).toEqual(Array(4).fill(5 * 1024 * 1024));
    // Buffer.equals: a deep toEqual walks 5 MB element by element and takes a minute.
    const received = ollama.chats[0].images.at(-1) ?? [];
    expect(received).toHaveLength(4);
    expect(received.every((image) => image.equals(limitSized))).toBe(true);
  });

  test("more than four images are refused, nothing stored", async () => {
    const before = await counts();
    const response = await postMultipart(
      alice,
      "/chat?index",
      { intent: "send", content: "Five", model: VISION, wait: "1" },
      [1, 2, 3, 4, 5].map((n) => png(`p${n}.png`)),
    );
    expect(response.status).toBe(400);
    expect(composerError(await response.text())).toBe(
      "You attached 5 images; a message can carry at most 4.",
    );
    expect(await counts()).toEqual(before);
  });

  test("bodies beyond what four images need are still refused before any route runs", async () => {
    const before = await counts();
    const tooMuch = Buffer.concat([PNG, Buffer.alloc(6 * 1024 * 1024)]);
    const response = await postMultipart(
      alice,
      "/chat?index",
      { intent: "send", content: "Flood", model: VISION, wait: "1" },
      [1, 2, 3, 4].map((n) => ({ name: `f${n}.png`, type: "image/png", bytes: tooMuch })),
    );
    expect(response.status).toBe(413);
    expect(await response.text()).toContain("Attach fewer or smaller images");
    expect(await counts()).toEqual(before);

    // Other forms keep the ordinary limit even when multipart.
    const settings = await postMultipart(alice, "/settings", { intent: "profile", name: "x" }, [
      { name: "f.png", type: "image/png", bytes: Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]) },
    ]);
    expect(settings.status).toBe(413);

    // Nobody signed in (or a made-up session cookie) gets the ordinary limit on the chat routes too:
    // the server holds a body in memory before any route runs.
    const twoMegabytes = {
      name: "f.png",
      type: "image/png",
      bytes: Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]),
    };
    for (const stranger of [
      new Browser(app.url),
      Object.assign(new Browser(app.url), { cookies: new Map([["ccai_session", "forged"]]) }),
    ]) {
      const anonymous = await postMultipart(stranger, "/chat?index", { intent: "send", content: "hi" }, [
        twoMegabytes,
      ]);
      expect(anonymous.status).toBe(413);
      expect(await anonymous.text()).toContain("Shorten the text");
    }
    // The same upload from alice is a normal send.
    const allowed = await postMultipart(
      alice,
      "/chat?index",
      { intent: "send", content: "hi", model: VISION, wait: "1" },
      [twoMegabytes],
    );
    expect(allowed.status).toBe(302);
  });

  test("exports: JSON carries the images as data, Markdown and CSV say how many", async () => {
    const chatId = await newChatWithImages([png(), jpeg], "Two pictures");

    const json = (await (await alice.get(`/chat/${chatId}/export?format=json`)).json()) as {
      chats: Array<{
        messages: Array<{
          role: string;
          images: Array<{ mime: string; size: number; width: number; height: number; data: string }>;
        }>;
      }>;
    };
    const [user, assistant] = json.chats[0].messages;
    expect(assistant.images).toEqual([]);
    expect(user.images.map(({ data, ...rest }) => rest)).toEqual([
      { id: expect.any(String), mime: "image/png", size: PNG.length, width: 96, height: 64 },
      { id: expect.any(String), mime: "image/jpeg", size: JPEG.length, width: 80, height: 60 },
    ]);
    expect(user.images[0].data).toBe(`data:image/png;base64,${PNG.toString("base64")}`);
    expect(user.images[1].data).toBe(`data:image/jpeg;base64,${JPEG.toString("base64")}`);

    const markdown = await (await alice.get(`/chat/${chatId}/export?format=md`)).text();
    expect(markdown).toContain("Two pictures\n\n_[2 images attached]_");

    const csv = await (await alice.get(`/chat/${chatId}/export?format=csv`)).text();
    const [header, userRow, assistantRow] = csv.trim().split("\r\n");
    expect(header.split(",").at(-1)).toBe("images");
    expect(userRow.split(",").at(-1)).toBe("2");
    expect(assistantRow.split(",").at(-1)).toBe("0");
  });

  test("deleting the chat, and deleting the account, removes the images", async () => {
    const chatId = await newChatWithImages([png()]);
    expect(await imageRows(chatId)).toHaveLength(1);
    expect((await alice.post(`/chat/${chatId}`, { intent: "delete" })).status).toBe(302);
    expect(await imageRows(chatId)).toHaveLength(0);

    // Bob sends images; the admin (Alice signed up first) deletes his account.
    const bobsChat = await postMultipart(
      bob,
      "/chat?index",
      { intent: "send", content: "Mine", model: VISION, wait: "1" },
      [webp],
    );
    expect(bobsChat.status).toBe(302);
    const bobId = await userId(database, "bob-images@example.com");
    expect((await counts(bobId)).images).toBe(1);
    const deleted = await alice.post(`/admin/users/${bobId}`, {
      intent: "delete",
      confirmEmail: "bob-images@example.com",
    });
    expect(deleted.status).toBe(302);
    const [orphans] = await database.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM message_images i LEFT JOIN messages m ON m.id = i.message_id WHERE m.id IS NULL",
    );
    expect(orphans.n).toBe(0);
    expect((await counts(bobId)).images).toBe(0);
  });
});
