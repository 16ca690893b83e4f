// Types for schema-engine-wasm.mjs (plain ESM so the CLI shim runs on plain Node).
import type { PGlite } from "@electric-sql/pglite";
import type { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import type { PrismaPGlite } from "pglite-prisma-adapter";

export declare const DEFAULT_LOCKFILE: string;
export declare function isPostgresUrl(url: string | undefined): boolean;
export declare function pgliteDirFromUrl(url: string, cwd?: string): string;
export declare function pgPoolConfig(connectionString: string, defaults?: pg.PoolConfig): pg.PoolConfig;
export declare function createPgPool(config: pg.PoolConfig): Promise<pg.Pool>;
export declare function pgAdapterFactory(
  pool: pg.Pool,
  options?: ConstructorParameters<typeof PrismaPg>[1],
): Promise<PrismaPg>;
export declare function pgliteAdapterFactory(pglite: PGlite): Promise<PrismaPGlite>;
export declare function migrationAdapterFactory(
  main: { provider: "postgres"; adapterName: string; connect(): Promise<unknown> },
  options?: { takeShadow?: () => PGlite | undefined },
): Promise<MigrationAdapterFactory>;

/** A driver adapter factory bound for the schema engine. */
export type MigrationAdapterFactory = { readonly provider: "postgres"; readonly adapterName: string };

export interface MigrationList {
  baseDir: string;
  lockfile: { path: string; content: string | null };
  shadowDbInitScript: string;
  migrationDirectories: {
    path: string;
    migrationFile: {
      path: string;
      content: { tag: "ok"; value: string } | { tag: "error"; value: string };
    };
  }[];
}

export interface SchemaFilter {
  externalTables: string[];
  externalEnums: string[];
}

export interface SchemaEngineHandle {
  version(): string;
  call(
    method: "applyMigrations",
    params: { migrationsList: MigrationList; filters: SchemaFilter },
  ): Promise<{
    appliedMigrationNames: string[];
  }>;
  call(method: string, params?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

export declare function loadSchemaEngineWasm(): Promise<{ version(): string }>;
export declare function openSchemaEngine(options: {
  adapterFactory: MigrationAdapterFactory;
  datamodels?: [string, string][];
  onLog?: (line: string) => void;
}): Promise<SchemaEngineHandle>;
export declare function readMigrationsList(
  baseDir: string,
  shadowDbInitScript?: string,
): Promise<MigrationList>;
export declare function migrationChecksum(sql: string): string;
export declare function allMigrationsApplied(
  migrationsList: MigrationList,
  query: (sql: string) => Promise<Record<string, unknown>[]>,
): Promise<boolean>;
