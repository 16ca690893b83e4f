import { type ApiPrincipal, isModelAllowed, requireApiKey } from "../api/keys.server";
import { chargeTokens, consumeRequest } from "../api/limits.server";
import { recordUsage } from "../api/usage.server";
import { errorFields, log } from "../log.server";
import { isModelHidden, withoutHidden } from "../models/settings.server";
import { OpenAIError } from "../openai/errors.server";
import type { ApiReply, ApiRequest } from "../openai/exchange.server";
import { readJsonBody } from "../openai/request.server";
import { isOk, type OllamaResponse, ollamaRequest, withoutOllamaCredentials } from "./transport.server";

/**
 * Ollama's own API under /ollama/api/*, for tools that speak it (editors, note apps, the official
 * `ollama` JavaScript and Python clients): the same API keys (`Authorization: Bearer`), model
 * allow-lists, hidden models, rate limits and usage accounting as /api/v1, with Ollama's request and
 * response bodies passed through unchanged and errors in Ollama's shape (`{"error": "..."}`).
 * Managing models (pull, delete, create, copy, push) stays with admins in the app, never a key.
 */

export const OLLAMA_API_PREFIX = "/ollama/api";

export function isOllamaApiPath(pathname: string) {
  return pathname === OLLAMA_API_PREFIX || pathname.startsWith(`${OLLAMA_API_PREFIX}/`);
}

const ADMIN_ONLY = new Set(["pull", "delete", "create", "copy", "push", "blobs"]);

class NativeError extends Error {
  constructor(
    public status: number,
    message: string,
    public headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function errorReply(status: number, message: string, headers: Record<string, string> = {}): ApiReply {
  return { status, headers, json: { error: message } };
}

/** An /api/v1 refusal (bad key, rate limit, too large...) in Ollama's error shape, same status and headers. */
function fromOpenAIError(error: OpenAIError): NativeError {
  return new NativeError(error.status, error.message, error.headers);
}

export async function handleOllamaApiRequest(request: ApiRequest): Promise<ApiReply> {
  const endpoint = request.url.pathname.slice(OLLAMA_API_PREFIX.length + 1).replace(/\/$/, "");
  const name = endpoint.split("/")[0];
  if (ADMIN_ONLY.has(name)) {
    return errorReply(
      403,
      `/api/${name} is not available with an API key: administrators manage models under /admin/models.`,
    );
  }
  const handler = handlers[endpoint];
  if (!handler) return errorReply(404, "404 page not found");
  if (request.method !== handler.method && !(handler.method === "GET" && request.method === "HEAD")) {
    return errorReply(405, `405 method not allowed: use ${handler.method}`, { allow: handler.method });
  }

  let principal: ApiPrincipal;
  let limitHeaders: Record<string, string> = {};
  try {
    principal = await requireApiKey(request.header("authorization"));
    limitHeaders = await consumeRequest(principal);
  } catch (error) {
    return refusal(error);
  }
  const started = performance.now();
  const record = (model: string, status: number, promptTokens = 0, completionTokens = 0) => {
    recordUsage({
      userId: principal.userId,
      keyId: principal.keyId,
      endpoint: `/ollama/api/${endpoint}`,
      model,
      promptTokens,
      completionTokens,
      latencyMs: performance.now() - started,
      status,
    });
    chargeTokens(principal, promptTokens + completionTokens);
  };
  try {
    const reply = await handler.handle({ request, principal, record });
    return { ...reply, headers: { ...limitHeaders, ...reply.headers } };
  } catch (error) {
    const reply = refusal(error);
    record("", request.signal.aborted ? 499 : reply.status);
    return { ...reply, headers: { ...limitHeaders, ...reply.headers } };
  }
}

function refusal(error: unknown): ApiReply {
  const native =
    error instanceof NativeError ? error : error instanceof OpenAIError ? fromOpenAIError(error) : undefined;
  if (native) return errorReply(native.status, native.message, native.headers);
  log.error("/ollama/api failed", errorFields(error));
  return errorReply(500, "The server had an error processing your request.");
}

interface HandlerContext {
  request: ApiRequest;
  principal: ApiPrincipal;
  record(model: string, status: number, promptTokens?: number, completionTokens?: number): void;
}
type Handler = { method: "GET" | "POST"; handle(context: HandlerContext): Promise<ApiReply> };

const handlers: Record<string, Handler> = {
  version: { method: "GET", handle: ({ record }) => passThroughGet("/api/version", record) },
  tags: {
    method: "GET",
    handle: async ({ principal, record }) => {
      const body = (await getJson("/api/tags")) as { models?: Array<{ name: string }> | null };
      const models = await withoutHidden(
        (body.models ?? []).filter((m) => isModelAllowed(principal, m.name)),
      );
      record("", 200);
      return { status: 200, headers: {}, json: { ...body, models } };
    },
  },
  ps: {
    method: "GET",
    handle: async ({ principal, record }) => {
      const body = (await getJson("/api/ps")) as { models?: Array<{ name: string }> | null };
      const models = await withoutHidden(
        (body.models ?? []).filter((m) => isModelAllowed(principal, m.name)),
      );
      record("", 200);
      return { status: 200, headers: {}, json: { ...body, models } };
    },
  },
  show: { method: "POST", handle: (context) => runModel(context, "/api/show") },
  chat: { method: "POST", handle: (context) => runModel(context, "/api/chat") },
  generate: { method: "POST", handle: (context) => runModel(context, "/api/generate") },
  embed: { method: "POST", handle: (context) => runModel(context, "/api/embed") },
  embeddings: { method: "POST", handle: (context) => runModel(context, "/api/embeddings") },
};

async function upstream(path: string, init: Parameters<typeof ollamaRequest>[1]): Promise<OllamaResponse> {
  try {
    return await ollamaRequest(path, init);
  } catch (error) {
    if (init?.signal?.aborted) throw new NativeError(499, "request canceled");
    throw new NativeError(
      502,
      withoutOllamaCredentials(`Could not reach Ollama: ${error instanceof Error ? error.message : error}`),
    );
  }
}

async function getJson(path: string) {
  const response = await upstream(path, { signal: AbortSignal.timeout(5000) });
  if (!isOk(response)) throw await upstreamError(response);
  return response.body.json();
}

async function passThroughGet(path: string, record: HandlerContext["record"]): Promise<ApiReply> {
  const json = await getJson(path);
  record("", 200);
  return { status: 200, headers: {}, json };
}

async function upstreamError(response: OllamaResponse) {
  const text = await response.body.text().catch(() => "");
  let message = text.trim() || `Ollama answered ${response.statusCode}`;
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === "string") message = parsed.error;
  } catch {}
  return new NativeError(response.statusCode, withoutOllamaCredentials(message));
}

