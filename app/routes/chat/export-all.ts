import { requireUser } from "~/server/auth.server";
import { exportResponse, parseExportFormat } from "~/server/chat/export.server";
import type { Route } from "./+types/export-all";

/** GET /chat/export?format=json|csv|md: every chat of the signed-in user, streamed as a download. */
export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const format = parseExportFormat(new URL(request.url).searchParams.get("format"));
  if (!format) return new Response("Unknown export format: use json, csv or md.", { status: 400 });
  return exportResponse({ userId: user.id }, format);
}
