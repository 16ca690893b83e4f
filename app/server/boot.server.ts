import { stopUsage } from "./api/usage.server";
import { abortAllGenerations } from "./chat/generation.server";
import { closeLiveStore } from "./chat/live.server";
import { closeDatabase, initDatabase } from "./db.server";
import { loadEnv } from "./env.server";
import { log } from "./log.server";
import { abortAllPulls } from "./models/pulls.server";
import { listenForModelChanges } from "./models/settings.server";
import { enabledOAuthProviders, oauthConfigProblems } from "./oauth.server";
import { closeOllamaConnections, ollamaDisplayUrl } from "./ollama/transport.server";
import { closePubSub } from "./pubsub.server";
import { closeRedis, redis } from "./redis.server";
import { loadCookieSecrets, stopSecretRefresh } from "./secrets.server";

let booting: Promise<void> | undefined;

/**
 * Everything that must happen before the first request: parse the environment, open the
 * database and apply pending migrations, connect Redis, load the shared secrets. Memoised, so the
 * root middleware can call it cheaply in `react-router dev`, where server.ts is not used.
 */
export function boot(): Promise<void> {
  booting ??= (async () => {
    const config = loadEnv();
    await initDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
    redis();
    await loadCookieSecrets();
    // Another replica's model change (a pull, a delete, a setting) must reach this one's caches.
    await listenForModelChanges();
    log.info("ready", {
      database: config.DATABASE_URL ? "postgresql" : "embedded (PGlite)",
      redis: config.REDIS_URL ? "enabled" : "disabled (in-process stores)",
      ollama: ollamaDisplayUrl(),
      oauth: enabledOAuthProviders().map((provider) => provider.id),
    });
    for (const problem of oauthConfigProblems()) log.warn(problem);
  })();
  return booting;
}

export async function shutdown() {
  stopSecretRefresh();
  // Replies still being written are saved (as failed, with their partial text) before the
  // database closes.
  await abortAllGenerations().catch(() => {});
  // Pulls this replica runs are recorded as interrupted while Redis and the database are still up.
  await abortAllPulls().catch(() => {});
  await closeLiveStore();
  closePubSub();
  // Buffered API usage is written before the database closes.
  await stopUsage();
  await Promise.allSettled([closeRedis(), closeDatabase(), closeOllamaConnections()]);
}
