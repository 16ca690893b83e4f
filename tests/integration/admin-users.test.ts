import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeOAuthProvider, startFakeOAuthProvider } from "../fakes/oauth-provider";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { freePort, REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

// /admin and /admin/users against two replicas sharing PostgreSQL and Redis: everything an admin
// changes on one replica must hold on the other at once (API keys within the 500 ms key cache).

let database: TestDatabase;
let ollama: FakeOllama;
let oauth: FakeOAuthProvider;
let replicas: RunningApp[];
let admin: Browser;
let adminId: string;
let adminEmail: string;

let counter = 0;
const email = (label: string) => `${label}-${++counter}@example.com`;
const RATE_LIMIT = 50;

async function signedUp(app: RunningApp, address = email("user")) {
  const browser = new Browser(app.url);
  const response = await browser.signup(address);
  expect(response.status, `sign-up of ${address}`).toBe(302);
  return browser;
}

async function userId(address: string) {
  const [row] = await database.query<{ id: string }>("SELECT id FROM users WHERE email = $1", [address]);
  return row.id;
}

async function userRow(id: string) {
  const [row] = await database.query<{ role: string; disabled: boolean; rate_limit_requests: number | null }>(
    "SELECT role, disabled_at IS NOT NULL AS disabled, rate_limit_requests FROM users WHERE id = $1",
    [id],
  );
  return row;
}

const on = (browser: Browser, app: RunningApp) => {
  const copy = new Browser(app.url);
  copy.cookies = new Map(browser.cookies);
  return copy;
};

function me(app: RunningApp, token: string) {
  return fetch(`${app.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
}

const textOf = (html: string, testId: string) =>
  html
    .replaceAll("<!-- -->", "")
    .match(new RegExp(`data-testid="${testId}"[^>]*>([^<]*)<`))?.[1]
    ?.replaceAll("&#x27;", "'");

beforeAll(async () => {
  [database, ollama, oauth] = await Promise.all([
    createTestDatabase("admin_users"),
    startFakeOllama(),
    startFakeOAuthProvider(),
  ]);
  const port = await freePort();
  const shared = {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(),
    OLLAMA_URL: ollama.url,
    RATE_LIMIT_REQUESTS: String(RATE_LIMIT),
    ...oauth.env,
  };
  // Replica A answers on APP_URL, where the OAuth provider sends browsers back.
  replicas = await Promise.all([
    startApp({ ...shared, PORT: String(port), APP_URL: `http://127.0.0.1:${port}` }),
    startApp(shared),
  ]);
  adminEmail = email("admin");
  admin = await signedUp(replicas[0], adminEmail); // the first account is the admin
  adminId = await userId(adminEmail);
}, 90_000);

afterAll(async () => {
  await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
  await ollama?.close();
  await oauth?.close();
  await database?.drop();
});

