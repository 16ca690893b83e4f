import OpenAI from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/** The Responses API with the official `openai` client, through both ways into the handlers. */

const MODELS = [
  { name: "llama3.2:latest", capabilities: ["completion", "tools"] },
  { name: "qwen3:latest", capabilities: ["completion", "thinking", "tools"] },
  { name: "secret:latest", capabilities: ["completion"] },
];

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};

type Event = { type: string; sequence_number: number } & Record<string, unknown>;

describe.each([
  { way: "node:http fast path", API_FAST_PATH: "true" },
  { way: "React Router resource route", API_FAST_PATH: "false" },
])("Responses API with the official client, $way", ({ API_FAST_PATH }) => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let browser: Browser;
  let client: OpenAI;

  const lastChat = () => ollama.chats.at(-1)!.body;

  beforeAll(async () => {
    database = await createTestDatabase("responses");
    ollama = await startFakeOllama({ models: MODELS });
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      API_FAST_PATH,
      // Rate limits have their own tests; these send more than the default 100 a minute per key.
      RATE_LIMIT_REQUESTS: "100000",
    });
    browser = new Browser(app.url);
    await browser.signup("responses@example.com");
    const { token } = await browser.createApiKey({ name: "main" });
    client = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token, maxRetries: 0 });
  });

  afterEach(() => ollama.reset());

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  test("a plain response: output message, output_text, Ollama's exact counts, options mapped", async () => {
    ollama.setChat({ reply: "Hello from the fake.", promptEvalCount: 17, evalCount: 4 });
    const { data: response, response: http } = await client.responses
      .create({
        model: "llama3.2",
        instructions: "Be brief.",
        input: "Hi",
        temperature: 0.2,
        top_p: 0.9,
        max_output_tokens: 50,
        metadata: { ticket: "42" },
      })
      .withResponse();
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response).toMatchObject({
      object: "response",
      status: "completed",
      model: "llama3.2",
      instructions: "Be brief.",
      temperature: 0.2,
      top_p: 0.9,
      max_output_tokens: 50,
      previous_response_id: null,
      store: true,
      error: null,
      incomplete_details: null,
      metadata: { ticket: "42" },
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [],
    });
    expect(response.output_text).toBe("Hello from the fake.");
    expect(response.output).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Hello from the fake.", annotations: [], logprobs: [] }],
      },
    ]);
    expect(response.usage).toEqual({
      input_tokens: 17,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 21,
    });
    expect(typeof response.created_at).toBe("number");
    expect(http.headers.get("x-request-id")).toMatch(/^req_/);
    expect(http.headers.get("x-ratelimit-remaining-requests")).toMatch(/^\d+$/);
    expect(lastChat()).toMatchObject({
      model: "llama3.2",
      stream: false,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      options: { temperature: 0.2, top_p: 0.9, num_predict: 50 },
    });
    const again = await client.responses.create({ model: "llama3.2", input: "Hi" });
    expect(again.id).not.toBe(response.id);
  });

  test("streaming: the documented event sequence with sequence numbers, and stream()'s finalResponse()", async () => {
    ollama.setChat({ reply: "one two three", promptEvalCount: 9, evalCount: 3 });
    const stream = await client.responses.create({ model: "llama3.2", input: "count", stream: true });
    const events: Event[] = [];
    for await (const event of stream) events.push(event as unknown as Event);
    expect(lastChat().stream).toBe(true);
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(events.filter((event) => event.type === "response.output_text.delta").map((e) => e.delta)).toEqual(
      ["one", " two", " three"],
    );
    const created = events[0].response as OpenAI.Responses.Response;
    expect(created).toMatchObject({ status: "in_progress", output: [], usage: null });
    const completed = events.at(-1)!.response as OpenAI.Responses.Response;
    expect(completed.id).toBe(created.id);
    expect(completed).toMatchObject({
      status: "completed",
      output_text: "one two three",
      usage: { input_tokens: 9, output_tokens: 3, total_tokens: 12 },
    });
    expect(events[7]).toMatchObject({ text: "one two three", output_index: 0, content_index: 0 });

    ollama.setChat({ reply: "final answer here", promptEvalCount: 5, evalCount: 3 });
    const runner = client.responses.stream({ model: "llama3.2", input: "go" });
    const deltas: string[] = [];
    runner.on("response.output_text.delta", (event) => deltas.push(event.delta));
    const final = await runner.finalResponse();
    expect(deltas.join("")).toBe("final answer here");
    expect(final.output_text).toBe("final answer here");
    expect(final.status).toBe("completed");
    expect(final.usage).toMatchObject({ input_tokens: 5, output_tokens: 3, total_tokens: 8 });
    // Streamed responses are stored too.
    expect((await client.responses.retrieve(final.id)).output_text).toBe("final answer here");
  });

  test("function calling round trip: a function_call item, then its output with previous_response_id", async () => {
    ollama.setChat({ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] });
    const first = await client.responses.create({
      model: "llama3.2",
      input: "Weather in Paris?",
      tools: [weatherTool],
    });
    expect(lastChat().tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather in a city",
          parameters: weatherTool.parameters,
        },
      },
    ]);
    expect(first.output).toHaveLength(1);
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({
      type: "function_call",
      id: expect.stringMatching(/^fc_/),
      call_id: expect.any(String),
      name: "get_weather",
      status: "completed",
    });
    expect(JSON.parse(call.arguments)).toEqual({ city: "Paris" });
    expect(first.output_text).toBe("");
    expect(first.tools).toMatchObject([{ type: "function", name: "get_weather", strict: true }]);

    ollama.setChat({ reply: "It is 21 °C in Paris." });
    const second = await client.responses.create({
      model: "llama3.2",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: '{"celsius": 21}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe("It is 21 °C in Paris.");
    expect(second.previous_response_id).toBe(first.id);
    expect(lastChat().messages).toEqual([
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          { id: call.call_id, function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } },
        ],
      },
      { role: "tool", content: '{"celsius": 21}', tool_call_id: call.call_id, tool_name: "get_weather" },
    ]);

    // Streamed: the call arrives as added → arguments delta → arguments done → done.
    ollama.setChat({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] });
    const stream = await client.responses.create({
      model: "llama3.2",
      input: "Weather in Oslo?",
      tools: [weatherTool],
      stream: true,
    });
    const events: Event[] = [];
    for await (const event of stream) events.push(event as unknown as Event);
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(JSON.parse(events[4].arguments as string)).toEqual({ city: "Oslo" });
  });

  test("tool_choice: none and auto are honoured; required, a named function and hosted tools are refused", async () => {
    await client.responses.create({
      model: "llama3.2",
      input: "x",
      tools: [weatherTool],
      tool_choice: "none",
    });
    expect(lastChat().tools).toBeUndefined();
    const before = ollama.chats.length;
    for (const tool_choice of ["required", { type: "function", name: "get_weather" }] as const) {
      await expect(
        client.responses.create({ model: "llama3.2", input: "x", tools: [weatherTool], tool_choice }),
      ).rejects.toMatchObject({
        status: 400,
        param: "tool_choice",
        message: expect.stringContaining("cannot force"),
      });
    }
    await expect(
      client.responses.create({ model: "llama3.2", input: "x", tools: [{ type: "web_search" }] }),
    ).rejects.toMatchObject({ status: 400, param: "tools[0].type" });
    await expect(
      client.responses.create({ model: "llama3.2", input: "x", background: true }),
    ).rejects.toMatchObject({ status: 400, param: "background" });
    await expect(
      client.responses.create({
        model: "llama3.2",
        input: [
          {
            role: "user",
            content: [{ type: "input_image", image_url: "https://example.com/a.png", detail: "auto" }],
          },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, param: "input[0].content[0].image_url" });
    await expect(client.responses.create({ model: "nope", input: "x" })).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    expect(ollama.chats.length).toBe(before);
  });

  test("input items: messages of every role with text and data: images, and assistant turns", async () => {
    const png = "iVBORw0KGgo=";
    await client.responses.create({
      model: "llama3.2",
      input: [
        { role: "developer", content: "Answer in French." },
        { role: "user", content: "Hello" },
        { role: "assistant", content: "Bonjour" },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "What is this?" },
            { type: "input_image", image_url: `data:image/png;base64,${png}`, detail: "auto" },
          ],
        },
      ],
    });
    expect(lastChat().messages).toEqual([
      { role: "system", content: "Answer in French." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: "Bonjour" },
      { role: "user", content: "What is this?", images: [png] },
    ]);
  });

  test("structured output: text.format json_schema (zodTextFormat) becomes Ollama's format and parses", async () => {
    const Weather = z.object({ city: z.string(), celsius: z.number() });
    ollama.setChat({ reply: '{"city": "Paris", "celsius": 21}' });
    const parsed = await client.responses.parse({
      model: "llama3.2",
      input: "Weather in Paris as JSON",
      text: { format: zodTextFormat(Weather, "weather") },
    });
    expect(parsed.output_parsed).toEqual({ city: "Paris", celsius: 21 });
    expect(lastChat().format).toMatchObject({
      type: "object",
      properties: { city: { type: "string" }, celsius: { type: "number" } },
      required: ["city", "celsius"],
    });
    expect(parsed.text?.format).toMatchObject({ type: "json_schema", name: "weather", strict: true });
    await client.responses.create({
      model: "llama3.2",
      input: "x",
      text: { format: { type: "json_object" } },
    });
    expect(lastChat().format).toBe("json");
  });

  test("reasoning: reasoning.effort becomes think; the thinking comes back as a reasoning item and goes back to Ollama", async () => {
    ollama.setChat({ thinking: ["Let me ", "think."], reply: "42" });
    const answer = await client.responses.create({
      model: "qwen3",
      input: "meaning of life?",
      reasoning: { effort: "high" },
    });
    expect(lastChat().think).toBe("high");
    expect(answer.reasoning).toMatchObject({ effort: "high" });
    expect(answer.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    expect(answer.output[0]).toMatchObject({
      type: "reasoning",
      id: expect.stringMatching(/^rs_/),
      summary: [],
      content: [{ type: "reasoning_text", text: "Let me think." }],
    });
    expect(answer.output_text).toBe("42");

    ollama.setChat({ thinking: ["Still ", "sure."], reply: "Yes" });
    const stream = await client.responses.create({
      model: "qwen3",
      input: "sure?",
      previous_response_id: answer.id,
      reasoning: { effort: "minimal" },
      stream: true,
    });
    const events: Event[] = [];
    for await (const event of stream) events.push(event as unknown as Event);
    expect(lastChat().think).toBe("low");
    // The earlier turn's reasoning goes back as the assistant message's thinking.
    expect(lastChat().messages).toEqual([
      { role: "user", content: "meaning of life?" },
      { role: "assistant", content: "42", thinking: "Let me think." },
      { role: "user", content: "sure?" },
    ]);
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.reasoning_text.delta",
      "response.reasoning_text.delta",
      "response.reasoning_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.at(-1)!.response).toMatchObject({
      output: [{ type: "reasoning", content: [{ text: "Still sure." }] }, { type: "message" }],
      output_text: "Yes",
    });

    // Statelessly, the earlier output items sent back as input reach Ollama the same way.
    await client.responses.create({
      model: "qwen3",
      input: [
        { role: "user", content: "meaning of life?" },
        ...(answer.output as OpenAI.Responses.ResponseInputItem[]),
        { role: "user", content: "sure?" },
      ],
      store: false,
    });
    expect(lastChat().messages).toEqual([
      { role: "user", content: "meaning of life?" },
      { role: "assistant", content: "42", thinking: "Let me think." },
      { role: "user", content: "sure?" },
    ]);

    await client.responses.create({ model: "qwen3", input: "quick", reasoning: { effort: "none" } });
    expect(lastChat().think).toBe(false);
    await expect(
      client.responses.create({ model: "llama3.2", input: "x", reasoning: { effort: "low" } }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining("does not support thinking") });
  });

  test("stored responses: retrieve, input_items (cursor list), delete", async () => {
    ollama.setChat({ reply: "stored" });
    const created = await client.responses.create({
      model: "llama3.2",
      input: [
        { role: "user", content: "one" },
        { role: "assistant", content: "two" },
        { role: "user", content: "three" },
      ],
    });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved).toEqual(created);

    const items = [];
    for await (const item of client.responses.inputItems.list(created.id, { limit: 1 })) items.push(item);
    // Newest first by default, as OpenAI lists them.
    expect(items.map((item) => item.type === "message" && item.role)).toEqual(["user", "assistant", "user"]);
    expect(items[0]).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "three" }],
    });
    const page = await client.responses.inputItems.list(created.id, { order: "asc", limit: 2 });
    expect(page.data.map((item) => item.id)).toEqual([items[2].id, items[1].id]);
    expect(page.has_more).toBe(true);

    await client.responses.delete(created.id);
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.delete(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.inputItems.list(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      client.responses.create({ model: "llama3.2", input: "x", previous_response_id: created.id }),
    ).rejects.toMatchObject({ status: 404, param: "previous_response_id" });
  });

  test("many responses stored at once (written together) are each retrievable", async () => {
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, index) =>
        client.responses.create({ model: "llama3.2", input: `n${index}` }),
      ),
    );
    const retrieved = await Promise.all(created.map((response) => client.responses.retrieve(response.id)));
    expect(retrieved.map((response) => response.id)).toEqual(created.map((response) => response.id));
    const items = await Promise.all(created.map((response) => client.responses.inputItems.list(response.id)));
    expect(
      items.map((page) => (page.data[0] as unknown as { content: [{ text: string }] }).content[0].text),
    ).toEqual(created.map((_, index) => `n${index}`));
  });

  test("another key's response is a 404 everywhere; store: false keeps nothing", async () => {
    const created = await client.responses.create({ model: "llama3.2", input: "mine" });
    const { token } = await browser.createApiKey({ name: "other" });
    const other = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token, maxRetries: 0 });
    await expect(other.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.responses.inputItems.list(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(other.responses.delete(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      other.responses.create({ model: "llama3.2", input: "x", previous_response_id: created.id }),
    ).rejects.toMatchObject({ status: 404, param: "previous_response_id" });
    // Still there for its owner.
    expect((await client.responses.retrieve(created.id)).id).toBe(created.id);

    const unstored = await client.responses.create({ model: "llama3.2", input: "forget me", store: false });
    // `store` is on OpenAI's wire but not in the SDK's Response type.
    expect((unstored as unknown as { store: boolean }).store).toBe(false);
    await expect(client.responses.retrieve(unstored.id)).rejects.toMatchObject({ status: 404 });
    const rows = await database.query("SELECT id FROM api_responses WHERE id = $1", [unstored.id]);
    expect(rows).toEqual([]);
    const streamed = await client.responses
      .stream({ model: "llama3.2", input: "x", store: false })
      .finalResponse();
    await expect(client.responses.retrieve(streamed.id)).rejects.toMatchObject({ status: 404 });
  });

  test("retention: a response older than RESPONSES_RETENTION_DAYS is gone", async () => {
    const created = await client.responses.create({ model: "llama3.2", input: "old" });
    await database.query("UPDATE api_responses SET created_at = now() - interval '31 days' WHERE id = $1", [
      created.id,
    ]);
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(
      client.responses.create({ model: "llama3.2", input: "x", previous_response_id: created.id }),
    ).rejects.toMatchObject({ status: 404 });
  });

  test("max_output_tokens cuts the answer: status incomplete, and response.incomplete when streamed", async () => {
    ollama.setChat({ reply: "a b c d e f" });
    const cut = await client.responses.create({ model: "llama3.2", input: "x", max_output_tokens: 2 });
    expect(cut).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output_text: "a b",
    });
    expect(cut.output[0]).toMatchObject({ type: "message", status: "incomplete" });
    const stream = await client.responses.create({
      model: "llama3.2",
      input: "x",
      max_output_tokens: 2,
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe("response.incomplete");
  });

  test("a mid-stream failure arrives as an error event (raised by the client) and response.failed", async () => {
    ollama.setChat({
      reply: "a b c d e",
      failAfterTokens: { count: 2, error: "model runner has unexpectedly stopped" },
    });
    const stream = await client.responses.create({ model: "llama3.2", input: "x", stream: true });
    const types: string[] = [];
    await expect(
      (async () => {
        for await (const event of stream) types.push(event.type);
      })(),
    ).rejects.toThrow(/model runner has unexpectedly stopped/);
    expect(types).toContain("response.output_text.delta");

    // On the wire: the open item is closed, then `error`, then `response.failed` with the error.
    ollama.setChat({
      reply: "a b c d e",
      failAfterTokens: { count: 2, error: "model runner has unexpectedly stopped" },
    });
    const raw = await fetch(`${app.url}/api/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", input: "x", stream: true }),
    });
    const text = await raw.text();
    const events = text
      .trim()
      .split("\n\n")
      .map((block) => {
        const [eventLine, dataLine] = block.split("\n");
        const data = JSON.parse(dataLine.slice("data: ".length)) as Event;
        expect(eventLine).toBe(`event: ${data.type}`);
        return data;
      });
    expect(events.slice(-3).map((event) => event.type)).toEqual([
      "response.output_item.done",
      "error",
      "response.failed",
    ]);
    expect(events.at(-2)).toMatchObject({
      code: "upstream_error",
      message: expect.stringContaining("unexpectedly"),
    });
    expect(events.at(-1)!.response).toMatchObject({
      status: "failed",
      error: { code: "server_error", message: expect.stringContaining("unexpectedly") },
    });
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
  });

  test("usage is recorded as /v1/responses with Ollama's counts, streamed calls included", async () => {
    const { token } = await browser.createApiKey({ name: "usage" });
    const counted = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token, maxRetries: 0 });
    ollama.setChat({ reply: "counted", promptEvalCount: 100, evalCount: 10 });
    await counted.responses.create({ model: "llama3.2", input: "a" });
    await counted.responses.stream({ model: "llama3.2", input: "b" }).finalResponse();
    await expect
      .poll(
        async () =>
          await database.query(
            `SELECT e.endpoint, e.model, e.prompt_tokens, e.completion_tokens, e.status FROM usage_events e
             JOIN api_keys k ON k.id = e.key_id WHERE k.name = 'usage' ORDER BY e.id`,
          ),
        { timeout: 10_000 },
      )
      .toEqual([
        {
          endpoint: "/v1/responses",
          model: "llama3.2",
          prompt_tokens: 100,
          completion_tokens: 10,
          status: 200,
        },
        {
          endpoint: "/v1/responses",
          model: "llama3.2",
          prompt_tokens: 100,
          completion_tokens: 10,
          status: 200,
        },
      ]);
  });

  test("a key's model allow-list applies; wrong methods get 405 with Allow", async () => {
    const { token } = await browser.createApiKey({ name: "limited", allowedModelsText: "qwen3:latest" });
    const limited = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token, maxRetries: 0 });
    await expect(limited.responses.create({ model: "llama3.2", input: "x" })).rejects.toBeInstanceOf(
      OpenAI.PermissionDeniedError,
    );
    // A model an administrator hid is refused exactly like one that is not installed.
    await client.responses.create({ model: "secret", input: "x" });
    await database.query(
      "INSERT INTO model_settings (name, hidden, updated_at) VALUES ('registry.ollama.ai/library/secret:latest', true, now())",
    );
    await expect
      .poll(
        () =>
          client.responses.create({ model: "secret", input: "x" }).then(
            () => 200,
            (error: { status: number; code: string }) => `${error.status} ${error.code}`,
          ),
        // The settings cache lives 10 s; an admin's change through the UI also clears it at once.
        { timeout: 15_000, interval: 500 },
      )
      .toBe("404 model_not_found");
    const created = await client.responses.create({ model: "llama3.2", input: "x" });
    const put = await fetch(`${app.url}/api/v1/responses/${created.id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${client.apiKey}` },
    });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, HEAD, DELETE");
    const get = await fetch(`${app.url}/api/v1/responses`, {
      headers: { authorization: `Bearer ${client.apiKey}` },
    });
    expect(get.status).toBe(405);
  });

  test("nothing along the way was logged as an error", () => {
    expect(app.output()).not.toContain('"level":"error"');
  });
});

describe("Responses API across replicas", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let replicas: RunningApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("responses_replicas");
    ollama = await startFakeOllama({ models: MODELS });
    const shared = {
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
    };
    // One replica through each way in, sharing PostgreSQL and Redis as behind nginx.
    replicas = await Promise.all([
      startApp({ ...shared, API_FAST_PATH: "true" }),
      startApp({ ...shared, API_FAST_PATH: "false" }),
    ]);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await ollama?.close();
    await database?.drop();
  });

  test("a response stored by one replica is retrieved and continued on another", async () => {
    const browser = new Browser(replicas[0].url);
    await browser.signup("replicas@example.com");
    const { token } = await browser.createApiKey();
    const [first, second] = replicas.map(
      (replica) => new OpenAI({ baseURL: `${replica.url}/api/v1`, apiKey: token, maxRetries: 0 }),
    );
    ollama.setChat({ reply: "Nice to meet you, Ada." });
    const hello = await first.responses.create({ model: "llama3.2", input: "My name is Ada." });
    expect((await second.responses.retrieve(hello.id)).output_text).toBe("Nice to meet you, Ada.");

    ollama.setChat({ reply: "Your name is Ada." });
    const recall = await second.responses
      .stream({
        model: "llama3.2",
        input: "What is my name?",
        previous_response_id: hello.id,
      })
      .finalResponse();
    expect(recall.output_text).toBe("Your name is Ada.");
    expect(ollama.chats.at(-1)!.body.messages).toEqual([
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: "Nice to meet you, Ada." },
      { role: "user", content: "What is my name?" },
    ]);
    // And back on the first replica, three turns deep.
    ollama.setChat({ reply: "Goodbye." });
    await first.responses.create({ model: "llama3.2", input: "Bye", previous_response_id: recall.id });
    expect(ollama.chats.at(-1)!.body.messages.map((message: { content: string }) => message.content)).toEqual(
      ["My name is Ada.", "Nice to meet you, Ada.", "What is my name?", "Your name is Ada.", "Bye"],
    );
  });
});
