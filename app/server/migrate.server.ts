/**
 * Applies pending migrations from prisma/migrations at start, through Prisma's WASM schema engine
 * (the same engine and `_prisma_migrations` bookkeeping as `prisma migrate deploy`, no CLI, no native
 * binary). A plain query first compares the folder with `_prisma_migrations`, so an up-to-date
 * database costs one query and the engine is never loaded.
 *
 * PostgreSQL: replicas starting together serialise on an advisory lock held on a dedicated
 * connection; the first applies the migrations, the others wait, re-check and find nothing to do.
 */
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import {
  allMigrationsApplied,
  createPgPool,
  migrationAdapterFactory,
  openSchemaEngine,
  pgAdapterFactory,
  pgliteAdapterFactory,
  pgPoolConfig,
  readMigrationsList,
} from "../../scripts/schema-engine-wasm.mjs";

/** Key of the advisory lock around migrations (two-int form: never collides with Prisma's own). */
const LOCK_KEY = [0x43434149, 1]; // "CCAI", 1

export type MigrationTarget =
  | { kind: "postgres"; databaseUrl: string; pool: pg.Pool }
  | { kind: "pglite"; pglite: PGlite };

export interface MigrationResult {
  /** Migrations this call applied (empty when the database was up to date). */
  applied: string[];
  /** Whether the WASM engine had to be loaded. */
  engineUsed: boolean;
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MigrationError";
  }
}

const NO_FILTER = { externalTables: [], externalEnums: [] };

export async function applyPendingMigrations(
  target: MigrationTarget,
  migrationsDir: string,
): Promise<MigrationResult> {
  const migrations = await readMigrationsList(migrationsDir);
  const query =
    target.kind === "postgres"
      ? async (sql: string) => (await target.pool.query(sql)).rows
      : async (sql: string) => (await target.pglite.query<Record<string, unknown>>(sql)).rows;
  if (await allMigrationsApplied(migrations, query)) return { applied: [], engineUsed: false };

  if (target.kind === "pglite") {
    const applied = await runEngine(migrations, await pgliteAdapterFactory(target.pglite), async () => {});
    return { applied, engineUsed: true };
  }

  const { default: pg } = await import("pg");
  const lock = new pg.Client(pgPoolConfig(target.databaseUrl, { connectionTimeoutMillis: 10_000 }));
  lock.on("error", () => {});
  await lock.connect();
  try {
    await lock.query("SELECT pg_advisory_lock($1, $2)", LOCK_KEY);
    // Another replica may have applied everything while this one waited.
    if (await allMigrationsApplied(migrations, query)) return { applied: [], engineUsed: false };
    // One connection: the engine's own session-level lock and its scripts must share it.
    const pool = await createPgPool(
      pgPoolConfig(target.databaseUrl, { max: 1, connectionTimeoutMillis: 10_000 }),
    );
    const applied = await runEngine(migrations, await pgAdapterFactory(pool), () => pool.end());
    return { applied, engineUsed: true };
  } finally {
    await lock.query("SELECT pg_advisory_unlock($1, $2)", LOCK_KEY).catch(() => {});
    await lock.end().catch(() => {});
  }
}

async function runEngine(
  migrations: Awaited<ReturnType<typeof readMigrationsList>>,
  main: Parameters<typeof migrationAdapterFactory>[0],
  release: () => Promise<void>,
): Promise<string[]> {
  const logs: string[] = [];
  try {
    const engine = await openSchemaEngine({
      adapterFactory: await migrationAdapterFactory(main),
      onLog: (line) => logs.push(line),
    });
    try {
      const { appliedMigrationNames } = await engine.call("applyMigrations", {
        migrationsList: migrations,
        filters: NO_FILTER,
      });
      return appliedMigrationNames;
    } finally {
      await engine.close();
    }
  } catch (error) {
    // The engine appends a Rust span trace ("   0: sql_schema_connector::…"): keep the message only.
    const message = (error instanceof Error ? error.message : String(error)).split(/\n\s*0: /)[0].trim();
    throw new MigrationError(`Applying migrations from ${migrations.baseDir} failed: ${message}`, {
      cause: error,
    });
  } finally {
    await release();
  }
}
