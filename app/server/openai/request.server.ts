import { env } from "../env.server";
import { invalidRequest, OpenAIError } from "./errors.server";
import type { ApiRequest } from "./exchange.server";

/**
 * Reads a JSON request body for /api/v1: 415 unless it is JSON, 413 when larger than
 * MAX_REQUEST_BYTES (checked on Content-Length and again while reading, for chunked bodies),
 * 400 when it does not parse.
 */
export async function readJsonBody(request: ApiRequest): Promise<unknown> {
  const contentType = request.header("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new OpenAIError(
      415,
      "Send the request body as JSON (Content-Type: application/json).",
      "invalid_request_error",
    );
  }
  const limit = env().MAX_REQUEST_BYTES;
  const tooLarge = () =>
    new OpenAIError(
      413,
      `The request body is larger than ${limit} bytes.`,
      "invalid_request_error",
      "request_too_large",
      null,
      // The rest of the body is not read, so the connection cannot carry another request.
      { connection: "close" },
    );
  if (Number(request.header("content-length") ?? 0) > limit) throw tooLarge();
  const bytes = await withinBodyTimeout(request.readBody(limit));
  if (bytes === "too-large") throw tooLarge();
  if (nestingExceeds(bytes, MAX_JSON_DEPTH)) {
    throw invalidRequest(
      `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; flatten it.`,
    );
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (!text.trim()) throw invalidRequest("The request body is empty; send a JSON object.");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidRequest(
      `The request body is not valid JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
}

/**
 * A body that stops arriving is answered 408 in the envelope after REQUEST_BODY_TIMEOUT_MS, instead
 * of holding the request open until Node's own (bare) request timeout. The read left behind ends
 * with the connection, which the 408 closes.
 */
async function withinBodyTimeout<T>(read: Promise<T>): Promise<T> {
  const timeoutMs = env().REQUEST_BODY_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new OpenAIError(
            408,
            `The request body did not arrive within ${Math.round(timeoutMs / 1000)} s.`,
            "invalid_request_error",
            "request_timeout",
            null,
            { connection: "close" },
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([read, timedOut]);
  } finally {
    clearTimeout(timer);
    read.catch(() => {});
  }
}

/**
 * Deeper than any real request (a tool's JSON schema is a few levels): JSON.parse on megabytes of
 * nested brackets blocks the event loop for seconds, and at a few thousand levels JSON.stringify
 * (forwarding to Ollama) overflows the stack.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether arrays/objects nest deeper than `max`, counted on the raw bytes before any parsing, in one
 * pass that stops at the first excess. Brackets inside strings do not count. Malformed JSON is left
 * for JSON.parse to report.
 */
export function nestingExceeds(bytes: Uint8Array, max: number) {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index];
    if (inString) {
      if (byte === 0x5c)
        index++; // backslash: the next byte is escaped
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

export const methodNotAllowed = (method: string, allowed: string) =>
  new OpenAIError(
    405,
    `Method ${method} is not allowed here; use ${allowed}.`,
    "invalid_request_error",
    "method_not_allowed",
    null,
    {
      Allow: allowed,
    },
  );
