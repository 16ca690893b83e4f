/**
 * The Node entry: serves the built client assets and the React Router handler, and shuts down
 * gracefully. Compiled to build/server.js by `npm run build`; start it with `node build/server.js`
 * from the project root.
 *
 * App code (env, database, Redis) lives in the Vite server build; this file only reaches it
 * through the build's entry module, so both share one instance of every module.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { Socket } from "node:net";
import type { ServerBuild } from "react-router";
import sirv from "sirv";

// React and React Router pick their production builds from NODE_ENV when first imported, so it is
// set before they load (they are imported dynamically below for that reason).
process.env.NODE_ENV ??= "production";
const { createRequestHandler } = await import("react-router");

type EntryModule = typeof import("./app/entry.server");

const build = (await import(new URL("./server/index.js", import.meta.url).href)) as ServerBuild;
const app = build.entry.module as unknown as EntryModule;

try {
  await app.boot();
} catch (error) {
  const message =
    error instanceof app.EnvError
      ? error.message
      : `Startup failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  process.stderr.write(`${message}\n`);
  await app.shutdown().catch(() => {});
  process.exit(1);
}

const config = app.env();
const log = app.log;

// Hashed file names under /assets never change, so browsers may cache them for a year.
const serveStatic = sirv(new URL("./client", import.meta.url).pathname, {
  etag: true,
  setHeaders(res, pathname) {
    if (pathname.startsWith("/assets/"))
      res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
  },
});

// APP_URL is our own origin even when a proxy in front rewrites Host or terminates TLS without
// TRUST_PROXY: React Router's action origin check accepts it (it compares hosts).
const handleWithRouter = createRequestHandler({
  ...build,
  allowedActionOrigins: [new URL(config.APP_URL).host],
});

function handlePage(req: http.IncomingMessage, res: http.ServerResponse) {
  const loadContext = app.getLoadContext(clientIp(req));
  return app.servePageFromNode(req, res, (request) => handleWithRouter(request, loadContext));
}

/** With TRUST_PROXY, the right-most X-Forwarded-For entry: the address our own proxy saw. */
function clientIp(req: http.IncomingMessage) {
  const header = req.headers["x-forwarded-for"];
  if (config.TRUST_PROXY && header) {
    const forwarded = (Array.isArray(header) ? header.join(",") : header).split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return req.socket.remoteAddress ?? "unknown";
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
let activeRequests = 0;
let shuttingDown = false;

const server = http.createServer((req, res) => {
  activeRequests++;
  res.once("close", () => {
    activeRequests--;
    if (shuttingDown) finishShutdownIfIdle();
  });
  // A request id from a trusted proxy is kept so logs line up across hops; otherwise we mint one.
  const incoming = req.headers["x-request-id"];
  const requestId =
    config.TRUST_PROXY && typeof incoming === "string" && REQUEST_ID.test(incoming)
      ? incoming
      : `req_${randomBytes(12).toString("hex")}`;
  req.headers["x-request-id"] = requestId;
  const ownHeaders: [string, string][] = [["x-request-id", requestId]];
  // While draining, ask keep-alive clients (and proxies) to reconnect elsewhere.
  if (shuttingDown) ownHeaders.push(["Connection", "close"]);
  addHeadersOnWrite(res, ownHeaders);

  if (config.API_FAST_PATH && app.isApiPath(pathOf(req.url))) {
    // The API's hot path skips React Router's Web Request/Response round trip (decision 0005).
    app.serveApiFromNode(req, res);
  } else if (req.method === "GET" || req.method === "HEAD") {
    serveStatic(req, res, () => handlePage(req, res));
  } else {
    handlePage(req, res);
  }
});
function pathOf(url = "/") {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Adds our headers as the response head is written, not with setHeader up front: once setHeader
 * has been used, Node 20's writeHead(status, [name, value, ...]), which is how @react-router/node
 * writes, keeps only the last of repeated names, so a response setting two cookies lost one.
 */
function addHeadersOnWrite(res: http.ServerResponse, headers: [string, string][]) {
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => http.ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const given = rest.at(-1);
    if (Array.isArray(given)) {
      rest[rest.length - 1] = Array.isArray(given[0])
        ? [...headers, ...given]
        : [...headers.flat(), ...given];
    } else {
      for (const [name, value] of headers) if (!res.hasHeader(name)) res.setHeader(name, value);
    }
    return writeHead(status, ...rest);
  }) as typeof res.writeHead;
}

// Longer than nginx's and most load balancers' upstream keep-alive, so they close first.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
// Bodies are timed by our own readers (a 408 page or envelope after REQUEST_BODY_TIMEOUT_MS); Node's
// bare 408 is only the backstop for a request whose reader never started.
server.requestTimeout = config.REQUEST_BODY_TIMEOUT_MS + 10_000;

const sockets = new Set<Socket>();
server.on("connection", (socket) => {
  sockets.add(socket);
  socket.once("close", () => sockets.delete(socket));
});

server.listen(config.PORT, config.HOST, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.PORT;
  log.info("listening", {
    url: `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${port}`,
    port,
  });
});

let graceTimer: NodeJS.Timeout | undefined;
let idlePoll: NodeJS.Timeout | undefined;

function finishShutdownIfIdle() {
  if (activeRequests > 0 || app.activeGenerationCount() > 0) return false;
  finishShutdown();
  return true;
}
let finishing = false;

function beginShutdown(signal: string) {
  if (shuttingDown) {
    log.warn("second signal: closing remaining connections now", { signal });
    finishShutdown();
    return;
  }
  shuttingDown = true;
  app.markDraining();
  log.info("shutting down: no new connections, waiting for in-flight requests", {
    signal,
    inFlight: activeRequests,
    graceMs: config.SHUTDOWN_GRACE_MS,
  });
  server.close();
  server.closeIdleConnections();
  if (finishShutdownIfIdle()) return;
  // Chat replies are generated apart from any request (they outlive the tab), so they are
  // watched too.
  idlePoll = setInterval(finishShutdownIfIdle, 100);
  graceTimer = setTimeout(() => {
    log.warn("grace period over: closing remaining connections", {
      inFlight: activeRequests,
      generating: app.activeGenerationCount(),
    });
    finishShutdown();
  }, config.SHUTDOWN_GRACE_MS);
}

function finishShutdown() {
  if (finishing) return;
  finishing = true;
  clearTimeout(graceTimer);
  clearInterval(idlePoll);
  server.closeAllConnections();
  for (const socket of sockets) socket.destroy();
  app
    .shutdown()
    .catch((error: unknown) => log.error("error while closing resources", { error: String(error) }))
    .finally(() => {
      log.info("stopped");
      process.exit(0);
    });
}

process.on("SIGTERM", () => beginShutdown("SIGTERM"));
process.on("SIGINT", () => beginShutdown("SIGINT"));
