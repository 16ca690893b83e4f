import { copyFile, mkdir } from "node:fs/promises";
import { type Browser, type BrowserContext, expect, type Page, test } from "@playwright/test";
import { README_QUESTION } from "./chat-scripts";
import { promoteToAdmin, signUp, uniqueEmail } from "./support";

/**
 * Every page at a phone's width (390 px) and a laptop's (1280 px), in both themes: nothing scrolls
 * sideways, the chat's composer stays in view, the phone's chat drawer opens and closes. Screenshots
 * of each go to the test report (test-reports/screenshots/); with UPDATE_README_SCREENSHOTS=1 the
 * chat's two also replace the README's (docs/screenshots/).
 */
const viewports = [
  { name: "phone", width: 390, height: 844 },
  { name: "desktop", width: 1280, height: 800 },
] as const;
const themes = ["light", "dark"] as const;
const SHOTS = "test-reports/screenshots";

/** The document is no wider than the window: nothing to scroll sideways. */
async function expectNoSidewaysScroll(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(
    scrollWidth,
    `${page.url()} is ${scrollWidth} px wide in a ${innerWidth} px window`,
  ).toBeLessThanOrEqual(innerWidth);
}

async function shoot(page: Page, name: string) {
  await mkdir(SHOTS, { recursive: true });
  const path = `${SHOTS}/${name}.png`;
  await page.screenshot({ path });
  await test.info().attach(name, { path, contentType: "image/png" });
  return path;
}

async function newContext(browser: Browser, viewport: (typeof viewports)[number], theme: string) {
  return browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    colorScheme: theme === "dark" ? "dark" : "light",
  });
}

/** A user with one finished chat whose reply is taller than the screen; returns the chat's path. */
async function userWithLongChat(context: BrowserContext) {
  const page = await context.newPage();
  const email = uniqueEmail("layout");
  await signUp(page, email);
  await page.getByLabel("Message").fill("[[long]] tell me everything");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page).toHaveURL(/\/chat\/[a-z0-9]+$/);
  await expect(page.getByTestId("assistant-message").last()).toHaveAttribute("data-status", "complete", {
    timeout: 20_000,
  });
  return { page, email, chatPath: new URL(page.url()).pathname };
}

