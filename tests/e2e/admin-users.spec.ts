import { type Browser, type BrowserContext, expect, type Page, test } from "@playwright/test";
import pg from "pg";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { uniqueEmail } from "./support";

// /admin/users in a real browser, against two replicas of their own (one database, one Redis
// prefix), not the shared e2e app: these tests close sign-up and demote admins, which would
// disturb the other spec files running alongside.
// Each test drives several browsers against two replicas on a shared, loaded machine.
test.describe.configure({ mode: "serial", timeout: 120_000 });

let database: TestDatabase;
let ollama: FakeOllama;
let replicas: RunningApp[];
let adminEmail: string;

const PASSWORD = "correct horse battery";

test.beforeAll(async () => {
  test.setTimeout(120_000);
  database = await createTestDatabase("e2e_admin");
  ollama = await startFakeOllama();
  const shared = {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(),
    OLLAMA_URL: ollama.url,
  };
  replicas = await Promise.all([startApp(shared), startApp(shared)]);
  // The first account is the admin.
  adminEmail = uniqueEmail("admin");
  const response = await fetch(`${replicas[0].url}/signup`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
    body: new URLSearchParams({ email: adminEmail, password: PASSWORD }),
  });
  expect(response.status).toBe(302);
});

test.afterAll(async () => {
  await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
  await ollama?.close();
  await database?.drop();
});

