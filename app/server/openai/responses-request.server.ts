import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { OllamaChatMessage, OllamaToolCall } from "../ollama/client.server";
import { base64FromDataUrl, invalidRequestFrom, toOllamaThink } from "./chat-request.server";
import { invalidRequest } from "./errors.server";

/**
 * POST /responses request body (OpenAI's ResponseCreateParams), validated whole, and the mapping of
 * Responses items to Ollama's chat messages. What Ollama cannot do (hosted tools, forcing a tool
 * call, background runs, files) is refused with a 400 naming the field, never silently ignored.
 * Unknown top-level fields are accepted and ignored, as on /chat/completions.
 */

export function itemId(prefix: "resp" | "msg" | "rs" | "fc" | "fco" | "call") {
  return `${prefix}_${randomBytes(24).toString("hex")}`;
}

const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();

const functionTool = z.looseObject({
  type: z.literal("function"),
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,64}$/, "function names use a-z, A-Z, 0-9, _ and -, at most 64 characters"),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const textFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "format names use a-z, A-Z, 0-9, _ and -, at most 64"),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

const responseRequestSchema = z.looseObject({
  model: z.string().min(1, "you must provide a model parameter"),
  input: z.union([z.string(), z.array(z.unknown())]).optional(),
  instructions: z.string().nullable().optional(),
  previous_response_id: z.string().min(1).nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  tool_choice: z
    .union([
      z.enum(["none", "auto", "required"]),
      z.looseObject({ type: z.string(), name: z.string().optional() }),
    ])
    .optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z
    .looseObject({
      format: textFormat.optional(),
      verbosity: z.enum(["low", "medium", "high"]).nullable().optional(),
    })
    .optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  reasoning: z
    .looseObject({
      effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional(),
      summary: z.enum(["auto", "concise", "detailed"]).nullable().optional(),
    })
    .nullable()
    .optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  background: z.boolean().nullable().optional(),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  user: z.string().optional(),
});

type Raw = z.infer<typeof responseRequestSchema>;
export type FunctionTool = z.infer<typeof functionTool>;
export type TextFormat = z.infer<typeof textFormat>;

// ---------------------------------------------------------------------------------------------
// Items, as stored and as listed by GET /responses/{id}/input_items (OpenAI's ResponseItem shapes)
// ---------------------------------------------------------------------------------------------

export type InputContent =
  | { type: "input_text"; text: string }
  | { type: "input_image"; image_url: string; detail: string; file_id: null };

export type OutputText = { type: "output_text"; text: string; annotations: []; logprobs: [] };

export type Item =
  | {
      id: string;
      type: "message";
      role: "user" | "system" | "developer";
      content: InputContent[];
      status: "completed";
    }
  | {
      id: string;
      type: "message";
      role: "assistant";
      content: Array<OutputText | { type: "refusal"; refusal: string }>;
      status: "in_progress" | "completed" | "incomplete";
    }
  | {
      id: string;
      type: "function_call";
      call_id: string;
      name: string;
      arguments: string;
      status: "in_progress" | "completed" | "incomplete";
    }
  | {
      id: string;
      type: "function_call_output";
      call_id: string;
      output: string;
      status: "completed";
    }
  | {
      id: string;
      type: "reasoning";
      summary: Array<{ type: "summary_text"; text: string }>;
      content: Array<{ type: "reasoning_text"; text: string }>;
      status?: "in_progress" | "completed" | "incomplete";
    };

const textPart = z.looseObject({ type: z.enum(["input_text", "output_text"]), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal("input_image"),
  image_url: z.string().nullable().optional(),
  file_id: z.string().nullable().optional(),
  detail: z.enum(["auto", "low", "high", "original"]).optional(),
});
const refusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

const messageItem = z.looseObject({
  type: z.literal("message").optional(),
  id: z.string().optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});