for (const viewport of viewports) {
  for (const theme of themes) {
    test(`every page at ${viewport.width} px, ${theme}: no sideways scroll`, async ({ browser }) => {
      test.setTimeout(120_000);
      const context = await newContext(browser, viewport, theme);
      const signedOut = await context.newPage();
      for (const [name, path] of [
        ["home", "/"],
        ["login", "/login"],
        ["signup", "/signup"],
      ] as const) {
        await signedOut.goto(path);
        await expectNoSidewaysScroll(signedOut);
        await shoot(signedOut, `${name}-${viewport.name}-${theme}`);
      }
      await signedOut.close();

      const { page, email, chatPath } = await userWithLongChat(context);
      await promoteToAdmin(email);
      // The README's picture: an ordinary question with code and a table in the answer.
      await page.goto("/chat");
      await page.getByLabel("Message").fill(README_QUESTION);
      await page.getByLabel("Message").press("Enter");
      await expect(page.getByTestId("assistant-message")).toHaveAttribute("data-status", "complete");
      const readmeChat = new URL(page.url()).pathname;
      const pages = [
        ["chat", readmeChat],
        ["long-chat", chatPath],
        ["new-chat", "/chat"],
        ["chat-settings", `${chatPath}?settings=1`],
        ["search", "/search?q=paragraph"],
        ["settings", "/settings"],
        ["settings-password", "/settings/password"],
        ["settings-chat", "/settings/chat"],
        ["settings-keys", "/settings/keys"],
        ["settings-usage", "/settings/usage"],
        ["docs-api", "/docs/api"],
        ["admin", "/admin"],
        ["admin-users", "/admin/users"],
        ["admin-models", "/admin/models"],
        ["admin-model", "/admin/models/llama3.2:latest"],
        ["admin-usage", "/admin/usage"],
        ["admin-audit", "/admin/audit"],
        ["not-found", "/no/such/page"],
        ["missing-chat", "/chat/doesnotexist"],
      ] as const;
      for (const [name, path] of pages) {
        await page.goto(path);
        await expectNoSidewaysScroll(page);
        const file = await shoot(page, `${name}-${viewport.name}-${theme}`);
        if (process.env.UPDATE_README_SCREENSHOTS && name === "chat" && theme === "light") {
          await mkdir("docs/screenshots", { recursive: true });
          await copyFile(file, `docs/screenshots/chat-${viewport.name}.png`);
        }
      }
      // Pages that are not found keep the header (and the chat list, for a missing chat).
      await page.goto("/no/such/page");
      await expect(page.getByTestId("error-page")).toContainText("Page not found");
      await expect(page.getByRole("navigation", { name: "Main" })).toBeAttached();
      await page.goto("/chat/doesnotexist");
      await expect(page.getByTestId("error-page")).toContainText("Chat not found");
      await expect(page.getByTestId("chat-list")).toBeAttached();
      await context.close();
    });
  }

  test(`at ${viewport.width} px the composer stays in view while a long reply streams, and after`, async ({
    browser,
  }) => {
    const context = await newContext(browser, viewport, "light");
    const { page } = await userWithLongChat(context);
    const composer = page.getByLabel("Message");
    await expect(composer).toBeInViewport();
    // The conversation opened at its end: the last paragraph is in view.
    await expect(page.getByText("Paragraph 60 of a long answer.")).toBeInViewport();
    await composer.fill("[[long]] and once more");
    await composer.press("Enter");
    await expect(page.getByTestId("assistant-message")).toHaveCount(2);
    await expect(page.getByTestId("assistant-message").last()).toHaveAttribute("data-status", "complete", {
      timeout: 20_000,
    });
    await expect(composer).toBeInViewport();
    await expect(composer).toBeFocused();
    await expect(page.getByText("Paragraph 60 of a long answer.").last()).toBeInViewport();
    await expectNoSidewaysScroll(page);

    // Scrolled up, the pane offers the way back down.
    await page.locator("#chat-scroll").evaluate((pane) => pane.scrollTo({ top: 0 }));
    await page.getByTestId("jump-to-latest").click();
    await expect(page.getByText("Paragraph 60 of a long answer.").last()).toBeInViewport();
    await expect(page.getByTestId("jump-to-latest")).toHaveCount(0);
    await context.close();
  });
}

test("between phone and desktop (640, 768, 1024 px) nothing scrolls sideways either", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 640, height: 800 } });
  const page = await context.newPage();
  // The longest header there is: an administrator with a long address.
  const email = `a-rather-long-address-${Date.now()}@subdomain.example-company.com`;
  await signUp(page, email);
  await promoteToAdmin(email);
  for (const width of [640, 768, 1024]) {
    await page.setViewportSize({ width, height: 800 });
    for (const path of ["/chat", "/settings", "/admin/users", "/docs/api"]) {
      await page.goto(path);
      await expectNoSidewaysScroll(page);
    }
  }
  await context.close();
});

test("scrolling up while a reply streams stops the following; Jump to latest resumes it", async ({
  page,
}) => {
  await signUp(page, uniqueEmail("follow"));
  await page.getByLabel("Message").fill("[[long-slow]] write slowly");
  await page.getByLabel("Message").press("Enter");
  const pane = page.locator("#chat-scroll");
  const reply = page.getByTestId("assistant-message");
  await expect(reply.getByText("Paragraph 20 of a long answer.")).toBeInViewport({ timeout: 20_000 });
  await pane.evaluate((element) => element.scrollTo({ top: 0 }));
  await expect(page.getByTestId("jump-to-latest")).toBeVisible();
  // The reply keeps growing, and the reader stays where they scrolled to.
  await expect(reply.getByText("Paragraph 35 of a long answer.")).toBeAttached({ timeout: 20_000 });
  expect(await pane.evaluate((element) => element.scrollTop)).toBe(0);
  await expect(reply).toHaveAttribute("data-status", "streaming");
  await page.getByTestId("jump-to-latest").click();
  await expect(page.getByTestId("jump-to-latest")).toHaveCount(0);
  await expect(reply).toHaveAttribute("data-status", "complete", { timeout: 30_000 });
  await expect(reply.getByText("Paragraph 60 of a long answer.")).toBeInViewport();
});

