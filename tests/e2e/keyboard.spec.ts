import { expect, type Page, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./support";

/**
 * The chat used with the keyboard alone: Enter sends, Shift+Enter starts a new line, the focus comes
 * back to the message box, Escape stops a reply (and closes a menu first), Ctrl+Shift+O starts a
 * new chat, and Tab reaches every control a conversation needs, in a sensible order.
 */
const reply = (page: Page) => page.getByTestId("assistant-message").last();

/** What has the focus, described the way a test names it: role-ish tag plus accessible name. */
async function focused(page: Page) {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return "body";
    const name =
      element.getAttribute("aria-label") ??
      (element instanceof HTMLTextAreaElement || element instanceof HTMLInputElement
        ? element.name
        : element.textContent?.trim().replace(/\s+/g, " ").slice(0, 40));
    return `${element.tagName.toLowerCase()}:${name}`;
  });
}

/** Presses Tab until `target` has the focus; returns every stop on the way. Fails after `limit`. */
async function tabTo(page: Page, target: string, limit = 60) {
  const stops: string[] = [];
  for (let presses = 0; presses < limit; presses++) {
    await page.keyboard.press("Tab");
    const now = await focused(page);
    stops.push(now);
    if (now === target) return stops;
  }
  throw new Error(`Tab never reached ${target}; it went through:\n${stops.join("\n")}`);
}

async function finishedChat(page: Page, message: string) {
  await page.getByLabel("Message").fill(message);
  await page.getByLabel("Message").press("Enter");
  await expect(page).toHaveURL(/\/chat\/[a-z0-9]+$/);
  await expect(reply(page)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
}

test.describe("the chat with the keyboard", () => {
  test.use({ viewport: { width: 1280, height: 800 } });

  test.beforeEach(async ({ page }) => {
    await signUp(page, uniqueEmail("keys"));
  });

  test("Shift+Enter adds a line, Enter sends, and the focus is back in the message box", async ({ page }) => {
    await page.goto("/chat");
    const box = page.getByLabel("Message");
    await box.click();
    await page.keyboard.type("first line");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("second line");
    await expect(box).toHaveValue("first line\nsecond line");
    await expect(page).toHaveURL(/\/chat$/);
    await expect(page.getByTestId("user-message")).toHaveCount(0);

    // From the new-chat page to the chat it creates: the box there has the focus.
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/chat\/[a-z0-9]+$/);
    await expect(page.getByTestId("user-message")).toContainText("first line");
    await expect(page.getByTestId("user-message")).toContainText("second line");
    await expect(reply(page)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
    await expect(box).toBeFocused();
    await expect(box).toHaveValue("");

    // In the same chat: sent, cleared, still focused, typing goes on.
    await page.keyboard.type("and again");
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("user-message")).toHaveCount(2);
    await expect(reply(page)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
    await expect(reply(page)).toContainText("You said: and again");
    await expect(box).toBeFocused();
    await expect(box).toHaveValue("");
  });

  test("a streaming reply is announced politely and busy; Escape closes a menu first, then stops it", async ({
    page,
  }) => {
    await page.goto("/chat");
    await finishedChat(page, "hello");
    const box = page.getByLabel("Message");
    await box.fill("[[slow]] take your time");
    await box.press("Enter");
    await expect(reply(page)).toHaveAttribute("data-status", "streaming");
    await expect(reply(page)).toContainText("word2");
    await expect(reply(page)).toHaveAttribute("aria-live", "polite");
    await expect(reply(page)).toHaveAttribute("aria-busy", "true");

    // Escape belongs to the open menu: it closes it and the reply goes on.
    const menu = page.getByTestId("chat-menu");
    await menu.getByLabel("Chat actions").focus();
    await page.keyboard.press("Enter");
    await expect(menu).toHaveAttribute("open", "");
    await page.keyboard.press("Escape");
    await expect(menu).not.toHaveAttribute("open");
    await expect(menu.getByLabel("Chat actions")).toBeFocused();
    await expect(reply(page)).toHaveAttribute("data-status", "streaming");

    await page.keyboard.press("Escape");
    await expect(reply(page)).toHaveAttribute("data-status", "stopped");
    await expect(reply(page).getByTestId("stopped-note")).toBeVisible();
    await expect(reply(page)).toHaveAttribute("aria-busy", "false");
    // Still a live region, so the finished text is announced; after a reload it is a past reply.
    await expect(reply(page)).toHaveAttribute("aria-live", "polite");
    await expect(reply(page)).not.toContainText("word119");
    await page.reload();
    await expect(reply(page)).toHaveAttribute("data-status", "stopped");
    await expect(reply(page)).not.toHaveAttribute("aria-live");
  });

  test("Ctrl+Shift+O starts a new chat from anywhere in a chat", async ({ page }) => {
    await page.goto("/chat");
    await finishedChat(page, "a chat to leave");
    await page.getByLabel("Message").focus();
    await page.keyboard.press("Control+Shift+O");
    await expect(page).toHaveURL(/\/chat$/);
    await expect(page.getByRole("heading", { name: "New chat" })).toBeVisible();
  });

  test("Tab reaches the chat menu, the message box and Send, in that order, and operates them", async ({
    page,
  }) => {
    await page.goto("/chat");
    await finishedChat(page, "tab around");
    await page.reload();
    // The copy button appears once the page's script runs: from then on the page is interactive.
    await expect(reply(page).getByRole("button", { name: "Copy", exact: true })).toBeVisible();
    const toMenu = await tabTo(page, "summary:Chat actions");
    // The header's links come first, then the chat list, then the chat's own header.
    expect(toMenu).toContain("a:New chat");
    expect(toMenu).toContain("input:Search chats");
    expect(toMenu.indexOf("a:New chat")).toBeLessThan(toMenu.indexOf("summary:Chat actions"));

    // The menu opens with Enter, and its first item is the next Tab stop.
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("chat-menu")).toHaveAttribute("open", "");
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("a:Rename");
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("chat-menu")).not.toHaveAttribute("open");
    expect(await focused(page)).toBe("summary:Chat actions");

    // On through the conversation to the message box, then to Send, which sends.
    const toBox = await tabTo(page, "textarea:Message");
    expect(toBox).toContain("button:Copy");
    await page.keyboard.type("sent with the Send button");
    await tabTo(page, "button:Send", 10);
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("user-message")).toHaveCount(2);
    await expect(reply(page)).toContainText("You said: sent with the Send button", { timeout: 20_000 });
    await expect(page.getByLabel("Message")).toBeFocused();
  });
});

test.describe("the phone's drawer and menu with the keyboard", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("Escape closes the drawer and the header menu and gives the focus back to their buttons", async ({
    page,
  }) => {
    await signUp(page, uniqueEmail("keys-phone"));
    await finishedChat(page, "drawer by keyboard");
    const drawer = page.getByTestId("chat-drawer");
    const list = page.getByTestId("chat-list");

    await page.getByLabel("Chat list").focus();
    await page.keyboard.press("Enter");
    await expect(list).toBeVisible();
    // The next Tab stop is inside the drawer: it comes right after its button.
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("a:New chat");
    await page.keyboard.press("Escape");
    await expect(list).toBeHidden();
    await expect(drawer).not.toHaveAttribute("open");
    await expect(page.getByLabel("Chat list")).toBeFocused();

    const menu = page.getByLabel("Menu", { exact: true });
    await menu.focus();
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("main-links")).toBeVisible();
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("a:Chats");
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("main-links")).toBeHidden();
    await expect(menu).toBeFocused();
  });
});
