import type { IncomingMessage, ServerResponse } from "node:http";
import { errorFields, log } from "../log.server";
import { clientClosedRequest, serverError } from "./errors.server";
import type { ApiReply, ApiRequest } from "./exchange.server";
import { handleApiRequest } from "./router.server";

/**
 * /api/v1 served straight from node:http (server.ts calls this), without turning each call into
 * a Web Request and back: the same handlers React Router serves through exchange.server.ts.
 */
export async function serveApiFromNode(req: IncomingMessage, res: ServerResponse) {
  try {
    await writeReply(await handleApiRequest(fromNodeRequest(req, res)), res);
  } catch (error) {
    // The handlers answer their own errors; this is a failure to write, or a bug.
    log.error("could not answer an /api/v1 request", errorFields(error));
    if (res.headersSent) res.destroy();
    else await writeReply(serverError().toReply(), res).catch(() => res.destroy());
  }
}

function fromNodeRequest(req: IncomingMessage, res: ServerResponse): ApiRequest {
  const controller = new AbortController();
  // "close" also follows a complete reply; only an unfinished one means the client left.
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return {
    method: req.method ?? "GET",
    url: new URL(req.url ?? "/", "http://localhost"),
    header(name) {
      const value = req.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
    signal: controller.signal,
    readBody: (limit) => readNodeBody(req, limit, controller.signal),
  };
}

/**
 * The body is read only after the key and the rate limits are checked, so the client may be gone
 * by then (a destroyed request emits neither "end" nor "error"): the signal covers that, and a
 * client leaving mid-upload, as a 499.
 */
function readNodeBody(req: IncomingMessage, limit: number, clientGone: AbortSignal) {
  return new Promise<Uint8Array | "too-large">((resolve, reject) => {
    if (clientGone.aborted || req.destroyed) return reject(clientClosedRequest());
    const parts: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      clientGone.removeEventListener("abort", onGone);
    };
    const onData = (part: Buffer) => {
      size += part.length;
      if (size <= limit) return void parts.push(part);
      // Stop reading but keep the socket, so that the 413 (sent with Connection: close) arrives.
      stop();
      req.pause();
      resolve("too-large");
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(parts));
    };
    const onGone = () => {
      stop();
      reject(clientClosedRequest());
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onGone);
    clientGone.addEventListener("abort", onGone, { once: true });
  });
}

async function writeReply(reply: ApiReply, res: ServerResponse) {
  if ("json" in reply) {
    // The client left (a 499 for the usage record): nobody to write to.
    if (res.destroyed) return;
    if (reply.json === undefined) {
      res.writeHead(reply.status, reply.headers);
      res.end();
      return;
    }
    const text = JSON.stringify(reply.json);
    res.writeHead(reply.status, {
      ...reply.headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  res.writeHead(reply.status, reply.headers);
  // for-await calls events.return() when the loop is left early, which ends the call upstream.
  for await (const text of reply.events) {
    if (res.destroyed) break;
    if (!res.write(text)) await drainedOrClosed(res);
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
