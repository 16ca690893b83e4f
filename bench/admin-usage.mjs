#!/usr/bin/env node
// The admin usage page over a year of roll-ups for 1,000 users: server response time of
// GET /admin/usage (the whole server-rendered page: loader, charts, HTML), of its loader alone
// (the `.data` request a client-side navigation makes) and of the per-user CSV, against a trivial
// signed-in page (/settings) measured in the same run — the ratios are what to compare across
// machines. Needs `npm run build` first and PostgreSQL on 127.0.0.1:5432 (user postgres).
//
//   node bench/admin-usage.mjs [requests=40] [users=1000] [days=365]
//
// The seed is dense on purpose (every user active on both chat and the API every day, four
// models): usage_user_daily gets users x days x 2 rows (730,000 for the defaults).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import pg from "pg";

const requests = Number(process.argv[2] ?? 40);
const users = Number(process.argv[3] ?? 1000);
const days = Number(process.argv[4] ?? 365);
const adminUrl = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const dbName = `bench_admin_usage_${process.pid}`;

async function freePort() {
  const server = createServer().listen(0);
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  return port;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const admin = new pg.Client(adminUrl);
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = `/${dbName}`;
const port = await freePort();
const app = spawn(process.execPath, ["build/server.js"], {
  env: {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: databaseUrl.toString(),
    LOG_LEVEL: "warn",
    OLLAMA_URL: "http://127.0.0.1:9",
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const base = `http://127.0.0.1:${port}`;

try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch {}
    if (i > 150) throw new Error("app did not start");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The first account is the administrator.
  const signup = await fetch(`${base}/signup`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ email: "bench-admin@example.com", password: "correct horse battery" }),
  });
  const cookie = signup.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");

  const db = new pg.Client(databaseUrl.toString());
  await db.connect();
  const seedStarted = performance.now();
  await db.query(
    `INSERT INTO users (id, email, updated_at)
     SELECT 'bench-user-' || g, 'user' || g || '@example.com', now() FROM generate_series(1, $1::int) g`,
    [users],
  );
  // Per day, source and model: what every per-day chart reads. Latency histograms of 22 buckets.
  await db.query(
    `INSERT INTO usage_model_daily (day, source, model, requests, errors, prompt_tokens, completion_tokens, latency_ms_total, latency_buckets)
     SELECT current_date - d, s::"UsageSource", 'model-' || m,
            r, r / 50, r * 300::bigint, r * 120::bigint, r * 900::bigint,
            ARRAY(SELECT CASE WHEN b BETWEEN 4 + m AND 9 + m THEN r / 6 ELSE 0 END FROM generate_series(0, 21) b)
     FROM generate_series(0, $1::int - 1) d, unnest(ARRAY['chat', 'api']) s, generate_series(1, 4) m,
          LATERAL (SELECT ($2::int * (5 + m))::int AS r) AS x`,
    [days, users],
  );
  // Per day, source and user: every user on both sources every day.
  await db.query(
    `INSERT INTO usage_user_daily (day, source, user_id, requests, errors, prompt_tokens, completion_tokens)
     SELECT current_date - d, s::"UsageSource", 'bench-user-' || u,
            10 + (u * 7 + d) % 40, (u + d) % 3, (10 + (u * 7 + d) % 40) * 300, (10 + (u * 7 + d) % 40) * 120
     FROM generate_series(0, $1::int - 1) d, unnest(ARRAY['chat', 'api']) s, generate_series(1, $2::int) u`,
    [days, users],
  );
  await db.query(
    `INSERT INTO usage_user_monthly (month, source, user_id, requests, errors, prompt_tokens, completion_tokens)
     SELECT date_trunc('month', day)::date, source, user_id, sum(requests), sum(errors), sum(prompt_tokens), sum(completion_tokens)
     FROM usage_user_daily GROUP BY 1, 2, 3`,
  );
  await db.query("VACUUM ANALYZE usage_model_daily, usage_user_daily, usage_user_monthly");
  const counts = (
    await db.query(
      `SELECT (SELECT count(*) FROM usage_model_daily) AS model_daily, (SELECT count(*) FROM usage_user_daily) AS user_daily,
              (SELECT count(*) FROM usage_user_monthly) AS user_monthly`,
    )
  ).rows[0];
  await db.end();
  console.log(
    `seeded ${users} users x ${days} days in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s: ` +
      `usage_model_daily ${counts.model_daily} rows, usage_user_daily ${counts.user_daily}, usage_user_monthly ${counts.user_monthly}`,
  );

  async function measure(path) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < requests + 5; i++) {
      const started = performance.now();
      const response = await fetch(base + path, { headers: { cookie, "user-agent": "bench" } });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body.slice(0, 200)}`);
      bytes = body.length;
      if (i >= 5) times.push(performance.now() - started); // the first 5 warm up
    }
    return { times: times.sort((a, b) => a - b), bytes };
  }
  const cases = [
    ["/settings (baseline)", "/settings"],
    ["/admin/usage, 12 months", "/admin/usage?preset=365d&source=all"],
    ["  loader only (.data)", "/admin/usage.data?preset=365d&source=all"],
    ["  per-user CSV, all users", "/admin/usage.csv?preset=365d&source=all&table=users"],
    ["/admin/usage, 30 days", "/admin/usage?preset=30d&source=all"],
    ["/settings (baseline again)", "/settings"],
  ];
  const results = [];
  for (const [label, path] of cases) results.push([label, await measure(path)]);
  const baseline = results[0][1].times;
  console.log(`\n${requests} sequential requests each, after 5 warm-up requests`);
  console.log(`${"".padEnd(30)}    p50 ms    p95 ms   p50/base  p95/base   bytes`);
  for (const [label, { times, bytes }] of results) {
    const p50 = percentile(times, 50);
    const p95 = percentile(times, 95);
    console.log(
      `${label.padEnd(30)} ${p50.toFixed(1).padStart(9)} ${p95.toFixed(1).padStart(9)} ${`${(p50 / percentile(baseline, 50)).toFixed(1)}x`.padStart(10)} ${`${(p95 / percentile(baseline, 95)).toFixed(1)}x`.padStart(9)} ${String(bytes).padStart(8)}`,
    );
  }
} finally {
  app.kill("SIGTERM");
  await once(app, "exit");
  // BENCH_KEEP=1 leaves the seeded database for EXPLAIN ANALYZE; drop it by hand afterwards.
  if (process.env.BENCH_KEEP) console.log(`kept ${databaseUrl}`);
  else await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
