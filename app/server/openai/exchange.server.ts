import { clientClosedRequest } from "./errors.server";

/**
 * The request and reply the /api/v1 handlers work on, and their adapter for Web Request/Response.
 *
 * The handlers do not take a Web Request or return a Web Response because, on Node 20, building
 * those objects (and their streams and abort signals) for every call cost more CPU than all of our
 * own work on a completion: see docs/decisions/0005. server.ts serves /api/v1 straight from
 * node:http (node.server.ts); React Router (`react-router dev`, any other adapter, or
 * API_FAST_PATH=false) serves the very same handlers through the adapter below.
 */
export interface ApiRequest {
  method: string;
  /** Path and query as the client sent them (path segments not decoded). */
  url: URL;
  header(name: string): string | null;
  /** Aborted when the client goes away before the reply is complete. */
  signal: AbortSignal;
  /**
   * The whole body, or "too-large" as soon as it passes `limit` bytes (reading then stops and
   * the connection is not reused). An empty body is zero bytes.
   */
  readBody(limit: number): Promise<Uint8Array | "too-large">;
}

export type ApiReply =
  /** `json: undefined` is a reply without a body (a 204). */
  | { status: number; headers: Record<string, string>; json: unknown }
  | {
      status: number;
      headers: Record<string, string>;
      /**
       * A text/event-stream, as whole events. The adapter calls `return()` when the client goes
       * away, which the producer must treat as the end of the call.
       */
      events: AsyncGenerator<string, void, undefined>;
    };

export function jsonReply(json: unknown, headers: Record<string, string> = {}, status = 200): ApiReply {
  return { status, headers, json };
}

/** A 200 text/event-stream reply, with the headers every streamed endpoint sends (no proxy buffering). */
export function sseReply(
  headers: Record<string, string>,
  events: AsyncGenerator<string, void, undefined>,
): ApiReply {
  return {
    status: 200,
    headers: {
      ...headers,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
    },
    events,
  };
}

export function fromWebRequest(request: Request): ApiRequest {
  return {
    method: request.method,
    url: new URL(request.url),
    header: (name) => request.headers.get(name),
    signal: request.signal,
    readBody: (limit) => readWebBody(request, limit),
  };
}

async function readWebBody(request: Request, limit: number): Promise<Uint8Array | "too-large"> {
  const reader = request.body?.getReader();
  if (!reader) return new Uint8Array();
  if (request.signal.aborted) throw clientClosedRequest();
  // @react-router/node's body stream neither ends nor fails when the client leaves mid-upload:
  // the request's abort signal is what tells.
  let onAbort = () => {};
  const gone = new Promise<never>((_, reject) => {
    onAbort = () => reject(clientClosedRequest());
    request.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const read = await Promise.race([reader.read(), gone]);
      if (read.done) return Buffer.concat(parts);
      size += read.value.byteLength;
      if (size > limit) {
        // Not cancel(): @react-router/node enqueues into this stream from the socket's "data" and
        // "end" listeners, and enqueue() or close() on a cancelled stream throws there, uncaught.
        // What is still buffered is dropped with the request; the 413 goes out with Connection: close.
        reader.releaseLock();
        return "too-large";
      }
      parts.push(read.value);
    }
  } finally {
    request.signal.removeEventListener("abort", onAbort);
  }
}

export function toWebResponse(reply: ApiReply): Response {
  if ("json" in reply) {
    if (reply.json === undefined) return new Response(null, { status: reply.status, headers: reply.headers });
    return Response.json(reply.json, { status: reply.status, headers: reply.headers });
  }
  const { events } = reply;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await events.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await events.return(undefined);
    },
  });
  return new Response(body, { status: reply.status, headers: reply.headers });
}
