#!/usr/bin/env node
// Search benchmark: seeds a scratch PostgreSQL database with a million messages, then times the
// app's own searchChats() (bundled from app/server, same Prisma client and SQL as the server) for
// common, rare, prefix and phrase queries. Times are reported as ratios to baselines measured in
// the same run through the same client, so they mean something on a busy or slow machine too.
//
//   node bench/search.mjs [--messages 1000000] [--chats 2000] [--users 6] [--share 0.4] [--runs 25]
//                         [--keep]           keep the scratch database (prints its URL)
//                         [--reuse URL]      benchmark an already seeded database, do not drop it
//
// Needs PostgreSQL at BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import pg from "pg";
import { generatedWord, HEAD_WORD_COUNT, seed } from "./seed-search.mjs";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    chats: { type: "string", default: "2000" },
    users: { type: "string", default: "6" },
    share: { type: "string", default: "0.4" },
    runs: { type: "string", default: "25" },
    keep: { type: "boolean", default: false },
    reuse: { type: "string" },
  },
});
const adminUrl = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const root = path.resolve(import.meta.dirname, "..");
const runs = Number(args.runs);
const say = (line) => process.stderr.write(`${line}\n`);

// The database: a fresh scratch one, or --reuse.
const name = `ccai_bench_search_${randomBytes(4).toString("hex")}`;
const url = new URL(args.reuse ?? adminUrl);
if (!args.reuse) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  url.pathname = `/${name}`;
}
const databaseUrl = url.toString();

// The app's server modules, bundled the way tests/integration/db.test.ts does it.
mkdirSync(path.join(root, "node_modules/.cache"), { recursive: true });
const bundleDir = mkdtempSync(path.join(root, "node_modules/.cache/ccai-bench-"));
const dataDir = mkdtempSync(path.join(tmpdir(), "ccai-bench-"));
process.env.LOG_LEVEL = "warn";