/**
 * A call that names a model: the key may use it and an admin has not hidden it (a hidden model is
 * refused exactly as Ollama refuses one it does not have), then the body goes to Ollama unchanged
 * and the answer, streamed NDJSON or one JSON object, comes back unchanged, with Ollama's own
 * prompt_eval_count / eval_count recorded as usage. The client leaving stops Ollama.
 */
async function runModel({ request, principal, record }: HandlerContext, path: string): Promise<ApiReply> {
  const body = await readJsonBody(request).catch((error) => {
    throw error instanceof OpenAIError ? fromOpenAIError(error) : error;
  });
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new NativeError(400, "the request body must be a JSON object");
  }
  const fields = body as Record<string, unknown>;
  const model =
    typeof fields.model === "string" ? fields.model : typeof fields.name === "string" ? fields.name : "";
  if (!model) throw new NativeError(400, "model is required");
  if (!isModelAllowed(principal, model)) {
    throw new NativeError(403, `This API key may not use the model '${model}'.`);
  }
  if (await isModelHidden(model)) throw new NativeError(404, `model '${model}' not found`);

  const controller = new AbortController();
  const abort = () => controller.abort();
  request.signal.addEventListener("abort", abort, { once: true });
  const response = await upstream(path, { json: fields, signal: controller.signal }).catch((error) => {
    request.signal.removeEventListener("abort", abort);
    throw error;
  });
  if (!isOk(response)) {
    request.signal.removeEventListener("abort", abort);
    throw await upstreamError(response);
  }
  const streamed =
    path !== "/api/show" && path !== "/api/embed" && path !== "/api/embeddings" && fields.stream !== false;
  if (!streamed) {
    try {
      const json = (await response.body.json()) as { prompt_eval_count?: number; eval_count?: number };
      record(model, 200, json.prompt_eval_count ?? 0, json.eval_count ?? 0);
      return { status: 200, headers: {}, json };
    } finally {
      request.signal.removeEventListener("abort", abort);
    }
  }

  async function* lines(): AsyncGenerator<string, void, undefined> {
    const decoder = new TextDecoder();
    let buffered = "";
    let counts = { prompt: 0, completion: 0 };
    let status = 200;
    let finished = false;
    try {
      for await (const bytes of response.body) {
        const text = decoder.decode(bytes as Buffer, { stream: true });
        buffered += text;
        // Counts come on the last line (done: true); an error line ends the stream as a failure.
        for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (!line.trim()) continue;
          try {
            const chunk = JSON.parse(line) as {
              done?: boolean;
              error?: string;
              prompt_eval_count?: number;
              eval_count?: number;
            };
            if (chunk.error) status = 502;
            if (chunk.done)
              counts = { prompt: chunk.prompt_eval_count ?? 0, completion: chunk.eval_count ?? 0 };
          } catch {}
          yield `${line}\n`;
        }
      }
      if (buffered.trim()) yield buffered;
      finished = true;
    } catch {
      status = request.signal.aborted ? 499 : 502;
    } finally {
      request.signal.removeEventListener("abort", abort);
      if (!finished) {
        controller.abort();
        if (status === 200) status = 499;
      }
      record(model, status, counts.prompt, counts.completion);
    }
  }
  return {
    status: 200,
    headers: {
      "Content-Type": "application/x-ndjson",
      "Cache-Control": "no-cache",
      "X-Accel-Buffering": "no",
    },
    events: lines(),
  };
}
