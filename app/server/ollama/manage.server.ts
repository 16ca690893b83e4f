import { errorFromResponse, OllamaError } from "./client.server";
import { isOk, type OllamaResponse, ollamaRequest } from "./transport.server";

/** Model management on Ollama's native API (/api/ps, /api/show, /api/delete, /api/pull). */

export interface LoadedModel {
  name: string;
  sizeVram: number;
  expiresAt?: string;
  contextLength?: number;
}

async function call(path: string, options: Parameters<typeof ollamaRequest>[1], timeoutMs: number) {
  try {
    return await ollamaRequest(path, { ...options, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new OllamaError(`Could not reach Ollama: ${error instanceof Error ? error.message : error}`, 502);
  }
}

/** GET /api/ps: the models in memory now. */
export async function loadedModels(): Promise<LoadedModel[]> {
  const response = await call("/api/ps", {}, 3000);
  if (!isOk(response)) throw await errorFromResponse(response, "/api/ps");
  const body = (await response.body.json()) as {
    models?: Array<{ name: string; size_vram?: number; expires_at?: string; context_length?: number }> | null;
  };
  return (body.models ?? []).map((model) => ({
    name: model.name,
    sizeVram: model.size_vram ?? 0,
    expiresAt: model.expires_at,
    contextLength: model.context_length,
  }));
}

export interface ModelDetails {
  contextLength?: number;
  capabilities: string[];
  license?: string;
  template?: string;
  parameters?: string;
  modelfile?: string;
  family?: string;
  parameterSize?: string;
  quantization?: string;
}

/** POST /api/show. An unknown model is an OllamaError with status 404. */
export async function showModel(model: string): Promise<ModelDetails> {
  const response = await call("/api/show", { json: { model } }, 5000);
  if (!isOk(response)) throw await errorFromResponse(response, "/api/show");
  const body = (await response.body.json()) as {
    license?: string;
    modelfile?: string;
    parameters?: string;
    template?: string;
    capabilities?: string[];
    model_info?: Record<string, unknown>;
    details?: { family?: string; parameter_size?: string; quantization_level?: string };
  };
  const context = Object.entries(body.model_info ?? {}).find(([key]) => key.endsWith(".context_length"));
  return {
    contextLength: typeof context?.[1] === "number" ? context[1] : undefined,
    capabilities: body.capabilities ?? [],
    license: body.license,
    template: body.template,
    parameters: body.parameters,
    modelfile: body.modelfile,
    family: body.details?.family,
    parameterSize: body.details?.parameter_size,
    quantization: body.details?.quantization_level,
  };
}

/** DELETE /api/delete. Ollama answers success with an empty 200 (nothing to parse). */
export async function deleteModel(model: string): Promise<void> {
  const response = await call("/api/delete", { method: "DELETE", json: { model } }, 30_000);
  if (!isOk(response)) throw await errorFromResponse(response, "/api/delete");
  await response.body.dump();
}

/** One NDJSON line of POST /api/pull. */
export interface PullLine {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/**
 * Streams POST /api/pull. Yields each progress line; an `{"error"}` line (an unknown model gives
 * "pull model manifest: file does not exist" after "pulling manifest"), an error status or a broken
 * connection throws OllamaError. Aborting `signal` closes the request, which is how Ollama is told
 * to stop the pull (it keeps the downloaded part for a later resume).
 */
export async function* pullModel(model: string, signal: AbortSignal): AsyncGenerator<PullLine> {
  let response: OllamaResponse;
  try {
    response = await ollamaRequest("/api/pull", { json: { model, stream: true }, signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new OllamaError(`Could not reach Ollama: ${error instanceof Error ? error.message : error}`, 502);
  }
  if (!isOk(response)) throw await errorFromResponse(response, "/api/pull");
  const decoder = new TextDecoder();
  let buffered = "";
  let succeeded = false;
  try {
    for await (const bytes of response.body) {
      buffered += decoder.decode(bytes as Buffer, { stream: true });
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const parsed = JSON.parse(line) as PullLine & { error?: unknown };
        if (typeof parsed.error === "string") throw new OllamaError(parsed.error, 502);
        if (parsed.status === "success") succeeded = true;
        yield parsed;
      }
    }
  } catch (error) {
    if (error instanceof OllamaError || signal.aborted) throw error;
    throw new OllamaError(
      `The connection to Ollama broke: ${error instanceof Error ? error.message : error}`,
      502,
    );
  }
  if (!succeeded) throw new OllamaError("Ollama ended the pull early (connection closed).", 502);
}
