import { z } from "zod";
import { formatDay, resolveRange, usageQuerySchema } from "~/lib/admin-usage";
import { requireAdminPage } from "~/server/admin/guard.server";
import { USAGE_CSV_TABLES, usageCsv } from "~/server/admin/usage.server";
import type { Route } from "./+types/usage-csv";

const tableSchema = z.enum(USAGE_CSV_TABLES).default("daily");

/** /admin/usage.csv: the numbers of /admin/usage (same query string) as a CSV download. */
export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const query = usageQuerySchema.safeParse(params);
  const table = tableSchema.safeParse(params.table);
  if (!query.success || !table.success) {
    return new Response("Choose a valid date range, source and table.", {
      status: 400,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
  const now = new Date();
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const { from, to } = resolveRange(query.data, today);
  const body = await usageCsv({ from, to, source: query.data.source }, table.data);
  const name = `customchatai-usage-${table.data}-${query.data.source}-${formatDay(from)}-${formatDay(to)}.csv`;
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8; header=present",
      "Content-Disposition": `attachment; filename="${name}"`,
      "Cache-Control": "private, no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
