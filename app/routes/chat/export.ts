import { requireUser } from "~/server/auth.server";
import { exportResponse, findOwnChat, parseExportFormat } from "~/server/chat/export.server";
import type { Route } from "./+types/export";

/** GET /chat/:id/export?format=json|csv|md: one chat, streamed as a download. */
export async function loader({ request, params }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const format = parseExportFormat(new URL(request.url).searchParams.get("format"));
  if (!format) return new Response("Unknown export format: use json, csv or md.", { status: 400 });
  const chat = await findOwnChat(user.id, params.id);
  // Someone else's chat gets exactly the answer a missing one does.
  if (!chat) return new Response("There is no such chat.", { status: 404 });
  return exportResponse({ userId: user.id, chat }, format);
}
