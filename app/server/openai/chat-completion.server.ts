import { randomBytes } from "node:crypto";
import { env } from "../env.server";
import {
  type OllamaChatChunk,
  OllamaError,
  type OllamaLogprob,
  type OllamaToolCall,
  streamChat,
} from "../ollama/client.server";
import {
  type ChatCompletionRequest,
  toOllamaFormat,
  toOllamaMessages,
  toOllamaOptions,
  toOllamaThink,
  toOllamaTools,
} from "./chat-request.server";
import {
  clientClosedRequest,
  invalidRequest,
  modelNotFound,
  OpenAIError,
  upstreamError,
  upstreamTimeout,
  upstreamUnavailable,
} from "./errors.server";
import { type ApiReply, jsonReply, sseReply } from "./exchange.server";

/**
 * Chat completions over Ollama's native /api/chat, with the OpenAI objects built here (not by
 * Ollama's /v1 layer, which loses mid-stream errors, reuses ids and ignores max_completion_tokens).
 * A streamed completion streams from Ollama; a non-streamed one asks Ollama for one JSON answer
 * (measured cheaper for both sides), which arrives as a single done chunk through the same code.
 * Either way Ollama is stopped the moment the client goes away.
 */

export interface CompletionOutcome {
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** HTTP-like status of the outcome, for usage records (200, or the error's status). */
  status: number;
}

export const FINGERPRINT = "fp_customchatai";

export function completionId() {
  return `chatcmpl-${randomBytes(15).toString("base64url")}`;
}

/** Ollama's errors, and failures to reach it, as OpenAI errors with a matching status. */
/**
 * An Ollama failure as the OpenAI error to answer (or record). When the client's own signal has
 * fired, the failure is the client leaving, not Ollama: a 499.
 */
export function toOpenAIError(error: unknown, model: string, clientSignal?: AbortSignal): OpenAIError {
  if (clientSignal?.aborted) return clientClosedRequest();
  if (error instanceof OpenAIError) return error;
  if (error instanceof OllamaError) {
    if (error.kind === "missing-endpoint") return upstreamError(error.message);
    if (error.status === 404) return modelNotFound(model);
    if (error.status === 400) return invalidRequest(error.message);
    if (error.status === 503) {
      const busy = upstreamUnavailable(`Ollama is busy: ${error.message}`);
      busy.headers["retry-after"] = "1";
      return busy;
    }
    if (error.status === 502 && error.message.startsWith("Could not reach Ollama")) {
      return upstreamUnavailable("The model server (Ollama) is not reachable right now.");
    }
    return upstreamError(`The model server failed: ${error.message}`);
  }
  return upstreamError(`The model server failed: ${error instanceof Error ? error.message : String(error)}`);
}

function openAIToolCalls(calls: OllamaToolCall[], offset: number) {
  return calls.map((call, index) => ({
    index: offset + index,
    id: call.id ?? `call_${randomBytes(6).toString("hex")}`,
    type: "function" as const,
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) },
  }));
}

/** OpenAI usage from Ollama's final chunk; Ollama leaves out metrics that are 0. */
/** Ollama's log probabilities in OpenAI's shape (`choices[].logprobs`), or null when not asked for. */
export function openAILogprobs(requested: boolean, entries: OllamaLogprob[]) {
  if (!requested) return null;
  const bytesOrNull = (bytes: number[] | undefined) => bytes ?? null;
  return {
    content: entries.map((entry) => ({
      token: entry.token,
      logprob: entry.logprob,
      bytes: bytesOrNull(entry.bytes),
      top_logprobs: (entry.top_logprobs ?? []).map((top) => ({
        token: top.token,
        logprob: top.logprob,
        bytes: bytesOrNull(top.bytes),
      })),
    })),
    refusal: null,
  };
}

