#!/usr/bin/env node
// Stands in for Prisma's native `schema-engine` binary (which the CLI would download from a host that
// is unreachable offline): prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY here. Speaks the same
// command line and JSON-RPC protocol and delegates to the WASM schema engine over JS driver adapters
// (scripts/schema-engine-wasm.mjs).
//
// Datasource URL: postgres://... is a real server; `pglite:<dir>` (or `file:<dir>`) is a PGlite
// directory. The shadow database is always an in-memory PGlite.
import { mkdir, readFile, rm } from "node:fs/promises";
import readline from "node:readline";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import {
  createPgPool,
  DEFAULT_LOCKFILE,
  isPostgresUrl,
  loadSchemaEngineWasm,
  migrationAdapterFactory,
  openSchemaEngine,
  pgAdapterFactory,
  pgliteAdapterFactory,
  pgliteDirFromUrl,
  pgPoolConfig,
} from "./schema-engine-wasm.mjs";

const argv = process.argv.slice(2);
const option = (name) => {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
};

function writeLog(level, message, extra = {}) {
  process.stderr.write(
    `${JSON.stringify({ level, target: "schema_engine::logger", fields: { message, ...extra } })}\n`,
  );
}

if (argv.includes("--version") || argv.includes("-V")) {
  const wasm = await loadSchemaEngineWasm();
  process.stdout.write(`schema-engine-cli ${wasm.version()} (wasm)\n`);
  process.exit(0);
}

const datasource = JSON.parse(option("--datasource") ?? "{}");
const url = datasource.url ?? "";

// ---------- `schema-engine --datasource ... cli <command>`
const cliIndex = argv.indexOf("cli");
if (cliIndex >= 0) {
  const command = argv[cliIndex + 1];
  writeLog("INFO", `schema-engine-wasm cli ${command}`);
  try {
    await runCliCommand(command);
    process.exit(0);
  } catch (error) {
    const { code, message } = describeConnectionError(error);
    writeLog("ERROR", message, code ? { error_code: code } : {});
    process.exit(1);
  }
}

function serverLocation(u) {
  return `${u.hostname || "localhost"}:${u.port || 5432}`;
}

function describeConnectionError(error) {
  if (error?.prismaCode) return { code: error.prismaCode, message: error.message };
  if (isPostgresUrl(url)) {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.slice(1)) || "postgres";
    if (["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "ECONNRESET"].includes(error?.code)) {
      return { code: "P1001", message: `Can't reach database server at \`${serverLocation(u)}\`` };
    }
    if (error?.code === "3D000") {
      return {
        code: "P1003",
        message: `Database \`${database}\` does not exist on the database server at \`${serverLocation(u)}\`.`,
      };
    }
    if (error?.code === "28P01" || error?.code === "28000") {
      return {
        code: "P1000",
        message: `Authentication failed against database server at \`${u.hostname}\`.`,
      };
    }
  }
  return { code: undefined, message: error instanceof Error ? error.message : String(error) };
}

async function runCliCommand(command) {
  if (!isPostgresUrl(url)) {
    const dir = pgliteDirFromUrl(url);
    // PGlite creates its directory on first use; answering "does not exist" would make the CLI parse
    // the URL to report the creation, which it cannot do for a pglite: URL.
    if (command === "can-connect-to-database") return;
    if (command === "create-database") {
      await mkdir(dir, { recursive: true });
      const db = new PGlite(dir);
      await db.waitReady;
      await db.close();
      return;
    }
    if (command === "drop-database") {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    throw new Error(`Unsupported command: ${command}`);
  }
  if (command === "can-connect-to-database") {
    const client = new pg.Client(pgPoolConfig(url, { connectionTimeoutMillis: 10_000 }));
    await client.connect();
    await client.end();
    return;
  }
  if (command === "create-database" || command === "drop-database") {
    const target = new URL(url);
    const name = decodeURIComponent(target.pathname.slice(1)) || "postgres";
    const maintenance = new URL(url);
    maintenance.pathname = "/postgres";
    const client = new pg.Client(pgPoolConfig(maintenance.toString(), { connectionTimeoutMillis: 10_000 }));
    await client.connect();
    try {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      await client.query(
        command === "create-database" ? `CREATE DATABASE ${quoted}` : `DROP DATABASE ${quoted}`,
      );
    } finally {
      await client.end();
    }
    return;
  }
  throw new Error(`Unsupported command: ${command}`);
}

// ---------- JSON-RPC over stdin/stdout

// The engine's first query, made as soon as it is created, whatever the command.
const PROBE_QUERY = /^SELECT EXISTS\(SELECT 1 FROM pg_namespace WHERE nspname = \$1\), version\(\)/;

/**
 * The main database, opened on first use: commands such as the drift check
 * (`migrate diff --from-migrations --to-schema`) never need it. For a PGlite directory the engine's
 * opening probe (schema exists? server version?) is answered by a scratch in-memory PGlite of the same
 * version, which then serves as the first shadow database: the drift check creates no ./data.
 */
function lazyMainFactory() {
  let opened;
  let scratch;
  let scratchTaken = false;
  const closers = [];
  const probeScratch = async (query) => {
    scratch ??= new PGlite();
    return (await pgliteAdapterFactory(scratch)).connect().then((adapter) => adapter.queryRaw(query));
  };
  const open = () => {
    opened ??= (async () => {
      if (isPostgresUrl(url)) {
        // One connection: the engine's session-level advisory lock and its migrations share it.
        const pool = await createPgPool(pgPoolConfig(url, { max: 1 }));
        closers.push(() => pool.end());
        return (await pgAdapterFactory(pool)).connect();
      }
      const dir = pgliteDirFromUrl(url);
      await mkdir(dir, { recursive: true });
      const db = new PGlite(dir);
      closers.push(() => db.close());
      return (await pgliteAdapterFactory(db)).connect();
    })();
    return opened;
  };
  const adapter = {
    provider: "postgres",
    adapterName: isPostgresUrl(url) ? "@prisma/adapter-pg" : "@prisma/adapter-pglite",
    queryRaw: async (query) => {
      if (!opened && !isPostgresUrl(url) && !scratchTaken && PROBE_QUERY.test(query.sql)) {
        return probeScratch(query);
      }
      return (await open()).queryRaw(query);
    },
    executeRaw: async (query) => (await open()).executeRaw(query),
    executeScript: async (script) => (await open()).executeScript(script),
    startTransaction: async (isolationLevel) => (await open()).startTransaction(isolationLevel),
    getConnectionInfo: () => ({ schemaName: undefined, supportsRelationJoins: true }),
    dispose: async () => {},
  };
  return {
    factory: { provider: "postgres", adapterName: adapter.adapterName, connect: async () => adapter },
    takeShadow() {
      if (!scratch || scratchTaken) return undefined;
      scratchTaken = true;
      return scratch;
    },
    async close() {
      if (scratch && !scratchTaken && !scratch.closed) await scratch.close().catch(() => {});
      for (const close of closers.splice(0)) await close().catch(() => {});
    },
  };
}

const datamodels = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--datamodels" && argv[i + 1]) {
    const file = argv[++i];
    datamodels.push([file, await readFile(file, "utf8")]);
  }
}