async function signUp(page: Page, app: RunningApp, email: string) {
  await page.goto(`${app.url}/signup`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByTestId("account-link").waitFor({ state: "attached" });
}

async function logIn(page: Page, app: RunningApp, email: string, password = PASSWORD) {
  await page.goto(`${app.url}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function adminPage(browser: Browser, options: Parameters<Browser["newContext"]>[0] = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await logIn(page, replicas[0], adminEmail);
  await page.getByTestId("admin-link").waitFor({ state: "attached" });
  return { context, page };
}

const row = (page: Page, email: string) => page.locator(`[data-testid="user-row"][data-email="${email}"]`);

async function search(page: Page, app: RunningApp, email: string) {
  await page.goto(`${app.url}/admin/users?q=${encodeURIComponent(email)}`);
  await expect(row(page, email)).toBeVisible();
}

async function createKey(context: BrowserContext, app: RunningApp) {
  const page = await context.newPage();
  await page.goto(`${app.url}/settings/keys`);
  await page.getByLabel("Name").fill("e2e");
  await page.getByRole("button", { name: "Create key" }).click();
  const token = await page.getByTestId("new-key-token").inputValue();
  await page.close();
  return token;
}

const me = (app: RunningApp, token: string) =>
  fetch(`${app.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("promote, demote and disable are plain forms; the disabled user's session and API key are refused on the other replica", async ({
    browser,
  }) => {
    const [a, b] = replicas;
    const targetEmail = uniqueEmail("target");
    const targetContext = await browser.newContext({ javaScriptEnabled: false });
    const target = await targetContext.newPage();
    await signUp(target, b, targetEmail);
    const token = await createKey(targetContext, b);
    expect((await me(b, token)).status).toBe(200);

    const { context, page } = await adminPage(browser, { javaScriptEnabled: false });
    await search(page, a, targetEmail);
    await row(page, targetEmail)
      .getByRole("button", { name: `Promote ${targetEmail}` })
      .click();
    await expect(page.getByTestId("notice")).toContainText(`${targetEmail} is now an administrator`);
    await expect(row(page, targetEmail).getByTestId("user-role")).toHaveText("admin");
    // The search survives the post: the list still shows only the target.
    await expect(page.getByTestId("user-row")).toHaveCount(1);
    await target.goto(`${b.url}/admin`);
    await expect(target.getByRole("heading", { name: "Overview" })).toBeVisible();

    await row(page, targetEmail)
      .getByRole("button", { name: `Demote ${targetEmail}` })
      .click();
    await expect(page.getByTestId("notice")).toContainText(`${targetEmail} is now a user`);
    await expect(row(page, targetEmail).getByTestId("user-role")).toHaveText("user");
    expect((await target.goto(`${b.url}/admin`))?.status()).toBe(404);

    await row(page, targetEmail)
      .getByRole("button", { name: `Disable ${targetEmail}` })
      .click();
    await expect(page.getByTestId("notice")).toContainText("is disabled");
    await expect(row(page, targetEmail).getByTestId("user-status")).toHaveText("disabled");
    // On the other replica: the page session is gone at once, the key within the 500 ms key cache.
    await target.goto(`${b.url}/settings`);
    await expect(target).toHaveURL(/\/login\?redirectTo=%2Fsettings/);
    await expect.poll(async () => (await me(b, token)).status, { timeout: 5000 }).toBe(403);

    await row(page, targetEmail)
      .getByRole("button", { name: `Enable ${targetEmail}` })
      .click();
    await expect(row(page, targetEmail).getByTestId("user-status")).toHaveText("active");
    // Enabling does not bring the old session back.
    await target.goto(`${b.url}/settings`);
    await expect(target).toHaveURL(/\/login/);
    await context.close();
    await targetContext.close();
  });

  test("delete asks for the email, names what goes, and deletes only when it matches", async ({
    browser,
  }) => {
    const [a] = replicas;
    const doomedEmail = uniqueEmail("doomed");
    const doomedContext = await browser.newContext({ javaScriptEnabled: false });
    await signUp(await doomedContext.newPage(), a, doomedEmail);
    await createKey(doomedContext, a);

    const { context, page } = await adminPage(browser, { javaScriptEnabled: false });
    await search(page, a, doomedEmail);
    await row(page, doomedEmail).getByRole("link", { name: doomedEmail }).click();
    await expect(page.getByTestId("delete-summary")).toContainText(
      `This deletes ${doomedEmail} for good, with 0 chats, 0 messages, 1 API key and 0 usage rows.`,
    );
    await page.getByLabel(`Type ${doomedEmail} to confirm`).fill("wrong@example.com");
    await page.getByRole("button", { name: "Delete user and their data" }).click();
    await expect(page.getByTestId("form-error")).toContainText(`Type ${doomedEmail} to confirm`);
    await page.getByLabel(`Type ${doomedEmail} to confirm`).fill(doomedEmail);
    await page.getByRole("button", { name: "Delete user and their data" }).click();
    await expect(page).toHaveURL(/\/admin\/users\?deleted=/);
    await expect(page.getByTestId("notice")).toContainText(
      `${doomedEmail} and everything they owned were deleted`,
    );
    expect(await database.query("SELECT 1 FROM users WHERE email = $1", [doomedEmail])).toHaveLength(0);
    await context.close();
    await doomedContext.close();
  });
});

test("with JavaScript, promote and disable update the row in place; a demoted admin's stale page is refused", async ({
  browser,
}) => {
  const [a, b] = replicas;
  const secondEmail = uniqueEmail("second");
  const secondContext = await browser.newContext();
  const second = await secondContext.newPage();
  await signUp(second, b, secondEmail);

  const { context, page } = await adminPage(browser);
  await search(page, a, secondEmail);
  let documentLoads = 0;
  page.on("load", () => documentLoads++);
  await row(page, secondEmail)
    .getByRole("button", { name: `Promote ${secondEmail}` })
    .click();
  await expect(row(page, secondEmail).getByTestId("user-role")).toHaveText("admin");
  expect(documentLoads).toBe(0);

  // The second admin opens the list on the other replica; meanwhile the first demotes them. Their
  // stale page still offers "Demote" for the first admin: the server refuses.
  await search(second, b, adminEmail);
  await row(page, secondEmail)
    .getByRole("button", { name: `Demote ${secondEmail}` })
    .click();
  await expect(row(page, secondEmail).getByTestId("user-role")).toHaveText("user");
  await row(second, adminEmail)
    .getByRole("button", { name: `Demote ${adminEmail}` })
    .click();
  await expect(second.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(second.getByText("Only administrators can do this.")).toBeVisible();
  expect(await database.query("SELECT role FROM users WHERE email = $1", [adminEmail])).toEqual([
    { role: "ADMIN" },
  ]);
  // The admin's own row offers nothing to do to themselves.
  await search(page, a, adminEmail);
  await expect(row(page, adminEmail).getByRole("button")).toHaveCount(0);
  await expect(row(page, adminEmail)).toContainText("you");

  await search(page, a, secondEmail);
  documentLoads = 0;
  await row(page, secondEmail)
    .getByRole("button", { name: `Disable ${secondEmail}` })
    .click();
  await expect(row(page, secondEmail).getByTestId("user-status")).toHaveText("disabled");
  expect(documentLoads).toBe(0);
  await context.close();
  await secondContext.close();
});

test("search and pagination", async ({ browser }) => {
  const [a] = replicas;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const values = Array.from({ length: 28 }, (_, i) => {
    const n = String(i).padStart(2, "0");
    return `('e2epaged${n}xxxxxxxxxxxxxxxx', 'browse-${n}@paging.example', now() - interval '${i} minutes', now())`;
  });
  await client.query(`INSERT INTO users (id, email, created_at, updated_at) VALUES ${values.join(", ")}`);
  await client.end();

  const { context, page } = await adminPage(browser);
  await page.goto(`${a.url}/admin/users`);
  await page.getByLabel("Search by email").fill("paging.example");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("user-count")).toHaveText(/^28 users with .* page 1 of 2$/);
  await expect(page.getByTestId("user-row")).toHaveCount(25);
  await expect(page.getByTestId("user-row").first()).toHaveAttribute(
    "data-email",
    "browse-00@paging.example",
  );
  await page.getByRole("link", { name: "Next →" }).click();
  await expect(page).toHaveURL(/q=paging\.example&page=2/);
  await expect(page.getByTestId("user-row")).toHaveCount(3);
  await expect(page.getByTestId("user-row").last()).toHaveAttribute("data-email", "browse-27@paging.example");
  await page.getByRole("link", { name: "← Previous" }).click();
  await expect(page.getByTestId("user-row")).toHaveCount(25);
  await page.getByLabel("Search by email").fill("browse-13");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("user-row")).toHaveCount(1);
  await context.close();
});

test("an admin creates a user with a one-time password; the user must choose their own at first sign-in", async ({
  browser,
}) => {
  const [a, b] = replicas;
  const newEmail = uniqueEmail("handed");
  const { context, page } = await adminPage(browser);
  await page.goto(`${a.url}/admin/users`);
  const form = page.locator("form", { has: page.getByRole("button", { name: "Create user" }) });
  await form.getByLabel("Email").fill(newEmail);
  await form.getByLabel("Name (optional)").fill("Handed Over");
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByTestId("created-user")).toContainText(`Account created for ${newEmail}`);
  const oneTime = await page.getByTestId("one-time-password").inputValue();
  expect(oneTime).toHaveLength(16);

  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  await logIn(user, b, newEmail, oneTime);
  await expect(user).toHaveURL(/\/settings\/password/);
  await expect(user.getByTestId("must-change")).toBeVisible();
  await user.getByLabel("One-time password").fill(oneTime);
  await user.getByLabel("New password", { exact: true }).fill("my very own password");
  await user.getByLabel("New password again").fill("my very own password");
  await user.getByRole("button", { name: "Save password" }).click();
  await expect(user).not.toHaveURL(/\/settings\/password/);
  await user.goto(`${b.url}/settings`);
  await expect(user.getByTestId("account-email")).toHaveText(newEmail);
  await context.close();
  await userContext.close();
});

