import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type FakeIdentity, type FakeOAuthProvider, startFakeOAuthProvider } from "../fakes/oauth-provider";
import { freePort, type RunningApp, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

// GitHub and Google sign-in through the running app and a fake provider, on real PostgreSQL.
// The first two tests need an empty users table, so they come first (tests in a file run in order).
let database: TestDatabase;
let fake: FakeOAuthProvider;
let app: RunningApp;

beforeAll(async () => {
  [database, fake] = await Promise.all([createTestDatabase("oauth"), startFakeOAuthProvider()]);
  const port = await freePort();
  app = await startApp({
    PORT: String(port),
    // The provider redirects to APP_URL, so it must be the address the test browser talks to.
    APP_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    TRUST_PROXY: "true",
    ...fake.env,
  });
});

afterAll(async () => {
  await app?.stop();
  await fake?.close();
  await database?.drop();
});

let ipCounter = 0;
const client = (target = app) => new Browser(target.url, { "x-forwarded-for": `10.1.0.${++ipCounter}` });

let idCounter = 1000;
function identity(overrides: Partial<FakeIdentity> = {}): FakeIdentity {
  const id = ++idCounter;
  return { id, login: `user${id}`, name: `User ${id}`, email: `user${id}@example.com`, ...overrides };
}

/** Start → the provider (as the given identity) → callback, like a browser following redirects. */
async function oauthSignIn(
  browser: Browser,
  provider: "github" | "google",
  who: FakeIdentity,
  fields: Record<string, string> = {},
) {
  const start = await browser.post(`/auth/${provider}`, fields);
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get("location")!);
  authorize.searchParams.set("fake_identity", JSON.stringify(who));
  const consent = await fetch(authorize, { redirect: "manual" });
  expect(consent.status).toBe(302);
  const back = new URL(consent.headers.get("location")!);
  const callback = await browser.get(back.pathname + back.search);
  return { start, authorize, back, callback };
}

/** Follows a redirect to the login page and returns its status and the error it shows. */
async function loginPageError(browser: Browser, location: string | null) {
  expect(location).toMatch(/^\/login\?/);
  const page = await browser.get(location!);
  const html = await page.text();
  const message = html.match(/data-testid="form-error">([^<]*)</)?.[1];
  return { status: page.status, message: message?.replaceAll("&#x27;", "'") };
}

const count = async (sql: string, params: unknown[] = []) =>
  Number((await database.query<{ count: string }>(sql, params))[0].count);

test("the first account, made by OAuth, becomes ADMIN", async () => {
  const browser = client();
  const who = identity({ email: "first@example.com" });
  const { callback } = await oauthSignIn(browser, "github", who);
  expect(callback.status).toBe(302);
  expect(callback.headers.get("location")).toBe("/");
  expect(await browser.whoAmI()).toEqual({ email: "first@example.com", role: "Administrator" });
  const [user] = await database.query<{ password_hash: string | null; name: string }>(
    "SELECT password_hash, name FROM users WHERE email = 'first@example.com'",
  );
  expect(user).toEqual({ password_hash: null, name: who.name });
});

test("of first sign-ups racing through GitHub, Google and passwords, exactly one becomes ADMIN", async () => {
  await database.query("DELETE FROM users");
  const attempts = [
    ...[1, 2].map((i) => oauthSignIn(client(), "github", identity({ email: `race-gh${i}@example.com` }))),
    ...[1, 2].map((i) => oauthSignIn(client(), "google", identity({ email: `race-go${i}@example.com` }))),
    ...[1, 2].map((i) => client().signup(`race-pw${i}@example.com`)),
  ];
  const results = await Promise.all(attempts);
  for (const result of results) {
    const response = result instanceof Response ? result : result.callback;
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/");
  }
  const roles = await database.query<{ role: string }>("SELECT role FROM users WHERE email LIKE 'race-%'");
  expect(roles).toHaveLength(6);
  expect(roles.filter((row) => row.role === "ADMIN")).toHaveLength(1);
});

