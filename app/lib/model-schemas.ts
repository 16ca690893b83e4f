import { z } from "zod";

/**
 * An Ollama model name as an admin types it: `[host/][namespace/]model[:tag]`, e.g. `llama3.2:3b`
 * or `hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M`. Ollama checks the name itself too; this
 * only keeps out what cannot be a name.
 */
export const modelNameInputSchema = z
  .string({ message: "Type a model name, for example llama3.2:3b." })
  .trim()
  .min(1, "Type a model name, for example llama3.2:3b.")
  .max(200, "Model names are at most 200 characters.")
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/,
    "That is not a model name: use letters, digits, '.', '-', '_', '/' and ':' (for example llama3.2:3b or hf.co/user/repo:Q4_K_M).",
  );

export const MAX_DISPLAY_NAME_CHARS = 80;

export const displayNameSchema = z
  .string()
  .trim()
  .max(MAX_DISPLAY_NAME_CHARS, `Display names are at most ${MAX_DISPLAY_NAME_CHARS} characters.`)
  .transform((value) => value || null);

export function formatBytes(bytes: number) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

export function formatDuration(seconds: number) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}
