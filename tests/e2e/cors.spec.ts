import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./support";

/**
 * CORS from a real browser: a page served by another local origin (another port) calls /api/v1
 * with fetch and a key, streaming included, as a browser app or an SDK in the browser would.
 */
test("a page on another origin calls the API with a key: models, a streamed completion, and a readable error", async ({
  page,
  baseURL,
}) => {
  await signUp(page, uniqueEmail("cors"));
  await page.goto("/settings/keys");
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByLabel("Name").fill("browser app");
  await page.getByRole("button", { name: "Create key" }).click();
  const token = await page.getByTestId("new-key-token").inputValue();

  const otherSite = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>another app</title><p>another app</p>");
  });
  await new Promise<void>((resolve) => otherSite.listen(0, "127.0.0.1", resolve));
  try {
    const origin = `http://127.0.0.1:${(otherSite.address() as AddressInfo).port}`;
    await page.goto(origin);
    const result = await page.evaluate(
      async ({ api, key }) => {
        const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
        const models = await fetch(`${api}/api/v1/models`, { headers });
        const stream = await fetch(`${api}/api/v1/chat/completions`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            model: "llama3.2",
            stream: true,
            messages: [{ role: "user", content: "hi" }],
          }),
        });
        const text = await stream.text();
        const bad = await fetch(`${api}/api/v1/me`, { headers: { authorization: "Bearer ccai-wrong" } });
        return {
          models: models.status,
          modelCount: ((await models.json()) as { data: unknown[] }).data.length,
          requestId: models.headers.get("x-request-id"),
          remaining: models.headers.get("x-ratelimit-remaining-requests"),
          streamStatus: stream.status,
          done: text.trim().endsWith("data: [DONE]"),
          badStatus: bad.status,
          badCode: ((await bad.json()) as { error: { code: string } }).error.code,
        };
      },
      { api: baseURL!, key: token },
    );
    expect(result).toMatchObject({ models: 200, streamStatus: 200, done: true, badStatus: 401 });
    expect(result.modelCount).toBeGreaterThan(0);
    expect(result.requestId).toMatch(/^req_/);
    expect(Number(result.remaining)).toBeGreaterThanOrEqual(0);
    expect(result.badCode).toBe("invalid_api_key");
  } finally {
    otherSite.close();
  }
});
