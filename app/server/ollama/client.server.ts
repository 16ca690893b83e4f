import { env } from "../env.server";

/** A model as listed by Ollama's GET /api/tags. */
export interface OllamaModel {
  name: string;
  size: number;
  parameterSize?: string;
  quantization?: string;
  modifiedAt?: string;
}

interface TagsResponse {
  models?: Array<{
    name: string;
    size?: number;
    modified_at?: string;
    details?: { parameter_size?: string; quantization_level?: string };
  }> | null;
}

export class OllamaUnavailableError extends Error {}

export async function listModels({ timeoutMs = 3000 }: { timeoutMs?: number } = {}): Promise<OllamaModel[]> {
  let response: Response;
  try {
    response = await fetch(`${env().OLLAMA_URL}/api/tags`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new OllamaUnavailableError(
      `Ollama at ${env().OLLAMA_URL} did not answer (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new OllamaUnavailableError(`Ollama answered ${response.status} when listing models.`);
  }
  const body = (await response.json()) as TagsResponse;
  return (body.models ?? []).map((model) => ({
    name: model.name,
    size: model.size ?? 0,
    parameterSize: model.details?.parameter_size,
    quantization: model.details?.quantization_level,
    modifiedAt: model.modified_at,
  }));
}
