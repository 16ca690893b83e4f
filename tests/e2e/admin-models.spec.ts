import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { type FakeOllama, PULL_NOT_FOUND_ERROR, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/**
 * The admin's model pages in a real browser. This file runs its own two replicas (sharing Redis
 * and PostgreSQL) and its own fake Ollama: it pulls, hides and deletes models and changes the
 * default model, which would disturb the other specs on the shared app, and it needs a second
 * replica to follow a pull from.
 */
// Pulls take seconds by design (the bar must be seen moving), and this machine may be loaded.
test.describe.configure({ mode: "serial", timeout: 90_000 });

/** About 8 s: 8 MB at 100 kB per 100 ms tick, so the bar is seen moving and then completing. */
const MEDIUM = {
  layers: [{ size: 8_000_000 }, { size: 1_500 }, { size: 485 }],
  chunkBytes: 100_000,
  intervalMs: 100,
};
/** About a minute: long enough to reload, switch replica and cancel. */
const SLOW = { layers: [{ size: 40_000_000 }, { size: 1_500 }], chunkBytes: 100_000, intervalMs: 150 };

let database: TestDatabase;
let ollama: FakeOllama;
let a: RunningApp;
let b: RunningApp;
let admin: Browser;
let user: Browser;
let userKey: string;

// Starting two replicas gets the file's 90 s timeout too.
test.beforeAll(async () => {
  database = await createTestDatabase("e2e-models");
  ollama = await startFakeOllama({
    models: [
      {
        name: "llama3.2:latest",
        size: 2019393189,
        parameterSize: "3.2B",
        quantization: "Q4_K_M",
        family: "llama",
        contextLength: 131072,
        capabilities: ["completion", "tools"],
        license: "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024",
        parameters: 'stop "<|eot_id|>"',
      },
      {
        name: "all-minilm:latest",
        size: 45960996,
        parameterSize: "23M",
        quantization: "F16",
        family: "bert",
      },
      {
        name: "qwen3:0.6b",
        size: 522_000_000,
        parameterSize: "751.63M",
        quantization: "Q4_K_M",
        family: "qwen3",
      },
    ],
    pull: {
      known: [
        { name: "tinyllama", family: "llama", parameterSize: "1.1B", pull: MEDIUM },
        { name: "hf.co/example/Slow-GGUF:Q4_K_M", pull: SLOW },
        { name: "slowpoke:7b", pull: SLOW },
        { name: "nojs:1b", pull: SLOW },
      ],
    },
  });
  const shared = {
    DATABASE_URL: database.url,
    OLLAMA_URL: ollama.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(),
  };
  [a, b] = await Promise.all([startApp(shared), startApp(shared)]);
  admin = new Browser(a.url);
  await admin.signup("e2e-models-admin@example.com");
  user = new Browser(a.url);
  await user.signup("e2e-models-user@example.com");
  userKey = (await user.createApiKey()).token;
});

test.afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await ollama?.close();
  await database?.drop();
});

/** Both replicas share the session store and secrets, so one session cookie works on either. */
async function signIn(context: BrowserContext, as: Browser) {
  await context.addCookies(
    [...as.cookies].map(([name, value]) => ({ name, value, domain: "127.0.0.1", path: "/" })),
  );
}

async function percentOf(page: Page, model: string) {
  const value = await page
    .locator(`[data-testid="pull"][data-model="${model}"] [role="progressbar"]`)
    .getAttribute("aria-valuenow");
  return Number(value);
}

test("pull a model: the bar moves, the tab title shows the percent, and the model arrives in a user's picker", async ({
  page,
  context,
}) => {
  await signIn(context, admin);
  await page.goto(`${a.url}/admin/models`);
  await page.getByLabel("Model name").fill("tinyllama");
  await page.getByRole("button", { name: "Pull", exact: true }).click();
  const card = page.locator('[data-testid="pull"][data-model="tinyllama"]');
  await expect(card).toHaveAttribute("data-status", "running");
  await expect.poll(() => percentOf(page, "tinyllama"), { timeout: 15_000 }).toBeGreaterThan(0);
  const seen = await percentOf(page, "tinyllama");
  await expect(page).toHaveTitle(/^\d+% · Models/);
  await expect(card.getByTestId("pull-progress")).toContainText(/ of 8\.0 MB/);
  await expect(card.getByTestId("pull-line")).toHaveText(/^pulling [0-9a-f]{12}$/);
  await expect
    .poll(() => percentOf(page, "tinyllama").catch(() => 100), { timeout: 30_000 })
    .toBeGreaterThan(seen);
  await expect(card).toHaveAttribute("data-status", "success", { timeout: 30_000 });
  await expect(card).toContainText("Pulled");
  await expect(page).toHaveTitle(/^Models/);
  // The installed list was refreshed when the pull ended.
  await expect(page.locator('[data-testid="model-row"][data-model="tinyllama:latest"]')).toBeVisible();

  const userContext = await page.context().browser()!.newContext();
  await signIn(userContext, user);
  const userPage = await userContext.newPage();
  await userPage.goto(`${b.url}/chat`);
  await expect(userPage.locator('select[name="model"] option[value="tinyllama:latest"]')).toHaveCount(1);
  await userContext.close();
});

