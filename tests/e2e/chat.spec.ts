import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { openChatMenu, signUp, startChat, uniqueEmail } from "./support";

const reply = (page: Page) => page.getByTestId("assistant-message").last();

test.describe("chat with JavaScript", () => {
  test.beforeEach(async ({ page }) => {
    await signUp(page, uniqueEmail("chat"));
  });

  test("the reply streams token by token, and Stop keeps the partial reply, marked stopped", async ({
    page,
  }) => {
    await startChat(page, "[[slow]] tell me a long story");
    await expect(page.getByTestId("user-message")).toContainText("tell me a long story");
    await expect(reply(page)).toContainText("word2");
    // Still streaming: later words have not arrived yet.
    await expect(reply(page)).not.toContainText("word119");
    await expect(reply(page)).toHaveAttribute("data-status", "streaming");
    await page.getByRole("button", { name: "Stop" }).click();
    await expect(reply(page)).toHaveAttribute("data-status", "stopped");
    await expect(page.getByTestId("stopped-note")).toBeVisible();
    await expect(reply(page)).toContainText("word0 word1 word2");
    await expect(reply(page)).not.toContainText("word119");
  });

  test("reloading mid-reply reattaches to it and it completes", async ({ page }) => {
    await startChat(page, "[[slow]] keep going");
    await expect(reply(page)).toContainText("word3");
    await page.reload();
    await expect(reply(page)).toContainText("word119", { timeout: 20_000 });
    await expect(reply(page)).toHaveAttribute("data-status", "complete");
    await expect(page.getByTestId("usage")).toContainText("completion tokens");
  });

  test("an error mid-stream is shown inline with Retry, and Retry replaces the reply", async ({ page }) => {
    await startChat(page, `[[fail-once]] question ${Date.now()}`);
    await expect(page.getByTestId("reply-error")).toContainText("model runner has unexpectedly stopped");
    await expect(reply(page)).toContainText("partial answer");
    await page.getByRole("button", { name: "Retry" }).click();
    await expect(reply(page)).toContainText("Recovered answer.");
    await expect(page.getByTestId("reply-error")).toHaveCount(0);
  });

  test("hostile model output cannot run script or javascript: links", async ({ page }) => {
    await startChat(page, "[[hostile]] be evil");
    await expect(reply(page)).toHaveAttribute("data-status", "complete");
    await expect(reply(page)).toContainText("Careful:");
    expect(await page.evaluate(() => (window as { __pwned?: boolean }).__pwned)).toBeUndefined();
    await expect(reply(page).locator("script, img")).toHaveCount(0);
    // The javascript: link is plain text, the real one opens safely in a new tab.
    await expect(reply(page).getByRole("link", { name: "click me" })).toHaveCount(0);
    const docs = reply(page).getByRole("link", { name: "docs" });
    await expect(docs).toHaveAttribute("href", "https://example.com/docs");
    await expect(docs).toHaveAttribute("rel", "noopener noreferrer");
    await expect(docs).toHaveAttribute("target", "_blank");
  });

  test("markdown renders code with a copy button, tables and lists", async ({ page }) => {
    await startChat(page, "[[markdown]] show me");
    await expect(reply(page).getByTestId("code-block")).toContainText("const answer = 42;");
    await expect(reply(page).getByRole("button", { name: "Copy code" })).toBeVisible();
    await expect(reply(page).locator("table")).toContainText("value");
    await expect(reply(page).locator("li")).toHaveCount(2);
  });

  test("edit the last message and resend, then regenerate", async ({ page }) => {
    await startChat(page, "first version");
    await expect(reply(page)).toContainText("You said: first version");
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByLabel("Edit message").fill("second version");
    await page.getByRole("button", { name: "Save and resend" }).click();
    await expect(reply(page)).toContainText("You said: second version");
    await expect(page.getByTestId("user-message")).toHaveCount(1);
    await page.getByRole("button", { name: "Regenerate" }).click();
    await expect(reply(page)).toContainText("You said: second version");
    await expect(page.getByTestId("assistant-message")).toHaveCount(1);
  });
});

