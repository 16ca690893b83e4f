import type { ApiReply } from "./exchange.server";

/**
 * OpenAI's error envelope: `{"error":{"message","type","param","code"}}`, all four keys always
 * present. Everything under /api/v1 answers errors in this shape, so the official SDKs raise
 * the right exception class (they go by the status code) with a readable message.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class OpenAIError extends Error {
  constructor(
    public status: number,
    message: string,
    public type: string,
    public code: string | null = null,
    public param: string | null = null,
    public headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  toReply(): ApiReply {
    return { status: this.status, headers: this.headers, json: this.toJSON() };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new OpenAIError(400, message, "invalid_request_error", code, param);

export const missingApiKey = () =>
  new OpenAIError(
    401,
    "You didn't provide an API key. Provide it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY).",
    "invalid_request_error",
  );

export const invalidApiKey = () =>
  new OpenAIError(
    401,
    "Incorrect API key provided, or the key was revoked or has expired.",
    "invalid_request_error",
    "invalid_api_key",
  );

export const forbidden = (message: string, code: string | null = null) =>
  new OpenAIError(403, message, "permission_error", code);

export const modelNotFound = (model: string) =>
  new OpenAIError(
    404,
    `The model \`${model}\` does not exist or you do not have access to it.`,
    "invalid_request_error",
    "model_not_found",
    "model",
  );

export const rateLimited = (
  message: string,
  headers: Record<string, string>,
  type: "requests" | "tokens" = "requests",
) => new OpenAIError(429, message, type, "rate_limit_exceeded", null, headers);

/**
 * The client went away before it was answered (nginx's 499). Nobody reads this envelope: it is
 * what the usage record says, instead of a 500 or a 502 that would blame us or Ollama.
 */
export const clientClosedRequest = () =>
  new OpenAIError(
    499,
    "The client closed the connection before the request was answered.",
    "invalid_request_error",
    "client_closed_request",
  );

export const serverError = (message = "The server had an error processing your request.") =>
  new OpenAIError(500, message, "server_error");

export const upstreamUnavailable = (message: string) =>
  new OpenAIError(503, message, "server_error", "upstream_unavailable");

/** Redis, which holds the shared rate-limit counters, cannot be reached: refused, and retryable. */
export const rateLimitsUnavailable = () =>
  new OpenAIError(
    503,
    "Rate limits cannot be checked right now, so the request was not run. Try again in a few seconds.",
    "server_error",
    "rate_limits_unavailable",
    null,
    { "retry-after": "5" },
  );

export const upstreamError = (message: string) =>
  new OpenAIError(502, message, "server_error", "upstream_error");

export const upstreamTimeout = (message: string) =>
  new OpenAIError(504, message, "server_error", "upstream_timeout");

/** Runs an /api/v1 handler: any OpenAIError thrown becomes its envelope; anything else a 500 envelope. */
export async function withOpenAIErrors(
  handler: () => Promise<ApiReply>,
  onUnexpected?: (error: unknown) => void,
): Promise<ApiReply> {
  try {
    return await handler();
  } catch (error) {
    if (error instanceof OpenAIError) return error.toReply();
    onUnexpected?.(error);
    return serverError().toReply();
  }
}
