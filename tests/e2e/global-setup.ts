import { startFakeOAuthProvider } from "../fakes/oauth-provider";
import { DEFAULT_MODELS, startFakeOllama, VISION_MODEL } from "../fakes/ollama";
import { REDIS_URL, redisPrefix, startApp } from "../support/app";
import { createTestDatabase } from "../support/database";
import { scriptForMessage, THINKING_MODEL } from "./chat-scripts";
import { e2eGitHubUser } from "./support";

/**
 * One app (production build, real PostgreSQL and Redis), one fake Ollama and one fake OAuth provider
 * (signing everyone in as e2eGitHubUser) for the browser tests.
 */
export default async function globalSetup() {
  const database = await createTestDatabase("e2e");
  // Workers inherit the environment of global setup: tests that need to seed data use this.
  process.env.E2E_DATABASE_URL = database.url;
  const ollama = await startFakeOllama({ models: [...DEFAULT_MODELS, THINKING_MODEL, VISION_MODEL] });
  ollama.setChatResolver(scriptForMessage);
  const oauth = await startFakeOAuthProvider({ identity: e2eGitHubUser });
  const app = await startApp({
    PORT: process.env.E2E_PORT,
    // The provider sends the browser back to APP_URL; the flow's cookies live on the baseURL's host.
    APP_URL: `http://127.0.0.1:${process.env.E2E_PORT}`,
    ...oauth.env,
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(),
    OLLAMA_URL: ollama.url,
  });
  return async () => {
    await app.stop();
    await ollama.close();
    await oauth.close();
    await database.drop();
  };
}
