import { connect } from "node:net";
import { Validator } from "@seriousme/openapi-schema-validator";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type FakeOllama, startFakeOllama } from "../fakes/ollama";
import { REDIS_URL, type RunningApp, redisPrefix, startApp } from "../support/app";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { Browser } from "../support/http";

/** The official `openai` npm client against the running app: what developers will actually use. */

async function createKey(browser: Browser, fields: Record<string, string> = {}) {
  return (await browser.createApiKey(fields)).token;
}

/** One HTTP/1.1 exchange over a raw socket, for what fetch will not send (odd paths, paced uploads). */
function rawExchange(
  url: string,
  head: string,
  body: (write: (text: string) => void) => Promise<void> = async () => {},
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, async () => {
      socket.write(`${head}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
      try {
        await body((text) => socket.write(text));
      } catch {}
    });
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (part) => {
      received += part;
    });
    socket.on("close", () => resolve(received));
    socket.on("error", (error) => (received ? resolve(received) : reject(error)));
  });
}

function expectEnvelope(body: unknown, status: number, response: Response) {
  expect(response.status).toBe(status);
  expect(response.headers.get("x-request-id")).toMatch(/^req_/);
  const error = (body as { error: Record<string, unknown> }).error;
  expect(Object.keys(error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof error.message).toBe("string");
  return error;
}

// Both ways into the same handlers: server.ts's node:http fast path (the default) and React Router's
// `api/v1/*` resource route (API_FAST_PATH=false, and what `react-router dev` or another adapter uses).
describe.each([
  { way: "node:http fast path", API_FAST_PATH: "true" },
  { way: "React Router resource route", API_FAST_PATH: "false" },
])("OpenAI-compatible API with the official client, $way", ({ API_FAST_PATH }) => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;
  let browser: Browser;
  let client: OpenAI;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase("openai");
    ollama = await startFakeOllama({
      models: [
        { name: "llama3.2:latest", capabilities: ["completion", "tools"] },
        { name: "hf.co/org/model:Q4_K_M" },
        { name: "all-minilm:latest", capabilities: ["embedding"], embeddingLength: 8 },
        { name: "qwen3:latest", capabilities: ["completion", "thinking"] },
      ],
    });
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      OLLAMA_TIMEOUT_MS: "1500",
      MAX_REQUEST_BYTES: "20000",
      API_FAST_PATH,
    });
    browser = new Browser(app.url);
    await browser.signup("developer@example.com");
    token = await createKey(browser);
    client = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token, maxRetries: 0 });
  });

  afterEach(() => ollama.reset());

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  test("a plain completion: content, exact usage from Ollama, unique ids, request id and rate-limit headers", async () => {
    ollama.setChat({ reply: "Hello from the fake.", promptEvalCount: 17, evalCount: 4 });
    const { data, response } = await client.chat.completions
      .create({
        model: "llama3.2",
        messages: [{ role: "user", content: "Hi" }],
        temperature: 0.2,
        max_completion_tokens: 50,
      })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: "Hello from the fake." },
      finish_reason: "stop",
    });
    expect(data.usage).toEqual({ prompt_tokens: 17, completion_tokens: 4, total_tokens: 21 });
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(Number(response.headers.get("x-ratelimit-limit-requests"))).toBeGreaterThan(0);
    expect(response.headers.get("x-ratelimit-remaining-requests")).toMatch(/^\d+$/);
    expect(response.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(ms|s|m\d+s)$|^\d+m\d+s$/);
    // Sent to Ollama's native API (one JSON answer, since the client did not stream), options mapped.
    expect(ollama.chats.at(-1)?.body).toMatchObject({
      model: "llama3.2",
      stream: false,
      options: { temperature: 0.2, num_predict: 50 },
    });
    const again = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(again.id).not.toBe(data.id);
    expect(data.id).toMatch(/^chatcmpl-/);
  });

  test("sampling fields map to Ollama's options; unset ones are left out", async () => {
    const lastOptions = () => (ollama.chats.at(-1)?.body as { options?: unknown } | undefined)?.options;
    await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "Hi" }],
      top_p: 0.9,
      max_tokens: 64,
      stop: "END",
      seed: 42,
      frequency_penalty: 0.5,
      presence_penalty: -0.25,
      user: "end-user-7",
    });
    expect(lastOptions()).toEqual({
      top_p: 0.9,
      num_predict: 64,
      stop: ["END"],
      seed: 42,
      frequency_penalty: 0.5,
      presence_penalty: -0.25,
    });
    // max_completion_tokens wins over the deprecated max_tokens; a stop list stays a list.
    await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 64,
      max_completion_tokens: 8,
      stop: ["a", "b"],
    });
    expect(lastOptions()).toEqual({ num_predict: 8, stop: ["a", "b"] });
  });

  test("streaming: role first, content pieces, a separate finish chunk, a usage chunk, then [DONE]", async () => {
    ollama.setChat({ reply: "one two three", promptEvalCount: 9, evalCount: 3 });
    const stream = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(ollama.chats.at(-1)?.body.stream).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("one two three");
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
    });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    // OpenAI sends usage:null on every other chunk when usage was asked for.
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  test("the .stream() helper's final completion has the text and usage", async () => {
    ollama.setChat({ reply: "final answer here", promptEvalCount: 5, evalCount: 3 });
    const runner = client.chat.completions.stream({
      model: "llama3.2",
      messages: [{ role: "user", content: "go" }],
      stream_options: { include_usage: true },
    });
    const completion = await runner.finalChatCompletion();
    expect(completion.choices[0].message.content).toBe("final answer here");
    expect(completion.choices[0].finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3 });
  });

  test("a mid-stream upstream failure reaches the client as an error", async () => {
    ollama.setChat({
      reply: "a b c d e",
      failAfterTokens: { count: 2, error: "model runner has unexpectedly stopped" },
    });
    const stream = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    const received: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? "");
      })(),
    ).rejects.toThrow(/model runner has unexpectedly stopped/);
    expect(received.join("")).toBe("a b");
  });

  test("breaking out of a stream aborts the Ollama request at once", async () => {
    ollama.setChat({ reply: Array.from({ length: 200 }, (_, i) => `t${i}`).join(" "), tokenDelayMs: 20 });
    const stream = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "long" }],
      stream: true,
    });
    let seen = 0;
    for await (const _chunk of stream) {
      if (++seen === 3) break;
    }
    await ollama.waitFor(() => ollama.chats.at(-1)?.status === "cancelled", 3000);
    expect(ollama.chats.at(-1)!.tokensSent).toBeLessThan(50);
  });

  test("tools: OpenAI string arguments and Ollama objects map both ways", async () => {
    ollama.setChat({ toolCalls: [{ name: "get_weather", arguments: { city: "Tokyo" } }] });
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "get_weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
    ];
    const first = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "Weather in Tokyo?" }],
      tools,
    });
    const call = first.choices[0].message.tool_calls![0];
    expect(first.choices[0].finish_reason).toBe("tool_calls");
    expect(call.type).toBe("function");
    expect(call.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Tokyo" });

    ollama.setChat({ reply: "It is 11 degrees." });
    await client.chat.completions.create({
      model: "llama3.2",
      tools,
      messages: [
        { role: "user", content: "Weather in Tokyo?" },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: "11 degrees celsius" },
      ],
    });
    const sent = ollama.chats.at(-1)!.body.messages;
    expect(sent[1].tool_calls[0].function.arguments).toEqual({ city: "Tokyo" });
    expect(sent[2]).toMatchObject({ role: "tool", content: "11 degrees celsius", tool_name: "get_weather" });
  });

  test("data: image URLs become raw base64 images; remote image URLs are refused", async () => {
    ollama.setChat({ reply: "a cat" });
    await client.chat.completions.create({
      model: "llama3.2",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
      ],
    });
    expect(ollama.chats.at(-1)!.body.messages[0]).toEqual({
      role: "user",
      content: "What is this?",
      images: ["iVBORw0KGgo="],
    });
    const remote = client.chat.completions.create({
      model: "llama3.2",
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] },
      ],
    });
    await expect(remote).rejects.toMatchObject({ status: 400, param: "messages[0].content[0].image_url" });
  });

  test("response_format json_object and json_schema become Ollama's format", async () => {
    ollama.setChat({ reply: '{"ok": true}' });
    await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "json please" }],
      response_format: { type: "json_object" },
    });
    expect(ollama.chats.at(-1)!.body.format).toBe("json");
    const schema = { type: "object", properties: { ok: { type: "boolean" } } };
    await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "json please" }],
      response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
    });
    expect(ollama.chats.at(-1)!.body.format).toEqual(schema);
  });

  test("models: list, retrieve with %2F and :, and model_not_found", async () => {
    const list = await client.models.list();
    expect(list.data.map((model) => model.id).sort()).toEqual([
      "all-minilm:latest",
      "hf.co/org/model:Q4_K_M",
      "llama3.2:latest",
      "qwen3:latest",
    ]);
    expect(list.data.find((model) => model.id === "hf.co/org/model:Q4_K_M")).toMatchObject({
      object: "model",
      owned_by: "org",
    });
    const retrieved = await client.models.retrieve("hf.co/org/model:Q4_K_M");
    expect(retrieved.id).toBe("hf.co/org/model:Q4_K_M");
    expect((await client.models.retrieve("llama3.2")).id).toBe("llama3.2");
    await expect(client.models.retrieve("nope:latest")).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
  });

  test("embeddings, float and the client's default base64", async () => {
    const floats = await client.embeddings.create({
      model: "all-minilm",
      input: ["one", "two words"],
      encoding_format: "float",
    });
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0].embedding).toHaveLength(8);
    expect(floats.usage.prompt_tokens).toBe(3 + 4);
    const decoded = await client.embeddings.create({ model: "all-minilm", input: "one" });
    expect(decoded.data[0].embedding).toHaveLength(8);
    expect(decoded.data[0].embedding[0]).toBeCloseTo(floats.data[0].embedding[0], 5);
  });

  test("error classes: 400 with param, n>1, 401, 404, 503 when Ollama is down, 502 upstream failure, 504 timeout", async () => {
    await expect(
      client.chat.completions.create({
        model: "llama3.2",
        messages: [{ role: "user", content: "x" }],
        temperature: 7,
      }),
    ).rejects.toMatchObject({ status: 400, type: "invalid_request_error", param: "temperature" });
    await expect(
      client.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "x" }], n: 2 }),
    ).rejects.toMatchObject({ status: 400, param: "n" });
    await expect(client.chat.completions.create({ model: "llama3.2", messages: [] })).rejects.toMatchObject({
      status: 400,
    });
    const stranger = new OpenAI({
      baseURL: `${app.url}/api/v1`,
      apiKey: "ccai-not-a-real-key",
      maxRetries: 0,
    });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      client.chat.completions.create({ model: "missing-model", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status: 404, code: "model_not_found" });

    ollama.setChat({ failBeforeStart: { status: 500, error: "model runner has unexpectedly stopped" } });
    await expect(
      client.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status: 502, type: "server_error" });

    ollama.setChat({ reply: "late", firstTokenDelayMs: 4000 });
    await expect(
      client.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status: 504 });

    await ollama.setDown(true);
    try {
      await expect(
        client.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "x" }] }),
      ).rejects.toMatchObject({ status: 503 });
    } finally {
      await ollama.setDown(false);
    }
  });

  test("raw protocol errors: 405, 413, 415, bad JSON and unknown URLs, all in the envelope", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const get = await fetch(`${app.url}/api/v1/chat/completions`, { headers: auth });
    expect(expectEnvelope(await get.json(), 405, get).code).toBe("method_not_allowed");
    const big = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "x".repeat(30_000) }] }),
    });
    expectEnvelope(await big.json(), 413, big);
    const text = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/plain" },
      body: "hello",
    });
    expectEnvelope(await text.json(), 415, text);
    const broken = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "{not json",
    });
    expectEnvelope(await broken.json(), 400, broken);
    const unknown = await fetch(`${app.url}/api/v1/completions/legacy`, { headers: auth });
    expect(expectEnvelope(await unknown.json(), 404, unknown).code).toBe("unknown_url");
  });

  test("CORS: preflights are answered for any origin without a key; responses expose the request id and limits", async () => {
    const preflight = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers":
          "authorization, content-type, x-stainless-os, openai-organization, cookie",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    // What the SDKs send is allowed; a cookie is not a header a page may add anyway, and is not echoed.
    expect(preflight.headers.get("access-control-allow-headers")).toBe(
      "authorization, content-type, x-stainless-os, openai-organization",
    );
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();

    const answer = await fetch(`${app.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${token}`, origin: "https://tool.example" },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = answer.headers.get("access-control-expose-headers") ?? "";
    for (const name of ["x-request-id", "x-ratelimit-remaining-requests", "retry-after"]) {
      expect(exposed).toContain(name);
    }
    // Errors carry them too, so a browser app can read the envelope.
    const refused = await fetch(`${app.url}/api/v1/me`, { headers: { origin: "https://tool.example" } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    // Pages stay same-origin: no CORS headers there.
    const page = await fetch(`${app.url}/login`, { headers: { origin: "https://tool.example" } });
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("reasoning: reasoning_effort becomes Ollama's think, and the thinking comes back as `reasoning`", async () => {
    ollama.setChat({ thinking: ["Let me ", "think."], reply: "42" });
    const answer = await client.chat.completions.create({
      model: "qwen3",
      messages: [{ role: "user", content: "meaning of life?" }],
      reasoning_effort: "high",
    });
    expect(ollama.chats.at(-1)!.body.think).toBe("high");
    expect(answer.choices[0].message.content).toBe("42");
    expect((answer.choices[0].message as unknown as { reasoning: string }).reasoning).toBe("Let me think.");

    const stream = await client.chat.completions.create({
      model: "qwen3",
      messages: [
        { role: "user", content: "and again?" },
        // An earlier turn's reasoning goes back to Ollama as the message's thinking.
        { role: "assistant", content: "42", reasoning: "I thought." } as never,
        { role: "user", content: "sure?" },
      ],
      reasoning_effort: "minimal",
      stream: true,
    });
    let reasoning = "";
    let content = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { reasoning?: string; content?: string } | undefined;
      reasoning += delta?.reasoning ?? "";
      content += delta?.content ?? "";
    }
    expect({ reasoning, content }).toEqual({ reasoning: "Let me think.", content: "42" });
    const sent = ollama.chats.at(-1)!.body;
    expect(sent.think).toBe("low");
    expect(sent.messages[1]).toMatchObject({ role: "assistant", content: "42", thinking: "I thought." });

    await client.chat.completions.create({
      model: "qwen3",
      messages: [{ role: "user", content: "quick" }],
      reasoning_effort: "none",
    });
    expect(ollama.chats.at(-1)!.body.think).toBe(false);
    // A model that cannot think says so: a 400 with Ollama's words, not silence.
    await expect(
      client.chat.completions.create({
        model: "llama3.2",
        messages: [{ role: "user", content: "x" }],
        reasoning_effort: "low",
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining("does not support thinking") });
  });

  test("logprobs and top_logprobs reach Ollama and come back in OpenAI's shape, streamed and not", async () => {
    ollama.setChat({ reply: "Hi there" });
    const plain = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      logprobs: true,
      top_logprobs: 2,
    });
    expect(ollama.chats.at(-1)!.body).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(plain.choices[0].logprobs).toEqual({
      content: [
        {
          token: "Hi",
          logprob: -0.1,
          bytes: [72, 105],
          top_logprobs: [
            { token: "Hi", logprob: -0.1, bytes: [72, 105] },
            { token: "Hi~1", logprob: -1.1, bytes: [72, 105, 126, 49] },
          ],
        },
        expect.objectContaining({ token: " there", logprob: -0.2 }),
      ],
      refusal: null,
    });
    const stream = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      logprobs: true,
      stream: true,
    });
    const tokens: string[] = [];
    for await (const chunk of stream) {
      for (const entry of chunk.choices[0]?.logprobs?.content ?? []) tokens.push(entry.token);
    }
    expect(tokens).toEqual(["Hi", " there"]);
    // Not asked for: null, as OpenAI answers.
    const without = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(without.choices[0].logprobs).toBeNull();
    expect(ollama.chats.at(-1)!.body.logprobs).toBeUndefined();
    await expect(
      client.chat.completions.create({
        model: "llama3.2",
        messages: [{ role: "user", content: "hi" }],
        top_logprobs: 2,
      }),
    ).rejects.toMatchObject({ status: 400, param: "top_logprobs" });
  });

  test("tool_choice: none and auto are honoured; a forced choice is refused, never silently ignored", async () => {
    const tools = [
      {
        type: "function" as const,
        function: { name: "get_weather", parameters: { type: "object", properties: {} } },
      },
    ];
    const messages = [{ role: "user" as const, content: "weather?" }];
    await client.chat.completions.create({ model: "llama3.2", messages, tools, tool_choice: "none" });
    expect(ollama.chats.at(-1)!.body.tools).toBeUndefined();
    await client.chat.completions.create({ model: "llama3.2", messages, tools, tool_choice: "auto" });
    expect(ollama.chats.at(-1)!.body.tools).toHaveLength(1);
    const before = ollama.chats.length;
    for (const tool_choice of [
      "required",
      { type: "function", function: { name: "get_weather" } },
    ] as const) {
      await expect(
        client.chat.completions.create({ model: "llama3.2", messages, tools, tool_choice }),
      ).rejects.toMatchObject({
        status: 400,
        param: "tool_choice",
        message: expect.stringContaining("cannot force"),
      });
    }
    expect(ollama.chats.length).toBe(before);
  });

  test("legacy completions: plain and streamed over /api/generate, with Ollama's counts", async () => {
    ollama.setChat({ reply: "Once upon a time", promptEvalCount: 7, evalCount: 4 });
    const plain = await client.completions.create({
      model: "llama3.2",
      prompt: "Tell me a story",
      max_tokens: 50,
      temperature: 0.2,
      stop: ["THE END"],
    });
    expect(plain).toMatchObject({
      object: "text_completion",
      model: "llama3.2",
      choices: [{ text: "Once upon a time", index: 0, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 },
    });
    expect(plain.id).toMatch(/^cmpl-/);
    const sent = ollama.requests.filter((request) => request.path === "/api/generate").at(-1)!;
    expect(sent.body).toMatchObject({
      model: "llama3.2",
      prompt: "Tell me a story",
      stream: false,
      options: { num_predict: 50, temperature: 0.2, stop: ["THE END"] },
    });

    const stream = await client.completions.create({
      model: "llama3.2",
      prompt: ["Tell me a story"],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: unknown;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Once upon a time");
    expect(finish).toBe("stop");

    const withLogprobs = await client.completions.create({ model: "llama3.2", prompt: "Go", logprobs: 1 });
    expect(withLogprobs.choices[0].logprobs).toEqual({
      tokens: ["Once", " upon", " a", " time"],
      token_logprobs: [-0.1, -0.2, -0.3, -0.4],
      top_logprobs: [{ Once: -0.1 }, { " upon": -0.2 }, { " a": -0.3 }, { " time": -0.4 }],
      text_offset: [0, 4, 9, 11],
    });
    expect(usage).toEqual({ prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
  });

  test("legacy completions: what Ollama cannot do is refused by name, never ignored", async () => {
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ echo: true }, "echo"],
      [{ prompt: ["one", "two"] }, "prompt"],
      [{ prompt: [1, 2, 3] }, "prompt"],
      [{ n: 2 }, "n"],
      [{ best_of: 3 }, "best_of"],
    ];
    for (const [fields, param] of refusals) {
      await expect(
        client.completions.create({ model: "llama3.2", prompt: "x", ...fields } as never),
      ).rejects.toMatchObject({ status: 400, param });
    }
    await expect(client.completions.create({ model: "nope", prompt: "x" })).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    // A suffix reaches Ollama, which refuses it for a model without fill-in-the-middle support.
    await expect(
      client.completions.create({ model: "llama3.2", prompt: "def f(", suffix: "return x" }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining("does not support insert") });
  });

  test("an Ollama without an endpoint is an upstream error naming it, not model_not_found", async () => {
    ollama.setMissingEndpoints(["/api/embed"]);
    const answer = await fetch(`${app.url}/api/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "all-minilm", input: "hello" }),
    });
    const error = expectEnvelope(await answer.json(), 502, answer);
    expect(error.code).toBe("upstream_error");
    expect(error.message).toContain("Ollama has no /api/embed endpoint");
    expect(error.message).toContain("Upgrade Ollama");
    // A model Ollama does not have is still model_not_found.
    ollama.setMissingEndpoints([]);
    const missing = await fetch(`${app.url}/api/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "nope", input: "hello" }),
    });
    expect(expectEnvelope(await missing.json(), 404, missing).code).toBe("model_not_found");
  });

  test("HEAD is answered on GET endpoints, without a body", async () => {
    for (const path of ["/models", "/me", "/models/llama3.2", "/openapi.json"]) {
      const head = await fetch(`${app.url}/api/v1${path}`, {
        method: "HEAD",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(head.status, path).toBe(200);
      expect(await head.text()).toBe("");
    }
    const wrong = await fetch(`${app.url}/api/v1/chat/completions`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(wrong.status).toBe(405);
  });

  test("a chunked body over the limit gets a 413 while it is still arriving, and the app stays up", async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const chunk = `${"x".repeat(4096)}`;
    const answer = await rawExchange(
      app.url,
      [
        "POST /api/v1/chat/completions HTTP/1.1",
        `Authorization: Bearer ${token}`,
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
      ].join("\r\n"),
      async (write) => {
        write(`${(1).toString(16)}\r\n{\r\n`);
        // 40 KB in paced chunks: the limit (20,000 bytes) passes midway, and more keeps coming.
        for (let i = 0; i < 10; i++) {
          write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
          await sleep(20);
        }
        write("0\r\n\r\n");
      },
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"request_too_large"');
    expect((await fetch(`${app.url}/api/health`)).status).toBe(200);
    expect(app.output()).not.toMatch(/Controller is already closed|uncaught/i);
  });

  test("a client that leaves mid-upload is recorded as 499, not as an error", async () => {
    const gone = await createKey(browser, { name: "gone mid-upload" });
    const socket = connect(Number(new URL(app.url).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      [
        "POST /api/v1/chat/completions HTTP/1.1",
        "Host: 127.0.0.1",
        `Authorization: Bearer ${gone}`,
        "Content-Type: application/json",
        "Content-Length: 1000",
        "",
        '{"model":"llama3.2","messages":[',
      ].join("\r\n"),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    await expect
      .poll(
        async () =>
          (
            await database.query<{ status: number; endpoint: string }>(
              `SELECT e.status, e.endpoint FROM usage_events e JOIN api_keys k ON k.id = e.key_id
               WHERE k.name = 'gone mid-upload'`,
            )
          )[0],
        { timeout: 10_000 },
      )
      .toEqual({ status: 499, endpoint: "/v1/chat/completions" });
    expect(app.output()).not.toContain('"level":"error"');
  });

  test("only the exact /api/v1 prefix reaches the API: /api/v1/../v2/models is an unknown URL", async () => {
    const answer = await rawExchange(
      app.url,
      `GET /api/v1/../v2/models HTTP/1.1\r\nAuthorization: Bearer ${token}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answer).not.toContain('"object":"list"');
  });

  test("a key's model allow-list is enforced (403) and filters the model list", async () => {
    const limited = await createKey(browser, { name: "limited", allowedModelsText: "all-minilm:latest" });
    const limitedClient = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: limited, maxRetries: 0 });
    await expect(
      limitedClient.chat.completions.create({
        model: "llama3.2",
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((await limitedClient.models.list()).data.map((model) => model.id)).toEqual(["all-minilm:latest"]);
  });

  test("the OpenAPI document and /docs/api describe the same endpoints, and each one exists", async () => {
    const spec = (await (await fetch(`${app.url}/api/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(spec.openapi).toBe("3.1.0");
    // Checked against the official OpenAPI 3.1 JSON schema.
    const validation = await new Validator().validate(
      spec as unknown as Parameters<Validator["validate"]>[0],
    );
    expect(validation.errors ?? [], JSON.stringify(validation.errors)).toEqual([]);
    expect(validation.valid).toBe(true);
    const docs = await (await browser.get("/docs/api")).text();
    for (const [path, operations] of Object.entries(spec.paths)) {
      for (const method of Object.keys(operations)) {
        expect(docs).toContain(`${method.toUpperCase()} ${path.split("/{")[0]}`);
        const concrete = path.replace("{model}", "llama3.2:latest");
        const response = await fetch(`${app.url}/api/v1${concrete}`, {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: method === "post" ? "{}" : undefined,
        });
        const body = (await response.json()) as { error?: { code: string } };
        expect(body.error?.code, `${method} ${path}`).not.toBe("unknown_url");
      }
    }
    for (const example of ["curl", "Python (openai)", "Node (openai)"]) expect(docs).toContain(example);
  });

  test("usage is recorded with Ollama's exact counts, streamed calls included", async () => {
    const usageToken = await createKey(browser, { name: "usage" });
    const usageClient = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: usageToken, maxRetries: 0 });
    ollama.setChat({ reply: "counted", promptEvalCount: 100, evalCount: 10 });
    await usageClient.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "a" }],
    });
    const stream = await usageClient.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "b" }],
      stream: true,
    });
    for await (const _chunk of stream) {
      // drain
    }
    await expect
      .poll(
        async () =>
          (
            await database.query<{ requests: number; prompt: string; completion: string }>(
              `SELECT sum(d.requests)::int AS requests, sum(d.prompt_tokens)::text AS prompt, sum(d.completion_tokens)::text AS completion
               FROM usage_daily d JOIN api_keys k ON k.id = d.key_id WHERE k.name = 'usage' AND d.model = 'llama3.2'`,
            )
          )[0],
        { timeout: 10_000 },
      )
      .toEqual({ requests: 2, prompt: "200", completion: "20" });
  });
});

describe("rate limits with the official client", () => {
  let database: TestDatabase;
  let ollama: FakeOllama;
  let app: RunningApp;

  beforeAll(async () => {
    database = await createTestDatabase("openai-limits");
    ollama = await startFakeOllama();
    app = await startApp({
      DATABASE_URL: database.url,
      OLLAMA_URL: ollama.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      RATE_LIMIT_REQUESTS: "2",
      RATE_LIMIT_WINDOW: "2000",
    });
  });

  afterAll(async () => {
    await app?.stop();
    await ollama?.close();
    await database?.drop();
  });

  test("over the limit: 429 envelope with Retry-After, which the client honours when it retries", async () => {
    const browser = new Browser(app.url);
    await browser.signup("limited@example.com");
    const token = await createKey(browser);
    const noRetry = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token, maxRetries: 0 });
    await noRetry.models.list();
    await noRetry.models.list();
    const refused = await noRetry.models.list().catch((error) => error);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");

    // With retries, the client waits Retry-After and gets through once the window has passed.
    const patient = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: token, maxRetries: 2 });
    const { response } = await patient.models.list().withResponse();
    expect(response.status).toBe(200);
  });
});
