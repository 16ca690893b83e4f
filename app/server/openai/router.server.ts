import { openApiDocument } from "~/lib/openapi";
import { assertModelAllowed, isModelAllowed } from "../api/keys.server";
import { env } from "../env.server";
import { handleOllamaApiRequest, isOllamaApiPath } from "../ollama/native-api.server";
import { createChatCompletion } from "./chat-completion.server";
import { parseChatCompletionRequest } from "./chat-request.server";
import { createCompletion, parseCompletionRequest } from "./completions.server";
import { isPreflight, preflightReply, withCors } from "./cors.server";
import { createEmbeddings, parseEmbeddingRequest } from "./embeddings.server";
import { apiEndpoint } from "./endpoint.server";
import { OpenAIError } from "./errors.server";
import { type ApiReply, type ApiRequest, jsonReply } from "./exchange.server";
import { assertModelVisible, listOpenAIModels, retrieveOpenAIModel } from "./models.server";
import { methodNotAllowed, readJsonBody } from "./request.server";
import { createResponse, listInputItems, removeResponse, retrieveResponse } from "./responses.server";
import { parseResponseRequest } from "./responses-request.server";

/**
 * Every /api/v1 endpoint, by path. One table for both ways in: server.ts's direct node:http path
 * and React Router's `api/v1/*` resource route (app/routes/api/v1.ts).
 */
const PREFIX = "/api/v1";
const MODEL_PREFIX = `${PREFIX}/models/`;
const RESPONSE_PREFIX = `${PREFIX}/responses/`;

const endpoints: Record<string, (request: ApiRequest) => Promise<ApiReply>> = {
  "/chat/completions": (request) =>
    apiEndpoint(request, "/v1/chat/completions", "POST", async ({ principal, headers, finish }) => {
      const body = parseChatCompletionRequest(await readJsonBody(request));
      assertModelAllowed(principal, body.model);
      await assertModelVisible(body.model);
      return createChatCompletion(body, request.signal, headers, finish);
    }),

  "/completions": (request) =>
    apiEndpoint(request, "/v1/completions", "POST", async ({ principal, headers, finish }) => {
      const body = parseCompletionRequest(await readJsonBody(request));
      assertModelAllowed(principal, body.model);
      await assertModelVisible(body.model);
      return createCompletion(body, request.signal, headers, finish);
    }),

  "/responses": (request) =>
    apiEndpoint(request, "/v1/responses", "POST", async ({ principal, headers, finish }) => {
      const body = parseResponseRequest(await readJsonBody(request));
      assertModelAllowed(principal, body.model);
      await assertModelVisible(body.model);
      return createResponse(body, principal, request.signal, headers, finish);
    }),

  "/embeddings": (request) =>
    apiEndpoint(request, "/v1/embeddings", "POST", async ({ principal, headers, finish }) => {
      const body = parseEmbeddingRequest(await readJsonBody(request));
      assertModelAllowed(principal, body.model);
      await assertModelVisible(body.model);
      const result = await createEmbeddings(body, request.signal);
      finish({ model: body.model, promptTokens: result.promptTokens, completionTokens: 0, status: 200 });
      return jsonReply(result.body, headers);
    }),

  "/models": (request) =>
    apiEndpoint(request, "/v1/models", "GET", async ({ principal, headers, finish }) => {
      const list = await listOpenAIModels((model) => isModelAllowed(principal, model));
      finish({ model: "", promptTokens: 0, completionTokens: 0, status: 200 });
      return jsonReply(list, headers);
    }),

  /**
   * Who a key belongs to and what it may use: a cheap way for a client to check a key (and see its
   * rate-limit headers). `?model=NAME` also checks the key's model allow-list (403 if not).
   */
  "/me": (request) =>
    apiEndpoint(request, "/v1/me", "GET", async ({ principal, headers, finish }) => {
      const model = request.url.searchParams.get("model");
      if (model !== null) assertModelAllowed(principal, model);
      finish({ model: "", promptTokens: 0, completionTokens: 0, status: 200 });
      return jsonReply(
        {
          object: "api_key",
          user_id: principal.userId,
          key_id: principal.keyId,
          allowed_models: principal.allowedModels,
          ...(model !== null ? { model, model_allowed: true } : {}),
        },
        { ...headers, "cache-control": "no-store" },
      );
    }),

  "/openapi.json": async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD")
      return methodNotAllowed(request.method, "GET").toReply();
    return jsonReply(openApiDocument(env().APP_URL, __APP_VERSION__), {
      "cache-control": "public, max-age=300",
    });
  },
};

