#!/usr/bin/env node
// Page weight: the JavaScript a first visit to each main page downloads, gzip-compressed, against
// the budget of issue 11 (180 kB for a chat page). Loads the pages in Chromium (playwright-core,
// /usr/bin/chromium) against the built app with a fresh PostgreSQL database and the fake Ollama.
// Needs `npm run build` first. Not timed: sizes only, so the numbers are the same on any machine.
//
//   node bench/page-weight.mjs            # prints a Markdown table
//   node bench/page-weight.mjs --json     # the same rows as JSON
//   node bench/page-weight.mjs --files    # also every script of every page, with its size
//
// The Node server does not compress (nginx does in production, docker/nginx.conf `gzip on`), so this
// gzips each script body itself with zlib at level 6 (nginx's gzip_comp_level is 1 by default,
// which compresses a little less; Vite's build report uses level 9). "first load" is every script
// the page fetched until the network went idle, including chunks imported lazily after hydration;
// "in HTML" is the part the document names itself (module preloads and the entry).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import pg from "pg";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUDGET_KB = 180;
const asJson = process.argv.includes("--json");
const listFiles = process.argv.includes("--files");
const adminUrl = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const dbName = `bench_page_weight_${process.pid}`;

const CODE_AND_TABLE_REPLY = [
  "Here is a function and a comparison.",
  "",
  "```ts",
  "export function add(a: number, b: number): number {",
  "  return a + b;",
  "}",
  "```",
  "",
  "```python",
  "def add(a, b):",
  "    return a + b",
  "```",
  "",
  "| Language | Typing | Speed |",
  "| --- | --- | --- |",
  "| TypeScript | static | fast |",
  "| Python | dynamic | slower |",
].join("\n");

async function freePort() {
  const server = createServer().listen(0);
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  return port;
}

const cleanup = [];
try {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  cleanup.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${dbName}`;

  // The fake Ollama (so the chat pages list models, as in real use), in its own process.
  const fake = spawn(path.join(ROOT, "node_modules/.bin/vite-node"), ["bench/fake-ollama.ts"], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanup.push(async () => {
    fake.kill("SIGTERM");
    if (fake.exitCode === null) await once(fake, "exit");
  });
  const [line] = await once(createInterface({ input: fake.stdout }), "line");
  const ollamaUrl = JSON.parse(line).url;

  const port = await freePort();
  const app = spawn(process.execPath, ["build/server.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: databaseUrl.href,
      OLLAMA_URL: ollamaUrl,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  cleanup.push(async () => {
    app.kill("SIGTERM");
    if (app.exitCode === null) await once(app, "exit");
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch {}
    if (i > 150) throw new Error("app did not start");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const signup = await fetch(`${base}/signup`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ email: "weight@example.com", password: "correct horse battery" }),
  });
  const cookies = signup.headers.getSetCookie().map((header) => {
    const [pair] = header.split(";");
    const at = pair.indexOf("=");
    return { name: pair.slice(0, at), value: pair.slice(at + 1), url: base };
  });
  if (!cookies.length) throw new Error(`signup failed: ${signup.status}`);

  // Finished chats, written straight into the database: what matters is how they render.
  const db = new pg.Client(databaseUrl.href);
  await db.connect();
  const {
    rows: [user],
  } = await db.query("SELECT id FROM users WHERE email = 'weight@example.com'");
  async function seedChat(id, reply) {
    await db.query("INSERT INTO chats (id, user_id, title, model) VALUES ($1, $2, $3, 'llama3.2:latest')", [
      id,
      user.id,
      id,
    ]);
    await db.query(
      `INSERT INTO messages (chat_id, role, content, status, model, prompt_tokens, completion_tokens)
       VALUES ($1, 'user', 'Show me some code', 'complete', NULL, NULL, NULL),
              ($1, 'assistant', $2, 'complete', 'llama3.2:latest', 12, 80)`,
      [id, reply],
    );
  }
  await seedChat("weightcode", CODE_AND_TABLE_REPLY);
  await seedChat(
    "weightplain",
    "Just a plain answer with **some** emphasis and a [link](https://example.com).",
  );
  await db.end();

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  cleanup.push(() => browser.close());

  async function measure(label, pathname, signedIn) {
    const context = await browser.newContext();
    if (signedIn) await context.addCookies(cookies);
    const page = await context.newPage();
    const scripts = new Map();
    page.on("response", (response) => {
      const type = response.headers()["content-type"] ?? "";
      if (!type.includes("javascript")) return;
      scripts.set(
        response.url(),
        response.body().then(
          (body) => ({ raw: body.length, gzip: gzipSync(body, { level: 6 }).length }),
          () => ({ raw: 0, gzip: 0 }),
        ),
      );
    });
    const response = await page.goto(base + pathname, { waitUntil: "networkidle" });
    if (response?.status() !== 200) throw new Error(`${pathname}: ${response?.status()}`);
    const html = await response.text();
    let total = { raw: 0, gzip: 0, files: 0 };
    let inHtml = 0;
    for (const [url, sizes] of scripts) {
      const { raw, gzip } = await sizes;
      total = { raw: total.raw + raw, gzip: total.gzip + gzip, files: total.files + 1 };
      if (html.includes(new URL(url).pathname)) inHtml += gzip;
      if (listFiles) console.log(`  ${pathname} ${new URL(url).pathname} ${(gzip / 1024).toFixed(1)} kB`);
    }
    await context.close();
    return {
      page: label,
      path: pathname,
      files: total.files,
      rawKb: total.raw / 1024,
      gzipKb: total.gzip / 1024,
      inHtmlKb: inHtml / 1024,
    };
  }

  const rows = [
    await measure("new chat", "/chat", true),
    await measure("chat, reply with code + table", "/chat/weightcode", true),
    await measure("chat, plain reply", "/chat/weightplain", true),
    await measure("settings", "/settings", true),
    await measure("login", "/login", false),
  ];

  if (asJson) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    const kb = (value) => value.toFixed(1);
    console.log(`JavaScript per page, first visit (gzip level 6, computed here), budget ${BUDGET_KB} kB`);
    console.log("");
    console.log("| page | path | scripts | raw kB | gzip kB | of which in HTML | gzip / budget |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (const row of rows)
      console.log(
        `| ${row.page} | ${row.path} | ${row.files} | ${kb(row.rawKb)} | ${kb(row.gzipKb)} | ${kb(row.inHtmlKb)} | ${(row.gzipKb / BUDGET_KB).toFixed(2)} |`,
      );
  }
} finally {
  for (const step of cleanup.reverse()) await step().catch((error) => console.error(String(error)));
}