export function usageOf(last: { prompt_eval_count?: number; eval_count?: number } | undefined) {
  const prompt = last?.prompt_eval_count ?? 0;
  const completion = last?.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function finishReason(doneReason: string | undefined, sawToolCalls: boolean) {
  if (sawToolCalls) return "tool_calls";
  return doneReason === "length" ? "length" : "stop";
}

/**
 * Starts an upstream request and waits for its first chunk, so that an error before any output
 * (unknown model, Ollama down, busy) is still an ordinary HTTP error. Waiting longer than
 * OLLAMA_TIMEOUT_MS for that first chunk is a 504. Shared by every endpoint that streams from Ollama.
 */
export async function openUpstream<Chunk>(
  start: (signal: AbortSignal) => AsyncGenerator<Chunk>,
  model: string,
  clientSignal: AbortSignal,
) {
  const controller = new AbortController();
  const abort = () => controller.abort();
  clientSignal.addEventListener("abort", abort, { once: true });
  const chunks = start(controller.signal);
  // Streamed: the wait for the first chunk. Not streamed: the first chunk is the whole answer.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, env().OLLAMA_TIMEOUT_MS);
  try {
    const first = await chunks.next();
    return { chunks, first, controller, release: () => clientSignal.removeEventListener("abort", abort) };
  } catch (error) {
    clientSignal.removeEventListener("abort", abort);
    if (timedOut && !clientSignal.aborted)
      throw upstreamTimeout(`The model server did not answer within ${env().OLLAMA_TIMEOUT_MS} ms.`);
    throw toOpenAIError(error, model, clientSignal);
  } finally {
    clearTimeout(timer);
  }
}

function openChat(request: ChatCompletionRequest, clientSignal: AbortSignal) {
  return openUpstream(
    (signal) =>
      streamChat({
        model: request.model,
        messages: toOllamaMessages(request.messages),
        options: toOllamaOptions(request),
        format: toOllamaFormat(request),
        tools: toOllamaTools(request),
        think: toOllamaThink(request),
        logprobs: request.logprobs === true,
        topLogprobs: request.top_logprobs ?? undefined,
        stream: request.stream === true,
        signal,
      }),
    request.model,
    clientSignal,
  );
}

export async function createChatCompletion(
  request: ChatCompletionRequest,
  signal: AbortSignal,
  headers: Record<string, string>,
  onFinish: (outcome: CompletionOutcome) => void,
): Promise<ApiReply> {
  const upstream = await openChat(request, signal);
  if (request.stream) return streamCompletion(request, upstream, signal, headers, onFinish);

  let content = "";
  let reasoning = "";
  const logprobs: OllamaLogprob[] = [];
  const toolCalls: OllamaToolCall[] = [];
  let last: OllamaChatChunk | undefined;
  try {
    for (let step = upstream.first; !step.done; step = await upstream.chunks.next()) {
      content += step.value.message?.content ?? "";
      reasoning += step.value.message?.thinking ?? "";
      logprobs.push(...(step.value.logprobs ?? []));
      toolCalls.push(...(step.value.message?.tool_calls ?? []));
      last = step.value;
    }
  } catch (error) {
    const failure = toOpenAIError(error, request.model, signal);
    onFinish({ model: request.model, promptTokens: 0, completionTokens: 0, status: failure.status });
    throw failure;
  } finally {
    upstream.release();
  }
  const usage = usageOf(last);
  onFinish({
    model: request.model,
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    status: 200,
  });
  return jsonReply(
    {
      id: completionId(),
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      system_fingerprint: FINGERPRINT,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content,
            refusal: null,
            // Not in OpenAI's schema: the thinking text, where Ollama's own OpenAI layer puts it.
            ...(reasoning ? { reasoning } : {}),
            ...(toolCalls.length ? { tool_calls: openAIToolCalls(toolCalls, 0) } : {}),
          },
          logprobs: openAILogprobs(request.logprobs === true, logprobs),
          finish_reason: finishReason(last?.done_reason, toolCalls.length > 0),
        },
      ],
      usage,
    },
    headers,
  );
}

function streamCompletion(
  request: ChatCompletionRequest,
  upstream: Awaited<ReturnType<typeof openChat>>,
  clientSignal: AbortSignal,
  headers: Record<string, string>,
  onFinish: (outcome: CompletionOutcome) => void,
): ApiReply {
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = request.stream_options?.include_usage === true;
  const event = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
  const envelope = (rest: Record<string, unknown>) =>
    event({
      id,
      object: "chat.completion.chunk",
      created,
      model: request.model,
      system_fingerprint: FINGERPRINT,
      ...rest,
    });
  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null = null,
    logprobs: ReturnType<typeof openAILogprobs> = null,
  ) =>
    envelope({
      choices: [{ index: 0, delta, logprobs, finish_reason: finish }],
      // OpenAI puts usage:null on every chunk when usage was asked for.
      ...(includeUsage ? { usage: null } : {}),
    });

  let last: OllamaChatChunk | undefined;
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

  async function* events(): AsyncGenerator<string, void, undefined> {
    let toolCallCount = 0;
    try {
      // The role goes first, on its own, as OpenAI does; the .stream() helper requires it.
      yield chunk({ role: "assistant", content: "" });
      for (let step = upstream.first; !step.done; step = await upstream.chunks.next()) {
        last = step.value;
        let out = "";
        const thinking = step.value.message?.thinking;
        if (thinking) out += chunk({ reasoning: thinking });
        const content = step.value.message?.content;
        if (content)
          out += chunk(
            { content },
            null,
            openAILogprobs(request.logprobs === true, step.value.logprobs ?? []),
          );
        const calls = step.value.message?.tool_calls;
        if (calls?.length) {
          out += chunk({ tool_calls: openAIToolCalls(calls, toolCallCount) });
          toolCallCount += calls.length;
        }
        if (out) yield out;
      }
      let end = chunk({}, finishReason(last?.done_reason, toolCallCount > 0));
      if (includeUsage) end += envelope({ choices: [], usage: usageOf(last) });
      yield `${end}data: [DONE]\n\n`;
      finish(200);
    } catch (error) {
      // The client left (and Ollama was stopped through the signal): nobody to tell.
      if (clientSignal.aborted) return;
      // Headers are sent: report the failure in-band, the way the openai client surfaces it.
      const failure = toOpenAIError(error, request.model);
      finish(failure.status);
      yield event(failure.toJSON());
    } finally {
      // Left early (the client went away): stop Ollama at once.
      if (!finished) {
        upstream.controller.abort();
        finish(499);
      }
    }
  }

  return sseReply(headers, events());
}
