import { describe, expect, test } from "vitest";
import { canonicalModelName, isModelAllowed } from "./keys.server";
import { goDuration } from "./limits.server";

describe("goDuration", () => {
  test("formats like Go's time.Duration, as OpenAI's reset headers do", () => {
    expect(goDuration(0)).toBe("0ms");
    expect(goDuration(12.2)).toBe("13ms");
    expect(goDuration(1000)).toBe("1s");
    expect(goDuration(1001)).toBe("2s");
    expect(goDuration(59_000)).toBe("59s");
    expect(goDuration(360_000)).toBe("6m0s");
    expect(goDuration(3_723_000)).toBe("1h2m3s");
  });
});

describe("model allow-lists", () => {
  test("a missing tag means :latest, as in Ollama; namespaces and hosts are kept", () => {
    expect(canonicalModelName("llama3.2")).toBe("llama3.2:latest");
    expect(canonicalModelName("hf.co/org/model:Q4_K_M")).toBe("hf.co/org/model:Q4_K_M");
    expect(canonicalModelName("localhost:5000/model")).toBe("localhost:5000/model:latest");
  });

  test("empty allows everything; otherwise only the listed models", () => {
    expect(isModelAllowed({ allowedModels: [] }, "anything")).toBe(true);
    expect(isModelAllowed({ allowedModels: ["llama3.2"] }, "llama3.2:latest")).toBe(true);
    expect(isModelAllowed({ allowedModels: ["llama3.2:latest"] }, "llama3.2")).toBe(true);
    expect(isModelAllowed({ allowedModels: ["llama3.2"] }, "llama3.2:1b")).toBe(false);
  });
});
