import { startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, redisPrefix, startApp } from "../support/app";
import { createTestDatabase } from "../support/database";

/** One app (production build, real PostgreSQL and Redis) and one fake Ollama for the browser tests. */
export default async function globalSetup() {
  const database = await createTestDatabase("e2e");
  const ollama = await startFakeOllama();
  const app = await startApp({
    PORT: process.env.E2E_PORT,
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(),
    OLLAMA_URL: ollama.url,
  });
  // Workers inherit the environment: tests that need rows the UI cannot create yet insert them.
  process.env.E2E_DATABASE_URL = database.url;
  return async () => {
    await app.stop();
    await ollama.close();
    await database.drop();
  };
}
