import { Redis } from "ioredis";
import { env } from "./env.server";
import { errorFields, log } from "./log.server";

let client: Redis | undefined;

/** The shared Redis connection, or undefined when REDIS_URL is not set (in-process stores are used). */
export function redis(): Redis | undefined {
  const { REDIS_URL, REDIS_KEY_PREFIX } = env();
  if (!REDIS_URL) return undefined;
  if (!client) {
    client = new Redis(REDIS_URL, {
      keyPrefix: REDIS_KEY_PREFIX,
      // Fail commands quickly while Redis is away instead of queueing them for ever;
      // callers fall back (rate limits) or report (health).
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    let healthy = true;
    client.on("error", (error) => {
      if (healthy) log.warn("redis unavailable", errorFields(error));
      healthy = false;
    });
    client.on("ready", () => {
      if (!healthy) log.info("redis connection restored");
      healthy = true;
    });
  }
  return client;
}

export async function checkRedis(timeoutMs = 1000): Promise<"ok" | "disabled"> {
  const connection = redis();
  if (!connection) return "disabled";
  if (connection.status !== "ready") throw new Error(`redis is ${connection.status}`);
  await Promise.race([
    connection.ping(),
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
