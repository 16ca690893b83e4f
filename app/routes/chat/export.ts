import { data } from "react-router";
import { requireUser } from "~/server/auth.server";
import { exportResponse, findOwnChat, parseExportFormat } from "~/server/chat/export.server";
import type { Route } from "./+types/export";

/**
 * GET /chat/:id/export?format=json|csv|md: one chat, streamed as a download.
 *
 * The download is answered by this middleware, before any loader runs (a loader's Response would be
 * read as page data). A format we do not know falls through to the loader, which answers a 400 page
 * with the app's look through the error boundary: a person followed a bad link, not a script.
 */
export const middleware: Route.MiddlewareFunction[] = [
  async ({ request, params }, next) => {
    const user = await requireUser(request);
    const format = parseExportFormat(new URL(request.url).searchParams.get("format"));
    if (!format) return next();
    const chat = await findOwnChat(user.id, params.id);
    // Someone else's chat gets exactly the answer a missing one does.
    if (!chat) return new Response("There is no such chat.", { status: 404 });
    return exportResponse({ userId: user.id, chat }, format);
  },
];

export async function loader({ request }: Route.LoaderArgs) {
  await requireUser(request);
  throw data("Unknown export format: use json, csv or md.", { status: 400 });
}

// Only ever rendered as the 400 page above (the root error boundary draws it).
export default function ExportFormatError() {
  return null;
}
