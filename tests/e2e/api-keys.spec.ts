import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./support";

test.describe("API keys with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test("create a key (shown once, usable), see it listed by prefix, revoke it", async ({ page, request }) => {
    await signUp(page, uniqueEmail("keys"));
    await page.goto("/settings/keys");
    await page.getByRole("button", { name: "Create key" }).click();
    await expect(page.getByText("Name the key")).toBeVisible();

    await page.getByLabel("Name").fill("CLI script");
    await page.getByLabel("Expires in days").fill("30");
    await page.getByRole("button", { name: "Create key" }).click();
    const token = await page.getByTestId("new-key-token").inputValue();
    expect(token).toMatch(/^ccai-[\w-]{43}$/);
    // No JavaScript, no copy button: the token is selectable in the page instead.
    await expect(page.getByRole("button", { name: "Copy" })).toHaveCount(0);
    const row = page.getByRole("row", { name: /CLI script/ });
    await expect(row.getByTestId("key-status")).toHaveText("active");
    await expect(row).toContainText(token.slice(0, 13));

    const me = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${token}` } });
    expect(me.status()).toBe(200);

    // Reloading does not show the token again.
    await page.goto("/settings/keys");
    await expect(page.getByTestId("new-key-token")).toHaveCount(0);
    await expect(page.locator("body")).not.toContainText(token);

    await page.getByRole("button", { name: "Revoke CLI script" }).click();
    await expect(page.getByTestId("notice")).toContainText("Key revoked");
    await expect(page.getByRole("row", { name: /CLI script/ }).getByTestId("key-status")).toHaveText(
      "revoked",
    );
    const after = await request.get("/api/v1/me", { headers: { authorization: `Bearer ${token}` } });
    expect(after.status()).toBe(401);
  });
});

test.describe("API keys with JavaScript", () => {
  test("the Copy button puts the new token on the clipboard", async ({ page, context }) => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await signUp(page, uniqueEmail("copy"));
    await page.goto("/settings/keys");
    await page.getByLabel("Name").fill("Clipboard script");
    await page.getByRole("button", { name: "Create key" }).click();
    const token = await page.getByTestId("new-key-token").inputValue();
    expect(token).toMatch(/^ccai-[\w-]{43}$/);
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await expect(page.getByRole("button", { name: "Copied", exact: true })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  });
});
