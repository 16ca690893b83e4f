import { expect, test } from "@playwright/test";
import pg from "pg";
import { seedChat, userId } from "../support/chats";
import type { TestDatabase } from "../support/database";
import { signUp, uniqueEmail } from "./support";

/** Just enough of TestDatabase for the seeding helpers, on the database global-setup created. */
async function withDatabase<T>(run: (database: TestDatabase) => Promise<T>) {
  const client = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await client.connect();
  try {
    return await run({
      name: "e2e",
      url: process.env.E2E_DATABASE_URL ?? "",
      query: async (sql, params) => (await client.query(sql, params)).rows,
      drop: async () => {},
    });
  } finally {
    await client.end();
  }
}

for (const javaScriptEnabled of [false, true]) {
  test.describe(`search with JavaScript ${javaScriptEnabled ? "enabled" : "disabled"}`, () => {
    test.use({ javaScriptEnabled });

    test("the search form, highlighted results and More results", async ({ page }) => {
      const email = uniqueEmail("search");
      await signUp(page, email);
      await withDatabase(async (database) => {
        await seedChat(
          database,
          await userId(database, email),
          "Streaming <em>notes</em>",
          Array.from({ length: 25 }, (_, i) => ({
            content: `Note ${i + 1}: streaming <script>window.pwned = true</script> works`,
            createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
          })),
          { updatedAt: new Date(Date.UTC(2025, 0, 1)) },
        );
      });

      await page.goto("/search");
      await expect(page.getByTestId("search-empty")).toBeVisible();
      await page.getByRole("searchbox", { name: "Search your chats" }).fill("strea");
      await page.getByRole("button", { name: "Search", exact: true }).click();

      await expect(page).toHaveURL(/\/search\?q=strea$/);
      await expect(page.getByRole("searchbox", { name: "Search your chats" })).toHaveValue("strea");
      const hits = page.getByTestId("search-hit");
      await expect(hits).toHaveCount(20);
      // 25 messages and the (older) title, all with one match: equal ranks, newest first.
      await expect(hits.first().getByTestId("search-snippet")).toContainText("Note 25: streaming");
      await expect(hits.first().getByTestId("search-snippet").locator("mark")).toHaveText(["streaming"]);
      await expect(hits.first().getByRole("link").locator("mark")).toHaveText(["Streaming"]);
      await expect(hits.first().getByTestId("search-snippet")).toContainText(
        "<script>window.pwned = true</script>",
      );
      await expect(hits.first().getByRole("link")).toHaveAttribute("href", /^\/chat\/[^#]+#m\d+$/);

      await page.getByRole("link", { name: "More results" }).click();
      await expect(page).toHaveURL(/\/search\?q=strea&page=2$/);
      await expect(hits).toHaveCount(6);
      await expect(page.getByRole("link", { name: "More results" })).toHaveCount(0);
      const title = hits.last();
      await expect(title).toContainText("Chat title");
      await expect(title.locator("mark")).toHaveText(["Streaming"]);
      await expect(title.getByRole("link")).toHaveText("Streaming <em>notes</em>");
      expect(await page.evaluate(() => (window as { pwned?: boolean }).pwned ?? false)).toBe(false);
    });

    test("an over-long query shows the error", async ({ page }) => {
      await signUp(page, uniqueEmail("search-long"));
      await page.goto(`/search?q=${"x".repeat(201)}`);
      await expect(page.getByTestId("search-error")).toHaveText("Search for at most 200 characters.");
    });
  });
}
