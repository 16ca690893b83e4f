import { z } from "zod";

import { MAX_MESSAGE_CHARS } from "./chat-limits";

export { MAX_MESSAGE_CHARS };
export const MAX_TITLE_CHARS = 120;
export const MAX_SYSTEM_PROMPT_CHARS = 8_000;

export const messageContentSchema = z
  .string({ message: "Write a message first." })
  .trim()
  .min(1, "Write a message first.")
  .max(MAX_MESSAGE_CHARS, `Messages can be at most ${MAX_MESSAGE_CHARS.toLocaleString("en")} characters.`);

export const titleSchema = z
  .string()
  .trim()
  .min(1, "A title cannot be empty.")
  .max(MAX_TITLE_CHARS, `Titles can be at most ${MAX_TITLE_CHARS} characters.`);

export const systemPromptSchema = z
  .string()
  .trim()
  .max(MAX_SYSTEM_PROMPT_CHARS, `System prompts can be at most ${MAX_SYSTEM_PROMPT_CHARS} characters.`)
  .transform((value) => value || null);

export const modelNameSchema = z.string().trim().min(1, "Choose a model.").max(200);

/** A title from the first message: its first line, whitespace collapsed, cut at a word near 60. */
export function titleFromMessage(content: string) {
  const line = content.trim().split("\n")[0].replace(/\s+/g, " ").trim();
  if (line.length <= 60) return line || "New chat";
  const cut = line.slice(0, 60);
  const lastSpace = cut.lastIndexOf(" ");
  return `${(lastSpace > 30 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}

/** An optional number field: empty means "the model's default". */
function optionalNumber(label: string, check: z.ZodNumber) {
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      if (value === "") return undefined;
      const number = Number(value);
      if (!Number.isFinite(number)) {
        ctx.addIssue({ code: "custom", message: `${label} must be a number.` });
        return z.NEVER;
      }
      return number;
    })
    .pipe(check.optional());
}

/**
 * Per-chat generation parameters, the form's field names. Ranges are Ollama's sensible ones:
 * anything outside is refused rather than clamped, so what is saved is what is sent.
 */
export const chatParamsSchema = z.object({
  temperature: optionalNumber(
    "Temperature",
    z.number().min(0, "Temperature must be between 0 and 2.").max(2, "Temperature must be between 0 and 2."),
  ),
  topP: optionalNumber(
    "Top P",
    z.number().min(0, "Top P must be between 0 and 1.").max(1, "Top P must be between 0 and 1."),
  ),
  numCtx: optionalNumber(
    "Context length",
    z
      .number()
      .int("Context length must be a whole number.")
      .min(256, "Context length must be at least 256 tokens.")
      .max(1_048_576, "Context length can be at most 1,048,576 tokens."),
  ),
  seed: optionalNumber(
    "Seed",
    z
      .number()
      .int("Seed must be a whole number.")
      .min(-2_147_483_648, "Seed must fit in 32 bits.")
      .max(2_147_483_647, "Seed must fit in 32 bits."),
  ),
  numPredict: optionalNumber(
    "Max tokens",
    z
      .number()
      .int("Max tokens must be a whole number.")
      .min(1, "Max tokens must be at least 1.")
      .max(1_048_576, "Max tokens can be at most 1,048,576."),
  ),
});
export type ChatParams = z.infer<typeof chatParamsSchema>;
export const CHAT_PARAM_FIELDS = ["temperature", "topP", "numCtx", "seed", "numPredict"] as const;
