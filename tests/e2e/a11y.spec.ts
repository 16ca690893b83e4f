import AxeBuilder from "@axe-core/playwright";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { THINKING_MODEL } from "./chat-scripts";
import { openChatMenu, promoteToAdmin, signUp, uniqueEmail } from "./support";

/**
 * axe-core's WCAG 2.1 A and AA rules on the main pages, in the light and the dark theme (the default
 * theme is "system", so the browser's colour scheme picks it), at a laptop's width and, for the chat,
 * at a phone's. A page passes when axe finds nothing "serious" or "critical" (colour contrast, missing
 * names and labels, broken lists, nested controls...). Every page is checked even after one fails,
 * and the failure lists each rule, the elements it flagged and axe's summary of what to fix.
 */
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const themes = ["light", "dark"] as const;

async function expectAccessible(page: Page, label: string) {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const serious = violations.filter(
    (violation) => violation.impact === "serious" || violation.impact === "critical",
  );
  // One line per flagged element, so the failure reads as a to-do list rather than axe's raw objects.
  const problems = serious.flatMap((violation) =>
    violation.nodes.map(
      (node) =>
        `${violation.id} (${violation.impact}) at ${node.target.join(" ")} ${node.html.slice(0, 160)}: ${node.failureSummary?.replace(/\s+/g, " ")}`,
    ),
  );
  expect.soft(problems, `${label} (${page.url()}) has accessibility violations`).toEqual([]);
}

const reply = (page: Page) => page.getByTestId("assistant-message").last();

async function send(page: Page, message: string) {
  await page.getByLabel("Message").fill(message);
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page).toHaveURL(/\/chat\/[a-z0-9]+(#m\d+)?$/);
  await expect(reply(page)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
}

/**
 * A signed-in admin with one chat holding a reasoning model's reply (a Thinking block) and a reply
 * with a code block, a table and a list; returns the chat's path.
 */
async function adminWithRichChat(browser: Browser, width: number, height: number, theme: string) {
  const context = await browser.newContext({
    viewport: { width, height },
    colorScheme: theme === "dark" ? "dark" : "light",
  });
  const page = await context.newPage();
  const email = uniqueEmail("a11y");
  await signUp(page, email);
  await page.goto("/chat");
  await page.getByLabel("Model").selectOption(THINKING_MODEL.name);
  await send(page, "[[think]] why is the sky blue?");
  await expect(reply(page).getByTestId("thinking")).toBeVisible();
  await send(page, "[[markdown]] show me code and a table");
  await expect(reply(page).locator("table")).toBeVisible();
  await expect(reply(page).locator("pre")).toBeVisible();
  await promoteToAdmin(email);
  return { context, page, chatPath: new URL(page.url()).pathname };
}

for (const theme of themes) {
  test(`signed-out pages at 1280 px, ${theme}: no serious accessibility violations`, async ({ browser }) => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      colorScheme: theme === "dark" ? "dark" : "light",
    });
    const page = await context.newPage();
    for (const path of ["/", "/login", "/signup"]) {
      await page.goto(path);
      await expectAccessible(page, `${path} signed out, ${theme}`);
    }
    // A form error is part of the page too.
    await page.goto("/login");
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByLabel("Password").fill("wrong password here");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert").first()).toBeVisible();
    await expectAccessible(page, `/login with an error, ${theme}`);
    await context.close();
  });

  test(`signed-in pages at 1280 px, ${theme}: no serious accessibility violations`, async ({ browser }) => {
    test.setTimeout(180_000);
    const { context, page, chatPath } = await adminWithRichChat(browser, 1280, 800, theme);

    await expectAccessible(page, `chat with code, table and Thinking, ${theme}`);
    // The Thinking block opened shows the model's reasoning text.
    await page.getByTestId("thinking").locator("summary").click();
    await expect(page.getByTestId("thinking-text")).toBeVisible();
    await expectAccessible(page, `chat with the Thinking block open, ${theme}`);

    await openChatMenu(page);
    await expect(page.getByRole("link", { name: "Rename" })).toBeVisible();
    await expectAccessible(page, `chat with its menu open, ${theme}`);

    for (const [label, path] of [
      ["chat settings panel", `${chatPath}?settings=1`],
      ["rename", `${chatPath}?rename=1`],
      ["delete confirmation", `${chatPath}?delete=1`],
      ["new chat", "/chat"],
      ["search", "/search?q=sky"],
      ["settings", "/settings"],
      ["settings: password", "/settings/password"],
      ["settings: chat", "/settings/chat"],
      ["settings: API keys", "/settings/keys"],
      ["settings: usage", "/settings/usage"],
      ["API docs", "/docs/api"],
      ["admin", "/admin"],
      ["admin: users", "/admin/users"],
      ["admin: models", "/admin/models"],
      ["admin: one model", "/admin/models/llama3.2:latest"],
      ["admin: usage", "/admin/usage"],
      ["admin: audit", "/admin/audit"],
      ["page not found", "/no/such/page"],
    ] as const) {
      await page.goto(path);
      await expectAccessible(page, `${label}, ${theme}`);
    }
    // One user's page, reached from the list (its address holds the user's id).
    await page.goto("/admin/users");
    await page.locator('a[href^="/admin/users/"]').first().click();
    await expect(page).toHaveURL(/\/admin\/users\/[a-z0-9]+$/);
    await expectAccessible(page, `admin: one user, ${theme}`);
    await context.close();
  });

  test(`chat pages at 390 px, ${theme}: no serious accessibility violations`, async ({ browser }) => {
    test.setTimeout(120_000);
    const { context, page, chatPath } = await adminWithRichChat(browser, 390, 844, theme);
    await expectAccessible(page, `chat on a phone, ${theme}`);

    await page.getByLabel("Chat list").click();
    await expect(page.getByTestId("chat-list")).toBeVisible();
    await expectAccessible(page, `chat with the drawer open, ${theme}`);
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("chat-list")).toBeHidden();

    await page.getByLabel("Menu", { exact: true }).click();
    await expect(page.getByTestId("main-links")).toBeVisible();
    await expectAccessible(page, `chat with the header menu open, ${theme}`);

    await page.goto(chatPath);
    await openChatMenu(page);
    await expect(page.getByRole("link", { name: "Rename" })).toBeVisible();
    await expectAccessible(page, `chat menu open on a phone, ${theme}`);

    await page.goto("/chat");
    await expectAccessible(page, `new chat on a phone, ${theme}`);
    await context.close();
  });
}
