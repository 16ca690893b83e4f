import { readFile } from "node:fs/promises";
import { expect, type Page, test } from "@playwright/test";
import { THINKING_MODEL } from "./chat-scripts";
import { openChatMenu, openChatSettings, signUp, uniqueEmail } from "./support";

async function startThinkingChat(page: Page, message: string) {
  await page.goto("/chat");
  await page.getByLabel("Model").selectOption(THINKING_MODEL.name);
  await page.getByLabel("Message").fill(message);
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page).toHaveURL(/\/chat\/[a-z0-9]+(#m\d+)?$/);
}

const reply = (page: Page) => page.getByTestId("assistant-message").last();
const thinking = (page: Page) => reply(page).getByTestId("thinking");

test.describe("reasoning models with JavaScript", () => {
  test.beforeEach(async ({ page }) => {
    await signUp(page, uniqueEmail("thinking"));
  });

  test("while the model thinks, the block is open and fills up; it folds when the answer starts", async ({
    page,
  }) => {
    await startThinkingChat(page, "[[think-slow]] take your time");
    await expect(thinking(page).getByTestId("thinking-text")).toContainText("step1");
    await expect(thinking(page)).toHaveAttribute("open", "");
    await expect(thinking(page).locator("summary")).toHaveText("Thinking…");
    await expect(reply(page)).toContainText("Slowly answered.", { timeout: 25_000 });
    await expect(thinking(page)).not.toHaveAttribute("open");
    await expect(thinking(page).locator("summary")).toHaveText(/^Thought for \d+ s$/);
  });

  test("a finished Thinking block opens and closes on click, survives reload and export", async ({
    page,
  }) => {
    await startThinkingChat(page, "[[think]] why is the sky blue?");
    await expect(reply(page)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
    await expect(reply(page)).toContainText("Because of Rayleigh scattering.");
    await expect(thinking(page)).not.toHaveAttribute("open");
    await expect(thinking(page).locator("summary")).toHaveText(/^Thought for (less than a second|\d+ s)$/);
    await expect(thinking(page).getByTestId("thinking-text")).toBeHidden();
    await thinking(page).locator("summary").click();
    await expect(thinking(page).getByTestId("thinking-text")).toBeVisible();
    // Model text is never markup.
    await expect(thinking(page).getByTestId("thinking-text")).toContainText("<b>explains</b> it.");
    await thinking(page).locator("summary").click();
    await expect(thinking(page).getByTestId("thinking-text")).toBeHidden();

    await page.reload();
    await expect(thinking(page)).not.toHaveAttribute("open");
    await expect(thinking(page).locator("summary")).toHaveText(/^Thought for/);
    await thinking(page).locator("summary").click();
    await expect(thinking(page).getByTestId("thinking-text")).toContainText("The user asks about the sky.");

    const download = async (label: string) => {
      await openChatMenu(page);
      const [file] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: label, exact: true }).click(),
      ]);
      return readFile((await file.path())!, "utf8");
    };
    const markdown = await download("Markdown");
    expect(markdown).toMatch(/> \*\*Thinking\*\* \(\d+\.\d s\)\n>\n> The user asks about the sky\./);
    expect(markdown).toContain("&lt;b>explains&lt;/b> it.");
    const json = JSON.parse(await download("JSON")) as {
      chats: Array<{ messages: Array<{ role: string; thinking: string | null }> }>;
    };
    expect(json.chats[0].messages.find((m) => m.role === "assistant")?.thinking).toContain(
      "Rayleigh scattering <b>explains</b> it.",
    );
  });

  test("turning thinking off for the chat: the next answer comes without thinking", async ({ page }) => {
    await startThinkingChat(page, "[[think]] first question");
    await expect(reply(page)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
    await expect(thinking(page)).toHaveCount(1);
    await openChatSettings(page);
    await page.getByRole("button", { name: "Turn thinking off" }).click();
    await expect(page.getByTestId("think-switch")).toContainText("Thinking is off for this chat");
    await page.getByLabel("Message").fill("[[think]] second question");
    await page.getByRole("button", { name: "Send" }).click();
    await expect(page.getByTestId("assistant-message")).toHaveCount(2);
    await expect(reply(page)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
    await expect(reply(page)).toContainText("Because of Rayleigh scattering.");
    // The fake only thinks when `think` is not false: no block means think:false was sent.
    await expect(thinking(page)).toHaveCount(0);
    await page.reload();
    await expect(page.getByRole("button", { name: "Turn thinking on" })).toBeVisible();
  });

  test("per-chat parameters: defaults shown, saved, bad values refused with an error", async ({ page }) => {
    await startThinkingChat(page, "parameters");
    await expect(reply(page)).toHaveAttribute("data-status", "complete");
    await openChatSettings(page);
    await page.getByText("Parameters", { exact: true }).click();
    const temperature = page.getByLabel("Temperature");
    await expect(temperature).toHaveAttribute("placeholder", "0.6");
    await expect(page.getByLabel("Top P")).toHaveAttribute("placeholder", "0.95");
    await temperature.fill("0.3");
    await page.getByLabel("Seed").fill("42");
    await page.getByRole("button", { name: "Save parameters" }).click();
    await expect(page.getByText("Parameters (2 set)")).toBeVisible();
    await page.reload();
    await page.getByText("Parameters (2 set)").click();
    await expect(page.getByLabel("Temperature")).toHaveValue("0.3");

    await page.getByLabel("Temperature").fill("7");
    await page.getByRole("button", { name: "Save parameters" }).click();
    await expect(page.getByTestId("params-error")).toHaveText("Temperature must be between 0 and 2.");
    await page.reload();
    await page.getByText("Parameters (2 set)").click();
    await expect(page.getByLabel("Temperature")).toHaveValue("0.3");
  });
});

