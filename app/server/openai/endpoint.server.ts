import { type ApiPrincipal, requireApiKey } from "../api/keys.server";
import { chargeTokens, consumeRequest } from "../api/limits.server";
import { recordUsage } from "../api/usage.server";
import { errorFields, log } from "../log.server";
import { OpenAIError, withOpenAIErrors } from "./errors.server";
import type { ApiReply, ApiRequest } from "./exchange.server";
import { methodNotAllowed } from "./request.server";

export interface Outcome {
  model: string;
  promptTokens: number;
  completionTokens: number;
  status: number;
}

export interface EndpointContext {
  principal: ApiPrincipal;
  /** Rate-limit headers, to put on the response. */
  headers: Record<string, string>;
  /** Records usage (and charges token limits) once; streamed calls call it when the stream ends. */
  finish(outcome: Outcome): void;
}

/**
 * Every /api/v1 endpoint: method check, API key, rate limits, the OpenAI error envelope (with the
 * rate-limit headers on errors too), and one usage record per call, written in the background.
 */
export function apiEndpoint(
  request: ApiRequest,
  endpoint: string,
  method: "GET" | "POST" | "DELETE",
  handle: (context: EndpointContext) => Promise<ApiReply>,
  /** The Allow header of a 405, when the path answers more methods than this one. */
  allow = method === "GET" ? "GET, HEAD" : method,
): Promise<ApiReply> {
  return withOpenAIErrors(
    async () => {
      // HEAD is a GET without the body (the writers leave it out), as HTTP wants it answered.
      const asked = request.method === "HEAD" && method === "GET" ? "GET" : request.method;
      if (asked !== method) throw methodNotAllowed(request.method, allow);
      const principal = await requireApiKey(request.header("authorization"));
      const started = performance.now();
      let finished = false;
      const finish = (outcome: Outcome) => {
        if (finished) return;
        finished = true;
        recordUsage({
          userId: principal.userId,
          keyId: principal.keyId,
          endpoint,
          model: outcome.model,
          promptTokens: outcome.promptTokens,
          completionTokens: outcome.completionTokens,
          latencyMs: performance.now() - started,
          status: outcome.status,
        });
        chargeTokens(principal, outcome.promptTokens + outcome.completionTokens);
      };
      let headers: Record<string, string> = {};
      try {
        headers = await consumeRequest(principal);
        return await handle({ principal, headers, finish });
      } catch (error) {
        const status = error instanceof OpenAIError ? error.status : 500;
        if (error instanceof OpenAIError) error.headers = { ...headers, ...error.headers };
        finish({ model: "", promptTokens: 0, completionTokens: 0, status });
        throw error;
      }
    },
    (error) => log.error(`${endpoint} failed`, errorFields(error)),
  );
}
