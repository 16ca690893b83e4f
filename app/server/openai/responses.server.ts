import type { ApiPrincipal } from "../api/keys.server";
import {
  deleteResponse,
  findInputItems,
  findResponse,
  loadConversation,
  saveResponse,
} from "../api/responses-store.server";
import { errorFields, log } from "../log.server";
import { type OllamaChatChunk, type OllamaToolCall, streamChat } from "../ollama/client.server";
import { type CompletionOutcome, openUpstream, toOpenAIError } from "./chat-completion.server";
import { invalidRequest, OpenAIError, serverError } from "./errors.server";
import { type ApiReply, jsonReply, sseReply } from "./exchange.server";
import {
  type Item,
  itemId,
  type OutputText,
  type ResponseRequest,
  toOllamaMessages,
  toOllamaRequestFields,
} from "./responses-request.server";

/**
 * The Responses API (POST /responses and the stored-response endpoints) over Ollama's /api/chat.
 * Ollama is stateless; the state (`store`, `previous_response_id`) lives in PostgreSQL, per API key
 * (responses-store.server.ts). Objects and streaming events follow the official `openai` package's
 * types: a stream is `response.created`, `response.in_progress`, then per output item
 * `output_item.added` … `output_item.done` (with content parts, text and argument deltas), and
 * `response.completed` (or `.incomplete` when max_output_tokens cut it, `.failed` on an error).
 */

type Status = "completed" | "incomplete" | "failed" | "in_progress";

const notFound = (id: string, param: string | null = null) =>
  new OpenAIError(404, `Response with id '${id}' not found.`, "invalid_request_error", null, param);

