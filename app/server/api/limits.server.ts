import type { RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import { env } from "../env.server";
import { log } from "../log.server";
import { rateLimited, rateLimitsUnavailable } from "../openai/errors.server";
import { createLimiter, isRateLimited } from "../rate-limit.server";
import type { ApiPrincipal } from "./keys.server";

/**
 * API rate limits (rate-limiter-flexible, in Redis shared by every replica; while Redis cannot be
 * reached every call is refused with a retryable 503, never admitted uncounted):
 * - requests: per key (RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW, or the key's admin override) and
 *   per user across all their keys (the user's admin override, else the larger of the default and
 *   the key's override), so making more keys does not multiply a user's allowance. Fixed windows, rounded up to whole seconds.
 * - tokens: per key per minute when a limit applies. Charged with Ollama's actual counts after the
 *   call (chargeTokens); a request is refused while the minute's tokens are already used up, so one
 *   call may overshoot by its own size, never more.
 */
export type RateLimitHeaders = Record<string, string>;

const limiters = new Map<string, RateLimiterAbstract>();
function limiter(kind: "key" | "user" | "tokens", points: number, seconds: number) {
  const name = `${kind}:${points}:${seconds}`;
  let found = limiters.get(name);
  if (!found) {
    // The prefix does not include the points, so an admin changing a key's limit keeps its count.
    found = createLimiter({
      keyPrefix: `api-${kind}`,
      points,
      duration: seconds,
      unavailable: () => rateLimitsUnavailable(),
    });
    limiters.set(name, found);
  }
  return found;
}

/** Go-style durations, as OpenAI sends them: `120ms`, `1s`, `6m0s`, `1h2m3s`. */
export function goDuration(ms: number) {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  const seconds = Math.ceil(total / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

async function consume(target: RateLimiterAbstract, key: string, points = 1) {
  try {
    return { res: await target.consume(key, points), allowed: true };
  } catch (rejection) {
    if (isRateLimited(rejection)) return { res: rejection, allowed: false };
    throw rejection;
  }
}

function requestHeaders(points: number, res: RateLimiterRes): RateLimitHeaders {
  return {
    "x-ratelimit-limit-requests": String(points),
    "x-ratelimit-remaining-requests": String(Math.max(0, points - res.consumedPoints)),
    "x-ratelimit-reset-requests": goDuration(res.msBeforeNext),
  };
}

function retryAfter(ms: number) {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * Counts one request for the principal. Returns the rate-limit headers every response carries;
 * over a limit, throws the 429 envelope (code rate_limit_exceeded) with those headers and Retry-After.
 */
export async function consumeRequest(principal: ApiPrincipal): Promise<RateLimitHeaders> {
  const { requests, windowMs, tokensPerMinute } = principal.limits;
  const seconds = Math.ceil(windowMs / 1000);
  const tokenLimiter = tokensPerMinute ? limiter("tokens", tokensPerMinute, 60) : null;
  const tokensState = tokenLimiter ? tokenLimiter.get(principal.keyId) : Promise.resolve(null);
  // Awaited below; if a request limit throws first, its failure must not surface as unhandled.
  tokensState.catch(() => {});

  // Both counters in parallel: one Redis round trip on every call instead of two in a row. When the
  // key itself is over its limit, the user's point is given back before answering, so a key
  // hammering past its own limit does not use up its user's other keys. The cost: while such a
  // refused call is in flight (one round trip) its point still counts for the user, so under a
  // flood from a key with a lower override, a sibling key can meet the user limit a little early;
  // and a point given back just after the window rolled over lends the new window one request.
  const userPoints = principal.limits.userRequests ?? Math.max(env().RATE_LIMIT_REQUESTS, requests);
  const userLimiter = limiter("user", userPoints, seconds);
  const [byKey, byUser] = await Promise.all([
    consume(limiter("key", requests, seconds), principal.keyId),
    consume(userLimiter, principal.userId),
  ]);
  let headers = requestHeaders(requests, byKey.res);
  let allowed = byKey.allowed;
  let waitMs = byKey.allowed ? 0 : byKey.res.msBeforeNext;
  if (!byKey.allowed) {
    await userLimiter
      .reward(principal.userId, 1)
      .catch((error) => log.warn("could not give back a user rate-limit point", { error: String(error) }));
  } else if (allowed) {
    // The headers describe whichever limit is closer.
    if (userPoints - byUser.res.consumedPoints < requests - byKey.res.consumedPoints) {
      headers = requestHeaders(userPoints, byUser.res);
    }
    if (!byUser.allowed) {
      allowed = false;
      waitMs = byUser.res.msBeforeNext;
    }
  }

  const tokens = await tokensState;
  if (tokensPerMinute) {
    const used = tokens?.consumedPoints ?? 0;
    const resetMs = tokens?.msBeforeNext ?? 0;
    headers["x-ratelimit-limit-tokens"] = String(tokensPerMinute);
    headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, tokensPerMinute - used));
    headers["x-ratelimit-reset-tokens"] = goDuration(resetMs);
    if (allowed && used >= tokensPerMinute) {
      throw rateLimited(
        `Rate limit reached on tokens per minute: limit ${tokensPerMinute}, used ${used}. Please try again in ${goDuration(resetMs)}.`,
        { ...headers, "retry-after": retryAfter(resetMs) },
        "tokens",
      );
    }
  }
  if (!allowed) {
    throw rateLimited(
      `Rate limit reached on requests: limit ${headers["x-ratelimit-limit-requests"]} per ${goDuration(windowMs)}. Please try again in ${goDuration(waitMs)}.`,
      { ...headers, "retry-after": retryAfter(waitMs) },
      "requests",
    );
  }
  return headers;
}

/**
 * Charges the tokens a call actually used (Ollama's prompt_eval_count + eval_count) to the key's
 * per-minute token budget. Fire and forget: it never delays the response.
 */
export function chargeTokens(principal: ApiPrincipal, tokens: number) {
  const { tokensPerMinute } = principal.limits;
  if (!tokensPerMinute || tokens <= 0) return;
  limiter("tokens", tokensPerMinute, 60)
    .penalty(principal.keyId, Math.round(tokens))
    .catch((error) => log.warn("could not charge api tokens", { error: String(error) }));
}
