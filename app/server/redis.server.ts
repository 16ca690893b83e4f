import { Redis } from "ioredis";
import { env } from "./env.server";
import { errorFields, log } from "./log.server";

let client: Redis | undefined;

/**
 * How long one Redis command may take. Sessions and rate limits are on every request's path: with
 * Redis hung, a request is refused (503) after this long instead of waiting for the TCP stack.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/** The shared Redis connection, or undefined when REDIS_URL is not set (in-process stores are used). */
export function redis(): Redis | undefined {
  const { REDIS_URL, REDIS_KEY_PREFIX } = env();
  if (!REDIS_URL) return undefined;
  if (!client) {
    client = new Redis(REDIS_URL, {
      keyPrefix: REDIS_KEY_PREFIX,
      // Commands fail quickly while Redis is away instead of queueing for ever: one retry, a
      // per-command timeout, and (see redisConnectionLost) none at all once the connection is lost.
      maxRetriesPerRequest: 1,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      enableOfflineQueue: true,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    let healthy = true;
    const connection = client;
    client.on("error", (error) => {
      if (healthy) log.warn("redis unavailable", errorFields(error));
      healthy = false;
    });
    // A lost connection is an outage from that moment, before any reconnect attempt fails.
    client.on("close", () => {
      if (healthy && client === connection) log.warn("redis unavailable", { error: "connection closed" });
      healthy = false;
    });
    client.on("ready", () => {
      if (!healthy) log.info("redis connection restored");
      healthy = true;
    });
  }
  return client;
}

/**
 * True once the connection has been lost (or could not be made) and not yet restored. Callers then
 * refuse at once rather than queue a command that would only time out. A connection still being
 * opened at start-up is not "lost": its commands wait in the offline queue.
 */
export function redisConnectionLost(connection: Redis) {
  return connection.status === "reconnecting" || connection.status === "close" || connection.status === "end";
}

/** Thrown by code that needs Redis while it cannot be reached; each caller turns it into its own 503. */
export class RedisUnavailableError extends Error {
  constructor(what: string, cause?: unknown) {
    super(`${what}: Redis is unreachable`, { cause });
    this.name = "RedisUnavailableError";
  }
}

/** Runs one Redis operation, turning "cannot reach Redis" (lost connection, timeout) into RedisUnavailableError. */
export async function withRedis<T>(connection: Redis, what: string, operation: () => Promise<T>): Promise<T> {
  if (redisConnectionLost(connection)) throw new RedisUnavailableError(what);
  try {
    return await operation();
  } catch (error) {
    throw new RedisUnavailableError(what, error);
  }
}

export async function checkRedis(timeoutMs = 1000): Promise<"ok" | "disabled"> {
  const connection = redis();
  if (!connection) return "disabled";
  if (connection.status !== "ready") throw new Error(`redis is ${connection.status}`);
  await Promise.race([
    // ioredis's own errors (e.g. "Reached the max retries per request limit") do not say what failed.
    connection.ping().catch((error: Error) => {
      throw new Error(`redis ping failed: ${error.message}`);
    }),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error("redis ping timed out")), timeoutMs).unref(),
    ),
  ]);
  return "ok";
}

export async function closeRedis() {
  const connection = client;
  client = undefined;
  if (connection) await connection.quit().catch(() => connection.disconnect());
}