function usageObject(last: OllamaChatChunk | undefined) {
  const input = last?.prompt_eval_count ?? 0;
  const output = last?.eval_count ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: output,
    // Ollama counts thinking and answer tokens together in eval_count; it has no separate figure.
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

function outputText(output: Item[]) {
  return output
    .flatMap((item) =>
      item.type === "message" && item.role === "assistant"
        ? item.content.flatMap((part) => (part.type === "output_text" ? [part.text] : []))
        : [],
    )
    .join("");
}

/** The Response object, in the field order OpenAI sends it. */
function responseObject(
  request: ResponseRequest,
  id: string,
  createdAt: number,
  fields: {
    status: Status;
    output: Item[];
    usage: ReturnType<typeof usageObject> | null;
    error?: { code: string; message: string } | null;
  },
) {
  const done = fields.status === "completed";
  return {
    id,
    object: "response",
    created_at: createdAt,
    status: fields.status,
    background: false,
    completed_at: done ? Math.floor(Date.now() / 1000) : null,
    error: fields.error ?? null,
    incomplete_details: fields.status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: request.instructions,
    max_output_tokens: request.maxOutputTokens,
    max_tool_calls: null,
    model: request.model,
    output: fields.output,
    parallel_tool_calls: request.parallelToolCalls,
    previous_response_id: request.previousResponseId,
    reasoning: { effort: request.effort, summary: null },
    service_tier: "default",
    store: request.store,
    temperature: request.temperature,
    text: { format: request.format, verbosity: request.verbosity },
    tool_choice: request.toolChoice,
    tools: request.tools.map((tool) => ({
      type: "function",
      name: tool.name,
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      strict: tool.strict ?? null,
    })),
    top_logprobs: 0,
    top_p: request.topP,
    truncation: "disabled",
    usage: fields.usage,
    user: request.user,
    metadata: request.metadata,
    // Not on OpenAI's wire (its SDKs compute it), but handy for curl users and harmless to SDKs.
    output_text: outputText(fields.output),
  };
}

type Emit = (type: string, fields: Record<string, unknown>) => void;

/**
 * Turns Ollama's chunks into output items: thinking into a `reasoning` item (its raw text as
 * `reasoning_text` content), text into an assistant `message`, tool calls into `function_call`
 * items. With `emit`, it also produces the streaming events for each step.
 */
class OutputBuilder {
  readonly output: Item[] = [];
  private open: { item: Item & { type: "message" | "reasoning" }; text: string; index: number } | undefined;

  constructor(private readonly emit?: Emit) {}

  thinking(text: string) {
    if (this.open?.item.type !== "reasoning") {
      this.close("completed");
      this.start({ id: itemId("rs"), type: "reasoning", summary: [], content: [], status: "in_progress" });
      this.emit?.("response.content_part.added", {
        ...this.where(),
        part: { type: "reasoning_text", text: "" },
      });
    }
    this.append(text, "response.reasoning_text.delta");
  }

  content(text: string) {
    if (this.open?.item.type !== "message") {
      this.close("completed");
      this.start({
        id: itemId("msg"),
        type: "message",
        status: "in_progress",
        role: "assistant",
        content: [],
      });
      this.emit?.("response.content_part.added", { ...this.where(), part: this.textPart("") });
    }
    this.append(text, "response.output_text.delta");
  }

  toolCalls(calls: OllamaToolCall[]) {
    this.close("completed");
    for (const call of calls) {
      const args = JSON.stringify(call.function.arguments ?? {});
      const item: Item = {
        id: itemId("fc"),
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: call.id ?? itemId("call"),
        name: call.function.name,
      };
      const output_index = this.output.push(item) - 1;
      this.emit?.("response.output_item.added", { output_index, item });
      this.emit?.("response.function_call_arguments.delta", { item_id: item.id, output_index, delta: args });
      item.arguments = args;
      this.emit?.("response.function_call_arguments.done", {
        item_id: item.id,
        output_index,
        arguments: args,
      });
      item.status = "completed";
      this.emit?.("response.output_item.done", { output_index, item });
    }
  }

  /** Closes what is open; a response with no output at all gets an empty message, as OpenAI's. */
  finish(status: "completed" | "incomplete") {
    if (!this.output.length) this.content("");
    this.close(status);
  }

  close(status: "completed" | "incomplete") {
    const open = this.open;
    if (!open) return;
    this.open = undefined;
    const where = { item_id: open.item.id, output_index: open.index, content_index: 0 };
    if (open.item.type === "reasoning") {
      const part = { type: "reasoning_text" as const, text: open.text };
      open.item.content = [part];
      this.emit?.("response.reasoning_text.done", { ...where, text: open.text });
      this.emit?.("response.content_part.done", { ...where, part });
    } else {
      const part = this.textPart(open.text);
      open.item.content = [part];
      this.emit?.("response.output_text.done", { ...where, text: open.text, logprobs: [] });
      this.emit?.("response.content_part.done", { ...where, part });
    }
    open.item.status = status;
    this.emit?.("response.output_item.done", { output_index: open.index, item: open.item });
  }

  private textPart(text: string): OutputText {
    return { type: "output_text", text, annotations: [], logprobs: [] };
  }

  private start(item: Item & { type: "message" | "reasoning" }) {
    const index = this.output.push(item) - 1;
    this.open = { item, text: "", index };
    this.emit?.("response.output_item.added", { output_index: index, item });
  }

  private where() {
    return { item_id: this.open!.item.id, output_index: this.open!.index, content_index: 0 };
  }

  private append(text: string, event: string) {
    if (!text) return;
    this.open!.text += text;
    this.emit?.(event, {
      ...this.where(),
      delta: text,
      ...(event.includes("output_text") ? { logprobs: [] } : {}),
    });
  }
}

/** Earlier turns (from previous_response_id) plus this input, for Ollama. */
async function conversationFor(request: ResponseRequest, principal: ApiPrincipal) {
  let earlier: Item[] = [];
  if (request.previousResponseId) {
    const found = await loadConversation(principal.keyId, request.previousResponseId);
    if (!found) throw notFound(request.previousResponseId, "previous_response_id");
    earlier = found;
  }
  return toOllamaMessages(request.instructions, [...earlier, ...request.input]);
}

export async function createResponse(
  request: ResponseRequest,
  principal: ApiPrincipal,
  clientSignal: AbortSignal,
  headers: Record<string, string>,
  onFinish: (outcome: CompletionOutcome) => void,
): Promise<ApiReply> {
  const messages = await conversationFor(request, principal);
  const upstream = await openUpstream(
    (signal) =>
      streamChat({
        model: request.model,
        messages,
        ...toOllamaRequestFields(request),
        stream: request.stream,
        signal,
      }),
    request.model,
    clientSignal,
  );
  const id = itemId("resp");
  const createdAt = Math.floor(Date.now() / 1000);
  let last: OllamaChatChunk | undefined;
  let finished = false;
  const finish = (status: number) => {
    if (finished) return;
    finished = true;
    upstream.release();
    const usage = usageObject(last);
    onFinish({
      model: request.model,
      promptTokens: usage.input_tokens,
      completionTokens: usage.output_tokens,
      status,
    });
  };
  const feed = (builder: OutputBuilder, chunk: OllamaChatChunk) => {
    last = chunk;
    if (chunk.message?.thinking) builder.thinking(chunk.message.thinking);
    if (chunk.message?.content) builder.content(chunk.message.content);
    if (chunk.message?.tool_calls?.length) builder.toolCalls(chunk.message.tool_calls);
  };
  const store = async (response: Record<string, unknown>) => {
    if (!request.store) return;
    await saveResponse({
      id,
      userId: principal.userId,
      keyId: principal.keyId,
      previousResponseId: request.previousResponseId,
      input: request.input,
      response,
    });
  };

  if (!request.stream) {
    const builder = new OutputBuilder();
    try {
      for (let step = upstream.first; !step.done; step = await upstream.chunks.next())
        feed(builder, step.value);
    } catch (error) {
      const failure = toOpenAIError(error, request.model, clientSignal);
      finish(failure.status);
      throw failure;
    }
    const status = last?.done_reason === "length" ? "incomplete" : "completed";
    builder.finish(status);
    const response = responseObject(request, id, createdAt, {
      status,
      output: builder.output,
      usage: usageObject(last),
    });
    try {
      await store(response);
    } catch (error) {
      log.error("could not store an api response", errorFields(error));
      finish(500);
      throw serverError(
        "The response was generated but could not be stored; try again, or send store: false.",
      );
    }
    finish(200);
    return jsonReply(response, headers);
  }

  let sequence = 0;
  let pending = "";
  const emit: Emit = (type, fields) => {
    pending += `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
  };
  const take = () => {
    const text = pending;
    pending = "";
    return text;
  };
  async function* events(): AsyncGenerator<string, void, undefined> {
    const builder = new OutputBuilder(emit);
    try {
      const start = responseObject(request, id, createdAt, {
        status: "in_progress",
        output: [],
        usage: null,
      });
      emit("response.created", { response: start });
      emit("response.in_progress", { response: start });
      for (let step = upstream.first; !step.done; step = await upstream.chunks.next()) {
        feed(builder, step.value);
        const text = take();
        if (text) yield text;
      }
      const status = last?.done_reason === "length" ? "incomplete" : "completed";
      builder.finish(status);
      const response = responseObject(request, id, createdAt, {
        status,
        output: builder.output,
        usage: usageObject(last),
      });
      try {
        await store(response);
      } catch (error) {
        log.error("could not store an api response", errorFields(error));
        throw serverError(
          "The response was generated but could not be stored; try again, or send store: false.",
        );
      }
      emit(status === "completed" ? "response.completed" : "response.incomplete", { response });
      finish(200);
      yield take();
    } catch (error) {
      // The client left (and Ollama was stopped through the signal): nobody to tell.
      if (clientSignal.aborted) return;
      // Headers are sent: the failure goes in-band. The `error` event is what the official clients
      // raise; `response.failed` closes the response for clients that follow the lifecycle.
      const failure = toOpenAIError(error, request.model);
      builder.close("incomplete");
      emit("error", { code: failure.code ?? failure.type, message: failure.message, param: failure.param });
      const failed = responseObject(request, id, createdAt, {
        status: "failed",
        output: builder.output,
        usage: usageObject(last),
        error: { code: "server_error", message: failure.message },
      });
      emit("response.failed", { response: failed });
      finish(failure.status);
      if (request.store) await store(failed).catch(() => {});
      yield take();
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

// ---------------------------------------------------------------------------------------------
// Stored responses
// ---------------------------------------------------------------------------------------------

/** Ids are ours ("resp_" + hex); anything else cannot exist, and is not worth a query. */
function checkId(id: string) {
  if (!/^resp_[0-9a-f]{48}$/.test(id)) throw notFound(id);
}

export async function retrieveResponse(principal: ApiPrincipal, id: string, query: URLSearchParams) {
  if (query.get("stream") === "true") {
    throw invalidRequest(
      "Streaming a stored response again is not supported; retrieve it without stream.",
      "stream",
    );
  }
  checkId(id);
  const response = await findResponse(principal.keyId, id);
  if (!response) throw notFound(id);
  return response;
}

export async function removeResponse(principal: ApiPrincipal, id: string) {
  checkId(id);
  if (!(await deleteResponse(principal.keyId, id))) throw notFound(id);
  return { id, object: "response", deleted: true };
}

/** GET /responses/{id}/input_items: OpenAI's cursor list (`limit`, `order` (default desc), `after`). */
export async function listInputItems(principal: ApiPrincipal, id: string, query: URLSearchParams) {
  const limitText = query.get("limit");
  const limit = limitText === null ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw invalidRequest("limit must be an integer from 1 to 100.", "limit");
  }
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") throw invalidRequest("order must be 'asc' or 'desc'.", "order");
  checkId(id);
  const items = await findInputItems(principal.keyId, id);
  if (!items) throw notFound(id);
  const ordered = order === "desc" ? [...items].reverse() : items;
  const after = query.get("after");
  let start = 0;
  if (after) {
    const at = ordered.findIndex((item) => item.id === after);
    if (at < 0) throw invalidRequest(`No input item with id '${after}' in this response.`, "after");
    start = at + 1;
  }
  const data = ordered.slice(start, start + limit);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < ordered.length,
  };
}
