import type { Redis } from "ioredis";
import {
  type IRateLimiterOptions,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { RedisUnavailableError, redis, redisConnectionLost } from "./redis.server";

type LimiterOptions = IRateLimiterOptions & {
  keyPrefix: string;
  /** What to throw when Redis cannot be reached (default: RedisUnavailableError). */
  unavailable?: (error: RedisUnavailableError) => unknown;
};

/**
 * A limiter in Redis, shared by every replica, when REDIS_URL is set; in-memory otherwise.
 *
 * Fails closed: while Redis cannot be reached, every call throws (options.unavailable), so callers
 * answer 503. There is no in-process insurance limiter: it would start empty, and a key or an
 * address already at its limit would be admitted again for as long as Redis is away.
 */
export function createLimiter({ unavailable, ...options }: LimiterOptions): RateLimiterAbstract {
  const client = redis();
  if (!client) return new RateLimiterMemory(options);
  return new FailClosedRedisLimiter(client, options, unavailable ?? ((error) => error));
}

class FailClosedRedisLimiter extends RateLimiterRedis {
  constructor(
    private readonly connection: Redis,
    options: IRateLimiterOptions,
    private readonly unavailable: (error: RedisUnavailableError) => unknown,
  ) {
    super({ ...options, storeClient: connection });
  }

  /** A refusal (a RateLimiterRes) passes through; any other failure means Redis could not answer. */
  private async guarded<T>(operation: () => Promise<T>): Promise<T> {
    if (redisConnectionLost(this.connection))
      throw this.unavailable(new RedisUnavailableError("rate limits"));
    try {
      return await operation();
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw rejection;
      throw this.unavailable(new RedisUnavailableError("rate limits", rejection));
    }
  }

  override consume(key: string | number, points?: number, options?: { [key: string]: unknown }) {
    return this.guarded(() => super.consume(key, points, options));
  }
  override penalty(key: string | number, points?: number, options?: { [key: string]: unknown }) {
    return this.guarded(() => super.penalty(key, points, options));
  }
  override reward(key: string | number, points?: number, options?: { [key: string]: unknown }) {
    return this.guarded(() => super.reward(key, points, options));
  }
  override get(key: string | number, options?: { [key: string]: unknown }) {
    return this.guarded(() => super.get(key, options));
  }
  override delete(key: string | number, options?: { [key: string]: unknown }) {
    return this.guarded(() => super.delete(key, options));
  }
  override block(key: string | number, secDuration: number, options?: { [key: string]: unknown }) {
    return this.guarded(() => super.block(key, secDuration, options));
  }
}

export function isRateLimited(value: unknown): value is RateLimiterRes {
  return value instanceof RateLimiterRes;
}

export function retryAfterSeconds(res: RateLimiterRes) {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
