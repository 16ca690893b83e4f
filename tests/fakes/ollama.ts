/**
 * Fake Ollama server for tests: vitest integration tests, Playwright e2e runs and benchmarks.
 *
 * It speaks the native Ollama HTTP API over a real socket, using only `node:http`. The reference is
 * /work/shared/specs/upstream-protocols.md, sections A (native API) and D (edge cases). The status
 * codes, error texts, content types, JSON key order, `omitempty` behaviour, timestamps, and the
 * "no bytes before the first chunk" rule all follow that document. In particular:
 *
 *  - Endpoints: GET/HEAD /, GET/HEAD /api/version, GET/HEAD /api/tags, GET /api/ps, POST /api/show,
 *    POST /api/pull, DELETE /api/delete, POST /api/chat, POST /api/generate, POST /api/embed.
 *    Any other path: 404 `404 page not found` (text/plain). A known path with the wrong method:
 *    405 `405 method not allowed` (text/plain). Not implemented (they answer 404 here):
 *    /api/embeddings, /api/create, /api/copy, /api/push, /v1/*. The loopback Host check, CORS
 *    and gin's trailing-slash redirects are not implemented either.
 *  - Model names are parsed as `[host/][namespace/]model[:tag]`. Matching is case-insensitive and
 *    the defaults are `registry.ollama.ai`, `library` and `latest`. Responses echo the name the
 *    way the request spelled it.
 *  - Request bodies are decoded the way Go's encoding/json does it. Empty body: `missing request
 *    body`. Syntax errors use Go's scanner messages (`invalid character 'x' looking for beginning
 *    of value`, `unexpected EOF`, ...). Wrong types on the main fields give `json: cannot unmarshal
 *    string into Go struct field ChatRequest.stream of type bool`, and so on.
 *
 * Deterministic accounting, so that tests can assert exact numbers:
 *  - Words:  wordCount(s) = number of whitespace-separated words in s.
 *  - Chat prompt_eval_count = sum over request messages of (4 + wordCount(message.content)),
 *    unless ChatScript.promptEvalCount overrides it.
 *  - Chat eval_count = number of streamed chunks that carry output: thinking chunks, content chunks
 *    and the tool-call chunk (one chunk holds all calls). ChatScript.evalCount overrides it.
 *  - Chat durations (ns): load_duration = (firstTokenDelayMs + 1) * 1e6;
 *    prompt_eval_duration = prompt_eval_count * 200_000; eval_duration = eval_count *
 *    max(tokenDelayMs, 10) * 1e6; total_duration = load + prompt_eval + eval + 250_000.
 *    As in Ollama, metrics that are 0 are left out.
 *  - Embed prompt_eval_count = sum over inputs of (wordCount(input) + 2). Embed durations:
 *    load_duration = 1_000_000, total_duration = 1_000_000 + 500_000 * number of inputs.
 *  - Reply tokenisation: the text is split as /\s*\S+|\s+$/g, so "Hello big world" streams as
 *    ["Hello", " big", " world"]. Joining the chunks gives back the exact text.
 *  - options.num_predict > 0 cuts the content to that many chunks, with done_reason "length".
 *    options.stop cuts the content at the first stop string, with done_reason "stop".
 *  - Thinking chunks are sent only when the model has the `thinking` capability and `think` is
 *    not false. Ollama defaults `think` to true for such models.
 *  - Tool calls are sent as structured `tool_calls` only when the request has `tools`. Without
 *    tools, they come out as plain JSON text in the content, the way a model prints them when
 *    Ollama doesn't parse them.
 *
 * Run it on its own (for example as a Playwright webServer):
 *   FAKE_OLLAMA_STANDALONE=1 npx vite-node tests/fakes/ollama.ts
 *   (optional env: FAKE_OLLAMA_PORT, default 11434; FAKE_OLLAMA_HOST, default 127.0.0.1)
 */
import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import http from "node:http";
import type { Socket } from "node:net";

/** Decoded JSON of unknown shape (request bodies, scripted replies). */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are arbitrary JSON, read field by field
export type Json = any;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export interface FakeModel {
  name: string;
  size?: number;
  parameterSize?: string;
  quantization?: string;
  family?: string;
  contextLength?: number;
  capabilities?: string[];
  modifiedAt?: Date;
  embeddingLength?: number;
  /** /api/show's `license` and `parameters` (left out when unset, as Ollama does). */
  license?: string;
  parameters?: string;
}

/** A model the fake registry knows, with optional pull behaviour of its own. */
export interface FakeKnownModel extends FakeModel {
  pull?: {
    /** Overrides options.pull.layers, chunkBytes and intervalMs for this model. */
    layers?: Array<{ size: number }>;
    chunkBytes?: number;
    intervalMs?: number;
    /**
     * A registry failure: after "pulling manifest" the stream ends with this error line (HTTP 200),
     * as Ollama reports registry errors ("pull model manifest: 500: ..."); 500 JSON with stream:false.
     */
    error?: string;
  };
}

export interface ChatScript {
  /** Text to stream, split into whitespace-preserving word tokens. */
  reply?: string | ((req: Json) => string);
  /** Explicit token list (overrides reply). */
  tokens?: string[];
  /** Delay before any header or status is written (Ollama writes nothing until the first chunk). */
  firstTokenDelayMs?: number;
  /** Delay between chunks. */
  tokenDelayMs?: number;
  /** A normal error response (JSON body) after firstTokenDelayMs, before anything is streamed. */
  failBeforeStart?: { status: number; error: string };
  /**
   * Fail after `count` output chunks (thinking, content or tool-call chunks). Without `abrupt`, an
   * `{"error":...}` line is written and the response ends with no done:true line. With `abrupt`,
   * the socket is closed with no error line. With count 0 and no abrupt, nothing was written yet,
   * so the client gets a normal 500 JSON error, as in Ollama. With stream:false, the partial text
   * is dropped and the client gets 500 JSON (or the socket is cut when abrupt).
   */
  failAfterTokens?: { count: number; error?: string; abrupt?: boolean };
  doneReason?: "stop" | "length";
  /** Leave every metric field out of the final chunk (omitempty). */
  omitMetrics?: boolean;
  promptEvalCount?: number;
  evalCount?: number;
  /** Thinking chunks sent before the content (only for models with the `thinking` capability). */
  thinking?: string[];
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
}

export interface FakeOllamaOptions {
  /** 0 or left out: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Installed models. When given, they replace the defaults (llama3.2:latest, all-minilm:latest). */
  models?: FakeModel[];
  /** Default chat script. */
  chat?: ChatScript;
  pull?: {
    /** Blobs a pull downloads, in order (model layers, then the config blob). */
    layers?: Array<{ size: number }>;
    /** Bytes added to a layer per tick. Default 400_000. */
    chunkBytes?: number;
    /** Tick interval in ms (real Ollama: 60). Default 10. */
    intervalMs?: number;
    /**
     * Names the fake "registry" knows. A FakeModel entry also gives the metadata of the model once
     * pulled, and its `pull` field its own layers, speed or registry error. Installed models and the
     * initial models can always be pulled. Default: DEFAULT_KNOWN.
     */
    known?: Array<string | FakeKnownModel>;
  };
  /** /api/chat and /api/embed answer 503 "server busy ..." (OLLAMA_MAX_QUEUE exceeded). */
  queueFull?: boolean;
  /** Value for /api/version. */
  version?: string;
}

export type ChatStatus = "running" | "completed" | "cancelled" | "failed";

export interface ChatRecord {
  model: string;
  body: Json;
  /** 'running' while the request is in flight, an addition to the three final states. */
  status: ChatStatus;
  /** Output chunks produced so far (thinking, content, tool calls; the final chunk isn't counted). */
  tokensSent: number;
  /** When the connection went away before the end (client abort, setDown, close). */
  cancelledAt?: number;
  /**
   * The decoded `images` of each request message, in order (an empty list for a message without
   * any), so tests can compare them with the bytes they uploaded.
   */
  images: Buffer[][];
}

/** One POST /api/pull, for tests: how it ended. */
export interface PullRecord {
  model: string;
  /** 'cancelled': the client closed the request before the end (which is how Ollama is told to stop). */
  status: "running" | "completed" | "cancelled" | "failed";
}