describe("who may use /admin", () => {
  test("a USER gets 404 on every page and 403 on every action; an anonymous visitor is sent to sign in", async () => {
    const [a] = replicas;
    const userEmail = email("plain");
    const user = await signedUp(a, userEmail);
    const targetId = await userId(userEmail);
    const anonymous = new Browser(a.url);
    const pages = ["/admin", "/admin/users", "/admin/users?q=x&page=2", `/admin/users/${targetId}`];
    const dataRequests = ["/admin.data", "/admin/users.data", `/admin/users/${targetId}.data`];
    for (const path of pages) {
      const asUser = await user.get(path);
      expect(asUser.status, `USER GET ${path}`).toBe(404);
      // The admin's email is only on admin pages.
      expect(await asUser.text()).not.toContain(adminEmail);
      const asAnonymous = await anonymous.get(path);
      expect(asAnonymous.status, `anonymous GET ${path}`).toBe(302);
      expect(asAnonymous.headers.get("location")).toMatch(/^\/login\?redirectTo=/);
    }
    for (const path of dataRequests) {
      const asUser = await user.get(path);
      const body = await asUser.text();
      expect(body, `USER GET ${path}`).not.toContain(adminEmail);
      expect(asUser.status, `USER GET ${path}`).toBe(404);
      const asAnonymous = await anonymous.get(path);
      expect(await asAnonymous.text()).not.toContain(adminEmail);
    }

    // Every action, on both pages, including one the user aims at themselves.
    const actions: Record<string, string>[] = [
      { intent: "role", userId: targetId, role: "ADMIN" },
      { intent: "disable", userId: adminId, disabled: "true" },
      { intent: "limits", userId: targetId, rateLimitRequests: "100000" },
      { intent: "delete", userId: adminId, confirmEmail: "x" },
      { intent: "create", email: email("sneaky"), name: "" },
      { intent: "signup", allowSignup: "false" },
    ];
    for (const path of ["/admin/users", `/admin/users/${targetId}`, `/admin/users/${adminId}`]) {
      for (const fields of actions) {
        const asUser = await user.post(path, fields);
        expect(asUser.status, `USER POST ${path} ${fields.intent}`).toBe(403);
        const asAnonymous = await anonymous.post(path, fields);
        expect(asAnonymous.status, `anonymous POST ${path} ${fields.intent}`).toBe(302);
        expect(asAnonymous.headers.get("location")).toMatch(/^\/login\?/);
      }
    }
    // The overview has no action: a POST is refused too, and reveals nothing.
    const postOverview = await user.post("/admin?index", { intent: "role" });
    expect(postOverview.status).toBeGreaterThanOrEqual(400);
    expect((await anonymous.post("/admin?index", {})).status).toBeGreaterThanOrEqual(300);

    expect(await userRow(targetId)).toEqual({ role: "USER", disabled: false, rate_limit_requests: null });
    expect(await userRow(adminId)).toEqual({ role: "ADMIN", disabled: false, rate_limit_requests: null });
    expect(await database.query("SELECT 1 FROM users WHERE email LIKE 'sneaky-%'")).toHaveLength(0);
    expect(await database.query("SELECT 1 FROM app_settings WHERE key = 'auth.allow_signup'")).toHaveLength(
      0,
    );
  });

  test("an admin who is demoted or disabled on one replica loses access at once on the other", async () => {
    const [a, b] = replicas;
    const otherEmail = email("second-admin");
    const other = await signedUp(b, otherEmail);
    const otherId = await userId(otherEmail);
    expect(
      (await admin.post("/admin/users", { intent: "role", userId: otherId, role: "ADMIN" })).status,
    ).toBe(200);
    expect((await other.get("/admin")).status).toBe(200);

    expect(
      (await on(admin, a).post("/admin/users", { intent: "role", userId: otherId, role: "USER" })).status,
    ).toBe(200);
    expect((await other.get("/admin/users")).status).toBe(404);
    expect((await other.post("/admin/users", { intent: "signup", allowSignup: "true" })).status).toBe(403);

    await admin.post("/admin/users", { intent: "role", userId: otherId, role: "ADMIN" });
    expect((await other.get("/admin/users")).status).toBe(200);
    await admin.post("/admin/users", { intent: "disable", userId: otherId, disabled: "true" });
    const after = await other.get("/admin/users");
    expect(after.status).toBe(302);
    expect(after.headers.get("location")).toMatch(/^\/login/);
  });
});

