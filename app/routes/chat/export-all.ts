import { data } from "react-router";
import { requireUser } from "~/server/auth.server";
import { exportResponse, parseExportFormat } from "~/server/chat/export.server";
import type { Route } from "./+types/export-all";

/**
 * GET /chat/export?format=json|csv|md: every chat of the signed-in user, streamed as a download.
 * Answered by the middleware, as in export.ts; an unknown format gets the loader's 400 page.
 */
export const middleware: Route.MiddlewareFunction[] = [
  async ({ request }, next) => {
    const user = await requireUser(request);
    const format = parseExportFormat(new URL(request.url).searchParams.get("format"));
    if (!format) return next();
    return exportResponse({ userId: user.id }, format);
  },
];

export async function loader({ request }: Route.LoaderArgs) {
  await requireUser(request);
  throw data("Unknown export format: use json, csv or md.", { status: 400 });
}

export default function ExportFormatError() {
  return null;
}
