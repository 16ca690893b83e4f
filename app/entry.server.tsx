import { PassThrough } from "node:stream";
import { createReadableStreamFromReadable } from "@react-router/node";
import { isbot } from "isbot";
import type { RenderToPipeableStreamOptions } from "react-dom/server";
import { renderToPipeableStream } from "react-dom/server";
import {
  type EntryContext,
  type HandleErrorFunction,
  isRouteErrorResponse,
  RouterContextProvider,
  ServerRouter,
} from "react-router";
import { NonceContext } from "./components/nonce";
import { createNonce, setDocumentHeaders } from "./server/http/security-headers.server";
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from "./server/http/unavailable.server";
import { log } from "./server/log.server";
import { clientIpContext } from "./server/request-context.server";

// Lifecycle hooks for server.ts, which loads this build and must share its module instances.
export { boot, shutdown } from "./server/boot.server";
export { activeGenerationCount } from "./server/chat/generation.server";
export * as cli from "./server/cli.server";
export { EnvError, env } from "./server/env.server";
export { markDraining } from "./server/health.server";
export { servePageFromNode } from "./server/http/node-pages.server";
export { log } from "./server/log.server";
export { serveApiFromNode } from "./server/openai/node.server";
export { isApiPath } from "./server/openai/router.server";

export const streamTimeout = 5_000;

/** Called by server.ts for every request: the router context that loaders and actions see. */
export function getLoadContext(clientIp: string) {
  const context = new RouterContextProvider();
  context.set(clientIpContext, clientIp);
  return context;
}

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  routerContext: EntryContext,
) {
  const nonce = createNonce();
  // A page 503 means a shared store is away (http/unavailable.server.ts); the Retry-After thrown
  // with it stays on the data, so the document says when to come back.
  if (responseStatusCode === 503 && !responseHeaders.has("Retry-After"))
    responseHeaders.set("Retry-After", String(UNAVAILABLE_RETRY_AFTER_SECONDS));
  if (request.method.toUpperCase() === "HEAD") {
    setDocumentHeaders(responseHeaders, nonce);
    return new Response(null, { status: responseStatusCode, headers: responseHeaders });
  }

  return new Promise((resolve, reject) => {
    let shellRendered = false;
    const userAgent = request.headers.get("user-agent");
    // Crawlers get the complete document; browsers get the shell first and deferred data streamed in.
    const readyOption: keyof RenderToPipeableStreamOptions =
      (userAgent && isbot(userAgent)) || routerContext.isSpaMode ? "onAllReady" : "onShellReady";

    let timeoutId: ReturnType<typeof setTimeout> | undefined = setTimeout(
      () => abort(),
      streamTimeout + 1000,
    );

    const { pipe, abort } = renderToPipeableStream(
      <NonceContext value={nonce}>
        <ServerRouter context={routerContext} url={request.url} nonce={nonce} />
      </NonceContext>,
      {
        nonce,
        [readyOption]() {
          shellRendered = true;
          const body = new PassThrough({
            final(callback) {
              clearTimeout(timeoutId);
              timeoutId = undefined;
              callback();
            },
          });
          responseHeaders.set("Content-Type", "text/html; charset=utf-8");
          setDocumentHeaders(responseHeaders, nonce);
          pipe(body);
          resolve(
            new Response(createReadableStreamFromReadable(body), {
              headers: responseHeaders,
              status: responseStatusCode,
            }),
          );
        },
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          if (shellRendered) log.error("a page failed while rendering", errorLogFields(error));
        },
      },
    );
  });
}

/** Data responses (client-side navigations and fetchers) carry the same user data as pages. */
export function handleDataRequest(response: Response) {
  setDocumentHeaders(response.headers);
  return response;
}

/**
 * Errors thrown by loaders, actions and middleware, as one structured log line. A client that left
 * is not an error; a refused request (a 4xx response) is a warning with no stack.
 */
export const handleError: HandleErrorFunction = (error, { request }) => {
  if (request.signal.aborted) return;
  const path = new URL(request.url).pathname;
  // React Router's own CSRF check throws a plain Error (answered 400) before any action runs.
  if (error instanceof Error && /does not match `origin` header/i.test(error.message)) {
    log.warn("refused a form sent from another origin", { path, origin: request.headers.get("origin") });
    return;
  }
  // Refusals, and 503s while a shared store is away (redis.server.ts logs the outage itself).
  if (isRouteErrorResponse(error) && (error.status < 500 || error.status === 503)) {
    log.warn("request refused", { path, status: error.status });
    return;
  }
  log.error("unhandled error in a route", { path, ...errorLogFields(error) });
};

function errorLogFields(error: unknown) {
  return error instanceof Error
    ? {
        error: error.message,
        stack: error.stack
          ?.split("\n")
          .slice(1, 6)
          .map((line) => line.trim()),
      }
    : { error: String(error) };
}