describe("the user list", () => {
  test("shows each user's role, status, sign-in methods, chats and this month's tokens from the daily roll-up", async () => {
    const [a, b] = replicas;
    const address = email("listed");
    const browser = await signedUp(a, address);
    const id = await userId(address);
    await database.query(
      "INSERT INTO connections (id, provider, provider_id, user_id) VALUES ($1, 'github', '777', $2)",
      [`conn${id}`, id],
    );
    await database.query(
      "INSERT INTO chats (id, user_id, title, model) VALUES ($1, $2, 'one', 'm'), ($1 || 'b', $2, 'two', 'm')",
      [`chat${id}`, id],
    );
    const thisMonth = new Date().toISOString().slice(0, 8);
    await database.query(
      `INSERT INTO usage_daily (day, user_id, key_id, model, requests, prompt_tokens, completion_tokens)
       VALUES ($2::date, $1, '', 'm', 3, 1000, 234), ($2::date, $1, 'k', 'n', 1, 5, 5),
              ($2::date - interval '40 days', $1, '', 'm', 9, 99999, 99999)`,
      [id, `${thisMonth}01`],
    );
    // A page visit on the other replica records "last seen".
    expect((await on(browser, b).get("/settings")).status).toBe(200);
    await expect
      .poll(
        async () =>
          (await database.query("SELECT last_seen_at FROM users WHERE id = $1", [id]))[0].last_seen_at,
        { timeout: 5000 },
      )
      .not.toBeNull();

    const page = await admin.get(`/admin/users?q=${encodeURIComponent(address)}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const row = html.slice(html.indexOf(`data-email="${address}"`));
    expect(textOf(row, "user-role")).toBe("user");
    expect(textOf(row, "user-status")).toBe("active");
    expect(textOf(row, "sign-in-methods")).toBe("password, github");
    expect(textOf(row, "tokens-month")).toBe("1,244");
    expect(textOf(html, "user-count")).toMatch(/^1 user with/);
    expect(row).not.toMatch(/<td[^>]*>never<\/td>/);
  });

  test("search by email and pages of 25, never overlapping, newest first", async () => {
    const values = Array.from({ length: 30 }, (_, i) => {
      const n = String(i).padStart(2, "0");
      return `('paged${n}${"x".repeat(16)}', 'paged-${n}@pages.example', now() - interval '${i} minutes', now())`;
    });
    await database.query(`INSERT INTO users (id, email, created_at, updated_at) VALUES ${values.join(", ")}`);
    const emailsOn = async (path: string) => {
      const response = await admin.get(path);
      expect(response.status).toBe(200);
      const html = await response.text();
      return { html, emails: [...html.matchAll(/data-email="([^"]+)"/g)].map((match) => match[1]) };
    };
    const first = await emailsOn("/admin/users?q=PAGES.example");
    expect(first.emails).toHaveLength(25);
    expect(first.emails[0]).toBe("paged-00@pages.example");
    expect(first.html).toContain('href="/admin/users?q=pages.example&amp;page=2"');
    expect(textOf(first.html, "user-count")).toMatch(/^30 users with .* page 1 of 2$/);
    const second = await emailsOn("/admin/users?q=pages.example&page=2");
    expect(second.emails).toEqual(["25", "26", "27", "28", "29"].map((n) => `paged-${n}@pages.example`));
    expect(new Set([...first.emails, ...second.emails]).size).toBe(30);
    // Past the end: the last page. Nonsense: the first.
    expect((await emailsOn("/admin/users?q=pages.example&page=99")).emails).toEqual(second.emails);
    expect((await emailsOn("/admin/users?q=pages.example&page=abc")).emails).toEqual(first.emails);
    expect((await emailsOn("/admin/users?q=paged-07")).emails).toEqual(["paged-07@pages.example"]);
    const none = await emailsOn("/admin/users?q=nobody-at-all");
    expect(none.emails).toEqual([]);
    expect(textOf(none.html, "user-count")).toContain("No user");
  });
});

describe("disabling", () => {
  test("a disabled user's session and API key are refused on the other replica; enabling does not revive the session", async () => {
    const [a, b] = replicas;
    const address = email("disabled");
    const onA = await signedUp(a, address);
    const id = await userId(address);
    const onB = on(onA, b);
    const { token } = await onA.createApiKey();
    expect((await me(b, token)).status).toBe(200);
    expect((await onB.get("/settings")).status).toBe(200);

    const response = await admin.post("/admin/users", { intent: "disable", userId: id, disabled: "true" });
    expect(response.status).toBe(200);
    expect(textOf(await response.text(), "notice")).toContain("is disabled");
    expect(await userRow(id)).toMatchObject({ disabled: true });

    // Pages re-read the user on every request: refused at once.
    const refused = await onB.get("/settings");
    expect(refused.status).toBe(302);
    expect(refused.headers.get("location")).toMatch(/^\/login/);
    // Keys are cached for at most 500 ms per replica.
    await expect.poll(async () => (await me(b, token)).status, { timeout: 5000 }).toBe(403);
    expect((await onB.login(address)).status).toBe(403);

    expect(
      (await admin.post("/admin/users", { intent: "disable", userId: id, disabled: "false" })).status,
    ).toBe(200);
    // The old session stays dead on both replicas; signing in again works.
    const stale = on(onA, b);
    expect((await stale.get("/settings")).status).toBe(302);
    expect((await on(onA, a).get("/settings")).status).toBe(302);
    await expect.poll(async () => (await me(b, token)).status, { timeout: 5000 }).toBe(200);
    const again = new Browser(b.url);
    expect((await again.login(address)).status).toBe(302);
    expect((await again.get("/settings")).status).toBe(200);

    // Both changes are in the audit log, with the acting admin, before/after and the address.
    const audit = await database.query<{
      action: string;
      actor_id: string;
      before: unknown;
      after: unknown;
      ip: string;
    }>("SELECT action, actor_id, before, after, ip FROM audit_events WHERE target_id = $1 ORDER BY id", [id]);
    expect(audit.map((row) => row.action)).toEqual(["user.disabled", "user.enabled"]);
    expect(audit[0]).toMatchObject({
      actor_id: adminId,
      before: { disabled: false },
      after: { disabled: true },
    });
    expect(audit[0].ip).toBeTruthy();
  });
});

describe("guards", () => {
  test("an admin can neither demote, disable nor delete themselves", async () => {
    for (const fields of [
      { intent: "role", role: "USER" },
      { intent: "disable", disabled: "true" },
      { intent: "delete", confirmEmail: "" },
    ] as Record<string, string>[]) {
      for (const path of ["/admin/users", `/admin/users/${adminId}`]) {
        const response = await admin.post(path, { ...fields, userId: adminId });
        expect(response.status, `${fields.intent} on ${path}`).toBe(409);
        expect(textOf(await response.text(), "form-error")).toContain("yourself");
      }
    }
    expect(await userRow(adminId)).toMatchObject({ role: "ADMIN", disabled: false });
  });

  test("of two admins demoting each other at the same moment, exactly one succeeds", async () => {
    const [a, b] = replicas;
    for (let round = 0; round < 4; round++) {
      const firstEmail = email("duel");
      const secondEmail = email("duel");
      const first = await signedUp(a, firstEmail);
      const second = await signedUp(b, secondEmail);
      const firstId = await userId(firstEmail);
      const secondId = await userId(secondEmail);
      // Make them the only enabled admins, so each alone would be the last one.
      await database.query("UPDATE users SET role = 'ADMIN' WHERE id = ANY($1)", [[firstId, secondId]]);
      await database.query("UPDATE users SET role = 'USER' WHERE role = 'ADMIN' AND NOT (id = ANY($1))", [
        [firstId, secondId],
      ]);
      const intent =
        round % 2 === 0
          ? (target: string) => ({ intent: "role", userId: target, role: "USER" })
          : (target: string) => ({ intent: "disable", userId: target, disabled: "true" });
      const [one, two] = await Promise.all([
        first.post("/admin/users", intent(secondId)),
        second.post("/admin/users", intent(firstId)),
      ]);
      const statuses = [one.status, two.status].sort();
      expect(statuses[0], `round ${round}`).toBe(200);
      // The loser is refused inside the transaction (403), or — disabled already — not signed in (302).
      expect([302, 403, 409]).toContain(statuses[1]);
      const enabledAdmins = await database.query(
        "SELECT id FROM users WHERE role = 'ADMIN' AND disabled_at IS NULL",
      );
      expect(enabledAdmins, `round ${round}`).toHaveLength(1);
      // Hand the instance back to the test's admin.
      await database.query("UPDATE users SET role = 'ADMIN' WHERE id = $1", [adminId]);
    }
  });

  test("bad input is a 400 and changes nothing", async () => {
    const address = email("input");
    await signedUp(replicas[0], address);
    const id = await userId(address);
    for (const fields of [
      { intent: "role", userId: id, role: "ROOT" },
      { intent: "role", userId: "../../etc", role: "ADMIN" },
      { intent: "disable", userId: id, disabled: "maybe" },
      { intent: "limits", userId: id, rateLimitRequests: "-4" },
      { intent: "limits", userId: id, rateLimitRequests: "lots" },
      { intent: "create", email: "not-an-email", name: "" },
      { intent: "signup", allowSignup: "sometimes" },
      { intent: "explode" },
    ] as Record<string, string>[]) {
      const response = await admin.post("/admin/users", fields);
      expect(response.status, JSON.stringify(fields)).toBe(400);
    }
    expect(
      (
        await admin.post("/admin/users", {
          intent: "role",
          userId: "abcdefghij0123456789abcde",
          role: "ADMIN",
        })
      ).status,
    ).toBe(404);
    expect((await admin.get("/admin/users/abcdefghij0123456789abcde")).status).toBe(404);
    expect((await admin.get("/admin/users/%3Cscript%3E")).status).toBe(404);
    expect(await userRow(id)).toEqual({ role: "USER", disabled: false, rate_limit_requests: null });
  });
});

describe("deleting", () => {
  test("the page names what will be deleted; a wrong confirmation deletes nothing; the right one deletes it all", async () => {
    const [a, b] = replicas;
    const address = email("doomed");
    const browser = await signedUp(a, address);
    const id = await userId(address);
    const { token } = await browser.createApiKey();
    expect((await me(a, token)).status).toBe(200);
    await database.query("INSERT INTO chats (id, user_id, title, model) VALUES ($1, $2, 't', 'm')", [
      `dchat${id}`,
      id,
    ]);
    await database.query(
      "INSERT INTO messages (chat_id, role, content) VALUES ($1, 'user', 'hi'), ($1, 'assistant', 'hello'), ($1, 'user', 'bye')",
      [`dchat${id}`],
    );
    await expect
      .poll(
        async () =>
          Number(
            (await database.query("SELECT count(*) FROM usage_events WHERE user_id = $1", [id]))[0].count,
          ),
        // Usage is written about once a second.
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);

    const page = await admin.get(`/admin/users/${id}`);
    expect(page.status).toBe(200);
    const summary = textOf((await page.text()).replaceAll("<!-- -->", ""), "delete-summary");
    expect(summary).toContain(address);
    expect(summary).toMatch(/1 chat, 3 messages, 1 API key and 2 usage rows/);

    const wrong = await admin.post(`/admin/users/${id}`, {
      intent: "delete",
      confirmEmail: "someone@else.example",
    });
    expect(wrong.status).toBe(409);
    expect(textOf(await wrong.text(), "form-error")).toContain(`Type ${address}`);
    expect(await database.query("SELECT 1 FROM users WHERE id = $1", [id])).toHaveLength(1);

    const right = await admin.post(`/admin/users/${id}`, {
      intent: "delete",
      confirmEmail: address.toUpperCase(),
    });
    expect(right.status).toBe(302);
    expect(right.headers.get("location")).toBe(`/admin/users?deleted=${encodeURIComponent(address)}`);
    for (const table of [
      "users WHERE id",
      "chats WHERE user_id",
      "api_keys WHERE user_id",
      "usage_daily WHERE user_id",
      "usage_events WHERE user_id",
    ]) {
      expect(await database.query(`SELECT 1 FROM ${table} = $1`, [id]), table).toHaveLength(0);
    }
    expect(await database.query("SELECT 1 FROM messages WHERE chat_id = $1", [`dchat${id}`])).toHaveLength(0);
    expect((await on(browser, b).get("/settings")).status).toBe(302);
    await expect.poll(async () => (await me(b, token)).status, { timeout: 5000 }).toBe(401);
    const list = await admin.get(right.headers.get("location")!);
    expect(textOf(await list.text(), "notice")).toContain(
      `${address} and everything they owned were deleted`,
    );
  });
});

describe("creating users and the sign-up switch", () => {
  test("an admin creates a user with a one-time password, which must be replaced at first sign-in", async () => {
    const [a, b] = replicas;
    const address = email("handed-over");
    const created = await admin.post("/admin/users", {
      intent: "create",
      email: address.toUpperCase(),
      name: "Hand Over",
    });
    expect(created.status).toBe(201);
    const html = await created.text();
    const password = html.match(/data-testid="one-time-password"[^>]*value="([^"]+)"/)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    const duplicate = await admin.post("/admin/users", { intent: "create", email: address, name: "" });
    expect(duplicate.status).toBe(409);

    const user = new Browser(b.url);
    expect((await user.login(address, password)).status).toBe(302);
    for (const path of ["/chat", "/settings/keys", "/settings"]) {
      const sent = await user.get(path);
      expect(sent.status, path).toBe(302);
      expect(sent.headers.get("location")).toBe(`/settings/password?redirectTo=${encodeURIComponent(path)}`);
    }
    const form = await user.get("/settings/password");
    expect(form.status).toBe(200);
    // Client-side navigation asks for the page's data; it must not be sent round in circles.
    expect((await user.get("/settings/password.data?redirectTo=%2F")).status).toBe(200);
    const chatData = await user.get("/chat.data?_routes=root");
    expect(await chatData.text()).toContain('"/settings/password?redirectTo=%2Fchat"');
    expect(await form.text()).toContain('data-testid="must-change"');

    const mismatch = await user.post("/settings/password", {
      currentPassword: password!,
      newPassword: "my own password",
      confirmPassword: "my own passw0rd",
    });
    expect(mismatch.status).toBe(400);
    const wrong = await user.post("/settings/password", {
      currentPassword: "not the one",
      newPassword: "my own password",
      confirmPassword: "my own password",
    });
    expect(wrong.status).toBe(400);
    const other = on(user, a);
    const changed = await user.post("/settings/password", {
      currentPassword: password!,
      newPassword: "my own password",
      confirmPassword: "my own password",
      redirectTo: "/chat",
    });
    expect(changed.status).toBe(302);
    expect(changed.headers.get("location")).toBe("/chat");
    expect((await user.get("/settings")).status).toBe(200);
    // The session that knew the one-time password was signed out with it.
    expect((await other.get("/settings")).status).toBe(302);
    expect((await new Browser(a.url).login(address, password)).status).toBe(401);
    expect((await new Browser(a.url).login(address, "my own password")).status).toBe(302);
  });

  test("closing sign-up stops password and OAuth sign-ups on every replica, but not admins creating users", async () => {
    const [a, b] = replicas;
    const closed = await admin.post("/admin/users", { intent: "signup", allowSignup: "false" });
    expect(closed.status).toBe(200);
    const page = await new Browser(b.url).get("/signup");
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('data-testid="signup-closed"');
    const refused = await new Browser(b.url).signup(email("late"));
    expect(refused.status).toBe(403);
    expect(await database.query("SELECT 1 FROM users WHERE email LIKE 'late-%'")).toHaveLength(0);

    // OAuth: a new identity would create an account, so it is refused...
    const browser = new Browser(a.url);
    const start = await browser.post("/auth/github", {});
    const authorize = new URL(start.headers.get("location")!);
    authorize.searchParams.set(
      "fake_identity",
      JSON.stringify({ id: 90_001, login: "newbie", name: "Newbie", email: "newbie@example.com" }),
    );
    const back = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!);
    const callback = await browser.get(back.pathname + back.search);
    expect(callback.status).toBe(302);
    expect(callback.headers.get("location")).toMatch(/^\/login\?error=signup-closed/);
    const login = await browser.get(callback.headers.get("location")!);
    expect(login.status).toBe(403);
    expect(await database.query("SELECT 1 FROM users WHERE email = 'newbie@example.com'")).toHaveLength(0);

    expect(
      (await admin.post("/admin/users", { intent: "create", email: email("by-admin"), name: "" })).status,
    ).toBe(201);

    expect((await admin.post("/admin/users", { intent: "signup", allowSignup: "true" })).status).toBe(200);
    expect((await new Browser(a.url).get("/signup")).status).toBe(200);
    await signedUp(b);
  });

  test("with ALLOW_SIGNUP=false the very first account can still be created, and only that one", async () => {
    const fresh = await createTestDatabase("admin_first");
    const app = await startApp({ DATABASE_URL: fresh.url, ALLOW_SIGNUP: "false", OLLAMA_URL: ollama.url });
    try {
      expect((await new Browser(app.url).get("/signup")).status).toBe(200);
      const first = new Browser(app.url);
      expect((await first.signup("first@example.com")).status).toBe(302);
      expect(await first.whoAmI()).toEqual({ email: "first@example.com", role: "Administrator" });
      expect((await new Browser(app.url).get("/signup")).status).toBe(403);
      expect((await new Browser(app.url).signup("second@example.com")).status).toBe(403);
      // The admin's switch overrides the environment.
      expect((await first.post("/admin/users", { intent: "signup", allowSignup: "true" })).status).toBe(200);
      expect((await new Browser(app.url).signup("second@example.com")).status).toBe(302);
    } finally {
      await app.stop();
      await fresh.drop();
    }
  });
});

describe("per-user API limit", () => {
  test("an admin's override caps the user's requests across all their keys, on every replica", async () => {
    const [a, b] = replicas;
    const address = email("limited");
    const browser = await signedUp(a, address);
    const id = await userId(address);
    const first = await browser.createApiKey({ name: "one" });
    const second = await browser.createApiKey({ name: "two" });
    const saved = await admin.post(`/admin/users/${id}`, { intent: "limits", rateLimitRequests: "3" });
    expect(saved.status).toBe(200);
    expect(await userRow(id)).toMatchObject({ rate_limit_requests: 3 });
    // The key cache holds the old limits for at most 500 ms on the other replica.
    await expect
      .poll(async () => (await me(b, first.token)).headers.get("x-ratelimit-limit-requests"), {
        timeout: 5000,
      })
      .toBe("3");
    // Alternating keys and replicas: the cap is the user's, shared. Eight calls cannot all pass a limit
    // of 3 per window even if a window boundary falls among them.
    const statuses: number[] = [];
    for (let i = 0; i < 8 && !statuses.includes(429); i++) {
      statuses.push((await me(i % 2 ? a : b, i % 2 ? second.token : first.token)).status);
    }
    expect(statuses).toContain(429);
    const blank = await admin.post(`/admin/users/${id}`, { intent: "limits", rateLimitRequests: "" });
    expect(blank.status).toBe(200);
    expect(await userRow(id)).toMatchObject({ rate_limit_requests: null });
  });
});

describe("the overview", () => {
  test("shows counts, today's API traffic, the health of each service with Ollama's version, loaded models and the app version", async () => {
    const today = new Date().toISOString().slice(0, 10);
    await database.query(
      "INSERT INTO usage_daily (day, user_id, key_id, model, requests, errors, prompt_tokens, completion_tokens) VALUES ($1::date, $2, 'overview', 'm', 1000, 1000, 500000, 500000)",
      [today, adminId],
    );
    // Earlier tests' API calls may still be on their way to the roll-up (written about once a
    // second): compare the page with the database until both agree.
    const n = (value: string | number) => Number(value).toLocaleString("en");
    const snapshot = async () => {
      const [usage] = await database.query<{ requests: string; errors: string; tokens: string }>(
        "SELECT sum(requests) AS requests, sum(errors) AS errors, sum(prompt_tokens + completion_tokens) AS tokens FROM usage_daily WHERE day = $1::date",
        [today],
      );
      const [counts] = await database.query<Record<string, string>>(
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM chats) AS chats, (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL) AS keys",
      );
      const response = await admin.get("/admin");
      expect(response.status).toBe(200);
      const html = await response.text();
      const shown = Object.fromEntries(
        ["users", "chats", "messages", "keys"].map((name) => [name, textOf(html, `count-${name}`)]),
      );
      const expected = Object.fromEntries(Object.entries(counts).map(([name, value]) => [name, n(value)]));
      return {
        html,
        shown: {
          ...shown,
          requests: textOf(html, "today-requests"),
          tokens: textOf(html, "today-tokens"),
          errorRate: textOf(html, "today-error-rate"),
        },
        expected: {
          ...expected,
          requests: n(usage.requests),
          tokens: n(usage.tokens),
          errorRate: `${((Number(usage.errors) / Number(usage.requests)) * 100).toFixed(1)} %`,
        },
      };
    };
    await expect
      .poll(
        async () => {
          const { shown, expected } = await snapshot();
          return JSON.stringify(shown) === JSON.stringify(expected)
            ? "agree"
            : JSON.stringify({ shown, expected });
        },
        { timeout: 10_000 },
      )
      .toBe("agree");
    const { html } = await snapshot();
    expect(html).toMatch(/data-testid="health-database".*?>ok</s);
    expect(html).toMatch(/data-testid="health-redis".*?>ok</s);
    expect(html).toMatch(/data-testid="health-ollama".*?>ok<.*?version 0\.33\.0/s);
    expect(textOf(html, "app-version")).toMatch(/^\d+\.\d+\.\d+/);
    expect(textOf(html, "loaded-models")).toContain("None");

    // A chat through the API loads a model in Ollama; the overview lists it.
    const { token } = await admin.createApiKey();
    const chat = await fetch(`${replicas[1].url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(200);
    const loaded = await (await admin.get("/admin")).text();
    expect(loaded).toMatch(/data-testid="loaded-models".*llama3\.2/s);
  });
});
