/**
 * The fake Ollama for bench/api.mjs, in its own process (run with vite-node, which bench/api.mjs
 * does). Replies at once with a short text, except to requests whose last message starts with
 * "slow:", which stream BENCH_SLOW_TOKENS words BENCH_SLOW_DELAY_MS apart (the memory phase).
 * Prints one line, `{"url": ...}`, once listening.
 */
import { startFakeOllama } from "../tests/fakes/ollama";

const slowTokens = Number(process.env.BENCH_SLOW_TOKENS ?? 10);
const slowDelayMs = Number(process.env.BENCH_SLOW_DELAY_MS ?? 1000);

const fake = await startFakeOllama({
  port: Number(process.env.FAKE_OLLAMA_PORT ?? 0),
  // One token: the fake sleeps a timer (>= 1 ms) between tokens even with no delay, which is not
  // "answering at once" and made the c=1 figures noisy.
  chat: { tokens: ["Hello from the fake."] },
});
fake.setChatResolver((req) => {
  const last = Array.isArray(req?.messages) ? req.messages.at(-1)?.content : undefined;
  if (typeof last === "string" && last.startsWith("slow:")) {
    return {
      tokens: Array.from({ length: slowTokens }, (_, i) => (i ? " w" : "w")),
      tokenDelayMs: slowDelayMs,
    };
  }
  return undefined;
});
// The fake logs every request for tests to inspect; a benchmark sends hundreds of thousands.
setInterval(() => {
  fake.requests.length = 0;
  fake.chats.length = 0;
}, 1000).unref();
console.log(JSON.stringify({ url: fake.url }));
const stop = () => void fake.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