test("sign-in uses state, PKCE and the exact redirect URI, starts a session and clears the flow cookies", async () => {
  const browser = client();
  const { start, authorize, callback } = await oauthSignIn(browser, "github", identity());

  expect(authorize.origin + authorize.pathname).toBe(`${fake.url}/github/login/oauth/authorize`);
  expect(authorize.searchParams.get("client_id")).toBe(fake.clients.github.id);
  expect(authorize.searchParams.get("redirect_uri")).toBe(`${app.url}/auth/github/callback`);
  expect(authorize.searchParams.get("scope")).toBe("user:email");
  expect(authorize.searchParams.get("state")).toMatch(/^[\w-]{40,}$/);
  expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
  const flowCookies = start.headers.getSetCookie();
  expect(flowCookies.some((line) => line.startsWith("ccai_oauth_state_github:"))).toBe(true);
  expect(flowCookies.some((line) => line.startsWith("ccai_oauth_return="))).toBe(true);
  for (const line of flowCookies) expect(line).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/i);

  const tokenRequest = fake.requests.findLast(
    (request) => request.path === "/github/login/oauth/access_token",
  );
  expect(tokenRequest?.headers.authorization).toMatch(/^Basic /);
  expect(tokenRequest?.body.code_verifier).toMatch(/^[\w-]{43,}$/);

  expect(callback.status).toBe(302);
  expect(callback.headers.getSetCookie().some((line) => line.startsWith("ccai_session="))).toBe(true);
  expect([...browser.cookies.keys()]).toEqual(["ccai_session"]);
  expect(await browser.whoAmI()).toMatchObject({ role: "User" });
});

test("a second sign-in reuses the connection, even after the email changed at the provider", async () => {
  const who = identity();
  await oauthSignIn(client(), "google", who);
  const users = await count("SELECT count(*) FROM users");
  const again = client();
  const { callback } = await oauthSignIn(again, "google", { ...who, email: "renamed@example.com" });
  expect(callback.headers.get("location")).toBe("/");
  expect(await again.whoAmI()).toMatchObject({ email: who.email });
  expect(await count("SELECT count(*) FROM users")).toBe(users);
  expect(
    await count("SELECT count(*) FROM connections WHERE provider = 'google' AND provider_id = $1", [
      String(who.id),
    ]),
  ).toBe(1);
});

test("a verified email links to the existing password account, which keeps its password", async () => {
  await client().signup("linked@example.com", "the password");
  const browser = client();
  const { callback } = await oauthSignIn(browser, "google", identity({ email: "Linked@Example.com" }));
  expect(callback.headers.get("location")).toBe("/");
  expect(await browser.whoAmI()).toMatchObject({ email: "linked@example.com" });
  expect(
    await count(
      "SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id WHERE u.email = 'linked@example.com'",
    ),
  ).toBe(1);
  expect((await client().login("linked@example.com", "the password")).status).toBe(302);
});

test("an unverified email does not link to an existing account", async () => {
  await client().signup("victim@example.com");
  const attacker = client();
  for (const provider of ["github", "google"] as const) {
    const who = identity({ email: "victim@example.com", emailVerified: false });
    const { callback } = await oauthSignIn(attacker, provider, who);
    expect(callback.headers.get("location")).toBe(`/login?error=email-unverified&provider=${provider}`);
    const page = await loginPageError(attacker, callback.headers.get("location"));
    expect(page.status).toBe(409);
    expect(page.message).toContain("An account with this email already exists");
    expect(page.message).toContain("was not linked");
  }
  expect(await attacker.whoAmI()).toBeNull();
  expect(
    await count(
      "SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id WHERE u.email = 'victim@example.com'",
    ),
  ).toBe(0);
});

test("without a verified email no account is created", async () => {
  const users = await count("SELECT count(*) FROM users");
  for (const who of [identity({ emailVerified: false }), identity({ email: null })]) {
    const browser = client();
    const { callback } = await oauthSignIn(browser, "github", who);
    const page = await loginPageError(browser, callback.headers.get("location"));
    expect(page.status).toBe(400);
    expect(page.message).toBe(
      "GitHub did not share a verified email address. Verify your email with GitHub and try again.",
    );
  }
  expect(await count("SELECT count(*) FROM users")).toBe(users);
});

