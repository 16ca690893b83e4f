import { expect, test } from "@playwright/test";
import { signUp } from "./support";

/**
 * The shared header at phone width: the links fold behind Menu, a long account address is cut with
 * an ellipsis, so no signed-in page scrolls sideways because of the header.
 */
test("at 390 px a long email does not widen any page, in both themes", async ({ browser }, testInfo) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
  const page = await context.newPage();
  const email = `a-very-long-address-for-a-phone-${Date.now()}@subdomain.example-company.com`;
  await signUp(page, email);
  const openMenu = () => page.getByRole("navigation", { name: "Main" }).getByLabel("Menu").click();
  for (const theme of ["Light", "Dark"]) {
    await openMenu();
    await page.getByRole("button", { name: theme, exact: true }).click();
    for (const path of ["/chat", "/settings", "/search", "/docs/api"]) {
      await page.goto(path);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, `${path} in ${theme}`).toBeLessThanOrEqual(390);
      await expect(page.getByTestId("account-link")).toBeHidden();
      await openMenu();
      await expect(page.getByTestId("account-link")).toBeVisible();
      const link = await page.getByTestId("account-link").boundingBox();
      expect(link!.x + link!.width, `${path} in ${theme}`).toBeLessThanOrEqual(390);
    }
    await page.goto("/settings");
    await page.screenshot({
      path: testInfo.outputPath(`header-390-${theme.toLowerCase()}.png`),
      fullPage: true,
    });
  }
  await context.close();
});
