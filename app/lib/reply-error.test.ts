import { describe, expect, it } from "vitest";
import { describeReplyError, type ReplyErrorKind } from "./reply-error";

// Real error texts: Ollama's (quoted in /work/shared/specs/upstream-protocols.md, or seen in Ollama
// issues and server logs), and the ones our own client writes when it cannot reach Ollama.
const cases: [string, ReplyErrorKind][] = [
  ["an error was encountered while running the model: unexpected EOF", "crashed"],
  ["an error was encountered while running the model", "crashed"],
  ["llama runner process has terminated: exit status 2", "crashed"],
  ["llama runner process has terminated: signal: segmentation fault (core dumped)", "crashed"],
  [
    "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details",
    "crashed",
  ],
  ["Ollama ended the reply early (connection closed).", "crashed"],
  ["The connection to Ollama broke: other side closed", "crashed"],
  ["model requires more system memory (12.3 GiB) than is available (7.6 GiB)", "memory"],
  ["llama runner process has terminated: error:CUDA error: out of memory", "memory"],
  ["llama runner process has terminated: cudaMalloc failed: out of memory", "memory"],
  [
    "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 4096.00 MiB on device 0: cudaMalloc failed: out of memory",
    "memory",
  ],
  ["insufficient memory for model", "memory"],
  ["model 'llama3:13b' not found", "not-found"],
  ['model "foo" not found, try pulling it first', "not-found"],
  ["pull model manifest: file does not exist", "not-found"],
  ["Could not reach Ollama: connect ECONNREFUSED 127.0.0.1:11434", "unreachable"],
  ["Could not reach Ollama: fetch failed", "unreachable"],
  ["Could not reach Ollama: getaddrinfo ENOTFOUND ollama", "unreachable"],
  ["Could not reach Ollama: connect ETIMEDOUT 10.0.0.5:11434", "unreachable"],
  ["timed out waiting for llama runner to start - progress 0.00 - ", "timeout"],
  ["Could not reach Ollama: Headers Timeout Error", "timeout"],
  ["context deadline exceeded", "timeout"],
  ["the input length exceeds the context length", "context-too-long"],
  ["input length exceeds maximum context length", "context-too-long"],
  ["server busy, please try again.  maximum pending requests exceeded", "busy"],
  ['"all-minilm" does not support chat', "unsupported"],
  ['"llama3.2" does not support thinking', "unsupported"],
  ["The server restarted while this reply was being written.", "interrupted"],
  ["This reply was interrupted (the server stopped while writing it).", "interrupted"],
  ["Something went wrong while generating.", "other"],
  ["json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool", "other"],
];

describe("describeReplyError", () => {
  it.each(cases)("%s → %s", (raw, kind) => {
    expect(describeReplyError(raw).kind).toBe(kind);
  });

  it("always gives a sentence and advice, never the raw text", () => {
    for (const [raw] of cases) {
      const view = describeReplyError(raw);
      expect(view.sentence).toMatch(/^[A-Z].*\.$/);
      expect(view.advice).toMatch(/\.$/);
      expect(view.sentence).not.toContain(raw);
    }
  });

  it("treats a missing error as other", () => {
    expect(describeReplyError(null).kind).toBe("other");
    expect(describeReplyError("").kind).toBe("other");
  });
});
