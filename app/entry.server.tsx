import { PassThrough } from "node:stream";
import { createReadableStreamFromReadable } from "@react-router/node";
import { isbot } from "isbot";
import type { RenderToPipeableStreamOptions } from "react-dom/server";
import { renderToPipeableStream } from "react-dom/server";
import { type EntryContext, RouterContextProvider, ServerRouter } from "react-router";
import { clientIpContext } from "./server/request-context.server";

// Lifecycle hooks for server.ts, which loads this build and must share its module instances.
export { boot, shutdown } from "./server/boot.server";
export { activeGenerationCount } from "./server/chat/generation.server";
export * as cli from "./server/cli.server";
export { EnvError, env } from "./server/env.server";
export { markDraining } from "./server/health.server";
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
  if (request.method.toUpperCase() === "HEAD") {
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
      <ServerRouter context={routerContext} url={request.url} />,
      {
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
          setSecurityHeaders(responseHeaders);
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
          if (shellRendered) console.error(error);
        },
      },
    );
  });
}

function setSecurityHeaders(headers: Headers) {
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Referrer-Policy", "strict-origin-when-cross-origin");
  // Pages may not be framed by other sites; the embed routes (a later issue) opt out explicitly.
  if (!headers.has("X-Frame-Options")) headers.set("X-Frame-Options", "DENY");
}