export interface RequestRecord {
  method: string;
  path: string;
  body: Json;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

export interface FakeOllama {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Set the default script (no model) or the script of one model (name normalised, tag defaults to latest). */
  setChat(script: ChatScript, model?: string): void;
  setModels(models: FakeModel[]): void;
  /**
   * Choose the script per request (first match wins over setChat). Useful when one fake serves
   * tests running in parallel in other processes: they pick a script through what they send.
   */
  setChatResolver(resolver: ((req: Json) => ChatScript | undefined) | undefined): void;
  /**
   * Simulate Ollama being down.
   * - 'refuse' (default): stop listening, so clients get ECONNREFUSED. All open sockets are destroyed.
   * - 'reset': keep listening but destroy every socket straight away ("socket hang up" / ECONNRESET).
   * Bringing the server back (`false`) re-binds the same port. The returned promise resolves once it
   * is listening. With an IP host the bind happens synchronously, so not awaiting it is fine.
   */
  setDown(down: boolean, mode?: "refuse" | "reset"): Promise<void>;
  /** Turn the 503 queue-full mode on or off (also settable through options). */
  setQueueFull(full: boolean): void;
  /**
   * Hold every request to `path` for `ms` before answering (0 removes the delay), like a busy
   * Ollama: nothing, not even headers, is written meanwhile.
   */
  setRouteDelay(path: string, ms: number): void;
  /** Answer these paths with gin's plain 404, as an Ollama too old to have them does. */
  setMissingEndpoints(paths: string[]): void;
  requests: RequestRecord[];
  chats: ChatRecord[];
  pulls: PullRecord[];
  /** Poll until predicate() is true (a throwing predicate counts as false). Default timeout 2000 ms. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Restore the options given to startFakeOllama and clear logs, pulls and loaded models. */
  reset(): void;
}

export const DEFAULT_MODELS: FakeModel[] = [
  {
    name: "llama3.2:latest",
    size: 2019393189,
    parameterSize: "3.2B",
    quantization: "Q4_K_M",
    family: "llama",
    contextLength: 131072,
    capabilities: ["completion", "tools"],
  },
  {
    name: "all-minilm:latest",
    size: 45960996,
    parameterSize: "23M",
    quantization: "F16",
    family: "bert",
    contextLength: 512,
    capabilities: ["embedding"],
  },
];

/**
 * A model that can see images (`vision` in /api/show's capabilities), for tests to install next to
 * the defaults. Not one of them, so lists of installed models elsewhere stay as they were.
 */
export const VISION_MODEL: FakeModel = {
  name: "llava:latest",
  size: 4733363377,
  parameterSize: "7B",
  quantization: "Q4_0",
  family: "llama",
  contextLength: 32768,
  capabilities: ["completion", "vision"],
};

export const DEFAULT_REPLY = "Hello! I am a fake Ollama model.";
export const DEFAULT_KNOWN = [
  "llama3.2",
  "llama3.2:1b",
  "qwen3:0.6b",
  "all-minilm",
  "nomic-embed-text",
  "tinyllama",
];
export const DEFAULT_PULL_LAYERS = [{ size: 1_000_000 }, { size: 1_500 }, { size: 120 }, { size: 485 }];
export const DEFAULT_MID_STREAM_ERROR = "an error was encountered while running the model";
export const QUEUE_FULL_ERROR = "server busy, please try again.  maximum pending requests exceeded";
export const PULL_NOT_FOUND_ERROR = "pull model manifest: file does not exist";

// ---------------------------------------------------------------------------------------------
// Go-compatible helpers: JSON encoding, time formatting, quoting
// ---------------------------------------------------------------------------------------------

/** json.Marshal: like JSON.stringify, but escapes <, >, & and U+2028/2029 the way Go does. */
function goJSON(v: unknown): string {
  return JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** fmt %q (approximately: Go and JSON escaping differ only for unusual control characters). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

const ANCHOR_WALL_NS = BigInt(Date.now()) * 1_000_000n;
const ANCHOR_HR = process.hrtime.bigint();
/** Wall-clock time in ns, with ns resolution and monotonic within the process. */
function nowNs(): bigint {
  return ANCHOR_WALL_NS + (process.hrtime.bigint() - ANCHOR_HR);
}

/** Go's time.Time JSON form (RFC 3339 with nanoseconds, trailing zeros trimmed). */
function rfc3339Nano(ns: bigint, local: boolean): string {
  const ms = Number(ns / 1_000_000n);
  const offsetMin = local ? -new Date(ms).getTimezoneOffset() : 0;
  const d = new Date(Math.floor(ms / 1000) * 1000 + offsetMin * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  let frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, "0");
  frac = frac.replace(/0+$/, "");
  const base = `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  let zone = "Z";
  if (offsetMin !== 0) {
    const a = Math.abs(offsetMin);
    zone = `${offsetMin < 0 ? "-" : "+"}${p(Math.floor(a / 60))}:${p(a % 60)}`;
  }
  return `${base}${frac ? `.${frac}` : ""}${zone}`;
}

function sha256hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function wordCount(s: unknown): number {
  if (typeof s !== "string") return 0;
  return s.split(/\s+/).filter(Boolean).length;
}

function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** The shortest decimal that gives back the same float32 (Go's float32 JSON encoding). */
function float32Short(x: number): number {
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Go encoding/json decoding emulation
// ---------------------------------------------------------------------------------------------

class GoEOF extends Error {}
class GoSyntaxError extends Error {}

function quoteChar(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '"') return "'\"'";
  // Go's scanner works on bytes: a non-ASCII character is reported by its first UTF-8 byte, as a rune.
  const code = ch.charCodeAt(0);
  const c = code > 0x7f ? String.fromCharCode(Buffer.from(ch, "utf8")[0] ?? code) : ch;
  const cc = c.charCodeAt(0);
  if (c === "\n") return "'\\n'";
  if (c === "\r") return "'\\r'";
  if (c === "\t") return "'\\t'";
  if (cc < 0x20 || cc === 0x7f) return `'\\x${cc.toString(16).padStart(2, "0")}'`;
  return `'${c}'`;
}

/** Validates the first JSON value like Go's json.Decoder. Returns the index just past it. */
function goScan(s: string): number {
  let i = 0;
  const isWs = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";
  const fail = (ctx: string): never => {
    throw new GoSyntaxError(`invalid character ${quoteChar(s[i] as string)} ${ctx}`);
  };
  const peek = (): string => {
    if (i >= s.length) throw new GoEOF();
    return s[i] as string;
  };
  const skip = () => {
    while (i < s.length && isWs(s[i])) i++;
  };
  const isDigit = (c: string) => c >= "0" && c <= "9";
  const isHex = (c: string) => /^[0-9a-fA-F]$/.test(c);

  const str = () => {
    i++; // opening quote
    for (;;) {
      const c = peek();
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        i++;
        const e = peek();
        if ('"\\/bfnrt'.includes(e)) {
          i++;
          continue;
        }
        if (e === "u") {
          i++;
          for (let k = 0; k < 4; k++) {
            if (!isHex(peek())) fail("in \\u hexadecimal character escape");
            i++;
          }
          continue;
        }
        fail("in string escape code");
      }
      if (c.charCodeAt(0) < 0x20) fail("in string literal");
      i++;
    }
  };

  const num = (top: boolean) => {
    if (s[i] === "-") {
      i++;
      if (!isDigit(peek())) fail("in numeric literal");
    }
    if (s[i] === "0") i++;
    else while (i < s.length && isDigit(s[i] as string)) i++;
    if (s[i] === ".") {
      i++;
      if (!isDigit(peek())) fail("after decimal point in numeric literal");
      while (i < s.length && isDigit(s[i] as string)) i++;
    }
    if (s[i] === "e" || s[i] === "E") {
      i++;
      if (s[i] === "+" || s[i] === "-") i++;
      if (!isDigit(peek())) fail("in exponent of numeric literal");
      while (i < s.length && isDigit(s[i] as string)) i++;
    }
    if (top && i < s.length && !isWs(s[i])) fail("after top-level value");
  };

  const lit = (word: string) => {
    i++;
    for (let k = 1; k < word.length; k++) {
      if (peek() !== word[k]) fail(`in literal ${word} (expecting '${word[k]}')`);
      i++;
    }
  };

  const value = (top: boolean): void => {
    skip();
    const c = peek();
    if (c === "{") {
      i++;
      skip();
      if (peek() === "}") {
        i++;
        return;
      }
      for (;;) {
        skip();
        if (peek() !== '"') fail("looking for beginning of object key string");
        str();
        skip();
        if (peek() !== ":") fail("after object key");
        i++;
        value(false);
        skip();
        const n = peek();
        if (n === ",") {
          i++;
          continue;
        }
        if (n === "}") {
          i++;
          return;
        }
        fail("after object key:value pair");
      }
    }
    if (c === "[") {
      i++;
      skip();
      if (peek() === "]") {
        i++;
        return;
      }
      for (;;) {
        value(false);
        skip();
        const n = peek();
        if (n === ",") {
          i++;
          continue;
        }
        if (n === "]") {
          i++;
          return;
        }
        fail("after array element");
      }
    }
    if (c === '"') str();
    else if (c === "-" || isDigit(c)) num(top);
    else if (c === "t") lit("true");
    else if (c === "f") lit("false");
    else if (c === "n") lit("null");
    else fail("looking for beginning of value");
  };

  value(true);
  return i;
}

/** Go's base64.StdEncoding.Decode validation. Returns the CorruptInputError offset, or -1. */
function goBase64Error(str: string): number {
  const src = Buffer.from(str, "utf8");
  const isAlpha = (b: number) =>
    (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b === 43 || b === 47;
  const isNl = (b: number | undefined) => b === 10 || b === 13;
  let si = 0;
  for (;;) {
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return -1;
        return si - j;
      }
      const b = src[si] as number;
      si++;
      if (isAlpha(b)) continue;
      if (isNl(b)) {
        j--;
        continue;
      }
      if (b !== 61) return si - 1; // not '='
      if (j === 0 || j === 1) return si - 1;
      if (j === 2) {
        while (si < src.length && isNl(src[si])) si++;
        if (si === src.length) return src.length;
        if (src[si] !== 61) return si - 1;
        si++;
      }
      while (si < src.length && isNl(src[si])) si++;
      return si < src.length ? si : -1;
    }
  }
}

/** A small Go type schema, enough to reproduce UnmarshalTypeError messages on the main fields. */
type GoType =
  | { k: "string" }
  | { k: "bool" }
  | { k: "int" }
  | { k: "any" }
  | { k: "bytes"; go: string }
  | { k: "map"; go: string }
  | { k: "slice"; go: string; elem: GoType }
  | { k: "struct"; go: string; fields: Record<string, GoType> }
  | { k: "custom"; check: (v: unknown) => string | null };

const T = {
  string: { k: "string" } as GoType,
  bool: { k: "bool" } as GoType,
  int: { k: "int" } as GoType,
  any: { k: "any" } as GoType,
  map: { k: "map", go: "map[string]interface {}" } as GoType,
};

function durationCheck(v: unknown): string | null {
  if (v === null || typeof v === "number") return null;
  if (typeof v === "string") {
    if (parseGoDuration(v) === undefined) {
      return /^[-+]?(\d+\.?\d*|\.\d+)$/.test(v)
        ? `time: missing unit in duration ${goQuote(v)}`
        : `time: invalid duration ${goQuote(v)}`;
    }
    return null;
  }
  return `Unsupported type: '${Array.isArray(v) ? "[]interface {}" : typeof v === "boolean" ? "bool" : "map[string]interface {}"}'`;
}

function thinkCheck(v: unknown): string | null {
  if (v === null || typeof v === "boolean") return null;
  if (typeof v === "string") {
    if (["high", "medium", "low", "max", "true", "false", ""].includes(v)) return null;
    return `invalid think value: ${goQuote(v)} (must be "high", "medium", "low", true, or false)`;
  }
  return `think must be a boolean or string ("high", "medium", "low", true, or false)`;
}

const MESSAGE_T: GoType = {
  k: "struct",
  go: "Message",
  fields: {
    role: T.string,
    content: T.string,
    thinking: T.string,
    images: { k: "slice", go: "[]api.ImageData", elem: { k: "bytes", go: "api.ImageData" } },
    tool_calls: { k: "slice", go: "[]api.ToolCall", elem: T.any },
    tool_name: T.string,
    tool_call_id: T.string,
  },
};

const CHAT_T: GoType = {
  k: "struct",
  go: "ChatRequest",
  fields: {
    model: T.string,
    messages: { k: "slice", go: "[]api.Message", elem: MESSAGE_T },
    tools: { k: "slice", go: "api.Tools", elem: T.any },
    stream: T.bool,
    format: T.any,
    keep_alive: { k: "custom", check: durationCheck },
    options: T.map,
    think: { k: "custom", check: thinkCheck },
    truncate: T.bool,
    shift: T.bool,
    logprobs: T.bool,
    top_logprobs: T.int,
  },
};

const GENERATE_T: GoType = {
  k: "struct",
  go: "GenerateRequest",
  fields: {
    model: T.string,
    prompt: T.string,
    suffix: T.string,
    system: T.string,
    template: T.string,
    images: { k: "slice", go: "[]api.ImageData", elem: T.any },
    stream: T.bool,
    raw: T.bool,
    format: T.any,
    keep_alive: { k: "custom", check: durationCheck },
    options: T.map,
    think: { k: "custom", check: thinkCheck },
    truncate: T.bool,
    shift: T.bool,
    logprobs: T.bool,
    top_logprobs: T.int,
    context: { k: "slice", go: "[]int", elem: T.any },
  },
};

const EMBED_T: GoType = {
  k: "struct",
  go: "EmbedRequest",
  fields: {
    model: T.string,
    input: T.any,
    keep_alive: { k: "custom", check: durationCheck },
    truncate: T.bool,
    dimensions: T.int,
    options: T.map,
  },
};

const SHOW_T: GoType = {
  k: "struct",
  go: "ShowRequest",
  fields: {
    model: T.string,
    name: T.string,
    system: T.string,
    template: T.string,
    verbose: T.bool,
    options: T.map,
  },
};
const PULL_T: GoType = {
  k: "struct",
  go: "PullRequest",
  fields: {
    model: T.string,
    name: T.string,
    insecure: T.bool,
    stream: T.bool,
    username: T.string,
    password: T.string,
  },
};
const DELETE_T: GoType = { k: "struct", go: "DeleteRequest", fields: { model: T.string, name: T.string } };

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "number";
  if (typeof v === "string") return "string";
  return "object";
}

/** Returns the first error Go would report while decoding v into t, or null. */
function typeCheck(v: unknown, t: GoType, structName: string, path: string): string | null {
  if (v === null || v === undefined) return null; // null leaves Go values untouched
  const typeErr = (goType: string) =>
    path
      ? `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${structName}.${path} of type ${goType}`
      : `json: cannot unmarshal ${jsonKind(v)} into Go value of type ${goType}`;
  switch (t.k) {
    case "any":
      return null;
    case "string":
      return typeof v === "string" ? null : typeErr("string");
    case "bool":
      return typeof v === "boolean" ? null : typeErr("bool");
    case "int":
      if (typeof v !== "number") return typeErr("int");
      return Number.isInteger(v)
        ? null
        : `json: cannot unmarshal number ${v} into Go struct field ${structName}.${path} of type int`;
    case "map":
      return typeof v === "object" && !Array.isArray(v) ? null : typeErr(t.go);
    case "custom":
      return t.check(v);
    case "bytes": {
      if (typeof v !== "string") return typeErr(t.go);
      const off = goBase64Error(v);
      return off >= 0 ? `illegal base64 data at input byte ${off}` : null;
    }
    case "slice": {
      if (!Array.isArray(v)) return typeErr(t.go);
      for (const el of v) {
        const e = typeCheck(el, t.elem, structName, path);
        if (e) return e;
      }
      return null;
    }
    case "struct": {
      if (typeof v !== "object" || Array.isArray(v)) return typeErr(path ? t.go : `api.${t.go}`);
      for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
        const fieldName = Object.keys(t.fields).find((f) => f.toLowerCase() === key.toLowerCase());
        if (!fieldName) continue;
        const ft = t.fields[fieldName] as GoType;
        const e = typeCheck(val, ft, t.go, path ? `${path}.${fieldName}` : fieldName);
        if (e) return e;
      }
      return null;
    }
  }
}

type Decoded = { ok: true; value: Record<string, Json> } | { ok: false; error: string };

/** gin's ShouldBindJSON: decode the body into a Go struct. */
function goDecode(text: string, t: GoType): Decoded {
  if (/^[ \t\r\n]*$/.test(text)) return { ok: false, error: "missing request body" };
  let end: number;
  try {
    end = goScan(text);
  } catch (e) {
    if (e instanceof GoEOF) return { ok: false, error: "unexpected EOF" };
    if (e instanceof GoSyntaxError) return { ok: false, error: e.message };
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(text.slice(0, end));
  } catch (e) {
    return { ok: false, error: String((e as Error).message) };
  }
  // Go looks up fields case-insensitively. Normalise known keys to their canonical spelling.
  const err = typeCheck(v, t, t.k === "struct" ? t.go : "", "");
  if (err) return { ok: false, error: err };
  if (v === null) return { ok: true, value: {} };
  const out: Record<string, Json> = {};
  const fields = t.k === "struct" ? Object.keys(t.fields) : [];
  for (const [key, val] of Object.entries(v as Record<string, Json>)) {
    const canon = fields.find((f) => f.toLowerCase() === key.toLowerCase()) ?? key;
    out[canon] = val; // the last occurrence wins, as in Go
  }
  return { ok: true, value: out };
}

/** time.ParseDuration, simplified. Returns ns, or undefined when the string is invalid. */
function parseGoDuration(s: string): number | undefined {
  if (s === "0" || s === "+0" || s === "-0") return 0;
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (!m) return undefined;
  const unit: Record<string, number> = {
    ns: 1,
    us: 1e3,
    µs: 1e3,
    μs: 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
  };
  let total = 0;
  for (const part of (m[2] as string).matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (unit[part[2] as string] as number);
  }
  return m[1] === "-" ? -total : total;
}

/** keep_alive → ns (negative means forever); undefined when not set. */
function keepAliveNs(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "number") return v < 0 ? -1 : v * 1e9;
  if (typeof v === "string") {
    const ns = parseGoDuration(v);
    return ns !== undefined && ns < 0 ? -1 : ns;
  }
  return undefined;
}

function thinkOn(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v !== "" && v !== "false";
  return false;
}

// ---------------------------------------------------------------------------------------------
// Model names
// ---------------------------------------------------------------------------------------------

interface ParsedName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
  key: string; // full name, lower-cased, for matching
  display: string; // DisplayShortest
  full: string; // e.g. registry.ollama.ai/library/llama3.2:latest
}

const DEFAULT_HOST = "registry.ollama.ai";
const DEFAULT_NS = "library";

function parseName(raw: unknown): ParsedName | null {
  if (typeof raw !== "string" || raw === "") return null;
  let s = raw;
  const at = s.indexOf("@");
  if (at >= 0) s = s.slice(0, at);
  let tag = "latest";
  const slash = s.lastIndexOf("/");
  const colon = s.lastIndexOf(":");
  if (colon > slash) {
    tag = s.slice(colon + 1);
    s = s.slice(0, colon);
  }
  const parts = s.split("/");
  if (parts.length > 3) return null;
  const model = parts.pop() as string;
  const namespace = parts.pop() ?? DEFAULT_NS;
  const host = parts.pop() ?? DEFAULT_HOST;
  const part = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,79}$/;
  if (!part.test(model) || !part.test(tag) || !part.test(namespace)) return null;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,349}$/.test(host)) return null;
  const full = `${host}/${namespace}/${model}:${tag}`;
  let display = `${model}:${tag}`;
  if (host.toLowerCase() !== DEFAULT_HOST) display = full;
  else if (namespace.toLowerCase() !== DEFAULT_NS) display = `${namespace}/${model}:${tag}`;
  return { host, namespace, model, tag, key: full.toLowerCase(), display, full };
}

// ---------------------------------------------------------------------------------------------
// Server state
// ---------------------------------------------------------------------------------------------

interface InstalledModel {
  display: string;
  key: string;
  full: string;
  digest: string;
  size: number;
  family: string;
  parameterSize: string;
  quantization: string;
  contextLength: number;
  embeddingLength: number;
  capabilities: string[];
  license?: string;
  parameters?: string;
  modifiedNs: bigint;
}

function parameterCount(ps: string): number {
  const m = /^([\d.]+)\s*([KMBT]?)/i.exec(ps);
  if (!m) return 0;
  const mult: Record<string, number> = { "": 1, K: 1e3, M: 1e6, B: 1e9, T: 1e12 };
  return Math.round(Number(m[1]) * (mult[(m[2] as string).toUpperCase()] ?? 1));
}

function guessCapabilities(name: string): string[] {
  return /embed|minilm|bge|e5/i.test(name) ? ["embedding"] : ["completion"];
}

function makeInstalled(m: FakeModel, fallbackModifiedNs: bigint): InstalledModel | null {
  const pn = parseName(m.name);
  if (!pn) return null;
  const digest = sha256hex(`manifest:${pn.key}`);
  const modifiedNs = m.modifiedAt
    ? BigInt(m.modifiedAt.getTime()) * 1_000_000n +
      BigInt(Number.parseInt(digest.slice(0, 6), 16) % 1_000_000)
    : fallbackModifiedNs;
  return {
    display: pn.display,
    key: pn.key,
    full: pn.full,
    digest,
    size: m.size ?? 1_000_000_000 + (Number.parseInt(digest.slice(0, 8), 16) % 1_000_000_000),
    family: m.family ?? (/^[a-z]+/i.exec(pn.model)?.[0]?.toLowerCase() || "llama"),
    parameterSize: m.parameterSize ?? "3.2B",
    quantization: m.quantization ?? "Q4_K_M",
    contextLength: m.contextLength ?? 8192,
    embeddingLength: m.embeddingLength ?? 8,
    capabilities: m.capabilities ?? guessCapabilities(pn.model),
    license: m.license,
    parameters: m.parameters,
    modifiedNs,
  };
}

function details(m: InstalledModel) {
  return {
    parent_model: "",
    format: "gguf",
    family: m.family,
    families: [m.family],
    parameter_size: m.parameterSize,
    quantization_level: m.quantization,
  };
}

interface Download {
  digest: string;
  total: number;
  completed: number;
  timer: ReturnType<typeof setInterval> | undefined;
  subs: Set<() => void>;
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

export async function startFakeOllama(opts: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const host = opts.host ?? "127.0.0.1";
  const version = opts.version ?? "0.33.0";

  const installed = new Map<string, InstalledModel>();
  const loaded = new Map<string, { model: InstalledModel; expiresNs: bigint; numCtx: number }>();
  const chatScripts = new Map<string, ChatScript>();
  let chatResolver: ((req: Json) => ChatScript | undefined) | undefined;
  let defaultScript: ChatScript = opts.chat ?? {};
  let queueFull = opts.queueFull ?? false;
  let down: false | "refuse" | "reset" = false;
  let closed = false;

  /** Bytes of each blob already on "disk" (complete or partial). */
  const blobs = new Map<string, number>();
  const downloads = new Map<string, Download>();

  const requests: RequestRecord[] = [];
  const chats: ChatRecord[] = [];
  const pulls: PullRecord[] = [];

  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const intervals = new Set<ReturnType<typeof setInterval>>();
  const lifetime = new AbortController();
  // Every open request listens on it; hundreds at once are normal (bench/api.mjs opens 1,000).
  setMaxListeners(0, lifetime.signal);

  const initialModels = (): FakeModel[] => opts.models ?? DEFAULT_MODELS;

  function installAll(models: FakeModel[]) {
    installed.clear();
    const base = nowNs();
    models.forEach((m, i) => {
      // Without modifiedAt, the first model is the newest; the next ones are 1 h older each.
      const im = makeInstalled(m, base - BigInt(i) * 3_600_000_000_000n);
      if (im) installed.set(im.key, im);
    });
  }
  installAll(initialModels());

  // ---- timers tied to the server's lifetime ----
  function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const onAbort = () => {
        clearTimeout(t);
        timers.delete(t);
        resolve(false);
      };
      const t = setTimeout(
        () => {
          timers.delete(t);
          signal.removeEventListener("abort", onAbort);
          resolve(!signal.aborted);
        },
        Math.max(0, ms),
      );
      timers.add(t);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  // ---- response helpers ----
  function sendText(res: ServerResponse, status: number, text: string, contentType = "text/plain") {
    res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) });
    res.end(text);
  }
  function sendJSON(
    res: ServerResponse,
    status: number,
    obj: unknown,
    contentType = "application/json; charset=utf-8",
  ) {
    const s = goJSON(obj);
    res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(s) });
    res.end(s);
  }
  const sendError = (res: ServerResponse, status: number, error: string, contentType?: string) =>
    sendJSON(res, status, { error }, contentType);

  /** Writes a line; waits for 'drain' under backpressure. Returns false if the connection went away. */
  async function writeLine(res: ServerResponse, obj: unknown, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted || res.destroyed) return false;
    const ok = res.write(`${goJSON(obj)}\n`);
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        res.on("drain", done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
    return !signal.aborted;
  }

  /** An AbortSignal that fires when the client goes away (or the server closes). */
  function connectionSignal(res: ServerResponse): {
    signal: AbortSignal;
    onClientGone: (fn: () => void) => void;
  } {
    const ac = new AbortController();
    const listeners: Array<() => void> = [];
    const onLifetime = () => ac.abort();
    lifetime.signal.addEventListener("abort", onLifetime, { once: true });
    res.on("close", () => {
      lifetime.signal.removeEventListener("abort", onLifetime);
      if (!res.writableFinished) {
        for (const fn of listeners) fn();
      }
      ac.abort();
    });
    return { signal: ac.signal, onClientGone: (fn) => listeners.push(fn) };
  }

  function lookup(name: unknown): InstalledModel | undefined {
    const pn = parseName(name);
    return pn ? installed.get(pn.key) : undefined;
  }

  function markLoaded(m: InstalledModel, keepAlive: number | undefined, numCtx: unknown) {
    if (keepAlive === 0) {
      loaded.delete(m.key);
      return;
    }
    const ka = keepAlive ?? 5 * 60e9;
    const expiresNs =
      ka < 0 ? nowNs() + 100n * 365n * 86_400n * 1_000_000_000n : nowNs() + BigInt(Math.round(ka));
    const ctx = typeof numCtx === "number" && numCtx > 0 ? numCtx : 4096;
    loaded.set(m.key, { model: m, expiresNs, numCtx: Math.min(ctx, m.contextLength) });
  }

  function optionsError(options: unknown): string | null {
    if (!options || typeof options !== "object") return null;
    const ints = [
      "num_keep",
      "seed",
      "num_predict",
      "top_k",
      "repeat_last_n",
      "num_ctx",
      "num_batch",
      "num_gpu",
      "main_gpu",
      "num_thread",
    ];
    const floats = [
      "top_p",
      "min_p",
      "typical_p",
      "temperature",
      "repeat_penalty",
      "presence_penalty",
      "frequency_penalty",
    ];
    const bools = ["use_mmap", "numa"];
    for (const [k, v] of Object.entries(options as Record<string, unknown>)) {
      if (v === null) continue;
      if (ints.includes(k) && typeof v !== "number") return `option ${goQuote(k)} must be of type integer`;
      if (floats.includes(k) && typeof v !== "number") return `option ${goQuote(k)} must be of type float32`;
      if (bools.includes(k) && typeof v !== "boolean") return `option ${goQuote(k)} must be of type boolean`;
      if (k === "stop") {
        if (!Array.isArray(v)) return `option ${goQuote(k)} must be of type array`;
        if (v.some((x) => typeof x !== "string"))
          return `option ${goQuote(k)} must be of an array of strings`;
      }
    }
    return null;
  }

  // ---- handlers ----

  function handleTags(res: ServerResponse) {
    const models = [...installed.values()]
      .sort((a, b) => (b.modifiedNs > a.modifiedNs ? 1 : b.modifiedNs < a.modifiedNs ? -1 : 0))
      .map((m) => ({
        name: m.display,
        model: m.display,
        modified_at: rfc3339Nano(m.modifiedNs, true),
        size: m.size,
        digest: m.digest,
        details: details(m),
        capabilities: m.capabilities,
      }));
    sendJSON(res, 200, { models });
  }

  function handlePs(res: ServerResponse) {
    const now = nowNs();
    const models = [...loaded.values()]
      .filter((l) => l.expiresNs > now && installed.has(l.model.key))
      .sort((a, b) => (b.expiresNs > a.expiresNs ? 1 : b.expiresNs < a.expiresNs ? -1 : 0))
      .map(({ model: m, expiresNs, numCtx }) => ({
        name: m.display,
        model: m.display,
        size: m.size,
        digest: m.digest,
        details: details(m),
        expires_at: rfc3339Nano(expiresNs, true),
        size_vram: m.size,
        context_length: numCtx,
      }));
    sendJSON(res, 200, { models });
  }

  function handleShow(res: ServerResponse, text: string) {
    const d = goDecode(text, SHOW_T);
    if (!d.ok) return sendError(res, 400, d.error);
    const req = d.value;
    const name: string = req.model || req.name || "";
    if (!name) return sendError(res, 400, "model is required");
    const pn = parseName(name);
    if (!pn) return sendError(res, 400, "invalid model name");
    const m = installed.get(pn.key);
    if (!m) return sendError(res, 404, `model '${name}' not found`);
    const info: Record<string, unknown> = {
      "general.architecture": m.family,
      "general.parameter_count": parameterCount(m.parameterSize),
      [`${m.family}.context_length`]: m.contextLength,
      [`${m.family}.embedding_length`]: m.embeddingLength,
    };
    const modelInfo: Record<string, unknown> = {};
    for (const k of Object.keys(info).sort()) modelInfo[k] = info[k]; // Go sorts map keys
    const blob = sha256hex(`blob:${m.key}#0`);
    sendJSON(res, 200, {
      ...(m.license ? { license: m.license } : {}),
      modelfile: `# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM ${m.display}\n\nFROM /root/.ollama/models/blobs/sha256-${blob}\nTEMPLATE {{ .Prompt }}\n`,
      ...(m.parameters ? { parameters: m.parameters } : {}),
      template: "{{ .Prompt }}",
      details: details(m),
      model_info: modelInfo,
      capabilities: m.capabilities,
      modified_at: rfc3339Nano(m.modifiedNs, true),
    });
  }

  function handleDelete(res: ServerResponse, text: string) {
    const d = goDecode(text, DELETE_T);
    if (!d.ok) return sendError(res, 400, d.error);
    const name: string = d.value.model || d.value.name || "";
    const pn = parseName(name);
    if (!pn) return sendError(res, 400, `name ${goQuote(name)} is invalid`);
    if (!installed.has(pn.key)) return sendError(res, 404, `model '${name}' not found`);
    installed.delete(pn.key);
    loaded.delete(pn.key);
    layerDigests(pn.key).forEach((dg) => {
      if (!downloads.has(dg)) blobs.delete(dg);
    });
    res.writeHead(200, { "Content-Length": 0 });
    res.end();
  }

  // ---- pull ----

  function knownModel(pn: ParsedName): FakeKnownModel | null {
    for (const k of opts.pull?.known ?? DEFAULT_KNOWN) {
      const fm: FakeKnownModel = typeof k === "string" ? { name: k } : k;
      if (parseName(fm.name)?.key === pn.key) return fm;
    }
    for (const fm of initialModels()) if (parseName(fm.name)?.key === pn.key) return fm;
    return null;
  }
  /** Layers, chunk size and tick of a model's pull: its own (FakeKnownModel.pull), else the options'. */
  const pullPlan = (key: string) => {
    const parsed = parseName(key);
    const own = parsed ? knownModel(parsed)?.pull : undefined;
    return {
      layers: own?.layers ?? opts.pull?.layers ?? DEFAULT_PULL_LAYERS,
      chunkBytes: Math.max(1, own?.chunkBytes ?? opts.pull?.chunkBytes ?? 400_000),
      intervalMs: Math.max(1, own?.intervalMs ?? opts.pull?.intervalMs ?? 10),
    };
  };
  const layerDigests = (key: string) => pullPlan(key).layers.map((_, i) => sha256hex(`blob:${key}#${i}`));

  /** Follows the shared download of a blob until it completes; onProgress gets each tick's total. */
  function followDownload(
    digest: string,
    total: number,
    speed: { chunkBytes: number; intervalMs: number },
    signal: AbortSignal,
    onProgress: (completed: number) => void,
  ): Promise<boolean> {
    const chunk = speed.chunkBytes;
    const interval = speed.intervalMs;
    let dl = downloads.get(digest);
    if (!dl) {
      dl = {
        digest,
        total,
        completed: Math.min(total, blobs.get(digest) ?? 0),
        timer: undefined,
        subs: new Set(),
      };
      downloads.set(digest, dl);
    }
    const job = dl;
    if (!job.timer) {
      job.timer = setInterval(() => {
        job.completed = Math.min(job.total, job.completed + chunk);
        blobs.set(digest, job.completed);
        for (const s of [...job.subs]) s();
        if (job.completed >= job.total && job.timer) {
          clearInterval(job.timer);
          intervals.delete(job.timer);
          job.timer = undefined;
          if (downloads.get(digest) === job) downloads.delete(digest);
        }
      }, interval);
      intervals.add(job.timer);
    }
    onProgress(job.completed);
    return new Promise((resolve) => {
      const detach = () => {
        job.subs.delete(sub);
        signal.removeEventListener("abort", onAbort);
      };
      const sub = () => {
        onProgress(job.completed);
        if (job.completed >= job.total) {
          detach();
          resolve(true);
        }
      };
      const onAbort = () => {
        detach();
        // The last waiter left: stop the download, keep the partial bytes for a later resume.
        if (job.subs.size === 0 && job.timer) {
          clearInterval(job.timer);
          intervals.delete(job.timer);
          job.timer = undefined;
          blobs.set(digest, job.completed);
          if (downloads.get(digest) === job) downloads.delete(digest);
        }
        resolve(false);
      };
      job.subs.add(sub);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async function handlePull(res: ServerResponse, text: string) {
    const d = goDecode(text, PULL_T);
    if (!d.ok) return sendError(res, 400, d.error);
    const req = d.value;
    const name: string = req.model || req.name || "";
    const pn = parseName(name);
    if (!pn) return sendError(res, 400, "invalid model name");
    const stream = req.stream !== false;
    const { signal } = connectionSignal(res);
    const record: PullRecord = { model: name, status: "running" };
    pulls.push(record);
    res.on("close", () => {
      if (record.status === "running") record.status = res.writableFinished ? "completed" : "cancelled";
    });

    const emit = async (obj: Record<string, unknown>): Promise<boolean> => {
      if (!stream) return !signal.aborted;
      if (!res.headersSent) res.writeHead(200, { "Content-Type": "application/x-ndjson" });
      return writeLine(res, obj, signal);
    };
    const finishError = async (error: string) => {
      if (signal.aborted) return;
      record.status = "failed";
      if (stream) {
        await emit({ error });
        res.end();
      } else sendError(res, 500, error, "application/json");
    };

    if (!(await emit({ status: "pulling manifest" }))) return;
    const known = installed.get(pn.key) ? null : knownModel(pn);
    const alreadyInstalled = installed.get(pn.key);
    if (!alreadyInstalled && !known) return finishError(PULL_NOT_FOUND_ERROR);
    if (known?.pull?.error) return finishError(known.pull.error);

    const plan = pullPlan(pn.key);
    const layers = plan.layers;
    const digests = layerDigests(pn.key);
    for (let i = 0; i < layers.length; i++) {
      const total = (layers[i] as { size: number }).size;
      const digest = digests[i] as string;
      const status = `pulling ${digest.slice(0, 12)}`;
      const line = (completed: number) => {
        const o: Record<string, unknown> = { status, digest: `sha256:${digest}` };
        if (total) o.total = total;
        if (completed) o.completed = completed;
        return o;
      };
      if (alreadyInstalled || (blobs.get(digest) ?? 0) >= total) {
        if (!(await emit(line(total)))) return;
        continue;
      }
      let chain: Promise<unknown> = Promise.resolve();
      const ok = await followDownload(digest, total, plan, signal, (c) => {
        const o = line(c);
        chain = chain.then(() => emit(o));
      });
      await chain;
      if (!ok || signal.aborted) return;
    }
    for (const status of ["verifying sha256 digest", "writing manifest"]) {
      if (!(await emit({ status }))) return;
    }
    const base: FakeModel = alreadyInstalled
      ? { name: pn.display }
      : { ...(known as FakeModel), name: pn.display };
    const im = makeInstalled({ ...base, modifiedAt: undefined }, nowNs());
    if (im) {
      if (alreadyInstalled) Object.assign(im, { ...alreadyInstalled, modifiedNs: im.modifiedNs });
      else if (known?.size === undefined) im.size = layers.reduce((a, l) => a + l.size, 0);
      installed.set(im.key, im);
    }
    if (stream) {
      await emit({ status: "success" });
      res.end();
    } else if (!signal.aborted) sendJSON(res, 200, { status: "success" }, "application/json");
  }

  // ---- embed ----

  function embedVector(modelKey: string, text: string, dims: number): number[] {
    const raw: number[] = [];
    for (let block = 0; raw.length < dims; block++) {
      const h = createHash("sha256").update(`${modelKey}\0${text}\0${block}`).digest();
      for (let o = 0; o + 4 <= h.length && raw.length < dims; o += 4) {
        raw.push(h.readUInt32BE(o) / 0x80000000 - 1);
      }
    }
    return raw;
  }
  function normalize(v: number[]): number[] {
    const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1e-12;
    return v.map((x) => x / norm);
  }

  function handleEmbed(res: ServerResponse, text: string) {
    const d = goDecode(text, EMBED_T);
    if (!d.ok) return sendError(res, 400, d.error);
    const req = d.value;
    const modelName: string = req.model ?? "";
    let input: string[] = [];
    if (typeof req.input === "string") {
      if (req.input.length > 0) input = [req.input];
    } else if (Array.isArray(req.input)) {
      if (req.input.some((x: unknown) => typeof x !== "string"))
        return sendError(res, 400, "invalid input type");
      input = req.input;
    } else if (req.input !== undefined && req.input !== null) {
      return sendError(res, 400, "invalid input type");
    }
    const m = lookup(modelName);
    if (!m) return sendError(res, 404, `model ${goQuote(modelName)} not found, try pulling it first`);
    const oe = optionsError(req.options);
    if (oe) return sendError(res, 500, oe);
    if (queueFull) return sendError(res, 503, QUEUE_FULL_ERROR);
    markLoaded(m, keepAliveNs(req.keep_alive), req.options?.num_ctx);
    if (input.length === 0) return sendJSON(res, 200, { model: modelName, embeddings: [] });
    const dims =
      typeof req.dimensions === "number" && req.dimensions > 0 && req.dimensions < m.embeddingLength
        ? req.dimensions
        : 0;
    const embeddings = input.map((t) => {
      let v = normalize(embedVector(m.key, t, m.embeddingLength));
      if (dims) v = normalize(v.slice(0, dims));
      return v.map(float32Short);
    });
    const promptEvalCount = input.reduce((a, t) => a + wordCount(t) + 2, 0);
    sendJSON(res, 200, {
      model: modelName,
      embeddings,
      total_duration: 1_000_000 + 500_000 * input.length,
      load_duration: 1_000_000,
      prompt_eval_count: promptEvalCount,
    });
  }

  // ---- chat ----

  function scriptFor(m: InstalledModel, req: Json): ChatScript {
    return chatResolver?.(req) ?? chatScripts.get(m.key) ?? defaultScript;
  }

  async function handleChat(res: ServerResponse, text: string) {
    const d = goDecode(text, CHAT_T);
    if (!d.ok) return sendError(res, 400, d.error);
    return generate(res, d.value, "chat");
  }

  /**
   * /api/generate: the prompt (after the system prompt) is generated from like a one-message chat,
   * answered in generate's shape: `response` (and `thinking`) instead of `message`, and `context`
   * on the final chunk unless `raw`. An empty model name is a 404 here (a 400 on /api/chat).
   */
  async function handleGenerate(res: ServerResponse, text: string) {
    const d = goDecode(text, GENERATE_T);
    if (!d.ok) return sendError(res, 400, d.error);
    const req = d.value;
    const modelName: string = req.model ?? "";
    const pn = parseName(modelName);
    const m = pn ? installed.get(pn.key) : undefined;
    if (!m) return sendError(res, 404, `model '${modelName}' not found`);
    if (typeof req.suffix === "string" && req.suffix && !m.capabilities.includes("insert")) {
      return sendError(res, 400, `${goQuote(modelName)} does not support insert`);
    }
    const prompt: string = req.prompt ?? "";
    const messages = prompt
      ? [...(req.system ? [{ role: "system", content: req.system }] : []), { role: "user", content: prompt }]
      : [];
    return generate(res, { ...req, messages }, "generate");
  }

  async function generate(res: ServerResponse, req: Json, kind: "chat" | "generate") {
    if (typeof req.top_logprobs === "number" && (req.top_logprobs < 0 || req.top_logprobs > 20)) {
      return sendError(res, 400, "top_logprobs must be between 0 and 20");
    }
    const modelName: string = req.model ?? "";
    const pn = parseName(modelName);
    if (!pn) return sendError(res, 400, "model is required");
    const m = installed.get(pn.key);
    if (!m) return sendError(res, 404, `model '${modelName}' not found`);
    const messages: Json[] = Array.isArray(req.messages) ? req.messages : [];
    // The same chunk, in the endpoint's shape.
    const shaped = (msg: Record<string, unknown>, rest: Record<string, unknown>) => {
      if (kind === "chat") return { model: modelName, created_at: createdAt(), message: msg, ...rest };
      const out: Record<string, unknown> = {
        model: modelName,
        created_at: createdAt(),
        response: msg.content ?? "",
      };
      if (msg.thinking) out.thinking = msg.thinking;
      return { ...out, ...rest };
    };
    const keepAlive = keepAliveNs(req.keep_alive);
    const createdAt = () => rfc3339Nano(nowNs(), false);

    if (messages.length === 0 && keepAlive === 0) {
      loaded.delete(m.key);
      return sendJSON(
        res,
        200,
        shaped({ role: "assistant", content: "" }, { done: true, done_reason: "unload" }),
      );
    }
    const caps = m.capabilities;
    if (!caps.includes("thinking") && thinkOn(req.think)) {
      return sendError(res, 400, `${goQuote(modelName)} does not support thinking`);
    }
    const tools: Json[] = Array.isArray(req.tools) ? req.tools : [];
    if (!caps.includes("completion"))
      return sendError(res, 400, `${goQuote(modelName)} does not support chat`);
    if (tools.length > 0 && !caps.includes("tools"))
      return sendError(res, 400, `${pn.full} does not support tools`);
    const oe = optionsError(req.options);
    if (oe) return sendError(res, 500, oe);
    if (queueFull) return sendError(res, 503, QUEUE_FULL_ERROR);

    markLoaded(m, keepAlive, req.options?.num_ctx);
    if (messages.length === 0) {
      return sendJSON(
        res,
        200,
        shaped({ role: "assistant", content: "" }, { done: true, done_reason: "load" }),
      );
    }

    // ---- generation ----
    const script = scriptFor(m, req);
    const stream = req.stream !== false;
    const record: ChatRecord = {
      model: modelName,
      body: req,
      status: "running",
      tokensSent: 0,
      images: messages.map((message: Json) =>
        Array.isArray(message?.images)
          ? message.images.map((image: string) => Buffer.from(image, "base64"))
          : [],
      ),
    };
    chats.push(record);
    const { signal, onClientGone } = connectionSignal(res);
    onClientGone(() => {
      if (record.status === "running") {
        record.status = down || closed ? "failed" : "cancelled";
        record.cancelledAt = Date.now();
      }
    });

    const firstDelay = script.firstTokenDelayMs ?? 0;
    const tokenDelay = script.tokenDelayMs ?? 0;
    const wantThinking =
      caps.includes("thinking") && req.think !== false && req.think !== "false" && req.think !== "";
    const thinkingChunks = wantThinking ? (script.thinking ?? []) : [];
    const toolCalls = script.toolCalls ?? [];
    const structuredTools = tools.length > 0 && toolCalls.length > 0;

    let content: string[];
    if (script.tokens) content = [...script.tokens];
    else if (script.reply !== undefined)
      content = tokenize(typeof script.reply === "function" ? script.reply(req) : script.reply);
    else if (toolCalls.length > 0) content = [];
    else content = tokenize(DEFAULT_REPLY);
    if (toolCalls.length > 0 && !structuredTools) {
      content.push(
        ...toolCalls.map(
          (c, i) =>
            `${i || content.length ? "\n" : ""}${JSON.stringify({ name: c.name, arguments: c.arguments })}`,
        ),
      );
    }

    let doneReason: string = script.doneReason ?? "stop";
    const numPredict = req.options?.num_predict;
    if (typeof numPredict === "number" && numPredict > 0 && content.length > numPredict) {
      content = content.slice(0, numPredict);
      doneReason = "length";
    }
    const stops: string[] = Array.isArray(req.options?.stop)
      ? req.options.stop.filter((s: unknown) => typeof s === "string" && s)
      : [];
    if (stops.length) {
      let acc = "";
      for (let i = 0; i < content.length; i++) {
        const next = acc + content[i];
        const hit = Math.min(
          ...stops.map((s) => (next.indexOf(s) >= 0 ? next.indexOf(s) : Number.POSITIVE_INFINITY)),
        );
        if (Number.isFinite(hit)) {
          const cut = next.slice(acc.length, hit);
          content = [...content.slice(0, i), ...(cut ? [cut] : [])];
          doneReason = "stop";
          break;
        }
        acc = next;
      }
    }

    type Chunk = { thinking?: string; content?: string; toolCalls?: Json[] };
    const chunks: Chunk[] = [
      ...thinkingChunks.map((t) => ({ thinking: t })),
      ...content.map((c) => ({ content: c })),
    ];
    if (structuredTools) {
      chunks.push({
        toolCalls: toolCalls.map((c, i) => ({
          id: `call_${sha256hex(`${chats.length}:${i}:${c.name}`)
            .replace(/[^a-z0-9]/g, "")
            .slice(0, 8)}`,
          function: { index: i, name: c.name, arguments: c.arguments },
        })),
      });
    }

    // With `logprobs`, each content token carries Ollama's Logprob: {token, logprob, bytes,
    // top_logprobs: [{token, logprob, bytes}]}. Deterministic: the n-th token (from 0) has logprob
    // -(n+1)/10; its alternatives are "<token>~1", "<token>~2"... each 1 lower.
    const wantLogprobs = req.logprobs === true;
    const topN = typeof req.top_logprobs === "number" ? req.top_logprobs : 0;
    let tokenIndex = 0;
    const bytesOf = (text: string) => [...Buffer.from(text, "utf8")];
    const logprobsFor = (c: Chunk) => {
      if (!wantLogprobs || !c.content) return undefined;
      const logprob = -(tokenIndex + 1) / 10;
      tokenIndex++;
      const top = [
        c.content,
        ...Array.from({ length: Math.max(0, topN - 1) }, (_, k) => `${c.content}~${k + 1}`),
      ]
        .slice(0, topN)
        .map((token, k) => ({ token, logprob: logprob - k, bytes: bytesOf(token) }));
      return [{ token: c.content, logprob, bytes: bytesOf(c.content), top_logprobs: top }];
    };

    const message = (c: Chunk) => {
      const msg: Record<string, unknown> = { role: "assistant", content: c.content ?? "" };
      if (c.thinking) msg.thinking = c.thinking;
      if (c.toolCalls?.length) msg.tool_calls = c.toolCalls;
      return msg;
    };

    const promptEvalCount =
      script.promptEvalCount ?? messages.reduce((a, msg) => a + 4 + wordCount(msg?.content), 0);
    const evalCount = script.evalCount ?? chunks.length;
    const finalChunk = (msg: Record<string, unknown>) => {
      const out: Record<string, unknown> = shaped(msg, { done: true, done_reason: doneReason });
      // generate's deprecated conversation state, a list of token ids; left out in raw mode.
      if (kind === "generate" && !req.raw) out.context = [128006, 882, 128007, evalCount];
      if (!script.omitMetrics) {
        const load = (firstDelay + 1) * 1_000_000;
        const pe = promptEvalCount * 200_000;
        const ev = evalCount * Math.max(tokenDelay, 10) * 1_000_000;
        const metrics: Array<[string, number]> = [
          ["total_duration", load + pe + ev + 250_000],
          ["load_duration", load],
          ["prompt_eval_count", promptEvalCount],
          ["prompt_eval_duration", pe],
          ["eval_count", evalCount],
          ["eval_duration", ev],
        ];
        for (const [k, v] of metrics) if (v) out[k] = v;
      }
      return out;
    };

    const fail = script.failAfterTokens;
    const failAt = fail ? Math.max(0, fail.count) : Number.POSITIVE_INFINITY;
    const abruptClose = async () => {
      record.status = "failed";
      const sock = res.socket;
      if (!sock) return void res.destroy();
      // Flush what was already written, then close the connection without ending the chunked body.
      sock.end();
      sock.destroySoon();
    };

    // Model load + prompt eval: nothing is written before the first chunk.
    if (firstDelay > 0 && !(await sleep(firstDelay, signal))) return;
    if (signal.aborted) return;
    if (script.failBeforeStart) {
      record.status = "failed";
      return sendError(
        res,
        script.failBeforeStart.status,
        script.failBeforeStart.error,
        stream ? "application/json" : undefined,
      );
    }

    const failError = fail?.error ?? DEFAULT_MID_STREAM_ERROR;
    if (!stream) {
      let produced = 0;
      for (const _c of chunks) {
        if (produced >= failAt) break;
        if (produced > 0 && !(await sleep(tokenDelay, signal))) return;
        produced++;
        record.tokensSent = produced;
      }
      if (produced >= failAt) {
        if (fail?.abrupt) return abruptClose();
        record.status = "failed";
        return sendError(res, 500, failError);
      }
      const msg: Record<string, unknown> = {
        role: "assistant",
        content: chunks.map((c) => c.content ?? "").join(""),
      };
      const allLogprobs = wantLogprobs ? chunks.flatMap((c) => logprobsFor(c) ?? []) : [];
      const thinking = chunks.map((c) => c.thinking ?? "").join("");
      if (thinking) msg.thinking = thinking;
      const calls = chunks.flatMap((c) => c.toolCalls ?? []);
      if (calls.length) msg.tool_calls = calls;
      record.status = "completed";
      const whole = finalChunk(msg);
      if (!wantLogprobs) return sendJSON(res, 200, whole);
      // Ollama's key order: logprobs right after done_reason.
      const { done_reason, ...metrics } = whole;
      const ordered: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(metrics)) {
        ordered[key] = value;
        if (key === "done") Object.assign(ordered, { done_reason, logprobs: allLogprobs });
      }
      return sendJSON(res, 200, ordered);
    }

    let sent = 0;
    const ensureHead = () => {
      if (!res.headersSent) res.writeHead(200, { "Content-Type": "application/x-ndjson" });
    };
    for (const c of chunks) {
      if (sent >= failAt) break;
      if (sent > 0 && !(await sleep(tokenDelay, signal))) return;
      ensureHead();
      const logprobs = logprobsFor(c);
      const line = shaped(message(c), { done: false, ...(logprobs ? { logprobs } : {}) });
      if (!(await writeLine(res, line, signal))) return;
      sent++;
      record.tokensSent = sent;
    }
    if (sent >= failAt) {
      if (fail?.abrupt) {
        return abruptClose();
      }
      record.status = "failed";
      if (!res.headersSent) return sendError(res, 500, failError, "application/json");
      await writeLine(res, { error: failError }, signal);
      res.end();
      return;
    }
    if (chunks.length > 0 && !(await sleep(tokenDelay, signal))) return;
    ensureHead();
    record.status = "completed";
    res.end(`${goJSON(finalChunk({ role: "assistant", content: "" }))}\n`);
  }

  // ---- routing ----

  // Route table: path -> lower-cased method -> handler (gin's router, HandleMethodNotAllowed = true).
  type Handler = (res: ServerResponse, body: string) => void | Promise<void>;
  const root: Handler = (res) => sendText(res, 200, "Ollama is running", "text/plain; charset=utf-8");
  const versionHandler: Handler = (res) => sendJSON(res, 200, { version });
  const tagsHandler: Handler = (res) => handleTags(res);
  const routes: Record<string, Record<string, Handler>> = {
    "/": { get: root, head: root },
    "/api/version": { get: versionHandler, head: versionHandler },
    "/api/tags": { get: tagsHandler, head: tagsHandler },
    "/api/ps": { get: (res) => handlePs(res) },
    "/api/show": { post: handleShow },
    "/api/pull": { post: handlePull },
    "/api/delete": { delete: handleDelete },
    "/api/chat": { post: handleChat },
    "/api/generate": { post: handleGenerate },
    "/api/embed": { post: handleEmbed },
  };

  const routeDelays = new Map<string, number>();
  const missingEndpoints = new Set<string>();

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    let body: Json;
    if (text.length) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    requests.push({ method: req.method ?? "GET", path, body, headers: { ...req.headers }, at: Date.now() });
    const delay = routeDelays.get(path);
    if (delay) await new Promise((resolve) => timers.add(setTimeout(resolve, delay)));
    const route = missingEndpoints.has(path) ? undefined : routes[path];
    if (!route) return sendText(res, 404, "404 page not found");
    const h = route[(req.method ?? "GET").toLowerCase()];
    if (!h) return sendText(res, 405, "405 method not allowed");
    await h(res, text);
  }

  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((err) => {
      if (!res.headersSent) sendError(res, 500, String(err?.message ?? err));
      else res.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    if (down === "reset" || closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        resolve();
      });
    });
  await listen(opts.port ?? 0);
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : (opts.port ?? 0);
  const urlHost = host.includes(":") ? `[${host}]` : host;

  const destroySockets = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  async function setDown(isDown: boolean, mode: "refuse" | "reset" = "refuse"): Promise<void> {
    if (closed) return;
    if (isDown) {
      if (down) return;
      down = mode;
      if (mode === "refuse") server.close();
      destroySockets();
      return;
    }
    const was = down;
    down = false;
    if (was === "refuse" && !server.listening) await listen(port);
  }

  const fake: FakeOllama = {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    chats,
    pulls,
    setChat(script, model) {
      if (model === undefined) {
        defaultScript = script;
        return;
      }
      const key = parseName(model)?.key ?? model.toLowerCase();
      chatScripts.set(key, script);
    },
    setChatResolver(resolver) {
      chatResolver = resolver;
    },
    setModels(models) {
      installAll(models);
      for (const k of [...loaded.keys()]) if (!installed.has(k)) loaded.delete(k);
    },
    setDown,
    setQueueFull(full) {
      queueFull = full;
    },
    setMissingEndpoints(paths) {
      missingEndpoints.clear();
      for (const path of paths) missingEndpoints.add(path);
    },
    setRouteDelay(path, ms) {
      if (ms > 0) routeDelays.set(path, ms);
      else routeDelays.delete(path);
    },
    async waitFor(predicate, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      let lastErr: unknown;
      for (;;) {
        try {
          if (predicate()) return;
        } catch (e) {
          lastErr = e;
        }
        if (Date.now() >= deadline) {
          throw new Error(
            `waitFor: condition not met within ${timeoutMs} ms${lastErr ? ` (last error: ${String(lastErr)})` : ""}`,
          );
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    reset() {
      installAll(initialModels());
      chatScripts.clear();
      chatResolver = undefined;
      defaultScript = opts.chat ?? {};
      queueFull = opts.queueFull ?? false;
      routeDelays.clear();
      missingEndpoints.clear();
      loaded.clear();
      for (const [digest, dl] of downloads) {
        if (dl.subs.size === 0) {
          if (dl.timer) {
            clearInterval(dl.timer);
            intervals.delete(dl.timer);
          }
          downloads.delete(digest);
        }
      }
      blobs.clear();
      requests.length = 0;
      chats.length = 0;
      pulls.length = 0;
      if (down) void setDown(false);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of chats) {
        if (c.status === "running") {
          c.status = "failed";
          c.cancelledAt = Date.now();
        }
      }
      lifetime.abort();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const t of intervals) clearInterval(t);
      intervals.clear();
      downloads.clear();
      destroySockets();
      server.closeAllConnections();
      if (!server.listening) return;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

// Standalone mode. vite-node hides the script path from process.argv, so it is switched on by an
// environment variable: FAKE_OLLAMA_STANDALONE=1 npx vite-node tests/fakes/ollama.ts
if (process.env.FAKE_OLLAMA_STANDALONE === "1" && !process.env.VITEST) {
  void (async () => {
    const fake = await startFakeOllama({
      port: Number(process.env.FAKE_OLLAMA_PORT ?? 11434),
      host: process.env.FAKE_OLLAMA_HOST ?? "127.0.0.1",
    });
    console.log(`fake ollama listening on ${fake.url}`);
    const stop = () => void fake.close().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  })();
}
