import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parseEnv } from "~/server/env.server";
import { startApp, tempDir } from "../support/app";
import { Browser } from "../support/http";

describe("configuration", () => {
  test("defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: "0.0.0.0",
      DATA_DIR: "./data",
      OLLAMA_URL: "http://127.0.0.1:11434",
      RATE_LIMIT_REQUESTS: 100,
      RATE_LIMIT_WINDOW: 60000,
      SHUTDOWN_GRACE_MS: 10000,
      TRUST_PROXY: false,
      LOG_LEVEL: "info",
      APP_URL: "http://localhost:3000",
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  test("the brief's LLM_API_BASE_URL (Ollama's /v1 layer) is accepted as the native base URL", () => {
    expect(parseEnv({ LLM_API_BASE_URL: "http://model-runner:11434/v1" }).OLLAMA_URL).toBe(
      "http://model-runner:11434",
    );
    expect(parseEnv({ LLM_API_BASE_URL: "http://a:1/v1", OLLAMA_URL: "http://b:2/" }).OLLAMA_URL).toBe(
      "http://b:2",
    );
  });

  test("SESSION_SECRET takes a comma-separated rotation list, signing secret first", () => {
    const a = "a".repeat(32);
    const b = "b".repeat(40);
    expect(parseEnv({ SESSION_SECRET: `${a}, ${b}` }).SESSION_SECRETS).toEqual([a, b]);
  });

  test.each([
    ["PORT", "abc", /PORT: expected an integer/],
    ["RATE_LIMIT_WINDOW", "10", /RATE_LIMIT_WINDOW: expected an integer >= 1000/],
    [
      "DATABASE_URL",
      "mysql://x",
      /DATABASE_URL: expected a URL starting with postgres:\/\/ or postgresql:\/\//,
    ],
    ["TRUST_PROXY", "maybe", /TRUST_PROXY: expected true or false/],
    ["LOG_LEVEL", "loud", /LOG_LEVEL: /],
    ["SESSION_SECRET", "too-short", /SESSION_SECRET: expected one or more comma-separated secrets/],
  ])("invalid %s is named with what is expected", (name, value, message) => {
    expect(() => parseEnv({ [name]: value })).toThrow(message);
  });

  test("a secret's value never appears in the error", () => {
    expect(() => parseEnv({ SESSION_SECRET: "hunter2-hunter2" })).toThrow(/^(?!.*hunter2)/s);
  });
});

describe("process start", () => {
  test("an invalid value stops the process with one clear line", async () => {
    const app = await startApp({ RATE_LIMIT_REQUESTS: "lots" }, { waitForReady: false });
    expect(await app.exited).toBe(1);
    expect(app.output().trim()).toBe(
      'Invalid environment variable RATE_LIMIT_REQUESTS: expected an integer (got "lots")',
    );
  });

  test("with no configuration at all it runs on embedded PostgreSQL in DATA_DIR, and keeps data across restarts", async () => {
    const dataDir = tempDir("pglite");
    // Only the port and a private data directory: no DATABASE_URL, REDIS_URL or SESSION_SECRET.
    const first = await startApp({ DATA_DIR: dataDir });
    let cookies: Map<string, string>;
    try {
      expect(first.output()).toContain("embedded (PGlite)");
      const health = await fetch(`${first.url}/api/health`);
      expect(health.status).toBe(200);
      const browser = new Browser(first.url);
      expect((await browser.signup("embedded@example.com")).status).toBe(302);
      expect(await browser.whoAmI()).toEqual({ email: "embedded@example.com", role: "Administrator" });
      cookies = browser.cookies;
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(existsSync(path.join(dataDir, "pglite"))).toBe(true);

    // Same data directory after a restart: the account, the session and the generated secret survive.
    const second = await startApp({ DATA_DIR: dataDir });
    try {
      const browser = new Browser(second.url);
      browser.cookies = cookies;
      expect(await browser.whoAmI()).toEqual({ email: "embedded@example.com", role: "Administrator" });
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 120_000); // two cold PGlite starts: slow on a busy 2-core machine
});