test("a pull outlives a reload, is followed from the other replica, and is cancelled there", async ({
  page,
  context,
}) => {
  const name = "hf.co/example/Slow-GGUF:Q4_K_M";
  await signIn(context, admin);
  await page.goto(`${a.url}/admin/models`);
  await page.getByLabel("Model name").fill(name);
  await page.getByRole("button", { name: "Pull", exact: true }).click();
  const card = page.locator(`[data-testid="pull"][data-model="${name}"]`);
  await expect.poll(() => percentOf(page, name), { timeout: 15_000 }).toBeGreaterThan(0);

  await page.reload();
  await expect(card).toHaveAttribute("data-status", "running");
  const afterReload = await percentOf(page, name);
  await expect.poll(() => percentOf(page, name), { timeout: 20_000 }).toBeGreaterThan(afterReload);

  // The same pull on the other replica, moving there too.
  const other = await context.newPage();
  await other.goto(`${b.url}/admin/models`);
  const otherCard = other.locator(`[data-testid="pull"][data-model="${name}"]`);
  await expect(otherCard).toHaveAttribute("data-status", "running");
  const onB = await percentOf(other, name);
  await expect.poll(() => percentOf(other, name), { timeout: 20_000 }).toBeGreaterThan(onB);
  expect(ollama.pulls.filter((pull) => pull.model === name)).toHaveLength(1);

  // Cancel on B stops Ollama's pull (replica A holds the request) and both pages say so.
  await otherCard.getByRole("button", { name: "Cancel pull" }).click();
  await expect(otherCard).toHaveAttribute("data-status", "cancelled");
  await expect(card).toHaveAttribute("data-status", "cancelled");
  await expect.poll(() => ollama.pulls.find((pull) => pull.model === name)?.status).toBe("cancelled");
});

test("an unknown model's error is shown as Ollama gives it", async ({ page, context }) => {
  await signIn(context, admin);
  await page.goto(`${b.url}/admin/models`);
  await page.getByLabel("Model name").fill("no-such-model:1b");
  await page.getByRole("button", { name: "Pull", exact: true }).click();
  const card = page.locator('[data-testid="pull"][data-model="no-such-model:1b"]');
  await expect(card).toHaveAttribute("data-status", "failed");
  await expect(card.getByTestId("pull-error")).toHaveText(PULL_NOT_FOUND_ERROR);
  await card.getByRole("button", { name: "Dismiss" }).click();
  await expect(card).toHaveCount(0);
});

test("delete a model after a confirmation step", async ({ page, context }) => {
  await signIn(context, admin);
  await page.goto(`${a.url}/admin/models`);
  await page.getByRole("link", { name: "qwen3:0.6b" }).click();
  await expect(page.getByRole("heading", { name: "qwen3:0.6b" })).toBeVisible();
  await page.getByRole("link", { name: "Delete…" }).click();
  await expect(page.getByText("Users lose it at once")).toBeVisible();
  await page.getByRole("button", { name: "Delete model" }).click();
  await expect(page).toHaveURL(/\/admin\/models\?deleted=qwen3%3A0\.6b$/);
  await expect(page.getByTestId("notice")).toHaveText("Deleted qwen3:0.6b.");
  await expect(page.locator('[data-testid="model-row"][data-model="qwen3:0.6b"]')).toHaveCount(0);
});