try {
  await build({
    stdin: {
      contents: `export { initDatabase, closeDatabase, db } from "~/server/db.server";
                 export { searchChats, tsQuerySql } from "~/server/chat/search.server";`,
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    alias: { "~": path.join(root, "app") },
    define: { __APP_VERSION__: JSON.stringify("bench") },
    outfile: path.join(bundleDir, "app.mjs"),
    logLevel: "warning",
  });
  const app = await import(path.join(bundleDir, "app.mjs"));
  await app.initDatabase({ databaseUrl, dataDir }); // applies the migrations

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  if (!args.reuse) {
    say(`seeding ${databaseUrl}`);
    await seed(client, {
      users: Number(args.users),
      chats: Number(args.chats),
      messages: Number(args.messages),
      measuredShare: Number(args.share),
      log: (line) => say(`  ${line}`),
    });
  }

  const { rows: owners } = await client.query(
    `SELECT c.user_id, count(*)::int AS messages FROM messages m JOIN chats c ON c.id = m.chat_id
     GROUP BY 1 ORDER BY 2 DESC`,
  );
  const total = owners.reduce((sum, row) => sum + row.messages, 0);
  const big = owners[0];
  const small = owners.at(-1);

  const rare = generatedWord(20_000);
  const rarer = generatedWord(45_000);
  const cases = [
    ["very common", "the"],
    ["common", "that"],
    ["common", "model"],
    ["medium", "postgres"],
    ["medium", "ollama"],
    ["rare", rare],
    ["very rare", rarer],
    ["prefix", "strea"],
    ["prefix, rare", rare.slice(0, -1)],
    ["two words", "postgres streaming"],
    ["phrase", '"stream the"'],
    ["excluded word", "model -the"],
    ["no match", "zzzzqx"],
  ];

  const percentile = (sorted, p) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const timeOf = async (fn) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };

  // Baselines through the same Prisma client: a round trip, and an indexed primary-key lookup.
  const [{ maxId }] = await app.db().$queryRaw`SELECT max(id) AS "maxId" FROM messages`;
  const select1 = () => app.db().$queryRaw`SELECT 1`;
  const pkLookup = () =>
    app.db().message.findUnique({
      where: { id: BigInt(1 + Math.floor(Math.random() * Number(maxId))) },
      select: { id: true, content: true },
    });

  /**
   * p50/p95 of `fn` over `runs` runs (after 3 warm-ups), each run followed by a primary-key lookup:
   * the ratio compares both under the same load, which on a shared machine changes by the minute.
   */
  async function measure(fn) {
    for (let i = 0; i < 3; i++) await fn();
    const times = [];
    const baseline = [];
    for (let i = 0; i < runs; i++) {
      times.push(await timeOf(fn));
      baseline.push(await timeOf(pkLookup));
    }
    times.sort((a, b) => a - b);
    baseline.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p95: percentile(times, 95), pk: percentile(baseline, 50) };
  }

  const selectOne = await measure(select1);
  const rows = [];
  for (const [who, owner] of [
    ["big", big],
    ["small", small],
  ]) {
    for (const [kind, q] of cases) {
      if (who === "small" && !["very common", "medium", "rare", "prefix", "phrase"].includes(kind)) continue;
      const [{ matches }] = await app.db().$queryRaw`
        SELECT count(*)::int AS matches FROM messages m JOIN chats c ON c.id = m.chat_id
        WHERE c.user_id = ${owner.user_id} AND m.search_vector @@ ${app.tsQuerySql(q)}`;
      const timing = await measure(() => app.searchChats(owner.user_id, q, 1));
      rows.push({ who, kind, q, matches, ...timing });
      say(`  ${who.padEnd(5)} ${q.padEnd(20)} p50 ${timing.p50.toFixed(1)} ms`);
    }
  }
  const page10 = await measure(() => app.searchChats(big.user_id, "the", 10));
  rows.push({ who: "big", kind: "very common, page 10", q: "the", matches: rows[0].matches, ...page10 });

  const ms = (value) => value.toFixed(1).padStart(7);
  const ratio = (value, base) => `${(value / base).toFixed(0)}×`.padStart(7);
  const share = (owner) => `${((owner.messages / total) * 100).toFixed(0)}%`;
  console.log(
    `\n${total.toLocaleString("en")} messages; big user owns ${owner(big)}, small user ${owner(small)}; ` +
      `vocabulary ${HEAD_WORD_COUNT} real words + generated ones; ${runs} runs per row`,
  );
  function owner(row) {
    return `${row.messages.toLocaleString("en")} (${share(row)})`;
  }
  console.log(
    `baselines: SELECT 1 p50 ${selectOne.p50.toFixed(2)} ms, primary-key lookup p50 ${selectOne.pk.toFixed(2)} ms ` +
      "(PK below: the primary-key lookups interleaved with that row's searches)\n",
  );
  console.log(
    "| user  | query                | kind                 | matches | p50 ms  | p95 ms  | PK ms   | p50/PK  | p95/PK  |",
  );
  console.log(
    "| ----- | -------------------- | -------------------- | ------: | ------: | ------: | ------: | ------: | ------: |",
  );
  for (const row of rows) {
    console.log(
      `| ${row.who.padEnd(5)} | ${row.q.padEnd(20)} | ${row.kind.padEnd(20)} | ${String(row.matches).padStart(7)} | ` +
        `${ms(row.p50)} | ${ms(row.p95)} | ${row.pk.toFixed(2).padStart(7)} | ${ratio(row.p50, row.pk)} | ${ratio(row.p95, row.pk)} |`,
    );
  }
  await client.end();
  await app.closeDatabase();
} finally {
  rmSync(bundleDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
  if (!args.reuse && !args.keep) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    say(`dropped ${name}`);
  } else if (!args.reuse) say(`kept ${databaseUrl}`);
}
