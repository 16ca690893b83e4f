import { assertModelAllowed, requireApiKey } from "~/server/api/keys.server";
import { consumeRequest } from "~/server/api/limits.server";
import { recordUsage } from "~/server/api/usage.server";
import { log } from "~/server/log.server";
import { OpenAIError, withOpenAIErrors } from "~/server/openai/errors.server";
import type { Route } from "./+types/me";

/**
 * `GET /api/v1/me`: who a key belongs to and what it may use; a cheap way for a client to check a
 * key (and its rate-limit headers). `?model=NAME` also checks the key's model allow-list (403 if not).
 */
export async function loader({ request }: Route.LoaderArgs) {
  const started = performance.now();
  return withOpenAIErrors(
    async () => {
      const principal = await requireApiKey(request);
      let status = 200;
      let headers: Record<string, string> = {};
      try {
        headers = await consumeRequest(principal);
        const model = new URL(request.url).searchParams.get("model");
        if (model !== null) assertModelAllowed(principal, model);
        return Response.json(
          {
            object: "api_key",
            user_id: principal.userId,
            key_id: principal.keyId,
            allowed_models: principal.allowedModels,
            ...(model !== null ? { model, model_allowed: true } : {}),
          },
          { headers: { ...headers, "cache-control": "no-store" } },
        );
      } catch (error) {
        status = error instanceof OpenAIError ? error.status : 500;
        // Errors after the limit was counted carry the rate-limit headers too.
        if (error instanceof OpenAIError) error.headers = { ...headers, ...error.headers };
        throw error;
      } finally {
        recordUsage({
          userId: principal.userId,
          keyId: principal.keyId,
          model: "",
          endpoint: "/v1/me",
          promptTokens: 0,
          completionTokens: 0,
          latencyMs: performance.now() - started,
          status,
        });
      }
    },
    (error) => log.error("GET /api/v1/me failed", { error: String(error) }),
  );
}
