// Prisma CLI configuration. Works with no internet access: the CLI would otherwise download a native
// schema engine, so PRISMA_SCHEMA_ENGINE_BINARY points it at scripts/prisma-schema-engine.mjs, which
// runs Prisma's WASM schema engine over JS driver adapters.
//
// Database: DATABASE_URL (PostgreSQL) when set, else the embedded PGlite database the app uses,
// `${DATA_DIR:-./data}/pglite`, named by a `pglite:` URL that only that engine understands.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

const root = path.dirname(fileURLToPath(import.meta.url));

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(root, "scripts/prisma-schema-engine.mjs");
// Nothing to download or report: keep the CLI from trying the network at all.
process.env.PRISMA_HIDE_UPDATE_MESSAGE ??= "1";
process.env.CHECKPOINT_DISABLE ??= "1";

const databaseUrl = process.env.DATABASE_URL?.trim();
const pgliteDir = path.resolve(root, process.env.DATA_DIR?.trim() || "./data", "pglite");

export default defineConfig({
  schema: path.join(root, "prisma/schema.prisma"),
  migrations: { path: path.join(root, "prisma/migrations") },
  datasource: { url: databaseUrl || `pglite:${pgliteDir}` },
});
