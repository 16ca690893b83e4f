import { STATUS_CODES } from "node:http";
import {
  isOk,
  type OllamaResponse,
  ollamaDisplayUrl,
  ollamaRequest,
  withoutOllamaCredentials,
} from "./transport.server";

/** A model as listed by Ollama's GET /api/tags. */
export interface OllamaModel {
  name: string;
  size: number;
  parameterSize?: string;
  quantization?: string;
  modifiedAt?: string;
  family?: string;
}

interface TagsResponse {
  models?: Array<{
    name: string;
    size?: number;
    modified_at?: string;
    details?: { family?: string; parameter_size?: string; quantization_level?: string };
  }> | null;
}

export class OllamaUnavailableError extends Error {}

export async function listModels({ timeoutMs = 3000 }: { timeoutMs?: number } = {}): Promise<OllamaModel[]> {
  let body: TagsResponse;
  try {
    const response = await ollamaRequest("/api/tags", { signal: AbortSignal.timeout(timeoutMs) });
    if (!isOk(response)) {
      await response.body.dump();
      throw new OllamaUnavailableError(`Ollama answered ${response.statusCode} when listing models.`);
    }
    body = (await response.body.json()) as TagsResponse;
  } catch (error) {
    if (error instanceof OllamaUnavailableError) throw error;
    throw new OllamaUnavailableError(
      `Ollama at ${ollamaDisplayUrl()} did not answer (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  return (body.models ?? []).map((model) => ({
    name: model.name,
    size: model.size ?? 0,
    parameterSize: model.details?.parameter_size,
    quantization: model.details?.quantization_level,
    modifiedAt: model.modified_at,
    family: model.details?.family || undefined,
  }));
}

/** An error Ollama reported (`{"error": "..."}`), before or during a stream, or a transport failure. */
export class OllamaError extends Error {
  constructor(
    message: string,
    /** Ollama's HTTP status; 502 when Ollama could not be reached or the stream broke. */
    public status: number,
    /** "missing-endpoint": a 404 for the URL itself, not for a model. */
    public kind?: "missing-endpoint",
  ) {
    super(withoutOllamaCredentials(message));
  }
}

export interface OllamaToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

export interface OllamaChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  thinking?: string;
  /** Raw base64 (Ollama refuses data: URL prefixes). */
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
  tool_call_id?: string;
}

/** One NDJSON line of a streamed /api/chat reply (metrics are left out by Ollama when zero). */
/** Ollama's per-token log probability, when asked for with `logprobs` (`top_logprobs` alternatives). */
export interface OllamaLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
  top_logprobs?: Array<{ token: string; logprob: number; bytes?: number[] }>;
}

export interface OllamaChatChunk {
  model: string;
  message?: { role: string; content?: string; thinking?: string; tool_calls?: OllamaToolCall[] };
  logprobs?: OllamaLogprob[];
  done: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  total_duration?: number;
}

export async function errorFromResponse(response: OllamaResponse, endpoint: string): Promise<OllamaError> {
  const text = await response.body.text().catch(() => "");
  let message = text.trim() || STATUS_CODES[response.statusCode] || `HTTP ${response.statusCode}`;
  let fromOllama = false;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") {
      message = body.error;
      fromOllama = true;
    }
  } catch {
    // Not JSON (a proxy's HTML page, gin's plain-text 404): keep the text.
  }
  // Ollama says a model is missing with a JSON error; a plain "404 page not found" means this
  // Ollama (or a proxy in front) does not have the endpoint at all: too old, or the wrong URL.
  if (response.statusCode === 404 && !fromOllama) {
    return new OllamaError(
      `Ollama has no ${endpoint} endpoint (it answered "${message.slice(0, 100)}"). Upgrade Ollama, or check OLLAMA_URL points at Ollama itself.`,
      404,
      "missing-endpoint",
    );
  }
  return new OllamaError(message, response.statusCode);
}

/**
 * Streams POST /api/chat. Yields each NDJSON line; an `{"error"}` line mid-stream, an error status
 * before the stream, or a broken connection throws OllamaError. Aborting `signal` ends the request.
 */
export function streamChat(request: {
  model: string;
  messages: OllamaChatMessage[];
  options?: Record<string, unknown>;
  /** "json" or a JSON schema: structured output. */
  format?: unknown;
  tools?: unknown[];
  /** Ollama's `think`: false, true, or a level ("low", "medium", "high"). */
  think?: boolean | string;
  logprobs?: boolean;
  topLogprobs?: number;
  /**
   * false: ask Ollama for one JSON answer (cheaper for both sides when nobody watches the tokens
   * arrive); it is yielded as a single done chunk with the whole text.
   */
  stream?: boolean;
  signal?: AbortSignal;
}): AsyncGenerator<OllamaChatChunk> {
  return streamNdjson<OllamaChatChunk>(
    "/api/chat",
    {
      model: request.model,
      messages: request.messages,
      stream: request.stream !== false,
      ...(request.options ? { options: request.options } : {}),
      ...(request.format !== undefined ? { format: request.format } : {}),
      ...(request.tools?.length ? { tools: request.tools } : {}),
      ...(request.think !== undefined ? { think: request.think } : {}),
      ...(request.logprobs ? { logprobs: true } : {}),
      ...(request.logprobs && request.topLogprobs ? { top_logprobs: request.topLogprobs } : {}),
    },
    request.stream !== false,
    request.signal,
  );
}

/** One chunk of POST /api/generate: `response` instead of chat's `message`. */
export interface OllamaGenerateChunk {
  response?: string;
  logprobs?: OllamaLogprob[];
  thinking?: string;
  done: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
}

/** Streams POST /api/generate (a raw prompt, optionally with a suffix), like streamChat. */
export function streamGenerate(request: {
  model: string;
  prompt: string;
  suffix?: string;
  options?: Record<string, unknown>;
  /** Alternatives per token to return with each token's log probability; undefined: none. */
  topLogprobs?: number;
  stream?: boolean;
  signal?: AbortSignal;
}): AsyncGenerator<OllamaGenerateChunk> {
  return streamNdjson<OllamaGenerateChunk>(
    "/api/generate",
    {
      model: request.model,
      prompt: request.prompt,
      stream: request.stream !== false,
      ...(request.suffix ? { suffix: request.suffix } : {}),
      ...(request.topLogprobs !== undefined ? { logprobs: true, top_logprobs: request.topLogprobs } : {}),
      ...(request.options ? { options: request.options } : {}),
    },
    request.stream !== false,
    request.signal,
  );
}

/**
 * POSTs to an Ollama endpoint that answers NDJSON and yields each line; an `{"error"}` line
 * mid-stream, an error status before the stream, or a broken connection throws OllamaError.
 * Aborting `signal` ends the request. Not streamed: the one JSON answer is yielded as one chunk.
 */
async function* streamNdjson<Chunk extends { done: boolean }>(
  endpoint: string,
  json: Record<string, unknown>,
  stream: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<Chunk> {
  let response: OllamaResponse;
  try {
    response = await ollamaRequest(endpoint, { json, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new OllamaError(`Could not reach Ollama: ${error instanceof Error ? error.message : error}`, 502);
  }
  if (!isOk(response)) throw await errorFromResponse(response, endpoint);
  if (!stream) {
    let whole: Chunk & { error?: string };
    try {
      whole = (await response.body.json()) as Chunk & { error?: string };
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new OllamaError(
        `The connection to Ollama broke: ${error instanceof Error ? error.message : error}`,
        502,
      );
    }
    if (typeof whole.error === "string") throw new OllamaError(whole.error, 502);
    yield whole;
    return;
  }

  const decoder = new TextDecoder();
  let buffered = "";
  let sawDone = false;
  try {
    for await (const bytes of response.body) {
      buffered += decoder.decode(bytes as Buffer, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
        if (!line) continue;
        const chunk = JSON.parse(line) as Chunk & { error?: string };
        if (typeof chunk.error === "string") throw new OllamaError(chunk.error, 502);
        if (chunk.done) sawDone = true;
        yield chunk;
      }
    }
  } catch (error) {
    if (error instanceof OllamaError || signal?.aborted) throw error;
    throw new OllamaError(
      `The connection to Ollama broke: ${error instanceof Error ? error.message : error}`,
      502,
    );
  }
  // Ollama always ends a good stream with done:true; without it the runner died mid-reply.
  if (!sawDone) throw new OllamaError("Ollama ended the reply early (connection closed).", 502);
}

/** What POST /api/show says about a model, as far as the chat needs it. */
export interface ModelDetails {
  /** `<arch>.context_length` from model_info. */
  contextLength?: number;
  /** "completion", "thinking", "tools", "vision", ... (Ollama 0.6.4+; empty when older). */
  capabilities: string[];
  /** The Modelfile's PARAMETER lines (`parameters`), numbers parsed: the model's own defaults. */
  defaults: Record<string, number | string>;
}

/** Ollama's `parameters` text: one `name value` per line; repeated names (stop) keep the first. */
function parseParameters(text: string | undefined) {
  const defaults: Record<string, number | string> = {};
  for (const line of (text ?? "").split("\n")) {
    const match = line.trim().match(/^(\S+)\s+(.+)$/);
    if (!match || match[1] in defaults) continue;
    const value = match[2].trim().replace(/^"(.*)"$/, "$1");
    defaults[match[1]] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return defaults;
}

const modelDetailsCache = new Map<string, Promise<ModelDetails>>();

/** POST /api/show for a model, cached per model (forgotten when models change). */
export function modelDetails(model: string): Promise<ModelDetails> {
  let cached = modelDetailsCache.get(model);
  if (!cached) {
    cached = (async () => {
      const response = await ollamaRequest("/api/show", {
        json: { model },
        signal: AbortSignal.timeout(5000),
      });
      if (!isOk(response)) throw await errorFromResponse(response, "/api/show");
      const body = (await response.body.json()) as {
        model_info?: Record<string, unknown>;
        capabilities?: unknown;
        parameters?: unknown;
      };
      const entry = Object.entries(body.model_info ?? {}).find(([key]) => key.endsWith(".context_length"));
      return {
        contextLength: typeof entry?.[1] === "number" ? entry[1] : undefined,
        capabilities: Array.isArray(body.capabilities)
          ? body.capabilities.filter((c): c is string => typeof c === "string")
          : [],
        defaults: parseParameters(typeof body.parameters === "string" ? body.parameters : undefined),
      };
    })();
    modelDetailsCache.set(model, cached);
    // Do not remember failures: the next chat asks again.
    cached.catch(() => modelDetailsCache.delete(model));
  }
  return cached;
}

/** The model's context window from POST /api/show (`<arch>.context_length`), cached per model. */
export async function contextLength(model: string): Promise<number | undefined> {
  return (await modelDetails(model)).contextLength;
}

let modelsCache: { at: number; models: Promise<OllamaModel[]> } | undefined;
const MODELS_TTL_MS = 5000;

/** listModels, shared for a few seconds so a busy chat page does not ask Ollama on every load. */
export function cachedModels(): Promise<OllamaModel[]> {
  if (!modelsCache || Date.now() - modelsCache.at > MODELS_TTL_MS) {
    const models = listModels();
    modelsCache = { at: Date.now(), models };
    models.catch(() => {
      if (modelsCache?.models === models) modelsCache = undefined;
    });
  }
  return modelsCache.models;
}

/**
 * Forgets this process's cached model list and context windows, after a model was pulled or deleted
 * (every replica calls it: see app/server/models/settings.server.ts).
 */
export function forgetCachedModels() {
  modelsCache = undefined;
  modelDetailsCache.clear();
}

/** POST /api/embed: one vector per input, plus Ollama's token count. */
export async function embed(request: {
  model: string;
  input: string[];
  dimensions?: number;
  signal?: AbortSignal;
}) {
  let response: OllamaResponse;
  try {
    response = await ollamaRequest("/api/embed", {
      json: {
        model: request.model,
        input: request.input,
        ...(request.dimensions ? { dimensions: request.dimensions } : {}),
      },
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal?.aborted) throw error;
    throw new OllamaError(`Could not reach Ollama: ${error instanceof Error ? error.message : error}`, 502);
  }
  if (!isOk(response)) throw await errorFromResponse(response, "/api/embed");
  const body = (await response.body.json()) as { embeddings: number[][]; prompt_eval_count?: number };
  return { embeddings: body.embeddings, promptTokens: body.prompt_eval_count ?? 0 };
}
