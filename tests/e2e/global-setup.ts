import { startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, redisPrefix, startApp } from "../support/app";
import { createTestDatabase } from "../support/database";
import { scriptForMessage } from "./chat-scripts";

/** One app (production build, real PostgreSQL and Redis) and one fake Ollama for the browser tests. */
export default async function globalSetup() {
  const database = await createTestDatabase("e2e");
  const ollama = await startFakeOllama();
  ollama.setChatResolver(scriptForMessage);
  const app = await startApp({
    PORT: process.env.E2E_PORT,
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(),
    OLLAMA_URL: ollama.url,
  });
  return async () => {
    await app.stop();
    await ollama.close();
    await database.drop();
  };
}