test("the sign-up switch closes and reopens sign-up on every replica", async ({ browser }) => {
  const [a, b] = replicas;
  const { context, page } = await adminPage(browser);
  await page.goto(`${a.url}/admin/users`);
  await expect(page.getByTestId("signup-state")).toContainText("Open");
  await page.getByRole("button", { name: "Close sign-up" }).click();
  await expect(page.getByTestId("signup-state")).toContainText("Closed");

  const visitor = await browser.newContext();
  const signup = await visitor.newPage();
  const response = await signup.goto(`${b.url}/signup`);
  expect(response?.status()).toBe(403);
  await expect(signup.getByTestId("signup-closed")).toBeVisible();

  await page.reload();
  await expect(page.getByTestId("signup-state")).toContainText("Closed");
  await page.getByRole("button", { name: "Open sign-up" }).click();
  await expect(page.getByTestId("signup-state")).toContainText("Open");
  await signUp(signup, b, uniqueEmail("welcome-back"));
  await context.close();
  await visitor.close();
});

test("screenshots of the admin pages at 1280 and 390 px, light and dark", async ({ browser }) => {
  test.setTimeout(90_000);
  const [a] = replicas;
  // A user with a long address, an OAuth connection, chats and usage: the widest row there is.
  const id = "e2escreenshotuserxxxxxxxx";
  await database.query(
    `INSERT INTO users (id, email, name, updated_at, last_seen_at, rate_limit_requests)
     VALUES ($1, 'a.rather.long.address.for.layout@subdomain.example.org', 'Ada Lovelace', now(), now(), 500)
     ON CONFLICT DO NOTHING`,
    [id],
  );
  await database.query(
    `INSERT INTO connections (id, provider, provider_id, user_id) VALUES ('e2eshotconn', 'github', 'shot', $1) ON CONFLICT DO NOTHING`,
    [id],
  );
  await database.query(
    `INSERT INTO usage_daily (day, user_id, key_id, model, requests, errors, prompt_tokens, completion_tokens)
     VALUES (current_date, $1, '', 'llama3.2:latest', 120, 3, 45000, 12345) ON CONFLICT DO NOTHING`,
    [id],
  );
  for (const colorScheme of ["light", "dark"] as const) {
    for (const width of [1280, 390]) {
      const { context, page } = await adminPage(browser, { colorScheme, viewport: { width, height: 900 } });
      for (const [name, path] of [
        ["overview", "/admin"],
        ["users", "/admin/users"],
        ["user", `/admin/users/${id}`],
        ["password", "/settings/password"],
      ]) {
        await page.goto(`${a.url}${path}`);
        await page.screenshot({
          path: test.info().outputPath(`admin-${name}-${width}-${colorScheme}.png`),
          fullPage: true,
        });
        // No sideways scrolling of the page itself; wide tables scroll inside their own box.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect.soft(overflow, `${name} at ${width} px, ${colorScheme}`).toBeLessThanOrEqual(0);
      }
      await context.close();
    }
  }
});
