import { randomBytes } from "node:crypto";
import { expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { parseCsv } from "../support/csv";
import { signUp, uniqueEmail } from "./support";

// Each test signs up, seeds and walks several pages: more than the default 30 s on a loaded 2-core host.
test.describe.configure({ timeout: 120_000 });

/** SQL on the e2e app's database (set by global setup): these tests need data, not traffic. */
async function sql<T extends pg.QueryResultRow>(text: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Signs up in the browser and is made an administrator (other specs sign up first at random). */
async function signUpAdmin(page: Page) {
  const email = uniqueEmail("admin");
  await signUp(page, email);
  await sql("UPDATE users SET role = 'ADMIN' WHERE email = $1", [email]);
  const [{ id }] = await sql<{ id: string }>("SELECT id FROM users WHERE email = $1", [email]);
  return { email, id };
}

const buckets = (count: number, index: number) =>
  `{${Array.from({ length: 22 }, (_, i) => (i === index ? count : 0)).join(",")}}`;

/**
 * Seeds a month of usage in `year` (its own year per test: the e2e database is shared) for one
 * user, two models, chat and API, and returns the totals the page must show.
 */
async function seedUsage(year: number, userId: string) {
  const tag = randomBytes(3).toString("hex");
  const models = [`e2e-${tag}-small`, `e2e-${tag}-large`];
  const totals = { requests: 0, chat: 0, api: 0, prompt: 0, completion: 0, errors: 0, models };
  const modelRows: unknown[][] = [];
  const userRows = new Map<string, number[]>();
  for (let day = 1; day <= 28; day++) {
    const date = `${year}-02-${String(day).padStart(2, "0")}`;
    for (const [m, model] of models.entries()) {
      for (const source of ["chat", "api"] as const) {
        const n = day + m * 3 + (source === "api" ? 5 : 0);
        const failed = day % 7 === 0 ? 1 : 0;
        const p = n * 120;
        const c = n * 45;
        modelRows.push([date, source, model, n, failed, p, c, buckets(n, source === "api" ? 4 : 9)]);
        const user = userRows.get(`${date} ${source}`) ?? [0, 0, 0, 0];
        userRows.set(`${date} ${source}`, [user[0] + n, user[1] + failed, user[2] + p, user[3] + c]);
        totals.requests += n;
        totals[source] += n;
        totals.prompt += p;
        totals.completion += c;
        totals.errors += failed;
      }
    }
  }
  const values = (rows: unknown[][], casts: string[]) => {
    const params: unknown[] = [];
    const tuples = rows.map(
      (row) => `(${row.map((value, i) => `$${params.push(value)}${casts[i] ?? ""}`).join(", ")})`,
    );
    return { text: tuples.join(", "), params };
  };
  const byModel = values(modelRows, [
    "::date",
    '::"UsageSource"',
    "",
    "::int",
    "::int",
    "::bigint",
    "::bigint",
    "::int[]",
  ]);
  await sql(
    `INSERT INTO usage_model_daily (day, source, model, requests, errors, prompt_tokens, completion_tokens, latency_buckets)
     VALUES ${byModel.text}`,
    byModel.params,
  );
  const byUser = values(
    [...userRows].map(([key, counts]) => [...key.split(" "), userId, ...counts]),
    ["::date", '::"UsageSource"', "", "::int", "::int", "::bigint", "::bigint"],
  );
  await sql(
    `INSERT INTO usage_user_daily (day, source, user_id, requests, errors, prompt_tokens, completion_tokens)
     VALUES ${byUser.text}`,
    byUser.params,
  );
  // February is a whole month: the per-user chart reads it from the monthly roll-up.
  await sql(
    `INSERT INTO usage_user_monthly (month, source, user_id, requests, errors, prompt_tokens, completion_tokens)
     SELECT date_trunc('month', day)::date, source, user_id, sum(requests), sum(errors), sum(prompt_tokens), sum(completion_tokens)
     FROM usage_user_daily WHERE user_id = $1 AND day BETWEEN $2::date AND $3::date GROUP BY 1, 2, 3`,
    [userId, `${year}-02-01`, `${year}-02-28`],
  );
  return totals;
}

const fmt = (value: number) => value.toLocaleString("en");
const sumColumn = (csv: string, column: string) => {
  const [head, ...rows] = parseCsv(csv);
  const index = head.indexOf(column);
  return rows.reduce((total, row) => total + Number(row[index] || 0), 0);
};

test("usage charts show the seeded totals, and the CSV files add up to the same", async ({ page }) => {
  const admin = await signUpAdmin(page);
  const expected = await seedUsage(2016, admin.id);

  await page.goto("/admin/usage");
  await page.getByLabel("Range").selectOption("custom");
  await page.getByLabel("From", { exact: true }).fill("2016-02-01");
  await page.getByLabel("To", { exact: true }).fill("2016-02-29");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByTestId("usage-range")).toHaveText("2016-02-01 to 2016-02-29 · Chat and API");

  await expect(page.getByTestId("total-requests")).toHaveText(fmt(expected.requests));
  await expect(page.getByTestId("total-prompt-tokens")).toHaveText(fmt(expected.prompt));
  await expect(page.getByTestId("total-completion-tokens")).toHaveText(fmt(expected.completion));
  await expect(page.getByTestId("chart-requests-summary")).toHaveText(
    `${fmt(expected.chat)} chat · ${fmt(expected.api)} API`,
  );
  // The drawn bars carry their values: together they are the totals.
  const barTotal = async (chart: string, series?: string) =>
    (
      await page
        .getByTestId(chart)
        .locator(series ? `svg [data-series="${series}"] rect[data-value]` : "svg rect[data-value]")
        .evaluateAll((rects) => rects.map((rect) => Number(rect.getAttribute("data-value"))))
    ).reduce((a, b) => a + b, 0);
  expect(await barTotal("chart-requests")).toBe(expected.requests);
  expect(await barTotal("chart-requests", "api")).toBe(expected.api);
  expect(await barTotal("chart-tokens", "in")).toBe(expected.prompt);
  expect(await barTotal("chart-tokens", "out")).toBe(expected.completion);
  expect(await barTotal("chart-models")).toBe(expected.prompt + expected.completion);
  await expect(page.getByTestId("chart-users-table")).toContainText(admin.email);
  // API calls sit in the 200–300 ms bucket and chat replies (fewer) in 1.5–2 s: p50 is in the
  // first, p95 in the second.
  await expect(page.getByTestId("total-p50")).toHaveText(/^2\d\d ms$/);
  await expect(page.getByTestId("total-p95")).toHaveText(/^1\.[5-9] s$/);

  // The CSV links carry the page's range and give the same numbers.
  const href = await page.getByRole("link", { name: "per day" }).getAttribute("href");
  expect(href).toContain("from=2016-02-01");
  const daily = await (await page.request.get(href ?? "")).text();
  expect(sumColumn(daily, "requests")).toBe(expected.requests);
  expect(sumColumn(daily, "api_requests")).toBe(expected.api);
  expect(sumColumn(daily, "prompt_tokens")).toBe(expected.prompt);
  expect(sumColumn(daily, "completion_tokens")).toBe(expected.completion);
  expect(sumColumn(daily, "errors")).toBe(expected.errors);
  const models = await (
    await page.request.get((await page.getByRole("link", { name: "per model" }).getAttribute("href")) ?? "")
  ).text();
  expect(sumColumn(models, "requests")).toBe(expected.requests);
  const users = await (
    await page.request.get((await page.getByRole("link", { name: "per user" }).getAttribute("href")) ?? "")
  ).text();
  expect(users).toContain(admin.email);
  expect(sumColumn(users, "prompt_tokens") + sumColumn(users, "completion_tokens")).toBe(
    expected.prompt + expected.completion,
  );

  // API only, in place.
  await page.getByLabel("Source").selectOption("api");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByTestId("total-requests")).toHaveText(fmt(expected.api));
  expect(await barTotal("chart-requests", "chat")).toBe(0);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the charts are in the server's HTML, with their numbers in a table", async ({ page }) => {
    const admin = await signUpAdmin(page);
    const expected = await seedUsage(2015, admin.id);
    await page.goto("/admin/usage?preset=custom&from=2015-02-01&to=2015-02-28&source=all");
    await expect(page.getByTestId("total-requests")).toHaveText(fmt(expected.requests));
    for (const chart of [
      "chart-requests",
      "chart-tokens",
      "chart-latency",
      "chart-errors",
      "chart-models",
      "chart-users",
    ]) {
      await expect(page.getByTestId(chart).locator("svg").first()).toBeVisible();
    }
    await expect(page.getByTestId("chart-requests").locator("svg rect[data-value]")).toHaveCount(56);
    await expect(page.getByTestId("chart-latency").locator("path")).not.toHaveCount(0);
    await page.getByTestId("usage-days").getByText("The numbers per day").click();
    await expect(page.getByTestId("usage-days-table").locator("tbody tr")).toHaveCount(28);

    // A bad range is the form again with its error, and a 400.
    const response = await page.goto("/admin/usage?preset=custom&from=2015-03-01&to=2015-02-01");
    expect(response?.status()).toBe(400);
    await expect(page.getByTestId("form-error")).toHaveText("The end is before the start.");
  });
});

