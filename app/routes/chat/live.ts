import { requireUser } from "~/server/auth.server";
import { parseMessageId, requireChat } from "~/server/chat/chats.server";
import { finishIfOrphaned } from "~/server/chat/generation.server";
import { LEASE_RENEW_MS, liveStore } from "~/server/chat/live.server";
import { db } from "~/server/db.server";
import type { Route } from "./+types/live";

/**
 * Server-sent events for a reply being written: everything so far, then each new piece, then an
 * end event. Works on any replica (the live log is shared). Closing it does not stop the reply.
 */
export async function loader({ request, params }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const chat = await requireChat(user.id, params.chatId);
  const messageId = parseMessageId(params.messageId);
  if (messageId === undefined) throw new Response("Not found", { status: 404 });
  const message = await db().message.findFirst({
    where: { id: messageId, chatId: chat.id, role: "assistant" },
    select: { status: true },
  });
  if (!message) throw new Response("Not found", { status: 404 });

  const after = request.headers.get("last-event-id") ?? undefined;
  const encoder = new TextEncoder();
  const stop = new AbortController();
  request.signal.addEventListener("abort", () => stop.abort());

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (!stop.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      const end = () => send(`data: ${JSON.stringify({ type: "end" })}\n\n`);
      // Keep proxies from timing the connection out, and notice a writer that died.
      const heartbeat = setInterval(async () => {
        send(": keep-alive\n\n");
        if (await finishIfOrphaned(messageId).catch(() => false)) stop.abort();
      }, LEASE_RENEW_MS * 2);
      try {
        if (message.status !== "streaming") {
          end();
          return;
        }
        for await (const { position, event } of liveStore().follow(String(messageId), after, stop.signal)) {
          send(`id: ${position}\ndata: ${JSON.stringify(event)}\n\n`);
        }
        if (stop.signal.aborted && !request.signal.aborted) end();
      } catch {
        end();
      } finally {
        clearInterval(heartbeat);
        try {
          controller.close();
        } catch {
          // The client already went away.
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