test("a tampered, missing, foreign or replayed state is refused with a readable error", async () => {
  const stateError = "That sign-in attempt expired or was started in another browser. Try again.";
  const users = await count("SELECT count(*) FROM users");

  // Tampered: the state in the URL is not the one in the cookie.
  const browser = client();
  const start = await browser.post("/auth/github", {});
  const authorize = new URL(start.headers.get("location")!);
  const consent = await fetch(authorize, { redirect: "manual" });
  const back = new URL(consent.headers.get("location")!);
  const tampered = new URL(back);
  tampered.searchParams.set("state", "forged-state");
  const refused = await browser.get(tampered.pathname + tampered.search);
  expect(refused.status).toBe(302);
  expect(await loginPageError(browser, refused.headers.get("location"))).toEqual({
    status: 400,
    message: stateError,
  });
  expect(await browser.whoAmI()).toBeNull();

  // Foreign: a genuine callback URL opened in a browser that never started the flow (login CSRF).
  const victim = client();
  const foreign = await victim.get(back.pathname + back.search);
  expect((await loginPageError(victim, foreign.headers.get("location"))).message).toBe(stateError);
  expect(await victim.whoAmI()).toBeNull();

  // Missing: no state at all must not quietly start a new flow.
  const missing = await client().get(`/auth/github/callback?code=${back.searchParams.get("code")}`);
  expect(missing.headers.get("location")).toBe("/login?error=state&provider=github");

  // Replayed: the same callback again after a successful sign-in.
  const replayer = client();
  const done = await oauthSignIn(replayer, "github", identity());
  expect(done.callback.headers.get("location")).toBe("/");
  const replay = await new Browser(app.url).get(done.back.pathname + done.back.search);
  expect(replay.headers.get("location")).toBe("/login?error=state&provider=github");

  expect(await count("SELECT count(*) FROM users")).toBe(users + 1);
});

test("denied consent comes back to the login page with a message, not an error page", async () => {
  for (const [provider, label] of [
    ["github", "GitHub"],
    ["google", "Google"],
  ] as const) {
    const browser = client();
    const { callback } = await oauthSignIn(browser, provider, identity({ deny: true }));
    const page = await loginPageError(browser, callback.headers.get("location"));
    expect(page).toEqual({ status: 401, message: `Signing in with ${label} was cancelled.` });
  }
});

test("a refused code or an ID token not meant for us fails the sign-in cleanly", async () => {
  const users = await count("SELECT count(*) FROM users");
  const cases: ["github" | "google", Partial<FakeIdentity>][] = [
    ["github", { badCode: true }],
    ["google", { badCode: true }],
    ["google", { idTokenClaims: { aud: "someone-else.apps.googleusercontent.com" } }],
    ["google", { idTokenClaims: { iss: "https://issuer.invalid" } }],
    ["google", { idTokenClaims: { exp: Math.floor(Date.now() / 1000) - 3600 } }],
  ];
  for (const [provider, overrides] of cases) {
    const browser = client();
    const { callback } = await oauthSignIn(browser, provider, identity(overrides));
    const page = await loginPageError(browser, callback.headers.get("location"));
    expect(page.status, JSON.stringify(overrides)).toBe(502);
    expect(page.message).toMatch(/^Signing in with (GitHub|Google) failed\. Try again in a moment\.$/);
    expect(await browser.whoAmI()).toBeNull();
  }
  expect(await count("SELECT count(*) FROM users")).toBe(users);
  expect(app.output()).not.toContain('"level":"error"');
});