const main = lazyMainFactory();
const engine = await openSchemaEngine({
  adapterFactory: await migrationAdapterFactory(main.factory, { takeShadow: () => main.takeShadow() }),
  datamodels: datamodels.length ? datamodels : undefined,
  onLog: (line) => process.stderr.write(`${line.trimEnd()}\n`),
});

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
let nextRequestId = 1;
const pendingRequests = new Map();

/** Asks the CLI to print `content` (how the native engine outputs a diff) and waits for its answer. */
function printThroughCli(content) {
  const id = `print-${nextRequestId++}`;
  return new Promise((resolve) => {
    pendingRequests.set(id, resolve);
    send({ jsonrpc: "2.0", id, method: "print", params: { content } });
  });
}

function withLockfile(migrationsList) {
  if (migrationsList?.lockfile && migrationsList.lockfile.content == null) {
    migrationsList.lockfile.content = DEFAULT_LOCKFILE;
  }
  return migrationsList;
}

function timestamp() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** The SQL from the migrations folder (replayed on the in-memory shadow) to `schema`, or null. */
async function pendingScript({ migrationsList, schema, filters }) {
  const result = await engine.call("diff", {
    from: { tag: "migrations", ...withLockfile(migrationsList) },
    to: { tag: "schemaDatamodel", files: schema.files },
    script: true,
    exitCode: true,
    filters,
  });
  return result.exitCode === 2 ? (result.stdout ?? "") : null;
}

const handlers = {
  getDatabaseVersion: (params) => engine.call("version", params),
  // The WASM engine cannot reach a PostgreSQL shadow database here, so a new migration is the diff
  // from the migrations folder to the schema (Prisma's data-loss warnings are lost: review the SQL).
  async createMigration(params) {
    const script = await pendingScript(params);
    const name = params.migrationName ? `${timestamp()}_${params.migrationName}` : timestamp();
    return {
      connectorType: "postgresql",
      generatedMigrationName: name,
      extension: "sql",
      migrationScript: script ?? (params.draft ? "-- This is an empty migration.\n" : null),
    };
  },
  async evaluateDataLoss(params) {
    const script = await pendingScript(params);
    return { migrationSteps: script ? 1 : 0, warnings: [], unexecutableSteps: [] };
  },
  async diff(params) {
    for (const side of [params.from, params.to]) if (side?.tag === "migrations") withLockfile(side);
    const result = await engine.call("diff", params);
    if (result.stdout) await printThroughCli(result.stdout.replace(/\n$/, ""));
    return { exitCode: result.exitCode };
  },
};

async function handle(request) {
  const params = request.params ?? {};
  if (params.migrationsList) withLockfile(params.migrationsList);
  const handler = handlers[request.method];
  return handler ? handler(params) : engine.call(request.method, params);
}

function errorResponse(id, error) {
  const message = error instanceof Error ? error.message : String(error);
  const isPanic = error instanceof WebAssembly.RuntimeError;
  return {
    jsonrpc: "2.0",
    id,
    error: {
      code: 4466,
      message: "An error happened. Check the data field for details.",
      data: {
        is_panic: isPanic,
        message,
        backtrace: isPanic ? error.stack : undefined,
        error_code: error?.code ?? error?.errorCode ?? undefined,
        meta: error?.meta ?? {},
      },
    },
  };
}

const inFlight = new Set();
const lines = readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
lines.on("line", (line) => {
  if (!line.trim()) return;
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    writeLog("ERROR", `Could not parse JSON-RPC message: ${line.slice(0, 200)}`);
    return;
  }
  if (message.method === undefined && pendingRequests.has(message.id)) {
    pendingRequests.get(message.id)(message);
    pendingRequests.delete(message.id);
    return;
  }
  const work = handle(message).then(
    (result) => send({ jsonrpc: "2.0", id: message.id, result: result ?? null }),
    (error) => send(errorResponse(message.id, error)),
  );
  inFlight.add(work);
  work.finally(() => inFlight.delete(work));
});
lines.on("close", async () => {
  await Promise.allSettled([...inFlight]);
  await engine.close().catch(() => {});
  await main.close();
  process.exit(0);
});
