import { expect, type Page, test } from "@playwright/test";
import { freePort, REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { type RunningNginx, startNginx } from "../support/nginx";
import { uniqueEmail } from "./support";

/**
 * Every kind of form post through the shipped docker/nginx.conf in front of two replicas: a page
 * action (sign up, log in, create a key) and resource routes (theme, log out), with and without
 * JavaScript. Forms used to be refused with 400 there, because the app compared the browser's
 * Origin with a Host that nginx had stripped of its port, or with http behind TLS.
 */
async function formsWork(page: Page, baseUrl: string) {
  const email = uniqueEmail("nginx");
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByTestId("welcome")).toContainText(email);

  await page.getByRole("button", { name: "Dark" }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");

  await page.goto(`${baseUrl}/settings/keys`);
  await page.getByLabel("Name").fill("through nginx");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-key-token")).toHaveValue(/^ccai-/);

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("welcome")).toContainText(email);
  // Reloaded after the theme post: the cookie set through nginx stuck.
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
}

for (const tls of [false, true]) {
  test.describe(
    tls ? "behind nginx terminating TLS, APP_URL https" : "behind nginx on a non-default port",
    () => {
      test.describe.configure({ mode: "serial" });
      let database: TestDatabase;
      let replicas: RunningApp[] = [];
      let nginx: RunningNginx;

      test.beforeAll(async () => {
        database = await createTestDatabase("nginx");
        // nginx picks its port first so that APP_URL can name it, as an operator would.
        const ports = [await freePort(), await freePort()];
        nginx = await startNginx(ports, { tls });
        const shared = {
          DATABASE_URL: database.url,
          REDIS_URL,
          REDIS_KEY_PREFIX: redisPrefix(),
          APP_URL: nginx.url,
          TRUST_PROXY: "true",
          OLLAMA_URL: "http://127.0.0.1:9",
        };
        replicas = [
          await startApp({ ...shared, PORT: String(ports[0]) }),
          await startApp({ ...shared, PORT: String(ports[1]) }),
        ];
      });

      test.afterAll(async () => {
        await nginx?.stop();
        await Promise.all(replicas.map((replica) => replica.stop()));
        await database?.drop();
      });

      for (const javaScriptEnabled of [true, false]) {
        test(`forms work with JavaScript ${javaScriptEnabled ? "on" : "off"}`, async ({ browser }) => {
          const context = await browser.newContext({ javaScriptEnabled, ignoreHTTPSErrors: tls });
          const page = await context.newPage();
          await formsWork(page, nginx.url);
          for (const replica of replicas) {
            expect(replica.output()).not.toMatch(/another origin|origin header|"status":40[03]/);
          }
          await context.close();
        });
      }
    },
  );
}
