import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { createReadableStreamFromReadable } from "@react-router/node";
import { env } from "../env.server";
import { errorFields, log } from "../log.server";
import { isApiPath } from "../openai/router.server";
import { readSession } from "../session.server";
import { errorPage } from "./error-page.server";
import { formBodyLimit } from "./form-limit.server";
import { requestOrigin } from "./origin.server";

type PageHandler = (request: Request) => Promise<Response>;

/**
 * Pages and every route outside /api/v1, served from node:http through React Router.
 *
 * Done here rather than with @react-router/node's listener, for three reasons: the request URL is
 * built from the origin the browser used (X-Forwarded-* from a trusted proxy), so React Router's
 * action origin check passes behind nginx or TLS; the body is read in full, up to MAX_FORM_BYTES
 * and within REQUEST_BODY_TIMEOUT_MS, before any route runs, so a large or dripping body is
 * answered 413/408 with a page instead of tying up a route; and a client leaving mid-upload ends
 * the request instead of leaving it waiting. Message forms with images have a larger limit
 * (formBodyLimit).
 */
export async function servePageFromNode(req: IncomingMessage, res: ServerResponse, handle: PageHandler) {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  let response: Response;
  try {
    const request = await toWebRequest(req, controller.signal);
    if (request === "client-gone") return;
    response = request instanceof Response ? request : await handle(request);
  } catch (error) {
    log.error("could not answer a page request", errorFields(error));
    response = errorPage(500, "Something went wrong", "An unexpected error occurred. Try again in a moment.");
  }
  await writeResponse(req, res, response);
}

async function toWebRequest(
  req: IncomingMessage,
  signal: AbortSignal,
): Promise<Request | Response | "client-gone"> {
  const path = req.url ?? "/";
  // An absolute-form or "*" target is not a page; resolving "//host/x" against a base would even
  // change the host, so the path is appended to our origin, never resolved.
  if (!path.startsWith("/"))
    return errorPage(400, "Bad request", "The request line is not a path on this site.");
  const origin = requestOrigin({
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    encrypted: Boolean((req.socket as TLSSocket).encrypted),
  });
  let url: URL;
  let headers: Headers;
  try {
    url = new URL(origin + path);
    headers = new Headers();
    for (let index = 0; index < req.rawHeaders.length; index += 2) {
      headers.append(req.rawHeaders[index], req.rawHeaders[index + 1]);
    }
  } catch {
    return errorPage(400, "Bad request", "The request's address or headers could not be read.");
  }
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") return new Request(url, { method, headers, signal });
  // /api/v1 here only with API_FAST_PATH=false: its handlers read the body themselves, after the key
  // and the limits, with their own limit, envelope and 499 for a client that leaves mid-upload.
  if (isApiPath(url.pathname)) {
    const body = createReadableStreamFromReadable(req);
    return new Request(url, { method, headers, body, signal, duplex: "half" } as RequestInit);
  }

  // Message forms may carry images, so they get a larger limit (form-limit.server.ts), but only
  // for someone signed in: the body is held in memory before any route runs, and nobody else may
  // post a message, so an anonymous client gets MAX_FORM_BYTES like any other form.
  let limit = formBodyLimit(url.pathname, headers.get("content-type") ?? undefined);
  if (limit > env().MAX_FORM_BYTES && !(await hasSession(new Request(url, { headers })))) {
    limit = env().MAX_FORM_BYTES;
  }
  const body = await readBody(req, signal, limit);
  if (body === "client-gone") return body;
  if (body === "too-large") {
    const withFiles = limit > env().MAX_FORM_BYTES;
    return errorPage(
      413,
      "Too much data",
      `The form sent more than ${formatBytes(limit)}. ${withFiles ? "Attach fewer or smaller images" : "Shorten the text"} and try again.`,
      // The rest of the body is not read, so the connection cannot carry another request.
      { Connection: "close" },
    );
  }
  if (body === "timeout") {
    return errorPage(408, "The upload took too long", "The form did not arrive in time. Try again.", {
      Connection: "close",
    });
  }
  return new Request(url, { method, headers, body: new Uint8Array(body), signal });
}

/** A live session behind the request's cookie (the store's lookup only; the route checks the rest). */
function hasSession(request: Request) {
  return readSession(request).then(Boolean, () => false);
}

type BodyResult = Buffer | "too-large" | "timeout" | "client-gone";

function readBody(req: IncomingMessage, signal: AbortSignal, limit: number): Promise<BodyResult> {
  const { REQUEST_BODY_TIMEOUT_MS: timeoutMs } = env();
  if (Number(req.headers["content-length"] ?? 0) > limit) {
    return discardRest(req, limit).then(() => "too-large" as const);
  }
  return new Promise<BodyResult>((resolve) => {
    if (signal.aborted || req.destroyed) return resolve("client-gone");
    const parts: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      signal.removeEventListener("abort", onGone);
      if (result === "too-large") {
        discardRest(req, limit).then(() => resolve(result));
        return;
      }
      // A stalled upload is not read further; the answer is sent with Connection: close.
      if (!Buffer.isBuffer(result)) req.pause();
      resolve(result);
    };
    const onData = (part: Buffer) => {
      size += part.length;
      if (size > limit) finish("too-large");
      else parts.push(part);
    };
    const onEnd = () => finish(Buffer.concat(parts));
    const onGone = () => finish("client-gone");
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onGone);
    signal.addEventListener("abort", onGone, { once: true });
  });
}

/**
 * Reads and drops the rest of an oversized upload, and resolves once it has all arrived; only then
 * is the 413 sent. Answering while the client is still sending makes Node close the socket (the
 * answer says Connection: close) on unread data, which the client sees as a reset (EPIPE) instead
 * of the page. A client that keeps sending past LINGER_BYTES_FACTOR × the limit, or for longer than
 * LINGER_MS, is cut off.
 */
function discardRest(req: IncomingMessage, limit: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let discarded = 0;
    const done = () => {
      clearTimeout(timer);
      req.off("data", onData);
      resolve();
    };
    const cutOff = () => {
      req.socket.destroy();
      done();
    };
    const onData = (part: Buffer) => {
      discarded += part.length;
      if (discarded > LINGER_BYTES_FACTOR * limit) cutOff();
    };
    const timer = setTimeout(cutOff, LINGER_MS);
    timer.unref();
    req.on("data", onData);
    req.once("end", done);
    req.once("close", done);
    if (req.readableEnded) done();
    req.resume();
  });
}

const LINGER_MS = 5_000;
const LINGER_BYTES_FACTOR = 16;

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response) {
  if (res.destroyed) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  // Headers iterate Set-Cookie one entry per cookie, so several cookies survive the flat list.
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  res.writeHead(response.status, headers);
  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // A stream that only ends when the client leaves (SSE) is cancelled then, which runs its cleanup.
  const cancel = () => void reader.cancel().catch(() => {});
  res.once("close", cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) await drainedOrClosed(res);
    }
  } catch (error) {
    if (!res.destroyed) log.error("a page response failed while streaming", errorFields(error));
    res.destroy();
    return;
  } finally {
    res.off("close", cancel);
  }
  res.end();
}

function drainedOrClosed(res: ServerResponse) {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function formatBytes(bytes: number) {
  return bytes >= 1_048_576 ? `${Math.round(bytes / 104_857.6) / 10} MB` : `${Math.round(bytes / 1024)} KB`;
}
