import {
  type IRateLimiterOptions,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { redis } from "./redis.server";

/**
 * A limiter in Redis (shared by every replica) when REDIS_URL is set, with a per-process
 * in-memory insurance limiter that takes over while Redis is unreachable; in-memory otherwise.
 */
export function createLimiter(options: IRateLimiterOptions & { keyPrefix: string }): RateLimiterAbstract {
  const client = redis();
  if (!client) return new RateLimiterMemory(options);
  return new RateLimiterRedis({
    ...options,
    storeClient: client,
    // Answer from the insurance limiter at once while the connection is down, instead of waiting
    // for a command to time out.
    rejectIfRedisNotReady: true,
    // Commands fail fast while Redis is away (see redis.server.ts), so the insurance limiter answers.
    insuranceLimiter: new RateLimiterMemory(options),
  });
}

export function isRateLimited(value: unknown): value is RateLimiterRes {
  return value instanceof RateLimiterRes;
}

export function retryAfterSeconds(res: RateLimiterRes) {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