const functionCallItem = z.looseObject({
  type: z.literal("function_call"),
  id: z.string().optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
const functionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  id: z.string().nullable().optional(),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});
const reasoningItem = z.looseObject({
  type: z.literal("reasoning"),
  id: z.string().optional(),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).optional(),
  content: z
    .array(z.looseObject({ type: z.string(), text: z.string() }))
    .nullable()
    .optional(),
});

function parsePart<T>(schema: z.ZodType<T>, value: unknown, path: (string | number)[]): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalidRequestFrom(
    new z.ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: [...path, ...issue.path] }))),
  );
}

function messageContent(
  content: string | Array<{ type: string }>,
  role: string,
  path: (string | number)[],
): Array<InputContent | OutputText | { type: "refusal"; refusal: string }> {
  if (typeof content === "string") {
    return role === "assistant"
      ? [{ type: "output_text", text: content, annotations: [], logprobs: [] }]
      : [{ type: "input_text", text: content }];
  }
  return content.map((part, index) => {
    const at = [...path, "content", index];
    if (part.type === "input_text" || part.type === "output_text") {
      const { text } = parsePart(textPart, part, at);
      return role === "assistant"
        ? { type: "output_text", text, annotations: [], logprobs: [] }
        : { type: "input_text", text };
    }
    if (part.type === "input_image" && role !== "assistant") {
      const image = parsePart(imagePart, part, at);
      if (!image.image_url || !base64FromDataUrl(image.image_url)) {
        throw invalidRequest(
          "Only images given as data: URLs with base64 are supported (the models run offline and cannot fetch URLs or files).",
          `${paramOf(at)}.image_url`,
        );
      }
      return {
        type: "input_image",
        image_url: image.image_url,
        detail: image.detail ?? "auto",
        file_id: null,
      };
    }
    if (part.type === "refusal" && role === "assistant") {
      const { refusal } = parsePart(refusalPart, part, at);
      return { type: "refusal", refusal };
    }
    throw invalidRequest(
      `Content parts of type '${part.type}' are not supported in ${role} messages.`,
      `${paramOf(at)}.type`,
    );
  });
}

