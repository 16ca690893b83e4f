import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

// Both session stores behave the same: database-backed (no REDIS_URL) and Redis-backed.
describe.each([
  { store: "database", withRedis: false },
  { store: "redis", withRedis: true },
])("accounts and sessions ($store session store)", ({ withRedis }) => {
  let database: TestDatabase;
  let app: RunningApp;
  const prefix = redisPrefix();

  beforeAll(async () => {
    database = await createTestDatabase("acct");
    app = await startApp({
      DATABASE_URL: database.url,
      REDIS_URL: withRedis ? REDIS_URL : undefined,
      REDIS_KEY_PREFIX: prefix,
      TRUST_PROXY: "true",
      LOGIN_MAX_FAILURES: "3",
      LOGIN_MAX_FAILURES_PER_IP: "8",
    });
  });

  afterAll(async () => {
    await app?.stop();
    await database?.drop();
    if (withRedis) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });

  // Each test uses its own emails and its own client address, so tests do not share limits.
  let ipCounter = 0;
  const client = () => new Browser(app.url, { "x-forwarded-for": `10.0.0.${++ipCounter}` });

  test("two signups racing on an empty database yield exactly one admin", async () => {
    const emails = Array.from({ length: 6 }, (_, i) => `racer${i}@example.com`);
    const responses = await Promise.all(emails.map((email) => client().signup(email)));
    expect(responses.map((response) => response.status)).toEqual(emails.map(() => 302));
    const roles = await database.query<{ role: string }>("SELECT role FROM users WHERE email LIKE 'racer%'");
    expect(roles.filter((row) => row.role === "ADMIN")).toHaveLength(1);
    expect(roles.filter((row) => row.role === "USER")).toHaveLength(5);
  });

  test("a later signup is a USER, signed in at once, with the email normalised", async () => {
    const browser = client();
    const response = await browser.signup("  Later.User@Example.COM ", "a long enough password", "Later");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/");
    expect(await browser.whoAmI()).toEqual({ email: "later.user@example.com", role: "User" });
    const [row] = await database.query<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE email = 'later.user@example.com'",
    );
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
  });

  test("session cookie is opaque, HttpOnly and SameSite=Lax", async () => {
    const browser = client();
    const response = await browser.signup("cookie@example.com");
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith("ccai_session="));
    expect(setCookie).toBeDefined();
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // APP_URL is http here
    const [user] = await database.query<{ id: string }>(
      "SELECT id FROM users WHERE email = 'cookie@example.com'",
    );
    expect(decodeURIComponent(setCookie!)).not.toContain(user.id);
  });

  test("invalid signups re-render with field errors and write nothing", async () => {
    const before = await database.query<{ count: string }>("SELECT count(*) FROM users");
    const bad = await client().post("/signup", { email: "not-an-email", password: "short" });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain("Enter a valid email address");
    expect(html).toContain("Use at least 8 characters");
    expect(html).toContain('value="not-an-email"');
    const after = await database.query<{ count: string }>("SELECT count(*) FROM users");
    expect(after[0].count).toBe(before[0].count);
  });

  test("a duplicate email (any case) is refused with a clear error and the original account is untouched", async () => {
    await client().signup("dup@example.com", "original password");
    const [original] = await database.query("SELECT * FROM users WHERE email = 'dup@example.com'");
    const response = await client().signup("DUP@example.com", "another password");
    expect(response.status).toBe(409);
    expect(await response.text()).toContain("An account with this email already exists");
    const rows = await database.query("SELECT * FROM users WHERE email = 'dup@example.com'");
    expect(rows).toEqual([original]);
    const login = await client().login("dup@example.com", "original password");
    expect(login.status).toBe(302);
  });

  test("wrong password and unknown email get the same error and no session", async () => {
    await client().signup("wrongpw@example.com", "the right password");
    const browser = client();
    const wrong = await browser.login("wrongpw@example.com", "the wrong password");
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("Wrong email or password.");
    const unknown = await browser.login("nobody@example.com", "whatever password");
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain("Wrong email or password.");
    expect(await browser.whoAmI()).toBeNull();
  });

  test("logout revokes the session on the server, not just the cookie", async () => {
    const browser = client();
    await browser.signup("logout@example.com");
    const stolen = new Browser(app.url);
    stolen.cookies = new Map(browser.cookies);
    expect(await stolen.whoAmI()).not.toBeNull();
    const logout = await browser.post("/logout", {});
    expect(logout.status).toBe(302);
    expect(await browser.whoAmI()).toBeNull();
    expect(await stolen.whoAmI()).toBeNull();
  });

  test("sign out everywhere revokes every session of the user, and only theirs", async () => {
    const laptop = client();
    await laptop.signup("everywhere@example.com");
    const phone = client();
    expect((await phone.login("everywhere@example.com")).status).toBe(302);
    const someoneElse = client();
    await someoneElse.signup("bystander@example.com");

    const response = await phone.post("/settings", { intent: "sign-out-everywhere" });
    expect(response.status).toBe(302);
    expect(await laptop.whoAmI()).toBeNull();
    expect(await phone.whoAmI()).toBeNull();
    expect(await someoneElse.whoAmI()).toEqual({ email: "bystander@example.com", role: "User" });
  });

  test("a disabled user's sessions stop working at once and they cannot log in", async () => {
    const browser = client();
    await browser.signup("disabled@example.com");
    expect(await browser.whoAmI()).not.toBeNull();
    await database.query("UPDATE users SET disabled_at = now() WHERE email = 'disabled@example.com'");
    expect(await browser.whoAmI()).toBeNull();
    const login = await client().login("disabled@example.com");
    expect(login.status).toBe(403);
    expect(await login.text()).toContain("This account is disabled");
  });

  test("failed logins are limited per email+IP with 429 and Retry-After", async () => {
    await client().signup("limited@example.com", "the right password");
    const attacker = client();
    for (let i = 0; i < 3; i++) {
      expect((await attacker.login("limited@example.com", `guess ${i} password`)).status).toBe(401);
    }
    const blocked = await attacker.login("limited@example.com", "the right password");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await blocked.text()).toMatch(/Too many failed sign-in attempts\. Try again in \d+ minutes?\./);
    // The owner, from another address, is not locked out.
    expect((await client().login("limited@example.com", "the right password")).status).toBe(302);
  });

  test("a burst of parallel guesses cannot outrun the limit: only LOGIN_MAX_FAILURES passwords are checked", async () => {
    await client().signup("burst@example.com", "the right password");
    const attacker = client();
    // 100 at once, the right password at #80: before, every guess read the counter before any was
    // counted, so ten were checked and #80 signed in.
    const passwords = Array.from({ length: 100 }, (_, i) => (i === 79 ? "the right password" : `guess ${i}`));
    const statuses = await Promise.all(
      passwords.map(async (password) => (await attacker.login("burst@example.com", password)).status),
    );
    const checked = statuses.filter((status) => status !== 429);
    expect(checked.length).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(97);
    expect(statuses[79]).toBe(429);
  });

  test("sign-ups per address are limited too (each costs an argon2 hash)", async () => {
    const limited = await startApp({
      DATABASE_URL: database.url,
      REDIS_URL: withRedis ? REDIS_URL : undefined,
      REDIS_KEY_PREFIX: redisPrefix(),
      SIGNUP_MAX_PER_IP: "2",
    });
    try {
      const browser = new Browser(limited.url);
      expect((await browser.signup(`first-${withRedis}@example.com`)).status).toBe(302);
      // A refused sign-up (the email is taken) costs a hash as well, so it counts.
      expect((await new Browser(limited.url).signup(`first-${withRedis}@example.com`)).status).toBe(409);
      const refused = await new Browser(limited.url).signup(`third-${withRedis}@example.com`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await refused.text()).toContain("Too many accounts were created from your network");
      const rows = await database.query("SELECT 1 FROM users WHERE email = $1", [
        `third-${withRedis}@example.com`,
      ]);
      expect(rows).toHaveLength(0);
    } finally {
      await limited.stop();
    }
  });

  test("failed logins are limited per IP across many emails", async () => {
    const sprayer = client();
    for (let i = 0; i < 8; i++) {
      expect((await sprayer.login(`victim${i}@example.com`, "password123")).status).toBe(401);
    }
    const blocked = await sprayer.login("victim99@example.com", "password123");
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  test(`sessions live in ${withRedis ? "Redis under the configured prefix, with a TTL" : "the database, keyed by a hash of the cookie token"}`, async () => {
    const browser = client();
    const email = `${withRedis ? "redis" : "db"}-session@example.com`;
    await browser.signup(email);
    const rows = await database.query<{ id: string }>(
      "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1",
      [email],
    );
    if (withRedis) {
      expect(rows).toHaveLength(0);
      const redis = new Redis(REDIS_URL);
      try {
        const keys = await redis.keys(`${prefix}session:*`);
        expect(keys.length).toBeGreaterThan(0);
        expect(await redis.pttl(keys[0])).toBeGreaterThan(86_400_000);
        for (const key of keys) expect(browser.cookieHeader()).not.toContain(key.split(":").pop());
      } finally {
        await redis.quit();
      }
    } else {
      expect(rows).toHaveLength(1);
      expect(rows[0].id).toMatch(/^[0-9a-f]{64}$/);
      expect(browser.cookieHeader()).not.toContain(rows[0].id);
    }
  });
});
