import { modelNameInputSchema } from "~/lib/model-schemas";
import { requireAdminPage } from "~/server/admin/guard.server";
import { followPull } from "~/server/models/pulls.server";
import type { Route } from "./+types/pull-events";

/**
 * Server-sent events for one model pull: its state now, then after every change, until it
 * finishes. Any replica serves it (the state is shared); closing it does not stop the pull. Each
 * event is the whole state, so a reconnecting browser needs no position to resume from.
 */
export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  const name = modelNameInputSchema.safeParse(new URL(request.url).searchParams.get("name") ?? "");
  if (!name.success) throw new Response("Not found", { status: 404 });

  const encoder = new TextEncoder();
  const stop = new AbortController();
  request.signal.addEventListener("abort", () => stop.abort());
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (!stop.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      // Keeps proxies from timing out a quiet connection (a pull can sit on one status for minutes).
      const heartbeat = setInterval(() => send(": keep-alive\n\n"), 10_000);
      let sawState = false;
      try {
        for await (const state of followPull(name.data, stop.signal)) {
          sawState = true;
          send(`data: ${JSON.stringify(state)}\n\n`);
        }
        // No such pull (dismissed, expired): tell the page to stop reconnecting.
        if (!sawState) send("event: gone\ndata: {}\n\n");
      } catch {
        send("event: gone\ndata: {}\n\n");
      } finally {
        clearInterval(heartbeat);
        try {
          controller.close();
        } catch {
          // The browser already went away.
        }
      }
    },
    cancel() {
      stop.abort();
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
    },
  });
}
