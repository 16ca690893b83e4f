import { HumanMessage, type ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/**
 * LangChain's `ChatOpenAI` with `useResponsesApi: true`: the setting LangChain's own docs point
 * people to for OpenAI's newer models, so a LangChain app moved onto the gateway arrives with it on.
 * Every call here must go through /v1/responses, not fall back to chat completions.
 */
describe("LangChain ChatOpenAI over the Responses API", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let token: string;
  const model = (options: Partial<ConstructorParameters<typeof ChatOpenAI>[0]> = {}) =>
    new ChatOpenAI({
      model: "llama3.2",
      apiKey: token,
      useResponsesApi: true,
      maxRetries: 0,
      configuration: { baseURL: `${app.url}/api/v1` },
      ...options,
    });
  const lastChat = () => ollama.chats.at(-1)!.body as Record<string, unknown>;
  const endpoints = async () =>
    (await database.query<{ endpoint: string }>("SELECT endpoint FROM usage_events")).map(
      (row) => row.endpoint,
    );

  beforeAll(async () => {
    database = await createTestDatabase("langchain");
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
    await browser.signup("langchain@example.com");
    ({ token } = await browser.createApiKey());
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  test("invoke: the text and Ollama's own token counts", async () => {
    ollama.setChat({ reply: "Hello from LangChain's side", promptEvalCount: 21, evalCount: 6 });
    const message = await model().invoke([new HumanMessage("Say hello")]);
    expect(message.text).toBe("Hello from LangChain's side");
    expect(message.usage_metadata).toMatchObject({ input_tokens: 21, output_tokens: 6, total_tokens: 27 });
    // The Responses API's id comes back as the message's id (resp_…), as LangChain documents.
    expect(message.id).toMatch(/^resp_/);
    expect(lastChat().messages).toEqual([{ role: "user", content: "Say hello" }]);
    // Usage rows are written after the reply is sent: a loaded machine may take longer than a second.
    await expect.poll(endpoints, { timeout: 10_000 }).toEqual(["/v1/responses"]);
  });

  test("stream: the chunks add up to the reply, with usage at the end", async () => {
    ollama.setChat({ reply: "one two three four", promptEvalCount: 8, evalCount: 4 });
    let text = "";
    let usage: unknown;
    for await (const chunk of await model().stream("Count to four")) {
      text += chunk.text;
      if (chunk.usage_metadata) usage = chunk.usage_metadata;
    }
    expect(text).toBe("one two three four");
    expect(usage).toMatchObject({ input_tokens: 8, output_tokens: 4 });
    expect(lastChat().stream).toBe(true);
    expect(new Set(await endpoints())).toEqual(new Set(["/v1/responses"]));
  });

  test("bindTools: the model calls a tool, the tool's result goes back, the model answers", async () => {
    const weather = tool(async ({ city }) => JSON.stringify({ city, celsius: 19 }), {
      name: "get_weather",
      description: "Current weather in a city",
      schema: z.object({ city: z.string() }),
    });
    const withTools = model().bindTools([weather]);

    ollama.setChat({ toolCalls: [{ name: "get_weather", arguments: { city: "Lisbon" } }] });
    const first = await withTools.invoke([new HumanMessage("Weather in Lisbon?")]);
    expect(first.tool_calls).toHaveLength(1);
    expect(first.tool_calls?.[0]).toMatchObject({ name: "get_weather", args: { city: "Lisbon" } });
    expect(lastChat().tools).toEqual([
      expect.objectContaining({
        type: "function",
        function: expect.objectContaining({ name: "get_weather" }),
      }),
    ]);

    ollama.setChat({ reply: "It is 19 °C in Lisbon." });
    const result = (await weather.invoke(first.tool_calls![0])) as ToolMessage;
    const second = await withTools.invoke([new HumanMessage("Weather in Lisbon?"), first, result]);
    expect(second.text).toBe("It is 19 °C in Lisbon.");
    // Ollama saw the whole round trip: the call and the tool's answer.
    const sent = lastChat().messages as Array<Record<string, unknown>>;
    expect(sent.at(-2)).toMatchObject({
      role: "assistant",
      tool_calls: [{ function: { name: "get_weather", arguments: { city: "Lisbon" } } }],
    });
    expect(sent.at(-1)).toMatchObject({ role: "tool", content: '{"city":"Lisbon","celsius":19}' });
  });

  test("withStructuredOutput: a zod schema becomes Ollama's format and the answer is parsed", async () => {
    const Weather = z.object({ city: z.string(), celsius: z.number() });
    ollama.setChat({ reply: '{"city":"Oslo","celsius":-3}' });
    const structured = model().withStructuredOutput(Weather, { name: "weather", method: "jsonSchema" });
    expect(await structured.invoke("Weather in Oslo as JSON")).toEqual({ city: "Oslo", celsius: -3 });
    expect(lastChat().format).toMatchObject({
      type: "object",
      properties: { city: { type: "string" }, celsius: { type: "number" } },
    });
  });

  test("errors reach LangChain as the SDK's typed errors: a bad key, an unknown model", async () => {
    await expect(model({ apiKey: "sk-not-a-real-key" }).invoke("hi")).rejects.toMatchObject({
      status: 401,
    });
    await expect(model({ model: "no-such-model" }).invoke("hi")).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
  });
});
