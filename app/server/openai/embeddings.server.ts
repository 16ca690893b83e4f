import { z } from "zod";
import { embed } from "../ollama/client.server";
import { toOpenAIError } from "./chat-completion.server";
import { invalidRequestFrom } from "./chat-request.server";

export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1, "you must provide a model parameter"),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1, "input must not be empty").max(2048, "at most 2048 inputs per request"),
  ]),
  dimensions: z.number().int().positive().optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().optional(),
});

export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

export function parseEmbeddingRequest(body: unknown): EmbeddingRequest {
  const parsed = embeddingRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequestFrom(parsed.error);
  return parsed.data;
}

/** base64 of little-endian float32s, which is what the openai clients decode. */
function toBase64(vector: number[]) {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

export async function createEmbeddings(request: EmbeddingRequest, signal: AbortSignal) {
  const inputs = typeof request.input === "string" ? [request.input] : request.input;
  let result: Awaited<ReturnType<typeof embed>>;
  try {
    result = await embed({ model: request.model, input: inputs, dimensions: request.dimensions, signal });
  } catch (error) {
    throw toOpenAIError(error, request.model, signal);
  }
  return {
    body: {
      object: "list" as const,
      data: result.embeddings.map((vector, index) => ({
        object: "embedding" as const,
        embedding: request.encoding_format === "base64" ? toBase64(vector) : vector,
        index,
      })),
      model: request.model,
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    },
    promptTokens: result.promptTokens,
  };
}
