import { createOpenAI } from "@ai-sdk/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/**
 * The Vercel AI SDK's default OpenAI provider, `createOpenAI({ baseURL })(model)`, with its default
 * settings: it speaks the Responses API, which is what a developer pointing it at us first tries.
 */
describe("Vercel AI SDK, default provider (Responses API)", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let provider: ReturnType<typeof createOpenAI>;

  beforeAll(async () => {
    database = await createTestDatabase("aisdk");
    ollama = await startFakeOllama({
      models: [{ name: "llama3.2:latest", capabilities: ["completion", "tools"] }],
    });
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
    });
    const browser = new Browser(app.url);
    await browser.signup("ai-sdk@example.com");
    const { token } = await browser.createApiKey();
    provider = createOpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token });
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  test("generateText, with Ollama's token counts", async () => {
    ollama.setChat({ reply: "Hello from the gateway", promptEvalCount: 12, evalCount: 4 });
    const result = await generateText({ model: provider("llama3.2"), prompt: "Say hello" });
    expect(result.text).toBe("Hello from the gateway");
    expect(result.usage).toMatchObject({ inputTokens: 12, outputTokens: 4 });
    // It really went through /v1/responses, the provider's default.
    await expect
      .poll(async () =>
        (await database.query<{ endpoint: string }>("SELECT endpoint FROM usage_events")).map(
          (row) => row.endpoint,
        ),
      )
      .toContain("/v1/responses");
  });

  test("streamText, with usage at the end", async () => {
    ollama.setChat({ reply: "one two three", promptEvalCount: 5, evalCount: 3 });
    const result = streamText({ model: provider("llama3.2"), prompt: "Count" });
    let text = "";
    for await (const part of result.textStream) text += part;
    expect(text).toBe("one two three");
    expect(await result.usage).toMatchObject({ inputTokens: 5, outputTokens: 3 });
  });

  test("tools: the model calls one, the SDK runs it and sends the result back", async () => {
    ollama.setChatResolver((request) => {
      const last = request.messages.at(-1);
      return last?.role === "tool"
        ? { reply: `It is ${JSON.parse(last.content).temperature} degrees.` }
        : { toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }] };
    });
    try {
      const result = await generateText({
        model: provider("llama3.2"),
        prompt: "Weather in Oslo?",
        tools: {
          weather: tool({
            description: "Current temperature",
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => ({ city, temperature: 7 }),
          }),
        },
        stopWhen: stepCountIs(3),
      });
      expect(result.text).toBe("It is 7 degrees.");
      expect(result.steps[0].toolCalls[0]).toMatchObject({ toolName: "weather", input: { city: "Oslo" } });
    } finally {
      ollama.setChatResolver(undefined);
    }
  });
});
