import { expect, test } from "@playwright/test";

const DARK_BACKGROUND = "oklch(0.141 0.005 285.823)"; // Tailwind 4 zinc-950, as Chromium reports it
const LIGHT_BACKGROUND = "rgb(255, 255, 255)";

async function bodyBackground(page: import("@playwright/test").Page) {
  return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("choosing dark is a plain form post, and the server renders it on every page", async ({ page }) => {
    await page.goto("/login");
    expect(await bodyBackground(page)).toBe(LIGHT_BACKGROUND);
    await page.getByRole("button", { name: "Dark" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    expect(await bodyBackground(page)).toBe(DARK_BACKGROUND);
    await page.goto("/signup");
    expect(await bodyBackground(page)).toBe(DARK_BACKGROUND);
  });

  test("system follows the operating system's preference with no script at all", async ({ browser }) => {
    for (const [colorScheme, expected] of [
      ["dark", DARK_BACKGROUND],
      ["light", LIGHT_BACKGROUND],
    ] as const) {
      const context = await browser.newContext({ javaScriptEnabled: false, colorScheme });
      const page = await context.newPage();
      await page.goto("/login");
      await expect(page.locator("html")).toHaveAttribute("data-theme", "system");
      expect(await bodyBackground(page)).toBe(expected);
      await context.close();
    }
  });
});

test("with JavaScript the theme applies at once without leaving the page, and sticks", async ({ page }) => {
  await page.goto("/signup");
  await page.getByLabel("Email").fill("typed but not sent");
  await page.getByRole("button", { name: "Dark" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  // No navigation happened: what was typed is still there.
  await expect(page.getByLabel("Email")).toHaveValue("typed but not sent");
  await expect.poll(() => bodyBackground(page)).toBe(DARK_BACKGROUND);

  // No flash on the next load: the very first HTML already carries the theme.
  const response = await page.request.get("/login");
  expect(await response.text()).toContain('data-theme="dark"');
  await page.reload();
  expect(await bodyBackground(page)).toBe(DARK_BACKGROUND);
});
