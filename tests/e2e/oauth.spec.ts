import { expect, test } from "@playwright/test";
import { e2eGitHubUser } from "./support";

// The buttons are plain forms, so the flow is the same full-page navigation either way.
for (const javaScriptEnabled of [false, true]) {
  test.describe(`with JavaScript ${javaScriptEnabled ? "enabled" : "disabled"}`, () => {
    test.use({ javaScriptEnabled });

    test("Continue with GitHub goes through the provider and back to the page asked for", async ({
      page,
    }) => {
      const visited: string[] = [];
      page.on("request", (request) => visited.push(request.url()));
      await page.goto("/settings");
      await expect(page).toHaveURL(/\/login\?redirectTo=%2Fsettings$/);
      await page.getByRole("button", { name: "Continue with GitHub" }).click();
      await expect(page).toHaveURL(/\/settings$/);
      await expect(page.getByTestId("account-email")).toHaveText(e2eGitHubUser.email);
      expect(visited.some((url) => url.includes("/github/login/oauth/authorize?"))).toBe(true);
      expect(visited.some((url) => url.includes("/auth/github/callback?code="))).toBe(true);
    });
  });
}