test("hide a model: it leaves a user's picker and /api/v1/models; a display name shows in the picker", async ({
  page,
  context,
  browser,
  request,
}) => {
  await signIn(context, admin);
  await page.goto(`${a.url}/admin/models/all-minilm:latest`);
  await expect(page.getByTestId("capabilities")).toContainText("embedding");
  await page.getByLabel(/Hide from users/).check();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("hidden from users")).toBeVisible();

  await page.goto(`${a.url}/admin/models/llama3.2:latest`);
  await expect(page.getByTestId("licence")).toContainText("LLAMA 3.2 COMMUNITY LICENSE");
  await page.getByLabel(/Display name/).fill("Llama 3.2 (general)");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("shown as “Llama 3.2 (general)”")).toBeVisible();

  const userContext = await browser.newContext();
  await signIn(userContext, user);
  const userPage = await userContext.newPage();
  await userPage.goto(`${b.url}/chat`);
  const picker = userPage.locator('select[name="model"]');
  await expect(picker.locator('option[value="llama3.2:latest"]')).toHaveText(
    /^Llama 3\.2 \(general\) · 3\.2B/,
  );
  await expect(picker.locator('option[value="all-minilm:latest"]')).toHaveCount(0);
  await userContext.close();

  const listed = await request.get(`${b.url}/api/v1/models`, {
    headers: { authorization: `Bearer ${userKey}` },
  });
  const ids = ((await listed.json()) as { data: Array<{ id: string }> }).data.map((model) => model.id);
  expect(ids).toContain("llama3.2:latest");
  expect(ids).not.toContain("all-minilm:latest");
});

test("set the default model for new chats", async ({ page, context, browser }) => {
  await signIn(context, admin);
  await page.goto(`${b.url}/admin/models`);
  await page.getByLabel("Default model", { exact: true }).selectOption("tinyllama:latest");
  await page.getByRole("button", { name: "Save default" }).click();
  await expect(page.locator('[data-testid="model-row"][data-model="tinyllama:latest"]')).toContainText(
    "default",
  );
  await expect(page.getByLabel("Default model", { exact: true })).toHaveValue("tinyllama:latest");

  // A user who never picked a model starts new chats with it.
  const userContext = await browser.newContext();
  await signIn(userContext, user);
  const userPage = await userContext.newPage();
  await userPage.goto(`${a.url}/chat`);
  await expect(userPage.locator('select[name="model"]')).toHaveValue("tinyllama:latest");
  await userContext.close();
});

test("without JavaScript: start a pull, see its state with a refresh link, cancel it", async ({
  browser,
}) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  await signIn(context, admin);
  const page = await context.newPage();
  await page.goto(`${a.url}/admin/models`);
  await page.getByLabel("Model name").fill("nojs:1b");
  await page.getByRole("button", { name: "Pull", exact: true }).click();
  const card = page.locator('[data-testid="pull"][data-model="nojs:1b"]');
  await expect(card).toHaveAttribute("data-status", "running");
  await expect(page).toHaveTitle(/^\d+% · Models/);
  await expect(page.getByRole("link", { name: "Refresh" })).toBeVisible();
  const first = await percentOf(page, "nojs:1b");
  await expect
    .poll(
      async () => {
        await page.getByRole("link", { name: "Refresh" }).click();
        return percentOf(page, "nojs:1b");
      },
      { timeout: 20_000 },
    )
    .toBeGreaterThan(first);
  await card.getByRole("button", { name: "Cancel pull" }).click();
  await expect(card).toHaveAttribute("data-status", "cancelled");
  await page.getByLabel("Model name").fill("not a name!");
  await page.getByRole("button", { name: "Pull", exact: true }).click();
  await expect(page.getByTestId("field-error")).toContainText("That is not a model name");
  await context.close();
});

test("looks right at 1280 and 390 px, light and dark, with a pull running", async ({ browser }, testInfo) => {
  testInfo.setTimeout(90_000);
  await admin.post("/admin/models", { intent: "pull", name: "slowpoke:7b" });
  for (const colorScheme of ["light", "dark"] as const) {
    for (const width of [1280, 390]) {
      const context = await browser.newContext({ colorScheme, viewport: { width, height: 900 } });
      await signIn(context, admin);
      const page = await context.newPage();
      for (const [label, path] of [
        ["list", "/admin/models"],
        ["details", "/admin/models/llama3.2:latest?delete=1"],
      ]) {
        await page.goto(`${a.url}${path}`);
        await expect(page.locator("h1")).toBeVisible();
        // Nothing on the page runs off the side: wide tables scroll inside their own box. (Only the
        // page's own content is measured: the shared app header is not part of this area.)
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
          path: testInfo.outputPath(`admin-models-${label}-${width}-${colorScheme}.png`),
          fullPage: true,
        });
      }
      await context.close();
    }
  }
  await admin.post("/admin/models", { intent: "cancel", name: "slowpoke:7b" });
});
