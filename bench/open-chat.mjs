#!/usr/bin/env node
// Opening a long chat: server response time of GET /chat/:id for a chat with 5,000 messages,
// against a chat with 10 messages measured in the same run (the ratio is what to compare across
// machines). Needs `npm run build` first and PostgreSQL on 127.0.0.1:5432 (user postgres).
//
//   node bench/open-chat.mjs [requests=200]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import pg from "pg";

const requests = Number(process.argv[2] ?? 200);
const adminUrl = "postgres://postgres@127.0.0.1:5432/postgres";
const dbName = `bench_open_chat_${process.pid}`;

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
const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const port = await freePort();
const app = spawn(process.execPath, ["build/server.js"], {
  env: {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: databaseUrl,
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
    if (i > 100) throw new Error("app did not start");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const signup = await fetch(`${base}/signup`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ email: "bench@example.com", password: "correct horse battery" }),
  });
  const cookie = signup.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");

  const db = new pg.Client(databaseUrl);
  await db.connect();
  const {
    rows: [user],
  } = await db.query("SELECT id FROM users WHERE email = 'bench@example.com'");
  async function seedChat(id, count) {
    await db.query("INSERT INTO chats (id, user_id, title, model) VALUES ($1, $2, $3, 'llama3.2:latest')", [
      id,
      user.id,
      `${count} messages`,
    ]);
    await db.query(
      `INSERT INTO messages (chat_id, role, content, status, model, prompt_tokens, completion_tokens)
       SELECT $1, CASE WHEN n % 2 = 0 THEN 'user'::"MessageRole" ELSE 'assistant'::"MessageRole" END,
              'Message ' || n || ': ' || repeat('some **markdown** text with a [link](https://example.com) ', 6),
              'complete', 'llama3.2:latest', 40, 120
       FROM generate_series(1, $2) AS n`,
      [id, count],
    );
  }
  await seedChat("benchshort", 10);
  await seedChat("benchlong", 5000);
  await db.end();

  async function measure(path) {
    const times = [];
    for (let i = 0; i < requests + 10; i++) {
      const started = performance.now();
      const response = await fetch(base + path, { headers: { cookie, "user-agent": "bench" } });
      await response.text();
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      if (i >= 10) times.push(performance.now() - started); // the first 10 warm up
    }
    return times.sort((a, b) => a - b);
  }
  // Interleave nothing: measure the baseline, the long chat, then the baseline again to see drift.
  const short = await measure("/chat/benchshort");
  const long = await measure("/chat/benchlong");
  const row = (label, times) =>
    `${label.padEnd(28)} p50 ${percentile(times, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(times, 95).toFixed(1).padStart(6)} ms`;
  console.log(`GET /chat/:id, ${requests} sequential requests each (server-rendered HTML, full page)`);
  console.log(row("10-message chat (baseline)", short));
  console.log(row("5,000-message chat", long));
  console.log(
    `ratio 5,000 / 10 messages:    p50 ${(percentile(long, 50) / percentile(short, 50)).toFixed(2)}x   p95 ${(percentile(long, 95) / percentile(short, 95)).toFixed(2)}x`,
  );
} finally {
  app.kill("SIGTERM");
  await once(app, "exit");
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}