test("disabled users are refused, whether connected already or about to be linked", async () => {
  const who = identity();
  await oauthSignIn(client(), "github", who);
  await database.query("UPDATE users SET disabled_at = now() WHERE email = $1", [who.email]);
  const browser = client();
  const { callback } = await oauthSignIn(browser, "github", who);
  expect(await loginPageError(browser, callback.headers.get("location"))).toEqual({
    status: 403,
    message: "This account is disabled. Ask an administrator.",
  });
  expect(await browser.whoAmI()).toBeNull();

  await client().signup("disabled-pw@example.com");
  await database.query("UPDATE users SET disabled_at = now() WHERE email = 'disabled-pw@example.com'");
  const linker = client();
  const link = await oauthSignIn(linker, "google", identity({ email: "disabled-pw@example.com" }));
  expect(link.callback.headers.get("location")).toBe("/login?error=disabled&provider=google");
  expect(
    await count(
      "SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id WHERE u.email = 'disabled-pw@example.com'",
    ),
  ).toBe(0);
});

test("redirectTo survives the round trip; anything but a local path falls back to /", async () => {
  const to = async (fields: Record<string, string>) =>
    (await oauthSignIn(client(), "github", identity(), fields)).callback.headers.get("location");
  expect(await to({ redirectTo: "/settings?tab=sessions" })).toBe("/settings?tab=sessions");
  for (const redirectTo of ["//evil.example/", "https://evil.example/", "/\\evil.example", "settings"]) {
    expect(await to({ redirectTo })).toBe("/");
  }

  // GET starts the flow too, with redirectTo in the query.
  const browser = client();
  const start = await browser.get("/auth/google?redirectTo=%2Fsettings");
  const consent = await fetch(start.headers.get("location")!, { redirect: "manual" });
  const back = new URL(consent.headers.get("location")!);
  expect((await browser.get(back.pathname + back.search)).headers.get("location")).toBe("/settings");

  // A failed attempt keeps it, so the next try from the login page still goes there.
  const failed = await oauthSignIn(client(), "github", identity({ deny: true }), { redirectTo: "/settings" });
  expect(failed.callback.headers.get("location")).toBe(
    "/login?error=denied&provider=github&redirectTo=%2Fsettings",
  );
});

test("the login and signup pages offer exactly the configured providers, as plain forms", async () => {
  for (const path of ["/login", "/signup"]) {
    const html = await (await client().get(`${path}?redirectTo=%2Fsettings`)).text();
    expect(html).toContain('action="/auth/github"');
    expect(html).toContain('action="/auth/google"');
    expect(html).toContain("Continue with GitHub");
    expect(html).toContain("Continue with Google");
    expect(html).toMatch(/<input type="hidden" name="redirectTo" value="\/settings"\/>/);
  }
});

test("unknown providers are 404", async () => {
  for (const provider of ["facebook", "__proto__", "constructor", "GITHUB"]) {
    expect((await client().post(`/auth/${provider}`, {})).status).toBe(404);
    expect((await client().get(`/auth/${provider}`)).status).toBe(404);
    expect((await client().get(`/auth/${provider}/callback?code=x&state=y`)).status).toBe(404);
  }
});

describe("with only GitHub configured", () => {
  let githubOnly: RunningApp;

  beforeAll(async () => {
    githubOnly = await startApp({
      DATABASE_URL: database.url,
      GITHUB_CLIENT_ID: fake.env.GITHUB_CLIENT_ID,
      GITHUB_CLIENT_SECRET: fake.env.GITHUB_CLIENT_SECRET,
      GITHUB_URL: fake.env.GITHUB_URL,
      GITHUB_API_URL: fake.env.GITHUB_API_URL,
      // Half a Google configuration leaves Google off, with a warning.
      GOOGLE_CLIENT_ID: fake.env.GOOGLE_CLIENT_ID,
    });
  });
  afterAll(async () => {
    await githubOnly?.stop();
  });

  test("Google is 404 and not offered", async () => {
    expect((await client(githubOnly).post("/auth/google", {})).status).toBe(404);
    expect((await client(githubOnly).get("/auth/google/callback?code=x&state=y")).status).toBe(404);
    expect((await client(githubOnly).post("/auth/github", {})).status).toBe(302);
    const html = await (await client(githubOnly).get("/login")).text();
    expect(html).toContain("Continue with GitHub");
    expect(html).not.toContain("Continue with Google");
    expect(githubOnly.output()).toContain(
      "GOOGLE sign-in is off: set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET",
    );
  });
});
