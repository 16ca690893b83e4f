import { getUser } from "~/server/auth.server";
import { hasHealthToken, healthReport, publicView } from "~/server/health.server";
import type { Route } from "./+types/health";

/**
 * Liveness and readiness in one: 200 while people can sign in and use the app (degraded if only
 * Ollama is away), 503 when the database or Redis is away or the replica is draining. Anyone sees
 * the status, the check names and what works; versions, timings and errors need HEALTH_TOKEN or an
 * admin session.
 */
export async function loader({ request }: Route.LoaderArgs) {
  const report = await healthReport();
  const healthy = report.status === "ok" || report.status === "degraded";
  const detailed = hasHealthToken(request.headers.get("authorization")) || (await isAdmin(request));
  return Response.json(detailed ? report : publicView(report), {
    status: healthy ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}

async function isAdmin(request: Request) {
  if (!request.headers.get("cookie")) return false;
  // With the session store away, the caller is simply not known to be an admin.
  return getUser(request).then(
    (user) => user?.role === "ADMIN",
    () => false,
  );
}
