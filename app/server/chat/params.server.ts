import { env } from "../env.server";
import { modelDetails } from "../ollama/client.server";

/** Ollama's built-in values when a model's Modelfile sets none (see Ollama's api/types.go). */
const OLLAMA_DEFAULTS = { temperature: 0.8, top_p: 0.9 } as const;

/**
 * What the chat's settings panel shows beside each parameter: the value Ollama will use when the
 * chat sets none, and whether the model can think (so the switch is offered only where it works).
 * Ollama being unreachable is not an error here: the panel just shows Ollama's generic defaults.
 */
export async function modelSettings(model: string) {
  const details = await modelDetails(model).catch(() => undefined);
  const defaults = details?.defaults ?? {};
  const number = (key: keyof typeof OLLAMA_DEFAULTS) =>
    typeof defaults[key] === "number" ? defaults[key] : OLLAMA_DEFAULTS[key];
  const window = Math.min(details?.contextLength ?? 4096, env().CHAT_MAX_CONTEXT_TOKENS);
  return {
    canThink: details?.capabilities.includes("thinking") ?? false,
    maxContext: env().CHAT_MAX_CONTEXT_TOKENS,
    defaults: {
      temperature: String(number("temperature")),
      topP: String(number("top_p")),
      // What generation.server.ts sends when the chat sets none: the model's window, capped.
      numCtx: String(window),
      seed: typeof defaults.seed === "number" ? String(defaults.seed) : "random",
      numPredict:
        typeof defaults.num_predict === "number" && defaults.num_predict > 0
          ? String(defaults.num_predict)
          : "no limit",
    },
  };
}