function retrieveModel(request: ApiRequest, id: string) {
  return apiEndpoint(request, "/v1/models/{model}", "GET", async ({ principal, headers, finish }) => {
    const model = await retrieveOpenAIModel(id, (name) => isModelAllowed(principal, name));
    finish({ model: model.id, promptTokens: 0, completionTokens: 0, status: 200 });
    return jsonReply(model, headers);
  });
}

/** GET and DELETE /responses/{id}, GET /responses/{id}/input_items: stored responses, per key. */
function storedResponse(request: ApiRequest, rest: string) {
  const [id, sub, ...more] = rest.split("/");
  if (sub === "input_items" && !more.length) {
    return apiEndpoint(
      request,
      "/v1/responses/{id}/input_items",
      "GET",
      async ({ principal, headers, finish }) => {
        const list = await listInputItems(principal, id, request.url.searchParams);
        finish({ model: "", promptTokens: 0, completionTokens: 0, status: 200 });
        return jsonReply(list, headers);
      },
    );
  }
  if (sub !== undefined) return Promise.resolve(unknownUrl(request));
  const allow = "GET, HEAD, DELETE";
  if (request.method === "DELETE") {
    return apiEndpoint(
      request,
      "/v1/responses/{id}",
      "DELETE",
      async ({ principal, headers, finish }) => {
        const deleted = await removeResponse(principal, id);
        finish({ model: "", promptTokens: 0, completionTokens: 0, status: 200 });
        return jsonReply(deleted, headers);
      },
      allow,
    );
  }
  return apiEndpoint(
    request,
    "/v1/responses/{id}",
    "GET",
    async ({ principal, headers, finish }) => {
      const response = await retrieveResponse(principal, id, request.url.searchParams);
      finish({ model: String(response.model ?? ""), promptTokens: 0, completionTokens: 0, status: 200 });
      return jsonReply(response, headers);
    },
    allow,
  );
}

/** Model ids may contain "/", which the openai clients send as %2F; ":" arrives as is. */
function decodeModelId(encoded: string) {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** Anything else under /api/v1 answers in the OpenAI envelope, as OpenAI does. */
function unknownUrl(request: ApiRequest) {
  return new OpenAIError(
    404,
    `Unknown request URL: ${request.method} ${request.url.pathname}. See /docs/api for the endpoints.`,
    "invalid_request_error",
    "unknown_url",
  ).toReply();
}

/** /api/v1 and Ollama's own API under /ollama/api: bearer keys, served by this table's handlers. */
export function isApiPath(pathname: string) {
  return pathname === PREFIX || pathname.startsWith(`${PREFIX}/`) || isOllamaApiPath(pathname);
}

export async function handleApiRequest(request: ApiRequest): Promise<ApiReply> {
  if (isPreflight(request)) return preflightReply(request);
  return withCors(request, await route(request));
}

async function route(request: ApiRequest): Promise<ApiReply> {
  const path = request.url.pathname;
  if (isOllamaApiPath(path)) return handleOllamaApiRequest(request);
  // React Router matches case-insensitively, and URL parsing resolves "..": only the exact prefix.
  if (!(path === PREFIX || path.startsWith(`${PREFIX}/`))) return unknownUrl(request);
  // A trailing slash names the same endpoint, as in React Router's matching.
  const endpoint = endpoints[path.slice(PREFIX.length).replace(/(.)\/$/, "$1")];
  if (endpoint) return endpoint(request);
  if (path.startsWith(MODEL_PREFIX) && path.length > MODEL_PREFIX.length) {
    return retrieveModel(request, decodeModelId(path.slice(MODEL_PREFIX.length)));
  }
  if (path.startsWith(RESPONSE_PREFIX) && path.length > RESPONSE_PREFIX.length) {
    return storedResponse(request, path.slice(RESPONSE_PREFIX.length).replace(/\/$/, ""));
  }
  return unknownUrl(request);
}
