import { z } from "zod";

/** Longest message we accept: far beyond any prompt a person types, small enough to store safely. */
export const MAX_MESSAGE_CHARS = 32_000;
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
