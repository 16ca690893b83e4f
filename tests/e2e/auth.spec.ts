import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./support";

for (const javaScriptEnabled of [true, false]) {
  test.describe(`accounts with JavaScript ${javaScriptEnabled ? "enabled" : "disabled"}`, () => {
    test.use({ javaScriptEnabled });

    test("sign up shows server-side field errors, keeps the input, then succeeds", async ({ page }) => {
      await page.goto("/signup");
      await page.getByLabel("Email").fill("not-an-email");
      await page.getByLabel("Password").fill("short");
      await page.getByRole("button", { name: "Sign up" }).click();
      await expect(page.getByText("Enter a valid email address")).toBeVisible();
      await expect(page.getByText("Use at least 8 characters")).toBeVisible();
      await expect(page.getByLabel("Email")).toHaveValue("not-an-email");

      const email = uniqueEmail("signup");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("correct horse battery");
      await page.getByRole("button", { name: "Sign up" }).click();
      await expect(page.getByTestId("welcome")).toContainText(email);
    });

    test("log out, fail with a wrong password, then log in", async ({ page }) => {
      const email = uniqueEmail("login");
      await signUp(page, email);
      await page.getByRole("button", { name: "Log out" }).click();
      await expect(page).toHaveURL(/\/login$/);

      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("wrong password");
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(page.getByTestId("form-error")).toHaveText("Wrong email or password.");
      await expect(page.getByLabel("Email")).toHaveValue(email);

      await page.getByLabel("Password").fill("correct horse battery");
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(page.getByTestId("welcome")).toContainText(email);
    });

    test("a protected page sends you to log in and back", async ({ page }) => {
      const email = uniqueEmail("redirect");
      await signUp(page, email);
      await page.getByRole("button", { name: "Log out" }).click();
      // Wait for the logout to land before navigating, or the next request may still be signed in.
      await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
      await page.goto("/settings");
      await expect(page).toHaveURL(/\/login\?redirectTo=%2Fsettings$/);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("correct horse battery");
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(page).toHaveURL(/\/settings$/);
      await expect(page.getByTestId("account-email")).toHaveText(email);
    });

    test("sign out everywhere ends the other browser's session too", async ({ page, browser }) => {
      const email = uniqueEmail("everywhere");
      await signUp(page, email);
      const other = await browser.newContext({ javaScriptEnabled });
      const otherPage = await other.newPage();
      await otherPage.goto("/login");
      await otherPage.getByLabel("Email").fill(email);
      await otherPage.getByLabel("Password").fill("correct horse battery");
      await otherPage.getByRole("button", { name: "Log in" }).click();
      await expect(otherPage.getByTestId("welcome")).toBeVisible();

      await page.goto("/settings");
      await page.getByRole("button", { name: "Sign out everywhere" }).click();
      await expect(page).toHaveURL(/\/login$/);
      await otherPage.goto("/settings");
      await expect(otherPage).toHaveURL(/\/login/);
      await other.close();
    });
  });
}

test("after sign-up the start page is a new chat, offering the models Ollama reports", async ({ page }) => {
  await signUp(page, uniqueEmail("models"));
  await expect(page).toHaveURL(/\/chat$/);
  await expect(page.getByLabel("Model")).toContainText("llama3.2:latest");
  await expect(page.getByLabel("Message")).toBeVisible();
  await page.goto("/");
  await expect(page).toHaveURL(/\/chat$/);
});
