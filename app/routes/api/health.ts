import { healthReport } from "~/server/health.server";

/** Liveness and readiness in one: 200 while the database answers (degraded if Redis or Ollama do not). */
export async function loader() {
  const report = await healthReport();
  const healthy = report.status === "ok" || report.status === "degraded";
  return Response.json(report, { status: healthy ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