test.describe("chat without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("sending waits for the whole reply and shows it; the chat continues", async ({ page }) => {
    await signUp(page, uniqueEmail("nojs-chat"));
    await startChat(page, "hello without scripts");
    await expect(reply(page)).toContainText("You said: hello without scripts");
    await expect(reply(page)).toHaveAttribute("data-status", "complete");
    await page.getByLabel("Message").fill("second message");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(reply(page)).toContainText("You said: second message");
    await expect(page.getByTestId("user-message")).toHaveCount(2);
    await expect(page.getByTestId("chat-list")).toContainText("hello without scripts");
  });
});

test.describe("long chats", () => {
  async function seedLongChat(page: Page) {
    await signUp(page, uniqueEmail("long"));
    await startChat(page, "start of a long chat");
    await expect(reply(page)).toHaveAttribute("data-status", "complete");
    const chatId = new URL(page.url()).pathname.split("/").at(-1)!;
    const client = new pg.Client(process.env.E2E_DATABASE_URL);
    await client.connect();
    await client.query(
      `INSERT INTO messages (chat_id, role, content, status)
       SELECT $1, CASE WHEN n % 2 = 1 THEN 'user'::"MessageRole" ELSE 'assistant'::"MessageRole" END,
              'seeded message ' || n, 'complete'
       FROM generate_series(1, 120) AS n`,
      [chatId],
    );
    await client.end();
    await page.reload();
    return chatId;
  }

  test("open with the latest 50 messages, older ones load when scrolling up", async ({ page }) => {
    await seedLongChat(page);
    const items = page.getByTestId("messages").locator("li[id^=m]");
    await expect(items).toHaveCount(50);
    // It opens at the latest message, and nothing older loads until the reader scrolls up.
    await expect(page.getByText("seeded message 120", { exact: true })).toBeInViewport();
    await expect(page.getByTestId("load-older")).not.toBeInViewport();
    const scrollToTop = () => page.locator("#chat-scroll").evaluate((pane) => pane.scrollTo(0, 0));
    await scrollToTop();
    await expect(items).toHaveCount(100);
    // The reading position is kept: the top of the list is out of view again after loading.
    await expect(page.getByTestId("load-older")).not.toBeInViewport();
    await scrollToTop();
    await expect(items).toHaveCount(122);
    await expect(page.getByTestId("load-older")).toHaveCount(0);
    await expect(page.getByTestId("user-message").first()).toContainText("start of a long chat");
  });

  test.describe("without JavaScript", () => {
    test.use({ javaScriptEnabled: false });

    test("a link loads the previous page of messages", async ({ page }) => {
      await seedLongChat(page);
      await page.getByTestId("load-older").click();
      await expect(page).toHaveURL(/\?before=\d+$/);
      await expect(page.getByText("seeded message 70", { exact: true })).toBeVisible();
      await expect(page.getByText("seeded message 120", { exact: true })).toHaveCount(0);
    });
  });
});

test("export downloads of a chat: Markdown, JSON and CSV with the conversation in them", async ({ page }) => {
  await signUp(page, uniqueEmail("export"));
  await startChat(page, "=SUM(A1) export me, please");
  await expect(reply(page)).toHaveAttribute("data-status", "complete");
  const download = async (label: string) => {
    await openChatMenu(page);
    const [file] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: label, exact: true }).click(),
    ]);
    const path = await file.path();
    return { name: file.suggestedFilename(), text: (await import("node:fs")).readFileSync(path, "utf8") };
  };
  const markdown = await download("Markdown");
  expect(markdown.name).toMatch(/\.md$/);
  expect(markdown.text).toContain("You said: =SUM(A1) export me, please");
  const json = await download("JSON");
  expect(json.name).toMatch(/\.json$/);
  const parsed = JSON.parse(json.text);
  const chats = Array.isArray(parsed) ? parsed : parsed.chats;
  expect(JSON.stringify(chats)).toContain("=SUM(A1) export me, please");
  const csv = await download("CSV");
  expect(csv.name).toMatch(/\.csv$/);
  // The user's cell starts with "=", so it is neutralised against spreadsheet formula injection.
  expect(csv.text).toContain("'=SUM(A1) export me, please");
  expect(csv.text).not.toMatch(/(^|,)=SUM/m);
});