test("the audit log lists, filters and pages in the browser", async ({ page }) => {
  await signUpAdmin(page);
  const actor = `pager-${randomBytes(3).toString("hex")}@example.com`;
  await sql(
    `INSERT INTO audit_events (at, actor_id, actor_email, action, target_type, target_id, before, after, ip)
     SELECT timestamp '2014-03-01 00:00' + g * interval '1 hour', 'seed', $1,
            CASE WHEN g % 3 = 0 THEN 'user.role_changed' ELSE 'model.deleted' END, 'user', 'target-' || g,
            '{"role":"USER"}', '{"role":"ADMIN"}', '198.51.100.7'
     FROM generate_series(1, 75) g`,
    [actor],
  );
  await page.goto("/admin/audit");
  await page.getByLabel("Actor email").fill(actor);
  await page.getByLabel("Action").selectOption("user.role_changed");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId("audit-row")).toHaveCount(25);
  await expect(page.getByTestId("audit-row").first()).toContainText("target-75");
  await expect(page.getByTestId("audit-row").first()).toContainText('{"role":"ADMIN"}');
  await expect(page.getByTestId("audit-row").first().getByTestId("audit-ip")).toHaveText("198.51.100.7");
  await expect(page.getByTestId("audit-older")).toHaveCount(0);

  await page.getByRole("link", { name: "Clear" }).click();
  await page.getByLabel("Actor email").fill(actor);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByTestId("audit-row")).toHaveCount(50);
  await page.getByTestId("audit-older").click();
  await expect(page.getByTestId("audit-row")).toHaveCount(25);
  await expect(page.getByTestId("audit-row").last()).toContainText("target-1");
  await page.getByTestId("audit-newer").click();
  await expect(page.getByTestId("audit-row")).toHaveCount(50);
  await expect(page.getByTestId("audit-row").first()).toContainText("target-75");
});

