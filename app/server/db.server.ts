/**
 * The database: one PrismaClient per process, over PostgreSQL (DATABASE_URL, via @prisma/adapter-pg)
 * or, without DATABASE_URL, an embedded PGlite database in `${DATA_DIR}/pglite`.
 * initDatabase() also applies pending migrations (see migrate.server.ts).
 *
 * Pool settings ride on DATABASE_URL, as with Prisma's own engines: `connection_limit` (default 5),
 * `pool_timeout` / `connect_timeout` (seconds, default 5), `idle_timeout` (seconds, default 30).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import { PrismaClient } from "~/generated/prisma/client";
import { createPgPool, pgPoolConfig } from "../../scripts/schema-engine-wasm.mjs";
import { log } from "./log.server";
import { applyPendingMigrations } from "./migrate.server";

export interface InitDatabaseOptions {
  /** postgres://… ; blank or undefined = embedded PGlite in `${dataDir}/pglite`. */
  databaseUrl?: string;
  dataDir: string;
  /** Defaults to prisma/migrations under the working directory (the app runs from the project root). */
  migrationsDir?: string;
}

export type DatabaseKind = "postgresql" | "pglite";

interface DatabaseState {
  kind: DatabaseKind;
  prisma: PrismaClient;
  pool?: pg.Pool;
  pglite?: PGlite;
}

const CHECK_TIMEOUT_MS = 1500;

let state: DatabaseState | undefined;
let initializing: Promise<void> | undefined;

/**
 * Opens the database and applies pending migrations. Memoised: later calls return the first call's
 * promise. A failed call closes what it opened, so it may be retried.
 */
export function initDatabase(options: InitDatabaseOptions): Promise<void> {
  initializing ??= open(options).catch((error) => {
    initializing = undefined;
    throw error;
  });
  return initializing;
}

async function open({ databaseUrl, dataDir, migrationsDir }: InitDatabaseOptions) {
  const migrations = path.resolve(process.cwd(), migrationsDir ?? "prisma/migrations");
  const url = databaseUrl?.trim();
  const started = performance.now();
  let opened: DatabaseState;
  if (url) {
    const { PrismaPg } = await import("@prisma/adapter-pg");
    const pool = await createPgPool(
      pgPoolConfig(url, {
        max: 5,
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 30_000,
        application_name: "customchatai",
      }),
    );
    opened = { kind: "postgresql", pool, prisma: new PrismaClient({ adapter: new PrismaPg(pool) }) };
  } else {
    const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
      import("@electric-sql/pglite"),
      import("pglite-prisma-adapter"),
    ]);
    const dir = path.resolve(dataDir, "pglite");
    await mkdir(dir, { recursive: true });
    const pglite = await PGlite.create(dir);
    opened = { kind: "pglite", pglite, prisma: new PrismaClient({ adapter: new PrismaPGlite(pglite) }) };
  }
  try {
    const result = await applyPendingMigrations(
      opened.kind === "postgresql"
        ? { kind: "postgres", databaseUrl: url!, pool: opened.pool! }
        : { kind: "pglite", pglite: opened.pglite! },
      migrations,
    );
    if (result.applied.length > 0) log.info("applied database migrations", { migrations: result.applied });
  } catch (error) {
    await release(opened);
    throw error;
  }
  state = opened;
  log.debug("database ready", { database: opened.kind, ms: Math.round(performance.now() - started) });
}

/** The PrismaClient. Throws if initDatabase() has not completed. */
export function db(): PrismaClient {
  if (!state) throw new Error("Database not initialised: await initDatabase() before using db()");
  return state.prisma;
}

/** Which database initDatabase() opened, or undefined before it completes. */
export function databaseKind(): DatabaseKind | undefined {
  return state?.kind;
}

/** `SELECT 1`; rejects within ~1.5 s when the database does not answer (health checks). */
export async function checkDatabase(): Promise<void> {
  const current = state;
  if (!current) throw new Error("Database not initialised");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`database did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  const probe = current.pool
    ? current.pool.query({ text: "SELECT 1", query_timeout: CHECK_TIMEOUT_MS } as pg.QueryConfig)
    : current.pglite!.query("SELECT 1");
  probe.catch(() => {}); // settled after the timeout: nobody is listening any more
  try {
    await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Disconnects Prisma and closes the pg pool or PGlite (which otherwise keeps the process alive). */
export async function closeDatabase(): Promise<void> {
  await initializing?.catch(() => {});
  const current = state;
  state = undefined;
  initializing = undefined;
  if (current) await release(current);
}

async function release(current: DatabaseState) {
  await current.prisma.$disconnect().catch(() => {});
  await current.pool?.end().catch(() => {});
  if (current.pglite && !current.pglite.closed) await current.pglite.close().catch(() => {});
}