function paramOf(path: (string | number)[]) {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index ? "." : ""}${part}`))
    .join("");
}

/** One input item, checked, with an id (as OpenAI lists them back). */
function toItem(raw: unknown, index: number): Item {
  const path = ["input", index];
  const type = (raw as { type?: unknown } | null)?.type ?? "message";
  switch (type) {
    case "message": {
      const message = parsePart(messageItem, raw, path);
      const content = messageContent(message.content, message.role, path);
      if (message.role === "assistant") {
        return {
          id: message.id ?? itemId("msg"),
          type: "message",
          role: "assistant",
          content: content as never,
          status: "completed",
        };
      }
      return {
        id: message.id ?? itemId("msg"),
        type: "message",
        role: message.role,
        content: content as InputContent[],
        status: "completed",
      };
    }
    case "function_call": {
      const call = parsePart(functionCallItem, raw, path);
      return {
        id: call.id ?? itemId("fc"),
        type: "function_call",
        call_id: call.call_id,
        name: call.name,
        arguments: call.arguments,
        status: "completed",
      };
    }
    case "function_call_output": {
      const result = parsePart(functionCallOutputItem, raw, path);
      let output: string;
      if (typeof result.output === "string") output = result.output;
      else {
        output = result.output
          .map((part, partIndex) => {
            if (part.type !== "input_text")
              throw invalidRequest(
                "Only text is supported in a function_call_output's output.",
                `${paramOf([...path, "output", partIndex])}.type`,
              );
            return parsePart(textPart, part, [...path, "output", partIndex]).text;
          })
          .join("\n");
      }
      return {
        id: result.id ?? itemId("fco"),
        type: "function_call_output",
        call_id: result.call_id,
        output,
        status: "completed",
      };
    }
    case "reasoning": {
      const reasoning = parsePart(reasoningItem, raw, path);
      return {
        id: reasoning.id ?? itemId("rs"),
        type: "reasoning",
        summary: (reasoning.summary ?? []).map(({ text }) => ({ type: "summary_text", text })),
        content: (reasoning.content ?? []).map(({ text }) => ({ type: "reasoning_text", text })),
      };
    }
    case "item_reference":
      throw invalidRequest(
        "item_reference inputs are not supported; send the item itself, or use previous_response_id.",
        `${paramOf(path)}.type`,
      );
    default:
      throw invalidRequest(
        `Input items of type '${String(type)}' are not supported: messages, function_call, function_call_output and reasoning are.`,
        `${paramOf(path)}.type`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------------------------

export interface ResponseRequest {
  model: string;
  /** This request's input, as items with ids (a string input is one user message). */
  input: Item[];
  instructions: string | null;
  previousResponseId: string | null;
  store: boolean;
  stream: boolean;
  tools: FunctionTool[];
  toolChoice: "none" | "auto";
  parallelToolCalls: boolean;
  format: TextFormat;
  verbosity: "low" | "medium" | "high";
  maxOutputTokens: number | null;
  temperature: number | null;
  topP: number | null;
  effort: NonNullable<Raw["reasoning"]>["effort"] | null;
  metadata: Record<string, string>;
  user: string | null;
}

export function parseResponseRequest(body: unknown): ResponseRequest {
  const parsed = responseRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequestFrom(parsed.error);
  const request = parsed.data;
  if (request.background) {
    throw invalidRequest("background responses are not supported: ask with background: false.", "background");
  }
  if (request.conversation != null) {
    throw invalidRequest("conversation objects are not supported: use previous_response_id.", "conversation");
  }
  if (request.prompt != null) {
    throw invalidRequest("Prompt templates are not supported: send instructions and input.", "prompt");
  }
  if (request.top_logprobs) {
    throw invalidRequest("top_logprobs is not supported on /responses.", "top_logprobs");
  }
  if (request.input === undefined || (Array.isArray(request.input) && request.input.length === 0)) {
    throw invalidRequest("input must be a string or a non-empty array of input items.", "input");
  }
  const tools = (request.tools ?? []).map((tool, index) => {
    if (tool.type !== "function") {
      throw invalidRequest(
        `Only function tools are supported (the models run on Ollama, which hosts no tools): '${tool.type}' is not.`,
        `tools[${index}].type`,
      );
    }
    return parsePart(functionTool, tool, ["tools", index]);
  });
  const choice = request.tool_choice ?? "auto";
  // Ollama offers tools to the model but cannot make it call one: a forced choice would be
  // silently ignored, so it is refused instead, as on /chat/completions.
  if (choice !== "none" && choice !== "auto") {
    const what =
      typeof choice === "string"
        ? '"required"'
        : choice.type === "function"
          ? `naming the function '${choice.name ?? ""}'`
          : `of type '${choice.type}'`;
    throw invalidRequest(
      `tool_choice ${what} is not supported: Ollama cannot force a tool call. Use "auto" (the default) and check the output for function_call items.`,
      "tool_choice",
    );
  }
  const input =
    typeof request.input === "string"
      ? [
          {
            id: itemId("msg"),
            type: "message" as const,
            role: "user" as const,
            content: [{ type: "input_text" as const, text: request.input }],
            status: "completed" as const,
          },
        ]
      : request.input.map(toItem);
  return {
    model: request.model,
    input,
    instructions: request.instructions ?? null,
    previousResponseId: request.previous_response_id ?? null,
    store: request.store !== false,
    stream: request.stream === true,
    tools,
    toolChoice: choice,
    parallelToolCalls: request.parallel_tool_calls !== false,
    format: request.text?.format ?? { type: "text" },
    verbosity: request.text?.verbosity ?? "medium",
    maxOutputTokens: request.max_output_tokens ?? null,
    temperature: request.temperature ?? null,
    topP: request.top_p ?? null,
    effort: request.reasoning?.effort ?? null,
    metadata: request.metadata ?? {},
    user: request.user ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// To Ollama
// ---------------------------------------------------------------------------------------------

function inputText(content: Item & { type: "message" }) {
  return content.content
    .flatMap((part) => (part.type === "input_text" || part.type === "output_text" ? [part.text] : []))
    .join("\n");
}

/**
 * Items (earlier turns' inputs and outputs, then this request's input) → Ollama messages.
 * Function calls join the assistant message before them, as one assistant turn with tool_calls;
 * reasoning goes back as the next assistant message's `thinking`, as Ollama expects it.
 */
export function toOllamaMessages(instructions: string | null, items: Item[]): OllamaChatMessage[] {
  const messages: OllamaChatMessage[] = [];
  if (instructions) messages.push({ role: "system", content: instructions });
  const toolNames = new Map<string, string>();
  let thinking = "";
  let assistant: OllamaChatMessage | undefined;
  const openAssistant = () => {
    if (!assistant) {
      assistant = { role: "assistant", content: "" };
      messages.push(assistant);
    }
    if (thinking) {
      assistant.thinking = (assistant.thinking ?? "") + thinking;
      thinking = "";
    }
    return assistant;
  };
  for (const item of items) {
    switch (item.type) {
      case "reasoning":
        thinking += [...item.content, ...item.summary].map((part) => part.text).join("\n");
        break;
      case "message":
        if (item.role === "assistant") {
          assistant = undefined;
          openAssistant().content = inputText(item);
        } else {
          assistant = undefined;
          const images = item.content.flatMap((part) =>
            part.type === "input_image" ? [base64FromDataUrl(part.image_url) ?? ""] : [],
          );
          messages.push({
            role: item.role === "user" ? "user" : "system",
            content: inputText(item),
            ...(images.length ? { images } : {}),
          });
        }
        break;
      case "function_call": {
        let args: Record<string, unknown>;
        try {
          args = JSON.parse(item.arguments || "{}");
        } catch {
          throw invalidRequest(
            `The arguments of function call '${item.call_id}' are not a JSON string.`,
            "input",
          );
        }
        toolNames.set(item.call_id, item.name);
        const turn = openAssistant();
        turn.tool_calls ??= [];
        const calls: OllamaToolCall[] = turn.tool_calls;
        calls.push({ id: item.call_id, function: { index: calls.length, name: item.name, arguments: args } });
        break;
      }
      case "function_call_output":
        assistant = undefined;
        messages.push({
          role: "tool",
          content: item.output,
          tool_call_id: item.call_id,
          ...(toolNames.has(item.call_id) ? { tool_name: toolNames.get(item.call_id) } : {}),
        });
        break;
    }
  }
  return messages;
}

export function toOllamaOptions(request: ResponseRequest) {
  const options: Record<string, unknown> = {};
  if (request.maxOutputTokens != null) options.num_predict = request.maxOutputTokens;
  if (request.temperature != null) options.temperature = request.temperature;
  if (request.topP != null) options.top_p = request.topP;
  return options;
}

export function toOllamaRequestFields(request: ResponseRequest) {
  return {
    options: toOllamaOptions(request),
    format:
      request.format.type === "json_schema"
        ? request.format.schema
        : request.format.type === "json_object"
          ? "json"
          : undefined,
    // tool_choice "none": the model must not call tools, so none are offered.
    tools:
      request.tools.length && request.toolChoice !== "none"
        ? request.tools.map((tool) => ({
            type: "function",
            function: {
              name: tool.name,
              ...(tool.description ? { description: tool.description } : {}),
              ...(tool.parameters ? { parameters: tool.parameters } : {}),
            },
          }))
        : undefined,
    think: toOllamaThink({ reasoning_effort: request.effort }),
  };
}
