import { openApiDocument } from "~/lib/openapi";
import { env } from "~/server/env.server";

export function loader() {
  return Response.json(openApiDocument(env().APP_URL, __APP_VERSION__), {
    headers: { "Cache-Control": "public, max-age=300" },
  });
}