for (const width of [1280, 390]) {
  for (const theme of ["light", "dark"] as const) {
    test(`usage and audit pages fit ${width} px in the ${theme} theme`, async ({ browser }, testInfo) => {
      const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: theme });
      const page = await context.newPage();
      const admin = await signUpAdmin(page);
      await seedUsage(
        width === 1280 ? (theme === "light" ? 2013 : 2012) : theme === "light" ? 2011 : 2010,
        admin.id,
      );
      const year = width === 1280 ? (theme === "light" ? 2013 : 2012) : theme === "light" ? 2011 : 2010;
      await sql(
        `INSERT INTO audit_events (actor_id, actor_email, action, target_type, target_id, before, after, ip)
         VALUES ($1, $2, 'api_key.limits_changed', 'api_key', 'cm0examplekeyid0000000000',
                 '{"rateLimitRequests":null,"rateLimitTokensPerMinute":null}', '{"rateLimitRequests":7,"rateLimitTokensPerMinute":null}', '127.0.0.1')`,
        [admin.id, admin.email],
      );
      for (const path of [
        `/admin/usage?preset=custom&from=${year}-02-01&to=${year}-02-28&source=all`,
        "/admin/audit",
      ]) {
        await page.goto(path);
        await expect(page.locator("h1")).toBeVisible();
        const name = `${path.startsWith("/admin/usage") ? "usage" : "audit"}-${width}-${theme}.png`;
        await page.screenshot({ path: testInfo.outputPath(name), fullPage: true });
        // The page's own content (the shared header is not part of these pages) never pushes the
        // page sideways: wide things scroll inside their own boxes.
        const overflow = await page.evaluate(() => {
          const main = document.querySelector("main");
          return main ? main.scrollWidth - main.clientWidth : 1;
        });
        expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
      }
      await context.close();
    });
  }
}
