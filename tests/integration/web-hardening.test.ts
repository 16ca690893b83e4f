import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, type RunningApp, startApp } from "../support/app";
import { Browser } from "../support/http";

// Pages and resource routes against hostile requests: redirects, cross-site posts, malformed and
// oversized bodies. On the embedded database; nothing here depends on PostgreSQL or Redis.
let app: RunningApp;
let appUrl: string;

beforeAll(async () => {
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  app = await startApp({ PORT: String(port), APP_URL: appUrl, REQUEST_BODY_TIMEOUT_MS: "1000" });
});

afterAll(async () => {
  await app?.stop();
});

let userCounter = 0;
async function signedIn() {
  const browser = new Browser(app.url);
  const response = await browser.signup(`hardening${++userCounter}@example.com`);
  expect(response.status).toBe(302);
  return browser;
}

/** No request in this file may end in a 500 or print a stack trace. */
function expectCleanLog() {
  expect(app.output()).not.toMatch(/"status":5\d\d|\n\s+at [\w.<]+ \(|unhandled error/);
}

describe("redirect targets stay on this site", () => {
  const hostile = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\\evil.example",
    "//evil.example",
    "/\r\nSet-Cookie: x=1",
    "https://evil.example/",
    "/%09/evil.example",
  ];

  test.each(hostile)("login with redirectTo %j lands on this site", async (redirectTo) => {
    const browser = new Browser(app.url);
    const email = `redirect${++userCounter}@example.com`;
    expect((await browser.signup(email)).status).toBe(302);
    const response = await browser.post("/login", { email, password: "correct horse battery", redirectTo });
    expect(response.status).toBe(302);
    const location = response.headers.get("location")!;
    // Resolved the way a browser resolves Location: it must stay on our origin.
    expect(new URL(location, appUrl).origin).toBe(appUrl);
    expect(location).not.toMatch(/[\r\n\t]/);
  });

  test("a same-site path with a query survives", async () => {
    const browser = await signedIn();
    const response = await browser.post("/theme", { theme: "dark", redirectTo: "/search?q=a b" });
    expect(response.headers.get("location")).toBe("/search?q=a%20b");
  });

  test.each(hostile)("/theme with redirectTo %j lands on this site", async (redirectTo) => {
    const response = await new Browser(app.url).post("/theme", { theme: "dark", redirectTo });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get("location")!, appUrl).origin).toBe(appUrl);
  });

  test("CR/LF in the login page's redirectTo query is no 500", async () => {
    const response = await new Browser(app.url).get("/login?redirectTo=%2F%0D%0AX-Evil%3A%201");
    expect(response.status).toBe(200);
    expectCleanLog();
  });
});

describe("cross-site posts are refused on every route", () => {
  test("another site's form cannot log the user out", async () => {
    const browser = await signedIn();
    const response = await browser.post("/logout", {}, { headers: { origin: "https://evil.example" } });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await browser.whoAmI()).not.toBeNull();
    // Our own page can.
    const own = await browser.post("/logout", {}, { headers: { origin: appUrl } });
    expect(own.status).toBe(302);
    expect(await browser.whoAmI()).toBeNull();
  });

  test("another site's form cannot set the theme", async () => {
    const browser = new Browser(app.url);
    const response = await browser.post("/theme", { theme: "dark" }, { headers: { origin: "null" } });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  test("a page action from another site is refused and logged as one warning line", async () => {
    const browser = await signedIn();
    const response = await browser.post(
      "/settings/keys",
      { intent: "create", name: "csrf" },
      { headers: { origin: "https://evil.example" } },
    );
    expect(response.status).toBe(400);
    const keys = await browser.get("/settings/keys");
    expect(await keys.text()).not.toContain("csrf");
    expectCleanLog();
  });
});

describe("malformed input is a 400, never a 500", () => {
  test("a NUL byte in a form field", async () => {
    const browser = await signedIn();
    const response = await browser.post("/chat", { message: "hello\u0000world", model: "llama3.2" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("NUL character");
    expectCleanLog();
  });

  test("a NUL byte in a search query and in a route id", async () => {
    const browser = await signedIn();
    expect((await browser.get("/search?q=a%00b")).status).toBe(400);
    expect((await browser.get("/chat/1%00")).status).toBe(400);
    expect((await browser.get("/chat/1%00/export?format=md")).status).toBe(400);
    expectCleanLog();
  });

  test("a broken multipart body", async () => {
    const browser = await signedIn();
    const response = await browser.get("/settings/keys", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=xyz" },
      body: '--xyz\r\nContent-Disposition: form-data; name="intent"\r\n\r\ncreate\r\n--nope',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("could not be read");
    expectCleanLog();
  });

  test("a JSON body to a page action", async () => {
    const browser = await signedIn();
    const response = await browser.get("/settings/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ intent: "create", name: "json" }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("web form");
    expectCleanLog();
  });
});

describe("body limits and timeouts on pages", () => {
  test("a form larger than MAX_FORM_BYTES is answered 413 without reaching a route", async () => {
    const response = await fetch(`${app.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `email=${"a".repeat(2 * 1024 * 1024)}`,
    });
    expect(response.status).toBe(413);
    expect(response.headers.get("content-type")).toMatch(/text\/html/);
    expect(await response.text()).toContain("Too much data");
  });

  test("a chunked form that grows past the limit is answered 413 too", async () => {
    const chunk = new TextEncoder().encode("a".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(`${app.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  test("a body that stops arriving is answered 408 with a page, not left open", async () => {
    const reply = await rawRequest(
      app.port,
      "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
        "Content-Length: 100\r\n\r\nemail=slow",
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply).toContain("took too long");
  });

  test("an API body that stops arriving is answered 408 in the OpenAI envelope", async () => {
    const browser = await signedIn();
    const { token } = await browser.createApiKey();
    const reply = await rawRequest(
      app.port,
      "POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        `Authorization: Bearer ${token}\r\nContent-Length: 100\r\n\r\n{"model":`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply).toContain('"code":"request_timeout"');
    expect(reply).toMatch(/\r\nconnection: close\r\n/i);
    expectCleanLog();
  });
});

describe("headers on pages", () => {
  test("documents carry a nonce-based CSP, and signed-in pages and data are not cached", async () => {
    const browser = await signedIn();
    const page = await browser.get("/settings");
    const csp = page.headers.get("content-security-policy") ?? "";
    const nonce = csp.match(/'nonce-([^']+)'/)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await page.text();
    // Every inline script React Router writes carries the nonce.
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    expect(page.headers.get("cache-control")).toBe("private, no-store");
    const data = await browser.get("/settings.data");
    expect(data.status).toBe(200);
    expect(data.headers.get("cache-control")).toBe("private, no-store");
    // A fresh nonce per document.
    const again = await browser.get("/settings");
    expect(again.headers.get("content-security-policy")).not.toContain(nonce);
  });
});

/** Sends raw bytes and returns whatever the server answers before closing (or after 10 s). */
function rawRequest(port: number, text: string) {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      reply += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(reply));
    setTimeout(() => {
      socket.destroy();
      resolve(reply);
    }, 10_000);
  });
}
