import { expect, type Page, test } from "@playwright/test";
import { signUp, startChat, uniqueEmail } from "./support";

/** Messages as a reader sees them: labels, copy, code blocks, wide content, failed replies. */

const reply = (page: Page) => page.getByTestId("assistant-message").last();

async function finishedReply(page: Page, status = "complete") {
  await expect(reply(page)).toHaveAttribute("data-status", status);
}

// What the fake Ollama answers to [[markdown]] (tests/e2e/chat-scripts.ts), byte for byte.
const MARKDOWN_REPLY =
  "Here is code:\n\n```js\nconst answer = 42;\n```\n\n| name | value |\n|---|---|\n| a | 1 |\n\n- one\n- two";

test.describe("messages with JavaScript", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test.beforeEach(async ({ page }) => {
    await signUp(page, uniqueEmail("messages"));
  });

  test("each message says who wrote it and when", async ({ page }) => {
    await startChat(page, "who are you?");
    await finishedReply(page);
    const mine = page.getByRole("article", { name: "You said" });
    await expect(mine.getByTestId("role-label")).toHaveText("You");
    await expect(reply(page).getByTestId("role-label")).toHaveText("llama3.2:latest");
    // Time of day shown, the full date in the title and the machine-readable instant in datetime.
    const time = reply(page).locator("time");
    await expect(time).toHaveText(/^\d{1,2}:\d{2}/);
    const datetime = await time.getAttribute("datetime");
    expect(Math.abs(Date.parse(datetime ?? "") - Date.now())).toBeLessThan(10 * 60_000);
    await expect(time).toHaveAttribute("title", /\d{4}/);
  });

  test("Copy puts the reply's Markdown source on the clipboard and says so politely", async ({ page }) => {
    await startChat(page, "[[markdown]] copy this");
    await finishedReply(page);
    await reply(page).getByRole("button", { name: "Copy", exact: true }).click();
    await expect(page.getByTestId("copy-status")).toHaveText("Copied to the clipboard");
    await expect(page.getByTestId("copy-status")).toHaveAttribute("aria-live", "polite");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(MARKDOWN_REPLY);
    // The user's own message copies too.
    await page
      .getByRole("article", { name: "You said" })
      .getByRole("button", { name: "Copy", exact: true })
      .click();
    await expect
      .poll(() => page.evaluate(() => navigator.clipboard.readText()))
      .toBe("[[markdown]] copy this");
  });

  test("a code block shows its language and copies its code; after a reload it is highlighted", async ({
    page,
  }) => {
    await startChat(page, "[[markdown]] code please");
    await finishedReply(page);
    await page.reload();
    const block = reply(page).getByTestId("code-block");
    await expect(block.getByTestId("code-language")).toHaveText("js");
    // Highlighted on the server: the tokens carry both themes' colours.
    await expect(block.locator("code span[style*='--shiki-light']").first()).toBeVisible();
    const color = await block
      .locator("code span[style*='--shiki-light']")
      .first()
      .evaluate((element) => getComputedStyle(element).color);
    expect(color).not.toBe(
      await block.locator("code").evaluate((element) => getComputedStyle(element).color),
    );
    await block.getByRole("button", { name: "Copy code" }).click();
    await expect(block.getByRole("button", { name: "Copy code" })).toContainText("Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("const answer = 42;");
    // One border around the block: the code inside draws none of its own.
    expect(await block.locator("pre").evaluate((element) => getComputedStyle(element).borderTopWidth)).toBe(
      "0px",
    );
  });

  test("a failed reply reads as a sentence, with Ollama's words behind Details", async ({ page }) => {
    await startChat(page, "[[crash]] go");
    await finishedReply(page, "failed");
    const error = reply(page).getByTestId("reply-error");
    await expect(error).toContainText("The model crashed while writing this reply.");
    await expect(error).toHaveAttribute("data-kind", "crashed");
    const detail = error.getByTestId("reply-error-detail");
    await expect(detail).toBeHidden();
    await error.getByText("Details").click();
    await expect(detail).toHaveText("an error was encountered while running the model: unexpected EOF");
    await expect(reply(page).getByRole("button", { name: "Retry" })).toBeVisible();
  });

  test("out of memory before the first token is named as such", async ({ page }) => {
    await startChat(page, "[[oom]] go");
    await finishedReply(page, "failed");
    await expect(reply(page).getByTestId("reply-error")).toContainText(
      "The server does not have enough memory to run this model.",
    );
  });
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("a wide table scrolls in its own box and long words wrap: the page never scrolls sideways", async ({
    page,
  }) => {
    await signUp(page, uniqueEmail("messages-phone"));
    await startChat(page, "[[wide]] a wide answer");
    await finishedReply(page);
    for (const load of ["streamed", "reloaded"]) {
      if (load === "reloaded") await page.reload();
      const table = reply(page).getByTestId("table-box");
      await expect(table).toBeVisible();
      // The table is wider than its box (so it really scrolls inside it)...
      expect(await table.evaluate((box) => box.scrollWidth > box.clientWidth), load).toBe(true);
      // ...and neither it, the long word, the URL nor the code line widens the reply or the page.
      const replyBox = await reply(page).boundingBox();
      expect(replyBox && replyBox.x + replyBox.width, load).toBeLessThanOrEqual(390);
      const messagesOverflow = await page
        .getByTestId("messages")
        .evaluate((list) => list.scrollWidth - list.clientWidth);
      expect(messagesOverflow, load).toBeLessThanOrEqual(0);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), load).toBe(
        true,
      );
    }
  });
});

test.describe("messages without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("replies are drawn by the server, copy buttons stay out of the way, Edit is a link", async ({
    page,
  }) => {
    await signUp(page, uniqueEmail("messages-nojs"));
    await page.goto("/chat");
    await page.getByLabel("Message").fill("[[markdown]] without scripts");
    await page.getByRole("button", { name: "Send" }).click();
    const block = reply(page).getByTestId("code-block");
    await expect(block).toContainText("const answer = 42;");
    await expect(block.getByTestId("code-language")).toHaveText("js");
    await expect(block.locator("code span[style*='--shiki-light']").first()).toBeVisible();
    await expect(reply(page).locator("table")).toContainText("value");
    // Nothing that needs a script is offered.
    await expect(block.getByRole("button", { name: "Copy code" })).toBeHidden();
    await expect(page.getByRole("button", { name: "Copy", exact: true })).toHaveCount(0);
    await expect(reply(page).locator("time")).toHaveText(/UTC$/);
    await page.getByRole("link", { name: "Edit" }).click();
    await expect(page.getByLabel("Edit message")).toHaveValue("[[markdown]] without scripts");
  });
});
