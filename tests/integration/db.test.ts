// The database layer against real PostgreSQL and PGlite: migrations at start (same bookkeeping as the
// Prisma CLI), replicas starting together, failed migrations, closing, and the offline CLI drift check.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkDatabase, closeDatabase, db, initDatabase } from "~/server/db.server";
import { createTestDatabase, type TestDatabase } from "../support/database";

const root = path.resolve(import.meta.dirname, "../..");
const migrationsDir = path.join(root, "prisma/migrations");
const localMigrations = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const prismaCli = path.join(root, "node_modules/prisma/build/index.js");

const work = mkdtempSync(path.join(tmpdir(), "ccai-db-"));
// Child processes import db.server bundled by esbuild; it must sit under the project to find node_modules.
mkdirSync(path.join(root, "node_modules/.cache"), { recursive: true });
const bundleDir = mkdtempSync(path.join(root, "node_modules/.cache/ccai-db-test-"));
let database: TestDatabase;

/** Env for children: none of the developer's database settings leak in. */
function childEnv(extra: Record<string, string> = {}) {
  const { DATABASE_URL: _url, DATA_DIR: _dir, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: "info", ...extra };
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<Exit> {
  const started = performance.now();
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`process did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    });
  });
}

/** Runs `script` (ESM, with `db` = the bundled db.server module) in a fresh node process. */
function runNode(script: string, env: Record<string, string>, timeoutMs = 60_000) {
  const file = path.join(bundleDir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import * as db from "./db.mjs";\n${script}\n`);
  const child = spawn(process.execPath, [file], { cwd: root, env: childEnv(env) });
  return waitForExit(child, timeoutMs);
}

