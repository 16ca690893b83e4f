#!/usr/bin/env node
// OpenAI-compatible API: latency and throughput of POST /api/v1/chat/completions (and of
// POST /api/v1/responses next to it, stored and not) against a fake
// Ollama answering instantly, compared with calling the fake's native /api/chat directly, in the
// same run from the same load generator; then the app's RSS with 1,000 streamed completions open.
// Three processes: this load generator, the app (node build/server.js) and the fake Ollama.
// Needs `npm run build`, PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379.
//
//   node bench/api.mjs [sequential requests=2000] [seconds per concurrency-64 run=10] [streams=1000]
//
// BENCH_APP_NODE_ARGS are put on the app's node command line, e.g. to profile it:
//   BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node bench/api.mjs
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";

const ROOT = path.resolve(import.meta.dirname, "..");
const sequential = Number(process.argv[2] ?? 2000);
const seconds = Number(process.argv[3] ?? 10);
const streams = Number(process.argv[4] ?? 1000);
const CONCURRENCY = 64;
// Each slow stream: 10 words a second apart, so all of them are open together for ~10 s.
const SLOW_TOKENS = 10;
const SLOW_DELAY_MS = 1000;

const TARGETS = { addedP50Ms: 2, rps: 1500, rssMb: 300 };

const adminUrl = "postgres://postgres@127.0.0.1:5432/postgres";
const dbName = `bench_api_${process.pid}`;
const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

async function freePort() {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1]) / 1024;
}

// node:http with keep-alive rather than fetch: less client overhead per request, so the load
// generator (which shares the machine's two cores with the app and the fake) takes less CPU.
function client(base, maxSockets) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return (path, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify(body));
      const request = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: "POST",
          path,
          headers: { "content-type": "application/json", "content-length": payload.length, ...headers },
        },
        (response) => {
          const parts = [];
          response.on("data", (part) => parts.push(part));
          response.on("end", () => {
            const text = Buffer.concat(parts).toString("utf8");
            if (response.statusCode !== 200) reject(new Error(`${path}: ${response.statusCode} ${text}`));
            else resolve(text);
          });
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(payload);
    });
}

const messages = [{ role: "user", content: "Say hello." }];

