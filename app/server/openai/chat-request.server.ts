import { z } from "zod";
import type { OllamaChatMessage } from "../ollama/client.server";
import { invalidRequest } from "./errors.server";

/**
 * POST /chat/completions request body, validated whole (OpenAI's CreateChatCompletionRequest).
 * Unknown top-level fields are accepted and ignored, as OpenAI-compatible servers do, so newer SDKs
 * keep working; known fields are checked strictly.
 */

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const imagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.union([
    z.string(),
    z.object({ url: z.string(), detail: z.enum(["auto", "low", "high"]).optional() }),
  ]),
});
const audioPart = z.object({
  type: z.literal("input_audio"),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });

const textContent = z.union([z.string(), z.array(textPart)]);

const toolCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: textContent, name: z.string().optional() }),
  z.object({ role: z.literal("developer"), content: textContent, name: z.string().optional() }),
  z.object({
    role: z.literal("user"),
    content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textPart, imagePart, audioPart]))]),
    name: z.string().optional(),
  }),
  z.object({
    role: z.literal("assistant"),
    content: z.union([z.string(), z.array(z.union([textPart, refusalPart])), z.null()]).optional(),
    tool_calls: z.array(toolCall).optional(),
    refusal: z.string().nullable().optional(),
    name: z.string().optional(),
    /** The reasoning text of an earlier turn, as Ollama's OpenAI layer returns it. */
    reasoning: z.string().nullable().optional(),
  }),
  z.object({ role: z.literal("tool"), content: textContent, tool_call_id: z.string() }),
]);

const functionTool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/, "function names use a-z, A-Z, 0-9, _ and -, at most 64 characters"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();

export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1, "you must provide a model parameter"),
  messages: z.array(message).min(1, "messages must contain at least one message"),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).min(1).max(4)])
    .nullable()
    .optional(),
  seed: z.number().int().nullable().optional(),
  frequency_penalty: nullableNumber(-2, 2),
  presence_penalty: nullableNumber(-2, 2),
  n: z.number().int().min(1).max(128).nullable().optional(),
  response_format: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_object") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({
          name: z.string(),
          description: z.string().optional(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        }),
      }),
    ])
    .optional(),
  tools: z.array(functionTool).optional(),
  tool_choice: z
    .union([
      z.enum(["none", "auto", "required"]),
      z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
    ])
    .optional(),
  user: z.string().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

/**
 * A zod failure on an /api/v1 body as a 400 envelope: the first problem, with `param` in OpenAI's
 * notation (`messages[0].content`).
 */