function runPrisma(args: string[], env: Record<string, string>) {
  return new Promise<Exit>((resolve) => {
    const started = performance.now();
    execFile(
      process.execPath,
      [prismaCli, ...args],
      { cwd: root, env: childEnv(env) },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

function sha256(file: string) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** A copy of the migrations folder plus one migration that fails half-way. */
function migrationsWithBrokenOne() {
  const dir = mkdtempSync(path.join(work, "migrations-"));
  cpSync(migrationsDir, dir, { recursive: true });
  mkdirSync(path.join(dir, "29990101000000_broken"));
  writeFileSync(
    path.join(dir, "29990101000000_broken/migration.sql"),
    'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n',
  );
  return dir;
}

beforeAll(async () => {
  database = await createTestDatabase("t");
  await build({
    entryPoints: [path.join(root, "app/server/db.server.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    alias: { "~": path.join(root, "app") },
    define: { __APP_VERSION__: JSON.stringify("test") },
    outfile: path.join(bundleDir, "db.mjs"),
    logLevel: "warning",
  });
}, 60_000);

afterAll(async () => {
  await closeDatabase();
  await database?.drop();
  rmSync(work, { recursive: true, force: true });
  rmSync(bundleDir, { recursive: true, force: true });
});

describe("PostgreSQL", () => {
  test("initDatabase applies the migrations to an empty database, as the CLI would", async () => {
    await initDatabase({ databaseUrl: database.url, dataDir: work });
    const rows = await database.query<{ migration_name: string; checksum: string; finished: boolean }>(
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at
       FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows.map((row) => row.migration_name)).toEqual(localMigrations);
    for (const row of rows) {
      expect(row.finished).toBe(true);
      expect(row.checksum).toBe(sha256(path.join(migrationsDir, row.migration_name, "migration.sql")));
    }

    const user = await db().user.create({
      data: { email: "pg@example.test" },
      select: { id: true, role: true },
    });
    expect(user.role).toBe("USER");
    await checkDatabase();

    // Memoised: a second call neither fails nor migrates again.
    await initDatabase({ databaseUrl: database.url, dataDir: work });
    expect(await database.query("SELECT 1 FROM _prisma_migrations")).toHaveLength(localMigrations.length);

    const status = await runPrisma(["migrate", "status"], { DATABASE_URL: database.url });
    expect(status.stdout).toContain("Database schema is up to date");
    expect(status.code).toBe(0);

    await closeDatabase();
    expect(() => db()).toThrow(/initDatabase/);
    await expect(checkDatabase()).rejects.toThrow(/not initialised/);
  });

  test("two replicas starting together against one fresh database: one migrates, both start", async () => {
    const fresh = await createTestDatabase("t");
    try {
      const script = `
        await db.initDatabase({ databaseUrl: process.env.TEST_DATABASE_URL, dataDir: "unused" });
        const users = await db.db().user.count();
        console.log(JSON.stringify({ started: true, users }));
        await db.closeDatabase();`;
      const env = { TEST_DATABASE_URL: fresh.url };
      const [a, b] = await Promise.all([runNode(script, env), runNode(script, env)]);
      for (const run of [a, b]) {
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('{"started":true,"users":0}');
      }
      const applied = `${a.stdout}${b.stdout}`.match(/"msg":"applied database migrations"/g) ?? [];
      expect(applied).toHaveLength(1);
      const rows = await fresh.query<{ migration_name: string }>(
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1",
      );
      expect(rows.map((row) => row.migration_name)).toEqual(localMigrations);
    } finally {
      await fresh.drop();
    }
  });

  test("a failing migration is an error, recorded as failed and rolled back, and blocks later starts", async () => {
    const fresh = await createTestDatabase("t");
    try {
      const dir = migrationsWithBrokenOne();
      await expect(
        initDatabase({ databaseUrl: fresh.url, dataDir: work, migrationsDir: dir }),
      ).rejects.toThrow(/no_such_table/);
      expect(() => db()).toThrow(/initDatabase/);
      const rows = await fresh.query<{ migration_name: string; finished: boolean }>(
        "SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY 1",
      );
      expect(rows).toEqual([
        ...localMigrations.map((name) => ({ migration_name: name, finished: true })),
        { migration_name: "29990101000000_broken", finished: false },
      ]);
      // The whole script ran in one transaction: nothing of it is left.
      expect(await fresh.query("SELECT to_regclass('half_done') AS t")).toEqual([{ t: null }]);

      await expect(
        initDatabase({ databaseUrl: fresh.url, dataDir: work, migrationsDir: dir }),
      ).rejects.toThrow(/failed migrations/);
    } finally {
      await closeDatabase();
      await fresh.drop();
    }
  });
});

describe("PGlite (no DATABASE_URL)", () => {
  test("creates the database in DATA_DIR, stores data, and closeDatabase lets the process exit", async () => {
    const dataDir = path.join(work, "data");
    const script = `
      await db.initDatabase({ dataDir: process.env.TEST_DATA_DIR });
      const email = process.argv[2] ?? "pglite@example.test";
      if (process.env.TEST_CREATE) await db.db().user.create({ data: { email } });
      const user = await db.db().user.findUnique({ where: { email }, select: { email: true, role: true } });
      await db.checkDatabase();
      console.log(JSON.stringify({ user }));
      await db.closeDatabase();
      // No process.exit(): the process must end by itself.`;
    const first = await runNode(script, { TEST_DATA_DIR: dataDir, TEST_CREATE: "1" }, 45_000);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('{"user":{"email":"pglite@example.test","role":"USER"}}');
    expect(first.stdout).toContain('"msg":"applied database migrations"');
    expect(existsSync(path.join(dataDir, "pglite/PG_VERSION"))).toBe(true);

    // Restart on the same directory: the data is there and nothing is left to migrate.
    const second = await runNode(script, { TEST_DATA_DIR: dataDir }, 20_000);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('{"user":{"email":"pglite@example.test","role":"USER"}}');
    expect(second.stdout).not.toContain("applied database migrations");

    const status = await runPrisma(["migrate", "status"], { DATA_DIR: dataDir });
    expect(status.stdout).toContain("Database schema is up to date");
    expect(status.code).toBe(0);
  }, 120_000); // two cold PGlite starts (initdb in wasm) plus the Prisma CLI; slow on a busy 2-core box

  test("a failing migration is an error and is not recorded as applied", async () => {
    const dataDir = mkdtempSync(path.join(work, "pglite-broken-"));
    const dir = migrationsWithBrokenOne();
    await expect(initDatabase({ dataDir, migrationsDir: dir })).rejects.toThrow(/no_such_table/);
    // Inspect the directory afterwards (initDatabase closed its PGlite on failure).
    const { PGlite } = await import("@electric-sql/pglite");
    const pglite = await PGlite.create(path.join(dataDir, "pglite"));
    try {
      const { rows } = await pglite.query<{ migration_name: string; finished: boolean }>(
        "SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY 1",
      );
      expect(rows.find((row) => row.migration_name === "29990101000000_broken")).toEqual({
        migration_name: "29990101000000_broken",
        finished: false,
      });
      expect((await pglite.query("SELECT to_regclass('half_done') AS t")).rows).toEqual([{ t: null }]);
    } finally {
      await pglite.close();
    }
  }, 120_000); // a cold PGlite start (initdb in wasm) and every migration up to the broken one
});

describe("migration drift check (prisma migrate diff --exit-code), offline", () => {
  const driftArgs = (prismaDir: string) => [
    "migrate",
    "diff",
    "--from-migrations",
    path.join(prismaDir, "migrations"),
    "--to-schema",
    path.join(prismaDir, "schema.prisma"),
    "--exit-code",
  ];

  test("exits 0 when the migrations match schema.prisma, without touching any database", async () => {
    const dataDir = path.join(work, "drift-data");
    const result = await runPrisma(driftArgs(path.join(root, "prisma")), { DATA_DIR: dataDir });
    expect(result.stdout).toContain("No difference detected");
    expect(result.code).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  }, 90_000); // the wasm schema engine replays every migration

  test("exits non-zero when schema.prisma has a field no migration creates", async () => {
    const copy = path.join(work, "prisma-copy");
    cpSync(path.join(root, "prisma"), copy, { recursive: true });
    const schemaFile = path.join(copy, "schema.prisma");
    const schema = readFileSync(schemaFile, "utf8");
    const changed = schema.replace(/^(model User \{\n)/m, "$1  nickname     String?\n");
    expect(changed).not.toBe(schema);
    writeFileSync(schemaFile, changed);

    const result = await runPrisma(driftArgs(copy), { DATA_DIR: path.join(work, "drift-data") });
    expect(result.stdout).toContain("Added column `nickname`");
    expect(result.code).toBe(2);
  }, 90_000);
});
