/**
 * Turns the raw text of a failed reply (Ollama's own error, or ours when Ollama could not be
 * reached) into a sentence a user understands and what to do about it. The raw text stays
 * available behind a disclosure: an administrator needs it to look up the server logs.
 *
 * Pure and tiny, so the message list can call it in the browser too.
 */
export type ReplyErrorKind =
  | "memory"
  | "crashed"
  | "not-found"
  | "unreachable"
  | "timeout"
  | "context-too-long"
  | "busy"
  | "unsupported"
  | "interrupted"
  | "other";

export interface ReplyErrorView {
  kind: ReplyErrorKind;
  /** What happened, as one sentence. */
  sentence: string;
  /** What the user can do next. */
  advice: string;
}

// Checked in order: the first match wins. Memory comes before "crashed" because a runner killed by
// CUDA running out of memory reports both ("llama runner process has terminated: ... out of memory").
const RULES: { kind: Exclude<ReplyErrorKind, "other">; pattern: RegExp }[] = [
  {
    kind: "memory",
    pattern:
      /requires more system memory|out of memory|\bOOM\b|cudaMalloc failed|failed to allocate|insufficient memory|not enough memory|unable to allocate/i,
  },
  {
    kind: "context-too-long",
    pattern:
      /context length|context window|exceeds (?:the )?(?:maximum )?context|prompt is too long|input length exceeds/i,
  },
  {
    kind: "not-found",
    pattern:
      /model ['"][^'"]*['"] not found|model .* not found|try pulling it first|no such model|file does not exist/i,
  },
  // Before "crashed" ("timed out waiting for llama runner to start" names the runner too) and before
  // "unreachable" ("Could not reach Ollama: Headers Timeout Error" is a model loading slowly). A
  // connection attempt that timed out (ETIMEDOUT) is a host not answering: unreachable.
  {
    kind: "timeout",
    pattern: /timed out|timeout|deadline exceeded/i,
  },
  {
    kind: "unreachable",
    pattern:
      /could not reach ollama|ETIMEDOUT|ECONNREFUSED|connection refused|fetch failed|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|getaddrinfo|no route to host|socket hang up|ECONNRESET/i,
  },
  { kind: "busy", pattern: /server busy|maximum pending requests|too many requests|overloaded/i },
  { kind: "unsupported", pattern: /does not support/i },
  {
    kind: "crashed",
    pattern:
      /error was encountered while running the model|runner process has terminated|runner has unexpectedly stopped|unexpected EOF|exit status|signal: (?:killed|aborted|segmentation)|segmentation fault|ended the reply early|connection to ollama broke|panic:/i,
  },
  { kind: "interrupted", pattern: /server (?:restarted|stopped) while|reply was interrupted/i },
];

const VIEWS: Record<ReplyErrorKind, Omit<ReplyErrorView, "kind">> = {
  memory: {
    sentence: "The server does not have enough memory to run this model.",
    advice: "Try a smaller model, or ask an administrator to free memory on the Ollama server.",
  },
  crashed: {
    sentence: "The model crashed while writing this reply.",
    advice: "This is often temporary: try again. If it keeps happening, try another model.",
  },
  "not-found": {
    sentence: "This model is not installed on the server.",
    advice: "Choose another model, or ask an administrator to install it.",
  },
  unreachable: {
    sentence: "The model server (Ollama) could not be reached.",
    advice: "It may be stopped or restarting. Try again in a moment.",
  },
  timeout: {
    sentence: "The model took too long to answer.",
    advice: "It may still be loading. Try again in a moment.",
  },
  "context-too-long": {
    sentence: "This conversation is too long for the model to read at once.",
    advice: "Start a new chat, or raise the context length in this chat's parameters.",
  },
  busy: {
    sentence: "The model server is busy with other requests.",
    advice: "Try again in a moment.",
  },
  unsupported: {
    sentence: "This model cannot be used this way.",
    advice: "Choose another model.",
  },
  interrupted: {
    sentence: "This reply was interrupted because the server restarted.",
    advice: "Try again.",
  },
  other: {
    sentence: "Something went wrong while writing this reply.",
    advice: "Try again. If it keeps happening, show an administrator the details below.",
  },
};

export function describeReplyError(raw: string | null | undefined): ReplyErrorView {
  const text = raw ?? "";
  const kind = RULES.find((rule) => rule.pattern.test(text))?.kind ?? "other";
  return { kind, ...VIEWS[kind] };
}
