import type { ChatScript, Json } from "../fakes/ollama";

/**
 * The browser tests share one fake Ollama across parallel workers, so a test picks the fake's
 * behaviour through its message: a marker like [[slow]] selects one of these scripts.
 */
const seen = new Set<string>();

/** A reasoning model the browser tests' fake Ollama has besides its defaults (listed last: oldest). */
export const THINKING_MODEL = {
  name: "qwen3:latest",
  family: "qwen3",
  parameterSize: "8.2B",
  quantization: "Q4_K_M",
  contextLength: 40960,
  capabilities: ["completion", "thinking"],
  parameters: "temperature 0.6\ntop_p 0.95",
};

/** The question of the README's screenshots (no marker: it is shown as a person would type it). */
export const README_QUESTION = "How do I remove duplicate lines from a file in Python, keeping their order?";
const README_ANSWER = [
  "Read the lines, keep the first time you see each one, and write them back. A `dict` remembers",
  "insertion order, so it does both jobs at once:",
  "",
  "```python",
  "from pathlib import Path",
  "",
  "def dedupe(path: str) -> int:",
  "    lines = Path(path).read_text().splitlines()",
  "    unique = list(dict.fromkeys(lines))",
  '    Path(path).write_text("\\n".join(unique) + "\\n")',
  "    return len(lines) - len(unique)",
  "```",
  "",
  "| approach | keeps order | memory |",
  "|---|---|---|",
  "| `dict.fromkeys` | yes | all unique lines |",
  "| `set` | no | all unique lines |",
  "| `sort -u` (shell) | no | streams |",
].join("\n");

export function scriptForMessage(req: Json): ChatScript | undefined {
  const last: string = req.messages?.at(-1)?.content ?? "";
  if (last === README_QUESTION) return { reply: README_ANSWER, tokenDelayMs: 5 };
  const marker = last.match(/\[\[([a-z-]+)\]\]/)?.[1];
  switch (marker) {
    case "slow":
      return { reply: Array.from({ length: 120 }, (_, i) => `word${i}`).join(" "), tokenDelayMs: 60 };
    case "fail-once":
      // Fails the first time a given message is sent, succeeds on retry.
      if (!seen.has(last)) {
        seen.add(last);
        return {
          reply: "partial answer before the crash",
          failAfterTokens: { count: 2, error: "model runner has unexpectedly stopped" },
        };
      }
      return { reply: "Recovered answer." };
    case "hostile":
      return {
        reply: [
          "Careful: <script>window.__pwned = true</script>",
          '<img src="x" onerror="window.__pwned = true">',
          "[click me](javascript:window.__pwned=true) and [docs](https://example.com/docs)",
        ].join("\n\n"),
      };
    case "think-slow":
      // Thinking for about nine seconds, so a loaded machine still sees it while it streams.
      return {
        thinking: Array.from({ length: 60 }, (_, i) => `step${i} `),
        reply: "Slowly answered.",
        tokenDelayMs: 150,
      };
    case "think":
      // The fake drops the thinking when the request says think:false.
      return {
        thinking: [
          "The user asks about the sky. ",
          ...Array.from({ length: 20 }, (_, i) => `step${i} `),
          "Rayleigh scattering <b>explains</b> it.",
        ],
        reply: "Because of Rayleigh scattering.",
        tokenDelayMs: 80,
      };
    case "see": {
      // The vision model says how many images it got with the message, so a test sees they arrived.
      const count = req.messages?.at(-1)?.images?.length ?? 0;
      return { reply: `I see ${count} image${count === 1 ? "" : "s"}.` };
    }
    case "markdown":
      return {
        reply:
          "Here is code:\n\n```js\nconst answer = 42;\n```\n\n| name | value |\n|---|---|\n| a | 1 |\n\n- one\n- two",
      };
    case "long":
    case "long-slow":
      // Taller than any screen: the composer must stay in view while it streams in. The slow one
      // takes about 15 s, long enough for a reader to scroll away while it is written.
      return {
        reply: Array.from({ length: 60 }, (_, i) => `Paragraph ${i + 1} of a long answer.`).join("\n\n"),
        tokenDelayMs: marker === "long" ? 5 : 35,
      };
    case "wide":
      // Wider than a phone: a table with many columns, an unbroken word and a long URL.
      return {
        reply: [
          `| ${Array.from({ length: 12 }, (_, i) => `column number ${i}`).join(" | ")} |`,
          `|${" --- |".repeat(12)}`,
          `| ${Array.from({ length: 12 }, (_, i) => `value-${i}-${"x".repeat(12)}`).join(" | ")} |`,
          "",
          `A long word: ${"supercalifragilistic".repeat(6)} and a link https://example.com/${"very-long-path-segment/".repeat(6)}end`,
          "",
          "```text",
          `${"wide code line ".repeat(20)}`,
          "```",
        ].join("\n"),
      };
    case "crash":
      // Ollama's own words when the runner dies mid-reply.
      return {
        reply: "the start of an answer",
        failAfterTokens: {
          count: 2,
          error: "an error was encountered while running the model: unexpected EOF",
        },
      };
    case "oom":
      return {
        reply: "never sent",
        failBeforeStart: {
          status: 500,
          error: "model requires more system memory (12.3 GiB) than is available (7.6 GiB)",
        },
      };
    default:
      return { reply: `You said: ${last.slice(0, 80)}` };
  }
}