test.describe("the phone's chat drawer", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("opens from the Chats button, closes on a chat, on Escape and on the dimmed page", async ({
    page,
  }) => {
    await signUp(page, uniqueEmail("drawer"));
    for (const text of ["first chat here", "second chat here"]) {
      await page.goto("/chat");
      await page.getByLabel("Message").fill(text);
      await page.getByRole("button", { name: "Send" }).click();
      await expect(page).toHaveURL(/\/chat\/[a-z0-9]+$/);
      await expect(page.getByTestId("assistant-message")).toHaveAttribute("data-status", "complete");
    }
    const list = page.getByTestId("chat-list");
    const button = page.getByLabel("Chat list");
    await expect(list).toBeHidden();

    await button.click();
    await expect(list).toBeVisible();
    await expect(list.getByRole("region", { name: "Today" })).toBeVisible();
    await shoot(page, "drawer-phone-light");
    await list.getByRole("link", { name: "first chat here" }).click();
    await expect(page.getByTestId("user-message")).toContainText("first chat here");
    await expect(list).toBeHidden();

    await button.click();
    await expect(list).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(list).toBeHidden();

    await button.click();
    // The dimmed page beside the drawer closes it.
    await page.mouse.click(380, 600);
    await expect(list).toBeHidden();
  });
});

test.describe("the phone's chat drawer without JavaScript", () => {
  test.use({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });

  test("opens and closes natively, and its links work", async ({ page }) => {
    await signUp(page, uniqueEmail("drawer-nojs"));
    await page.getByLabel("Message").fill("no script drawer");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("assistant-message")).toContainText("You said: no script drawer");
    await page.goto("/chat");
    const list = page.getByTestId("chat-list");
    await expect(list).toBeHidden();
    await page.getByLabel("Chat list").click();
    await expect(list).toBeVisible();
    await page.mouse.click(380, 600);
    await expect(list).toBeHidden();
    await page.getByLabel("Chat list").click();
    await list.getByRole("link", { name: "no script drawer" }).click();
    await expect(page.getByTestId("user-message")).toContainText("no script drawer");
    await expect(list).toBeHidden();
  });

  test("the header's Menu opens and its links work", async ({ page }) => {
    await signUp(page, uniqueEmail("menu-nojs"));
    const account = page.getByTestId("account-link");
    await expect(account).toBeHidden();
    await page.getByRole("navigation", { name: "Main" }).getByLabel("Menu").click();
    await expect(account).toBeVisible();
    await page.getByRole("link", { name: "Search" }).click();
    await expect(page).toHaveURL(/\/search$/);
    await expect(account).toBeHidden();
  });

  test("a chat opened from the list shows its latest message, scrolled by the browser itself", async ({
    page,
  }) => {
    await signUp(page, uniqueEmail("latest-nojs"));
    await page.getByLabel("Message").fill("[[long]] a long one without scripts");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByText("Paragraph 60 of a long answer.")).toBeAttached();
    await page.goto("/chat");
    await page.getByLabel("Chat list").click();
    await page
      .getByTestId("chat-list")
      .getByRole("link", { name: /a long one without scripts/ })
      .click();
    await expect(page.getByText("Paragraph 60 of a long answer.")).toBeInViewport();
    await expect(page.getByLabel("Message")).toBeInViewport();
  });
});