test.describe("reasoning models without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the reply comes with its Thinking block, folded, opening natively", async ({ page }) => {
    await signUp(page, uniqueEmail("thinking-nojs"));
    await startThinkingChat(page, "[[think]] no script here");
    await expect(reply(page)).toContainText("Because of Rayleigh scattering.");
    await expect(thinking(page)).not.toHaveAttribute("open");
    await thinking(page).locator("summary").click();
    await expect(thinking(page).getByTestId("thinking-text")).toContainText("Rayleigh scattering");

    await openChatSettings(page);
    await page.getByRole("button", { name: "Turn thinking off" }).click();
    await expect(page.getByTestId("think-switch")).toContainText("Thinking is off for this chat");
    await page.getByText("Parameters", { exact: true }).click();
    await page.getByLabel("Top P").fill("2");
    await page.getByRole("button", { name: "Save parameters" }).click();
    await expect(page.getByTestId("params-error")).toHaveText("Top P must be between 0 and 1.");
  });
});

test("looks right at 1280 and 390 px, light and dark, with thinking and parameters open", async ({
  browser,
}, testInfo) => {
  testInfo.setTimeout(90_000);
  const setup = await browser.newContext();
  const page0 = await setup.newPage();
  await signUp(page0, uniqueEmail("thinking-looks"));
  await startThinkingChat(page0, "[[think]] how does it look?");
  await expect(reply(page0)).toHaveAttribute("data-status", "complete", { timeout: 20_000 });
  const url = page0.url().replace(/#.*$/, "");
  const state = await setup.storageState();
  await setup.close();
  for (const colorScheme of ["light", "dark"] as const) {
    for (const width of [1280, 390]) {
      const context = await browser.newContext({
        colorScheme,
        viewport: { width, height: 900 },
        storageState: state,
      });
      const page = await context.newPage();
      await page.goto(`${url}?settings=1`);
      await thinking(page).locator("summary").click();
      await page.getByText("Parameters", { exact: true }).click();
      await expect(page.getByLabel("Max tokens")).toBeVisible();
      const overflowing = await page.evaluate(
        (limit) =>
          [...document.querySelectorAll("main *")]
            .filter((element) => element.getBoundingClientRect().right > limit + 0.5)
            .filter((element) => !element.parentElement?.closest(".overflow-x-auto, .overflow-auto"))
            .map((element) => `${element.tagName}.${element.className}`),
        width,
      );
      expect(overflowing).toEqual([]);
      await page.screenshot({
        path: testInfo.outputPath(`chat-thinking-${width}-${colorScheme}.png`),
        fullPage: true,
      });
      await context.close();
    }
  }
});
