import { env } from "../env.server";
import type { ApiReply, ApiRequest } from "./exchange.server";

/**
 * CORS for /api/v1. The API authenticates with bearer keys and never reads cookies, so any origin
 * may call it by default (CORS_ORIGINS=*): a browser app can only use a key it was given. Credentials
 * mode is never allowed, so cookies never ride along. Pages and cookie routes stay same-origin (they
 * get no CORS headers at all).
 */

const ALLOWED_METHODS = "GET, HEAD, POST, DELETE, OPTIONS";
/** What the official SDKs send: auth, JSON, OpenAI's own headers and Stainless' telemetry headers. */
const ALLOWED_REQUEST_HEADER =
  /^(?:authorization|content-type|accept|openai-[\w-]+|x-stainless-[\w-]+|x-request-id|idempotency-key)$/i;
const EXPOSED_HEADERS = [
  "x-request-id",
  "retry-after",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
].join(", ");
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** The Access-Control-Allow-Origin value for this origin, or null when it may not call. */
function allowedOrigin(origin: string | null): string | null {
  if (!origin) return null;
  const allowed = env().CORS_ORIGINS;
  if (allowed === "*") return "*";
  return allowed.includes(origin) ? origin : null;
}

function varyOnOrigin(): Record<string, string> {
  return env().CORS_ORIGINS === "*" ? {} : { vary: "Origin" };
}

/** A preflight (OPTIONS with Access-Control-Request-Method), answered before any key is checked. */
export function isPreflight(request: ApiRequest) {
  return request.method === "OPTIONS" && request.header("access-control-request-method") !== null;
}

export function preflightReply(request: ApiRequest): ApiReply {
  const origin = allowedOrigin(request.header("origin"));
  if (!origin) return { status: 204, headers: varyOnOrigin(), json: undefined };
  const requested = (request.header("access-control-request-headers") ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name && ALLOWED_REQUEST_HEADER.test(name));
  return {
    status: 204,
    headers: {
      ...varyOnOrigin(),
      "access-control-allow-origin": origin,
      "access-control-allow-methods": ALLOWED_METHODS,
      ...(requested.length ? { "access-control-allow-headers": requested.join(", ") } : {}),
      "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
    },
    json: undefined,
  };
}

/** Adds the CORS headers to an actual response for an allowed origin. */
export function withCors(request: ApiRequest, reply: ApiReply): ApiReply {
  const origin = allowedOrigin(request.header("origin"));
  const headers: Record<string, string> = { ...reply.headers, ...varyOnOrigin() };
  if (origin) {
    headers["access-control-allow-origin"] = origin;
    headers["access-control-expose-headers"] = EXPOSED_HEADERS;
  }
  return { ...reply, headers };
}
