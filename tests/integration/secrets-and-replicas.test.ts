import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, type RunningApp, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

function cli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ["scripts/cli.mjs", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, LOG_LEVEL: "warn", ...env },
    encoding: "utf8",
  });
  return { code: result.status, output: result.stdout + result.stderr };
}

describe("generated secret shared by replicas started together", () => {
  let database: TestDatabase;
  let replicas: RunningApp[];

  beforeAll(async () => {
    database = await createTestDatabase("replicas");
    // Three replicas racing on an empty database: migrations and the first secret happen once.
    replicas = await Promise.all([1, 2, 3].map(() => startApp({ DATABASE_URL: database.url })));
  });

  afterAll(async () => {
    await Promise.all(replicas?.map((replica) => replica.stop()) ?? []);
    await database?.drop();
  });

  test("exactly one secret and one set of migrations exist", async () => {
    const secrets = await database.query("SELECT id FROM app_secrets");
    expect(secrets).toHaveLength(1);
    const migrations = await database.query<{ migration_name: string; finished_at: Date | null }>(
      "SELECT migration_name, finished_at FROM _prisma_migrations",
    );
    const names = migrations.map((row) => row.migration_name);
    expect(new Set(names).size).toBe(names.length);
    expect(migrations.every((row) => row.finished_at !== null)).toBe(true);
  });

  test("a session made on one replica works on every other", async () => {
    const browser = new Browser(replicas[0].url);
    await browser.signup("replica@example.com");
    for (const replica of replicas) {
      const elsewhere = new Browser(replica.url);
      elsewhere.cookies = new Map(browser.cookies);
      expect(await elsewhere.whoAmI()).toMatchObject({ email: "replica@example.com" });
    }
  });

  test("rotation: the new secret is stored, old cookies keep verifying after a restart", async () => {
    const browser = new Browser(replicas[0].url);
    await browser.signup("rotation@example.com");
    const rotated = cli(["rotate-secret"], { DATABASE_URL: database.url });
    expect(rotated.code).toBe(0);
    expect(rotated.output).toContain("New cookie-signing secret stored");
    expect(await database.query("SELECT id FROM app_secrets")).toHaveLength(2);

    await replicas[1].stop();
    replicas[1] = await startApp({ DATABASE_URL: database.url });
    const afterRestart = new Browser(replicas[1].url);
    afterRestart.cookies = new Map(browser.cookies);
    expect(await afterRestart.whoAmI()).toMatchObject({ email: "rotation@example.com" });
  });

  test("user:promote and user:demote change roles; an unknown email fails", async () => {
    const browser = new Browser(replicas[0].url);
    await browser.signup("Promote.Me@example.com");
    expect(await browser.whoAmI()).toMatchObject({ role: "User" });

    const promoted = cli(["promote", "promote.me@EXAMPLE.com"], { DATABASE_URL: database.url });
    expect(promoted).toMatchObject({ code: 0 });
    expect(promoted.output).toContain("is now an ADMIN");
    expect(await browser.whoAmI()).toMatchObject({ role: "Administrator" });

    expect(cli(["demote", "promote.me@example.com"], { DATABASE_URL: database.url }).code).toBe(0);
    expect(await browser.whoAmI()).toMatchObject({ role: "User" });

    const unknown = cli(["promote", "nobody@example.com"], { DATABASE_URL: database.url });
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain("No account with the email nobody@example.com");
  });

  test("user:disable signs the user out on every replica; user:enable does not bring old sessions back", async () => {
    const browser = new Browser(replicas[0].url);
    await browser.signup("disable.me@example.com");
    const elsewhere = new Browser(replicas[1].url);
    elsewhere.cookies = new Map(browser.cookies);
    expect(await elsewhere.whoAmI()).toMatchObject({ email: "disable.me@example.com" });

    const disabled = cli(["disable", "disable.me@example.com"], { DATABASE_URL: database.url });
    expect(disabled).toMatchObject({ code: 0 });
    expect(disabled.output).toContain("is disabled and signed out everywhere");
    expect(await elsewhere.whoAmI()).toBeNull();
    const [{ count }] = await database.query<{ count: string }>(
      "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'disable.me@example.com'",
    );
    expect(Number(count)).toBe(0);

    expect(cli(["enable", "disable.me@example.com"], { DATABASE_URL: database.url }).code).toBe(0);
    // The old cookie stays dead; signing in again works.
    expect(await browser.whoAmI()).toBeNull();
    expect((await browser.login("disable.me@example.com")).status).toBe(302);
    expect(await browser.whoAmI()).toMatchObject({ email: "disable.me@example.com" });
  });
});

describe("SESSION_SECRET from the environment", () => {
  test("rotating by prepending a new secret keeps existing sessions valid; dropping the old one ends them", async () => {
    const database = await createTestDatabase("envsecret");
    const oldSecret = "o".repeat(32);
    const newSecret = "n".repeat(32);
    let app = await startApp({ DATABASE_URL: database.url, SESSION_SECRET: oldSecret });
    try {
      const browser = new Browser(app.url);
      await browser.signup("envsecret@example.com");
      const oldCookies = new Map(browser.cookies);
      await app.stop();

      app = await startApp({ DATABASE_URL: database.url, SESSION_SECRET: `${newSecret},${oldSecret}` });
      const rotated = new Browser(app.url);
      rotated.cookies = new Map(oldCookies);
      expect(await rotated.whoAmI()).toMatchObject({ email: "envsecret@example.com" });
      await app.stop();

      app = await startApp({ DATABASE_URL: database.url, SESSION_SECRET: newSecret });
      const dropped = new Browser(app.url);
      dropped.cookies = new Map(oldCookies);
      expect(await dropped.whoAmI()).toBeNull();
      // Nothing generated into the database when the secret comes from the environment.
      expect(await database.query("SELECT id FROM app_secrets")).toHaveLength(0);
    } finally {
      await app.stop();
      await database.drop();
    }
  });
});
