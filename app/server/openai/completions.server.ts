import { z } from "zod";
import { type OllamaGenerateChunk, type OllamaLogprob, streamGenerate } from "../ollama/client.server";
import {
  type CompletionOutcome,
  completionId,
  FINGERPRINT,
  finishReason,
  openUpstream,
  toOpenAIError,
  usageOf,
} from "./chat-completion.server";
import { invalidRequestFrom } from "./chat-request.server";
import { invalidRequest } from "./errors.server";
import { type ApiReply, jsonReply, sseReply } from "./exchange.server";

/**
 * Legacy text completions (POST /completions, OpenAI's CreateCompletionRequest) over Ollama's
 * /api/generate. One prompt, one choice: what Ollama can do. Options OpenAI has and Ollama does not
 * (`echo`, `best_of` > 1, several prompts, token-id prompts) are refused with a 400 naming the field,
 * never silently ignored. Unlike OpenAI, `max_tokens` has no default of 16: unset, the model decides
 * (as Ollama's own /v1/completions does).
 */

const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();

const completionRequestSchema = z.looseObject({
  model: z.string().min(1, "you must provide a model parameter"),
  prompt: z.union([z.string(), z.array(z.unknown())]),
  suffix: z.string().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  stop: z
    .union([z.string(), z.array(z.string()).min(1).max(4)])
    .nullable()
    .optional(),
  seed: z.number().int().nullable().optional(),
  frequency_penalty: nullableNumber(-2, 2),
  presence_penalty: nullableNumber(-2, 2),
  n: z.number().int().min(1).max(128).nullable().optional(),
  best_of: z.number().int().min(1).max(20).nullable().optional(),
  echo: z.boolean().nullable().optional(),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
  user: z.string().optional(),
});

export interface CompletionRequest {
  model: string;
  prompt: string;
  suffix?: string;
  options: Record<string, unknown>;
  stream: boolean;
  includeUsage: boolean;
  /** Legacy `logprobs`: how many alternatives per token (0: just the chosen one); undefined: none. */
  logprobs?: number;
}

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const parsed = completionRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequestFrom(parsed.error);
  const request = parsed.data;
  let prompt: string;
  if (typeof request.prompt === "string") prompt = request.prompt;
  else if (request.prompt.length === 1 && typeof request.prompt[0] === "string") prompt = request.prompt[0];
  else if (request.prompt.length > 1 && request.prompt.every((part) => typeof part === "string"))
    throw invalidRequest(
      "Send one prompt per request: several prompts in one request are not supported.",
      "prompt",
    );
  else
    throw invalidRequest(
      "prompt must be a string or an array of one string; token-id prompts are not supported.",
      "prompt",
    );
  if (request.echo)
    throw invalidRequest("echo is not supported: Ollama does not return the prompt's tokens.", "echo");
  if ((request.n ?? 1) > 1) throw invalidRequest("n > 1 is not supported: one choice per request.", "n");
  if ((request.best_of ?? 1) > 1) throw invalidRequest("best_of > 1 is not supported.", "best_of");

  const options: Record<string, unknown> = {};
  if (request.max_tokens != null) options.num_predict = request.max_tokens;
  if (request.temperature != null) options.temperature = request.temperature;
  if (request.top_p != null) options.top_p = request.top_p;
  if (request.seed != null) options.seed = request.seed;
  if (request.frequency_penalty != null) options.frequency_penalty = request.frequency_penalty;
  if (request.presence_penalty != null) options.presence_penalty = request.presence_penalty;
  if (request.stop != null) options.stop = typeof request.stop === "string" ? [request.stop] : request.stop;
  return {
    model: request.model,
    prompt,
    suffix: request.suffix ?? undefined,
    options,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    logprobs: request.logprobs ?? undefined,
  };
}

export async function createCompletion(
  request: CompletionRequest,
  clientSignal: AbortSignal,
  headers: Record<string, string>,
  onFinish: (outcome: CompletionOutcome) => void,
): Promise<ApiReply> {
  const upstream = await openUpstream(
    (signal) =>
      streamGenerate({
        model: request.model,
        prompt: request.prompt,
        suffix: request.suffix,
        options: request.options,
        topLogprobs: request.logprobs,
        stream: request.stream,
        signal,
      }),
    request.model,
    clientSignal,
  );
  const id = completionId().replace(/^chatcmpl-/, "cmpl-");
  const created = Math.floor(Date.now() / 1000);
  const base = {
    id,
    object: "text_completion",
    created,
    model: request.model,
    system_fingerprint: FINGERPRINT,
  };
  let offset = 0;
  /** The legacy shape: parallel arrays, alternatives as {token: logprob} maps, character offsets. */
  const legacyLogprobs = (entries: OllamaLogprob[]) => {
    const text_offset: number[] = [];
    for (const entry of entries) {
      text_offset.push(offset);
      offset += entry.token.length;
    }
    return {
      tokens: entries.map((entry) => entry.token),
      token_logprobs: entries.map((entry) => entry.logprob),
      top_logprobs: entries.map((entry) =>
        Object.fromEntries((entry.top_logprobs ?? []).map((top) => [top.token, top.logprob])),
      ),
      text_offset,
    };
  };
  const choice = (text: string, finish: string | null, entries: OllamaLogprob[] = []) => ({
    text,
    index: 0,
    logprobs: request.logprobs === undefined ? null : legacyLogprobs(entries),
    finish_reason: finish,
  });
  let last: OllamaGenerateChunk | undefined;
  let finished = false;
  const finish = (status: number) => {
    if (finished) return;
    finished = true;
    upstream.release();
    const usage = usageOf(last);
    onFinish({
      model: request.model,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      status,
    });
  };

  if (!request.stream) {
    let text = "";
    const entries: OllamaLogprob[] = [];
    try {
      for (let step = upstream.first; !step.done; step = await upstream.chunks.next()) {
        text += step.value.response ?? "";
        entries.push(...(step.value.logprobs ?? []));
        last = step.value;
      }
    } catch (error) {
      const failure = toOpenAIError(error, request.model, clientSignal);
      finish(failure.status);
      throw failure;
    }
    finish(200);
    return jsonReply(
      {
        ...base,
        choices: [choice(text, finishReason(last?.done_reason, false), entries)],
        usage: usageOf(last),
      },
      headers,
    );
  }

  const event = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
  async function* events(): AsyncGenerator<string, void, undefined> {
    try {
      for (let step = upstream.first; !step.done; step = await upstream.chunks.next()) {
        last = step.value;
        if (step.value.response)
          yield event({ ...base, choices: [choice(step.value.response, null, step.value.logprobs ?? [])] });
      }
      let end = event({ ...base, choices: [choice("", finishReason(last?.done_reason, false))] });
      if (request.includeUsage) end += event({ ...base, choices: [], usage: usageOf(last) });
      yield `${end}data: [DONE]\n\n`;
      finish(200);
    } catch (error) {
      if (clientSignal.aborted) return;
      const failure = toOpenAIError(error, request.model);
      finish(failure.status);
      yield event(failure.toJSON());
    } finally {
      if (!finished) {
        upstream.controller.abort();
        finish(499);
      }
    }
  }
  return sseReply(headers, events());
}
