import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeOllama, type Json, QUEUE_FULL_ERROR, startFakeOllama } from "./ollama.ts";

let fake: FakeOllama;

beforeAll(async () => {
  fake = await startFakeOllama({
    pull: { layers: [{ size: 1000 }, { size: 300 }, { size: 50 }], chunkBytes: 250, intervalMs: 5 },
  });
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
});

const post = (path: string, body: unknown, init: RequestInit = {}) =>
  fetch(fake.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });

async function ndjson(res: Response): Promise<Json[]> {
  const text = await res.text();
  expect(text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const RFC3339_UTC_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

describe("basic endpoints and router", () => {
  it("GET/HEAD / and /api/version", async () => {
    const r = await fetch(`${fake.url}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("Ollama is running");
    const h = await fetch(`${fake.url}/`, { method: "HEAD" });
    expect(h.status).toBe(200);
    expect(await h.text()).toBe("");
    const v = await fetch(`${fake.url}/api/version`);
    expect(v.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(typeof (await v.json()).version).toBe("string");
  });

  it("unknown path is a plain-text 404, wrong method a plain-text 405", async () => {
    const r = await fetch(`${fake.url}/api/nope`);
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("text/plain");
    expect(await r.text()).toBe("404 page not found");
    const m = await fetch(`${fake.url}/api/chat`);
    expect(m.status).toBe(405);
    expect(await m.text()).toBe("405 method not allowed");
    expect((await fetch(`${fake.url}/api/ps`, { method: "HEAD" })).status).toBe(405);
  });
});

describe("/api/tags, /api/show, /api/ps", () => {
  it("lists installed models newest first with the documented shape", async () => {
    const r = await fetch(`${fake.url}/api/tags`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const { models } = await r.json();
    expect(models.map((m: Json) => m.name)).toEqual(["llama3.2:latest", "all-minilm:latest"]);
    const m = models[0];
    expect(Object.keys(m).slice(0, 6)).toEqual(["name", "model", "modified_at", "size", "digest", "details"]);
    expect(m.model).toBe("llama3.2:latest");
    expect(m.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(m.modified_at).toMatch(RFC3339_NANO);
    expect(m.details).toEqual({
      parent_model: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameter_size: "3.2B",
      quantization_level: "Q4_K_M",
    });
    expect(Date.parse(models[0].modified_at)).toBeGreaterThan(Date.parse(models[1].modified_at));
  });

  it('an empty install gives {"models":[]} and custom models sort by modifiedAt', async () => {
    fake.setModels([]);
    expect(await (await fetch(`${fake.url}/api/tags`)).text()).toBe('{"models":[]}');
    fake.setModels([
      { name: "old", modifiedAt: new Date("2024-01-01T00:00:00Z") },
      { name: "new:7b", modifiedAt: new Date("2025-01-01T00:00:00Z") },
    ]);
    const { models } = await (await fetch(`${fake.url}/api/tags`)).json();
    expect(models.map((m: Json) => m.name)).toEqual(["new:7b", "old:latest"]);
  });

  it("/api/show returns details, model_info and capabilities; errors are 400/404", async () => {
    const r = await post("/api/show", { model: "llama3.2" });
    expect(r.status).toBe(200);
    const s = await r.json();
    expect(s.capabilities).toEqual(["completion", "tools"]);
    expect(s.model_info["llama.context_length"]).toBe(131072);
    expect(s.model_info["general.architecture"]).toBe("llama");
    expect(s.details.family).toBe("llama");
    expect(Object.keys(s.model_info)).toEqual([...Object.keys(s.model_info)].sort());

    const nf = await post("/api/show", { model: "foo" });
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: "model 'foo' not found" });
    const mr = await post("/api/show", {});
    expect(mr.status).toBe(400);
    expect(await mr.json()).toEqual({ error: "model is required" });
  });

  it("/api/ps lists a model after a chat and drops it after keep_alive 0 unload", async () => {
    expect(await (await fetch(`${fake.url}/api/ps`)).json()).toEqual({ models: [] });
    await (
      await post("/api/chat", {
        model: "llama3.2",
        messages: [{ role: "user", content: "hi" }],
        stream: false,
      })
    ).json();
    const ps = await (await fetch(`${fake.url}/api/ps`)).json();
    expect(ps.models).toHaveLength(1);
    expect(ps.models[0]).toMatchObject({
      name: "llama3.2:latest",
      size_vram: ps.models[0].size,
      context_length: 4096,
    });
    expect(ps.models[0].expires_at).toMatch(RFC3339_NANO);
    const unload = await (await post("/api/chat", { model: "llama3.2", messages: [], keep_alive: 0 })).json();
    expect(unload.done_reason).toBe("unload");
    expect((await (await fetch(`${fake.url}/api/ps`)).json()).models).toEqual([]);
  });
});

describe("/api/chat", () => {
  const messages = [
    { role: "system", content: "be brief" },
    { role: "user", content: "say hello please" },
  ];

  it("streams NDJSON chunks and a final line with deterministic metrics", async () => {
    fake.setChat({ reply: "Hello there, friend!" });
    const r = await post("/api/chat", { model: "llama3.2", messages });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = await ndjson(r);
    const content = lines.slice(0, -1);
    expect(content.map((l) => l.message.content)).toEqual(["Hello", " there,", " friend!"]);
    for (const l of content) {
      expect(Object.keys(l)).toEqual(["model", "created_at", "message", "done"]);
      expect(l).toMatchObject({ model: "llama3.2", done: false, message: { role: "assistant" } });
      expect(l.created_at).toMatch(RFC3339_UTC_NANO);
    }
    const last = lines.at(-1);
    expect(Object.keys(last)).toEqual([
      "model",
      "created_at",
      "message",
      "done",
      "done_reason",
      "total_duration",
      "load_duration",
      "prompt_eval_count",
      "prompt_eval_duration",
      "eval_count",
      "eval_duration",
    ]);
    // prompt_eval_count = Σ(4 + words): (4+2) + (4+3) = 13; eval_count = 3 chunks
    expect(last).toMatchObject({
      done: true,
      done_reason: "stop",
      message: { role: "assistant", content: "" },
      prompt_eval_count: 13,
      eval_count: 3,
    });
    expect(last.load_duration).toBe(1_000_000);
    expect(last.eval_duration).toBe(3 * 10 * 1_000_000);
    expect(last.total_duration).toBe(
      last.load_duration + last.prompt_eval_duration + last.eval_duration + 250_000,
    );
    await fake.waitFor(() => fake.chats[0]?.status === "completed");
    expect(fake.chats[0]).toMatchObject({ model: "llama3.2", tokensSent: 3 });
    expect(fake.requests.at(-1)).toMatchObject({
      method: "POST",
      path: "/api/chat",
      body: { model: "llama3.2" },
    });
  });

  it("stream:false returns one object with the concatenated content", async () => {
    fake.setChat({ tokens: ["A", "B", "C"], promptEvalCount: 7, evalCount: 0, doneReason: "length" });
    const r = await post("/api/chat", { model: "LLAMA3.2:latest", messages, stream: false });
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = await r.json();
    expect(body.model).toBe("LLAMA3.2:latest");
    expect(body.message).toEqual({ role: "assistant", content: "ABC" });
    expect(body).toMatchObject({ done: true, done_reason: "length", prompt_eval_count: 7 });
    expect(body).not.toHaveProperty("eval_count"); // omitempty
  });

  it("omitMetrics leaves every metric out; per-model scripts override the default", async () => {
    fake.setChat({ reply: "default" });
    fake.setChat({ reply: "special", omitMetrics: true }, "llama3.2");
    const body = await (
      await post("/api/chat", { model: "llama3.2:latest", messages, stream: false })
    ).json();
    expect(body.message.content).toBe("special");
    expect(Object.keys(body)).toEqual(["model", "created_at", "message", "done", "done_reason"]);
  });

  it("writes no headers before the first token", async () => {
    fake.setChat({ reply: "late", firstTokenDelayMs: 250 });
    const t0 = Date.now();
    const r = await post("/api/chat", { model: "llama3.2", messages });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    const lines = await ndjson(r);
    expect(lines.at(-1).load_duration).toBe(251_000_000);
  });

  it("mid-stream error: 200, N content lines, an error line, no done:true", async () => {
    fake.setChat({ reply: "one two three four", failAfterTokens: { count: 2, error: "boom" } });
    const r = await post("/api/chat", { model: "llama3.2", messages });
    expect(r.status).toBe(200);
    const lines = await ndjson(r);
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).map((l) => l.message.content)).toEqual(["one", " two"]);
    expect(lines[2]).toEqual({ error: "boom" });
    expect(lines.some((l) => l.done === true)).toBe(false);
    expect(fake.chats[0]).toMatchObject({ status: "failed", tokensSent: 2 });

    // the same failure with stream:false is a 500 and the partial text is dropped
    const nr = await post("/api/chat", { model: "llama3.2", messages, stream: false });
    expect(nr.status).toBe(500);
    expect(await nr.json()).toEqual({ error: "boom" });
  });

  it("failBeforeStart returns a normal JSON error response", async () => {
    fake.setChat({ failBeforeStart: { status: 500, error: "model runner has unexpectedly stopped" } });
    const r = await post("/api/chat", { model: "llama3.2", messages });
    expect(r.status).toBe(500);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(await r.json()).toEqual({ error: "model runner has unexpectedly stopped" });
  });

  it("abrupt close: the body stream fails after the first tokens", async () => {
    fake.setChat({ reply: "a b c d", failAfterTokens: { count: 2, abrupt: true } });
    const r = await post("/api/chat", { model: "llama3.2", messages });
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += dec.decode(value);
        }
      })(),
    ).rejects.toThrow();
    expect(text.split("\n").filter(Boolean)).toHaveLength(2);
    expect(fake.chats[0]?.status).toBe("failed");
  });

  it("records a client abort mid-stream as cancelled and stops writing", async () => {
    fake.setChat({ tokens: Array.from({ length: 50 }, (_, i) => `t${i} `), tokenDelayMs: 20 });
    const ac = new AbortController();
    const r = await post("/api/chat", { model: "llama3.2", messages }, { signal: ac.signal });
    const reader = r.body!.getReader();
    await reader.read();
    ac.abort();
    await fake.waitFor(() => fake.chats[0]!.status === "cancelled");
    const sent = fake.chats[0]!.tokensSent;
    expect(sent).toBeLessThan(50);
    expect(fake.chats[0]!.cancelledAt).toBeTypeOf("number");
    await new Promise((r) => setTimeout(r, 60));
    expect(fake.chats[0]!.tokensSent).toBe(sent);
  });

  it("load and unload requests", async () => {
    const load = await (await post("/api/chat", { model: "llama3.2", messages: [] })).json();
    expect(Object.keys(load)).toEqual(["model", "created_at", "message", "done", "done_reason"]);
    expect(load).toMatchObject({
      model: "llama3.2",
      message: { role: "assistant", content: "" },
      done: true,
      done_reason: "load",
    });
    const unload = await (await post("/api/chat", { model: "llama3.2", keep_alive: "0s" })).json();
    expect(unload.done_reason).toBe("unload");
    expect(fake.chats).toHaveLength(0);
  });

  it("request errors use Ollama statuses and texts", async () => {
    const cases: Array<[unknown, number, string]> = [
      ["", 400, "missing request body"],
      ["xyz", 400, "invalid character 'x' looking for beginning of value"],
      ['{"model":', 400, "unexpected EOF"],
      ['{"model":"llama3.2",}', 400, "invalid character '}' looking for beginning of object key string"],
      [
        { model: "llama3.2", stream: "yes" },
        400,
        "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool",
      ],
      [{ messages: [] }, 400, "model is required"],
      [{ model: "foo", messages }, 404, "model 'foo' not found"],
      [{ model: "llama3.2", messages, think: true }, 400, '"llama3.2" does not support thinking'],
      [{ model: "all-minilm", messages }, 400, '"all-minilm" does not support chat'],
      [
        {
          model: "llama3.2",
          messages: [{ role: "user", content: "x", images: ["data:image/png;base64,AAAA"] }],
        },
        400,
        "illegal base64 data at input byte 4",
      ],
      [
        { model: "llama3.2", messages, options: { temperature: "hot" } },
        500,
        'option "temperature" must be of type float32',
      ],
    ];
    for (const [body, status, error] of cases) {
      const r = await post("/api/chat", body);
      expect([r.status, await r.json()], JSON.stringify(body)).toEqual([status, { error }]);
    }
    fake.setModels([{ name: "nocaps", capabilities: ["completion"] }]);
    const t = await post("/api/chat", {
      model: "nocaps",
      messages,
      tools: [{ type: "function", function: { name: "f" } }],
    });
    expect([t.status, await t.json()]).toEqual([
      400,
      { error: "registry.ollama.ai/library/nocaps:latest does not support tools" },
    ]);
  });

  it("queue full gives 503 with the exact two-space text", async () => {
    fake.setQueueFull(true);
    const r = await post("/api/chat", { model: "llama3.2", messages });
    expect(r.status).toBe(503);
    expect(await r.text()).toBe(JSON.stringify({ error: QUEUE_FULL_ERROR }));
    expect(QUEUE_FULL_ERROR).toBe("server busy, please try again.  maximum pending requests exceeded");
  });

  it("thinking chunks come first and tool calls arrive whole in one chunk", async () => {
    fake.setModels([{ name: "qwen3:0.6b", capabilities: ["completion", "tools", "thinking"] }]);
    fake.setChat({
      thinking: ["Let me ", "think."],
      toolCalls: [{ name: "get_weather", arguments: { city: "Tokyo" } }],
    });
    const tools = [{ type: "function", function: { name: "get_weather", parameters: {} } }];
    const lines = await ndjson(await post("/api/chat", { model: "qwen3:0.6b", messages, tools }));
    expect(lines.map((l) => l.message.thinking ?? null)).toEqual(["Let me ", "think.", null, null]);
    const call = lines[2].message.tool_calls;
    expect(call).toHaveLength(1);
    expect(call[0].id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(call[0].function).toEqual({ index: 0, name: "get_weather", arguments: { city: "Tokyo" } });
    expect(lines[3]).toMatchObject({ done: true, eval_count: 3 });

    const one = await (
      await post("/api/chat", { model: "qwen3:0.6b", messages, tools, stream: false })
    ).json();
    expect(one.message.thinking).toBe("Let me think.");
    expect(one.message.tool_calls[0].function.name).toBe("get_weather");
    const noThink = await (
      await post("/api/chat", { model: "qwen3:0.6b", messages, tools, think: false, stream: false })
    ).json();
    expect(noThink.message.thinking).toBeUndefined();
  });

  it("num_predict truncates with done_reason length", async () => {
    fake.setChat({ reply: "a b c d e" });
    const body = await (
      await post("/api/chat", { model: "llama3.2", messages, stream: false, options: { num_predict: 2 } })
    ).json();
    expect(body.message.content).toBe("a b");
    expect(body).toMatchObject({ done_reason: "length", eval_count: 2 });
  });
});

describe("/api/pull and /api/delete", () => {
  it("streams progress per layer, then success; the model appears in tags", async () => {
    const r = await post("/api/pull", { model: "qwen3:0.6b" });
    expect(r.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = await ndjson(r);
    expect(lines[0]).toEqual({ status: "pulling manifest" });
    expect(lines.slice(-3)).toEqual([
      { status: "verifying sha256 digest" },
      { status: "writing manifest" },
      { status: "success" },
    ]);
    const progress = lines.slice(1, -3);
    const byDigest = new Map<string, Json[]>();
    for (const p of progress) {
      expect(p.status).toBe(`pulling ${p.digest.slice(7, 19)}`);
      expect(p.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      byDigest.set(p.digest, [...(byDigest.get(p.digest) ?? []), p]);
    }
    expect([...byDigest.values()].map((ls) => ls[0].total)).toEqual([1000, 300, 50]);
    for (const ls of byDigest.values()) {
      expect(ls[0]).not.toHaveProperty("completed"); // omitted while 0
      const completed = ls.map((l) => l.completed ?? 0);
      expect(completed).toEqual([...completed].sort((a, b) => a - b));
      expect(completed.at(-1)).toBe(ls[0].total);
    }
    // layers are pulled one after the other
    const order = progress.map((p) => p.digest);
    expect(order).toEqual([...byDigest.keys()].flatMap((d) => order.filter((o) => o === d)));

    const tags = await (await fetch(`${fake.url}/api/tags`)).json();
    expect(tags.models[0]).toMatchObject({ name: "qwen3:0.6b", size: 1350 });

    // a second pull finds every layer on disk: one line per layer
    const again = await ndjson(await post("/api/pull", { model: "qwen3:0.6b" }));
    expect(again.filter((l) => l.digest).every((l) => l.completed === l.total)).toBe(true);
    expect(again.filter((l) => l.digest)).toHaveLength(3);

    const quiet = await post("/api/pull", { model: "qwen3:0.6b", stream: false });
    expect([quiet.status, await quiet.json()]).toEqual([200, { status: "success" }]);
  });

  it("resumes a pull the client abandoned", async () => {
    const ac = new AbortController();
    const r = await post("/api/pull", { model: "tinyllama" }, { signal: ac.signal });
    const reader = r.body!.getReader();
    let seen = "";
    while (!seen.includes('"completed":500')) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`pull ended early: ${seen}`);
      seen += new TextDecoder().decode(value);
    }
    ac.abort();
    await fake.waitFor(() => fake.requests.filter((r) => r.path === "/api/pull").length === 1);
    await new Promise((res) => setTimeout(res, 30));
    const lines = await ndjson(await post("/api/pull", { model: "tinyllama" }));
    expect(lines[1].completed).toBeGreaterThanOrEqual(500);
    expect(lines.at(-1)).toEqual({ status: "success" });
  });

  it("unknown model: pulling manifest then the error; 500 when not streaming; 400 on a bad name", async () => {
    const r = await post("/api/pull", { model: "doesnotexist" });
    expect(r.status).toBe(200);
    expect(await ndjson(r)).toEqual([
      { status: "pulling manifest" },
      { error: "pull model manifest: file does not exist" },
    ]);
    const q = await post("/api/pull", { model: "doesnotexist", stream: false });
    expect([q.status, await q.json()]).toEqual([500, { error: "pull model manifest: file does not exist" }]);
    const bad = await post("/api/pull", { model: "bad name!" });
    expect([bad.status, await bad.json()]).toEqual([400, { error: "invalid model name" }]);
  });

  it("delete: empty 200, then 404; missing body 400", async () => {
    const r = await fetch(`${fake.url}/api/delete`, {
      method: "DELETE",
      body: JSON.stringify({ model: "llama3.2" }),
    });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("");
    const again = await fetch(`${fake.url}/api/delete`, {
      method: "DELETE",
      body: JSON.stringify({ model: "llama3.2" }),
    });
    expect([again.status, await again.json()]).toEqual([404, { error: "model 'llama3.2' not found" }]);
    const none = await fetch(`${fake.url}/api/delete`, { method: "DELETE" });
    expect([none.status, await none.json()]).toEqual([400, { error: "missing request body" }]);
    const tags = await (await fetch(`${fake.url}/api/tags`)).json();
    expect(tags.models.map((m: Json) => m.name)).toEqual(["all-minilm:latest"]);
  });
});

describe("/api/embed", () => {
  it("returns deterministic normalised vectors and a token count", async () => {
    const r = await post("/api/embed", { model: "all-minilm", input: ["hello world", "bye"] });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(Object.keys(body)).toEqual([
      "model",
      "embeddings",
      "total_duration",
      "load_duration",
      "prompt_eval_count",
    ]);
    expect(body.model).toBe("all-minilm");
    expect(body.embeddings).toHaveLength(2);
    for (const e of body.embeddings) {
      expect(e).toHaveLength(8);
      expect(Math.hypot(...e)).toBeCloseTo(1, 5);
    }
    expect(body.prompt_eval_count).toBe(2 + 2 + 1 + 2);
    const again = await (await post("/api/embed", { model: "all-minilm", input: "hello world" })).json();
    expect(again.embeddings[0]).toEqual(body.embeddings[0]);
    expect(again.embeddings[0]).not.toEqual(body.embeddings[1]);
  });

  it("errors and the empty-input case", async () => {
    const nf = await post("/api/embed", { model: "foo", input: "x" });
    expect([nf.status, await nf.json()]).toEqual([
      404,
      { error: 'model "foo" not found, try pulling it first' },
    ]);
    const bad = await post("/api/embed", { model: "all-minilm", input: [1, 2] });
    expect([bad.status, await bad.json()]).toEqual([400, { error: "invalid input type" }]);
    const empty = await post("/api/embed", { model: "all-minilm", input: [] });
    expect(await empty.text()).toBe('{"model":"all-minilm","embeddings":[]}');
  });
});

describe("setDown", () => {
  it("refuses connections while down and serves again afterwards", async () => {
    await fake.setDown(true);
    await expect(fetch(`${fake.url}/api/tags`)).rejects.toThrow();
    await fake.setDown(false);
    expect((await fetch(`${fake.url}/`)).status).toBe(200);
    await fake.setDown(true, "reset");
    await expect(fetch(`${fake.url}/api/tags`)).rejects.toThrow();
    await fake.setDown(false);
    expect((await fetch(`${fake.url}/`)).status).toBe(200);
  });
});