async function main(cleanup) {
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  cleanup.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;

  // The fake Ollama, in its own process.
  const fake = spawn(path.join(ROOT, "node_modules/.bin/vite-node"), ["bench/fake-ollama.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      BENCH_SLOW_TOKENS: String(SLOW_TOKENS),
      BENCH_SLOW_DELAY_MS: String(SLOW_DELAY_MS),
      NODE_OPTIONS: "",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanup.push(async () => {
    fake.kill("SIGTERM");
    if (fake.exitCode === null) await once(fake, "exit");
  });
  const [line] = await once(createInterface({ input: fake.stdout }), "line");
  const ollamaUrl = JSON.parse(line).url;

  // The app, one process.
  const port = await freePort();
  const prefix = `ccai-bench:${randomBytes(4).toString("hex")}:`;
  const nodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const app = spawn(process.execPath, [...nodeArgs, "build/server.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      OLLAMA_URL: ollamaUrl,
      RATE_LIMIT_REQUESTS: "1000000", // the largest allowed: per minute, far above what this sends
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  cleanup.push(async () => {
    if (app.exitCode === null && app.signalCode === null) {
      app.kill("SIGTERM");
      await once(app, "exit");
    }
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch {}
    if (app.exitCode !== null) throw new Error("the app exited before it was ready");
    if (i > 200) throw new Error("the app did not start");
    await sleep(100);
  }

  const rssStarted = rssMb(app.pid);

  // Sign up and create an API key the way a user does, through the pages.
  const signup = await fetch(`${base}/signup`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ email: "bench@example.com", password: "correct horse battery" }),
  });
  const cookie = signup.headers
    .getSetCookie()
    .map((cookieLine) => cookieLine.split(";")[0])
    .join("; ");
  const keyPage = await fetch(`${base}/settings/keys`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, accept: "text/html" },
    body: new URLSearchParams({ intent: "create", name: "bench" }),
  });
  const token = (await keyPage.text()).match(/value="(ccai-[\w-]+)"/)?.[1];
  if (!token) throw new Error(`no API key in the page (${keyPage.status})`);
  const auth = { authorization: `Bearer ${token}` };

  const targets = (maxSockets) => {
    const direct = client(ollamaUrl, maxSockets);
    const viaApp = client(base, maxSockets);
    return {
      direct: () => direct("/api/chat", { model: "llama3.2", messages, stream: false }),
      // What the app itself asks Ollama for: it always streams, and gathers non-streamed replies.
      directStream: () => direct("/api/chat", { model: "llama3.2", messages, stream: true }),
      app: () => viaApp("/api/v1/chat/completions", { model: "llama3.2", messages }, auth),
      responses: () =>
        viaApp("/api/v1/responses", { model: "llama3.2", input: messages[0].content, store: false }, auth),
      // The default: one INSERT per call, awaited before the answer so any replica can read it back.
      responsesStored: () =>
        viaApp("/api/v1/responses", { model: "llama3.2", input: messages[0].content }, auth),
    };
  };

  // A sanity check that both answer what we think they answer.
  const probe = targets(1);
  const directReply = JSON.parse(await probe.direct());
  const appReply = JSON.parse(await probe.app());
  if (directReply.message.content !== "Hello from the fake.") throw new Error("unexpected direct reply");
  if (appReply.choices[0].message.content !== "Hello from the fake.") throw new Error("unexpected app reply");
  for (const call of [probe.responses, probe.responsesStored]) {
    if (JSON.parse(await call()).output_text !== "Hello from the fake.")
      throw new Error("unexpected /responses reply");
  }

  // Memory: `streams` streamed completions open at once, each ~10 s long, while the app's RSS is
  // sampled. Run twice: in the fresh process (the target: what 1,000 open streams cost)
  // and again after the throughput runs, whose heap V8 keeps (reported, not the target).
  async function openStreams() {
    const rssBefore = rssMb(app.pid);
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(app.pid));
    }, 100);
    const streamAgent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    let open = 0;
    let maxOpen = 0;
    const payload = Buffer.from(
      JSON.stringify({
        model: "llama3.2",
        messages: [{ role: "user", content: "slow: count" }],
        stream: true,
      }),
    );
    const streamed = await Promise.all(
      Array.from(
        { length: streams },
        () =>
          new Promise((resolve) => {
            const request = http.request(
              {
                agent: streamAgent,
                host: "127.0.0.1",
                port,
                method: "POST",
                path: "/api/v1/chat/completions",
                headers: { ...auth, "content-type": "application/json", "content-length": payload.length },
              },
              (response) => {
                let text = "";
                let counted = false;
                response.setEncoding("utf8");
                response.on("data", (part) => {
                  text += part;
                  if (!counted) {
                    counted = true;
                    maxOpen = Math.max(maxOpen, ++open);
                  }
                });
                response.on("end", () => {
                  if (counted) open--;
                  const content = text
                    .split("\n\n")
                    .filter((event) => event.startsWith("data: {"))
                    .map((event) => JSON.parse(event.slice(6)).choices[0]?.delta?.content ?? "")
                    .join("");
                  resolve(
                    response.statusCode === 200 &&
                      text.endsWith("data: [DONE]\n\n") &&
                      content === Array.from({ length: SLOW_TOKENS }, (_, i) => (i ? " w" : "w")).join(""),
                  );
                });
                response.on("error", () => resolve(false));
              },
            );
            request.on("error", () => resolve(false));
            request.end(payload);
          }),
      ),
    );
    clearInterval(sampler);
    return { completed: streamed.filter(Boolean).length, maxOpen, rssBefore, peak };
  }
  await sleep(1000);
  const fresh = await openStreams();

  // 1. Concurrency 1: alternate the two, one request at a time, so drift hits both alike.
  const one = targets(1);
  for (let i = 0; i < Math.min(500, sequential); i++) {
    await one.direct();
    await one.directStream();
    await one.app();
    await one.responses();
    await one.responsesStored();
  }
  const names = ["direct", "directStream", "app", "responses", "responsesStored"];
  const latencies = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < sequential; i++) {
    for (const name of i % 2 ? names : [...names].reverse()) {
      const started = performance.now();
      await one[name]();
      latencies[name].push(performance.now() - started);
    }
  }
  for (const list of Object.values(latencies)) list.sort((a, b) => a - b);
  const seq = Object.fromEntries(
    Object.entries(latencies).map(([name, list]) => [
      name,
      {
        p50: percentile(list, 50),
        p99: percentile(list, 99),
        mean: list.reduce((a, b) => a + b, 0) / list.length,
      },
    ]),
  );

  // 2. Concurrency 64: a fixed time each, after a short warm-up.
  const many = targets(CONCURRENCY);
  async function run(call, durationMs) {
    const until = performance.now() + durationMs;
    let done = 0;
    const list = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          await call();
          list.push(performance.now() - started);
          done++;
        }
      }),
    );
    list.sort((a, b) => a - b);
    return { rps: done / (durationMs / 1000), p50: percentile(list, 50), p99: percentile(list, 99) };
  }
  const conc = {};
  for (const name of names) {
    await run(many[name], 2000);
    conc[name] = await run(many[name], seconds * 1000);
  }

  // 3. Memory after the throughput runs.
  await sleep(1000);
  const loaded = await openStreams();

  // Report.
  const ms = (value) => value.toFixed(2);
  const row = (label, field, phase, format) => [
    label,
    format(phase.direct[field]),
    format(phase.directStream[field]),
    format(phase.app[field]),
    (phase.app[field] / phase.direct[field]).toFixed(2),
  ];
  const rps = (value) => value.toFixed(0);
  const rows = [
    ["", "fake, stream:false", "fake, stream:true", "through the app", "app ÷ stream:false"],
    row("c=1 p50 latency (ms)", "p50", seq, ms),
    row("c=1 p99 latency (ms)", "p99", seq, ms),
    row("c=64 requests/s", "rps", conc, rps),
    row("c=64 p50 latency (ms)", "p50", conc, ms),
    row("c=64 p99 latency (ms)", "p99", conc, ms),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const format = (row) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`;
  console.log(`\nPOST /api/v1/chat/completions (non-streamed) vs the fake's /api/chat (stream:false)`);
  console.log(
    `${sequential} requests each at concurrency 1; ${seconds} s each at concurrency ${CONCURRENCY}\n`,
  );
  console.log(format(rows[0]));
  console.log(`| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`);
  for (const row of rows.slice(1)) console.log(format(row));
  console.log(`\nPOST /api/v1/responses next to /chat/completions (same prompt, non-streamed)\n`);
  const responseRows = [
    ["", "/chat/completions", "/responses store:false", "/responses (stored)", "ratio (false / stored)"],
    ...[
      ["c=1 p50 latency (ms)", seq, "p50", ms],
      ["c=1 p99 latency (ms)", seq, "p99", ms],
      ["c=64 requests/s", conc, "rps", rps],
      ["c=64 p50 latency (ms)", conc, "p50", ms],
    ].map(([label, phase, field, show]) => {
      // Requests/s: higher is better, so the ratio is /responses ÷ /chat/completions; latency the inverse.
      const ratio = (other) =>
        (field === "rps"
          ? phase[other][field] / phase.app[field]
          : phase.app[field] / phase[other][field]
        ).toFixed(2);
      return [
        label,
        show(phase.app[field]),
        show(phase.responses[field]),
        show(phase.responsesStored[field]),
        `${ratio("responses")} / ${ratio("responsesStored")}`,
      ];
    }),
  ];
  const responseWidths = responseRows[0].map((_, column) =>
    Math.max(...responseRows.map((r) => r[column].length)),
  );
  const formatResponses = (r) =>
    `| ${r.map((cell, column) => cell.padEnd(responseWidths[column])).join(" | ")} |`;
  console.log(formatResponses(responseRows[0]));
  console.log(`| ${responseWidths.map((width) => "-".repeat(width)).join(" | ")} |`);
  for (const r of responseRows.slice(1)) console.log(formatResponses(r));
  const addedP50 = seq.app.p50 - seq.direct.p50;
  const addedP99 = seq.app.p99 - seq.direct.p99;
  console.log(`\nadded latency at concurrency 1: p50 ${ms(addedP50)} ms, p99 ${ms(addedP99)} ms`);
  console.log(
    `  (against the fake streaming, what the app asks for on streamed calls: p50 ${ms(seq.app.p50 - seq.directStream.p50)} ms, p99 ${ms(seq.app.p99 - seq.directStream.p99)} ms)`,
  );
  console.log(`app RSS ${rssStarted.toFixed(0)} MB after start`);
  for (const [label, phase] of [
    ["fresh process", fresh],
    ["after the runs above", loaded],
  ]) {
    console.log(
      `${streams} streams, ${label}: ${phase.completed} completed, ${phase.maxOpen} open at once; RSS ${phase.rssBefore.toFixed(0)} MB before, peak ${phase.peak.toFixed(0)} MB`,
    );
  }
  const verdict = (ok) => (ok ? "met" : "MISSED");
  console.log(`\ntargets (issue 4, 2-core machine):`);
  console.log(
    `  added p50 at concurrency 1 < ${TARGETS.addedP50Ms} ms: ${ms(addedP50)} ms — ${verdict(addedP50 < TARGETS.addedP50Ms)}`,
  );
  console.log(
    `  non-streamed requests/s in one process >= ${TARGETS.rps}: ${conc.app.rps.toFixed(0)} — ${verdict(conc.app.rps >= TARGETS.rps)}`,
  );
  console.log(
    `  RSS with ${streams} open streams < ${TARGETS.rssMb} MB (fresh process): ${fresh.peak.toFixed(0)} MB — ${verdict(fresh.peak < TARGETS.rssMb && fresh.completed === streams)}`,
  );
  const responsesRatio = conc.responses.rps / conc.app.rps;
  console.log(
    `  /responses requests/s >= 0.9 × /chat/completions (store:false): ${responsesRatio.toFixed(2)} — ${verdict(responsesRatio >= 0.9)}`,
  );
  if (fresh.completed !== streams || loaded.completed !== streams) process.exitCode = 1;
}

const cleanup = [];
try {
  await main(cleanup);
} finally {
  for (const step of cleanup.reverse()) await step().catch((error) => console.error(error));
}