export function invalidRequestFrom(error: z.ZodError) {
  const issue = error.issues[0];
  const param = issue.path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index ? "." : ""}${String(part)}`))
    .join("");
  return invalidRequest(`Invalid request: ${issue.message}${param ? ` at '${param}'` : ""}.`, param || null);
}

/** Parses a request body; the first problem becomes a 400 envelope with `param` pointing at it. */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequestFrom(parsed.error);
  if ((parsed.data.n ?? 1) > 1) {
    throw invalidRequest("n > 1 is not supported: this server returns one choice per request.", "n");
  }
  if (parsed.data.top_logprobs != null && parsed.data.logprobs !== true) {
    throw invalidRequest("top_logprobs needs logprobs: true.", "top_logprobs");
  }
  const choice = parsed.data.tool_choice;
  // Ollama offers tools to the model but cannot make it call one: a forced choice would be silently
  // ignored, so it is refused instead ("auto" and "none" are honoured).
  if (choice === "required" || typeof choice === "object") {
    throw invalidRequest(
      `tool_choice ${typeof choice === "object" ? `naming the function '${choice.function.name}'` : '"required"'} is not supported: Ollama cannot force a tool call. Use "auto" (the default) and check the reply for tool_calls.`,
      "tool_choice",
    );
  }
  return parsed.data;
}

function textOf(content: string | Array<{ type: string; text?: string }> | null | undefined) {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .flatMap((part) => (part.type === "text" && part.text !== undefined ? [part.text] : []))
    .join("\n");
}

const DATA_URL = /^data:(?:image\/(?:png|jpeg|jpg|webp|gif))?;base64,(.+)$/s;

/** The raw base64 of a data: image URL (what Ollama wants), or undefined for anything else. */
export function base64FromDataUrl(url: string) {
  return url.match(DATA_URL)?.[1];
}

/** OpenAI messages → Ollama's native messages (images as raw base64, tool arguments as objects). */
export function toOllamaMessages(messages: ChatCompletionRequest["messages"]): OllamaChatMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((message, index): OllamaChatMessage => {
    switch (message.role) {
      case "system":
      case "developer":
        return { role: "system", content: textOf(message.content) };
      case "user": {
        if (typeof message.content === "string") return { role: "user", content: message.content };
        const images: string[] = [];
        const texts: string[] = [];
        message.content.forEach((part, partIndex) => {
          if (part.type === "text") texts.push(part.text);
          else if (part.type === "image_url") {
            const url = typeof part.image_url === "string" ? part.image_url : part.image_url.url;
            const base64 = base64FromDataUrl(url);
            if (!base64) {
              throw invalidRequest(
                "Only data: URLs with base64 images are supported (the models run offline and cannot fetch URLs).",
                `messages[${index}].content[${partIndex}].image_url`,
              );
            }
            images.push(base64);
          } else {
            throw invalidRequest("Audio input is not supported.", `messages[${index}].content[${partIndex}]`);
          }
        });
        return { role: "user", content: texts.join("\n"), ...(images.length ? { images } : {}) };
      }
      case "assistant": {
        const toolCalls = message.tool_calls?.map((call, callIndex) => {
          toolNames.set(call.id, call.function.name);
          let args: unknown;
          try {
            args = JSON.parse(call.function.arguments || "{}");
          } catch {
            throw invalidRequest(
              "Tool call arguments must be a JSON string.",
              `messages[${index}].tool_calls[${callIndex}].function.arguments`,
            );
          }
          return {
            id: call.id,
            function: {
              index: callIndex,
              name: call.function.name,
              arguments: args as Record<string, unknown>,
            },
          };
        });
        return {
          role: "assistant",
          content: textOf(message.content as never),
          ...(message.reasoning ? { thinking: message.reasoning } : {}),
          ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
        };
      }
      case "tool":
        return {
          role: "tool",
          content: textOf(message.content),
          tool_call_id: message.tool_call_id,
          ...(toolNames.has(message.tool_call_id) ? { tool_name: toolNames.get(message.tool_call_id) } : {}),
        };
      default:
        // The schema admits no other role; this keeps the mapping total if it ever does.
        throw invalidRequest("Unsupported message role.", `messages[${index}].role`);
    }
  });
}

/** Sampling parameters → Ollama options. Unset values are left to the model's own defaults. */
export function toOllamaOptions(request: ChatCompletionRequest) {
  const options: Record<string, unknown> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) options.num_predict = maxTokens;
  if (request.temperature != null) options.temperature = request.temperature;
  if (request.top_p != null) options.top_p = request.top_p;
  if (request.seed != null) options.seed = request.seed;
  if (request.frequency_penalty != null) options.frequency_penalty = request.frequency_penalty;
  if (request.presence_penalty != null) options.presence_penalty = request.presence_penalty;
  if (request.stop != null) options.stop = typeof request.stop === "string" ? [request.stop] : request.stop;
  return options;
}

/**
 * reasoning_effort → Ollama's `think`, as Ollama's own OpenAI layer maps it: none turns thinking
 * off, minimal is Ollama's lowest level, xhigh its highest. Unset: the model's default.
 */
export function toOllamaThink(
  request: Pick<ChatCompletionRequest, "reasoning_effort">,
): boolean | string | undefined {
  switch (request.reasoning_effort) {
    case null:
    case undefined:
      return undefined;
    case "none":
      return false;
    case "minimal":
      return "low";
    case "xhigh":
      return "high";
    default:
      return request.reasoning_effort;
  }
}

export function toOllamaFormat(request: ChatCompletionRequest): unknown {
  const format = request.response_format;
  if (format?.type === "json_object") return "json";
  if (format?.type === "json_schema") return format.json_schema.schema ?? "json";
  return undefined;
}

export function toOllamaTools(request: ChatCompletionRequest) {
  // tool_choice "none" means the model must not call tools: do not offer any.
  if (!request.tools?.length || request.tool_choice === "none") return undefined;
  return request.tools.map((tool) => ({ type: "function", function: tool.function }));
}
