import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface RunningApp {
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the process printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A key prefix unique to one test file, so parallel files never share Redis state. */
export function redisPrefix() {
  return `ccai-test:${randomBytes(4).toString("hex")}:`;
}

export function tempDir(label = "data") {
  return mkdtempSync(path.join(tmpdir(), `ccai-${label}-`));
}

/**
 * Starts the built server (`node build/server.js`) with exactly the given environment (plus PATH),
 * and waits for its "listening" log line.
 */
export async function startApp(env: Record<string, string | undefined> = {}, { waitForReady = true } = {}) {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ["build/server.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      DATA_DIR: env.DATABASE_URL ? undefined : tempDir(),
      // Every test signs its users up from 127.0.0.1; the per-address sign-up limit has its own test.
      SIGNUP_MAX_PER_IP: "100000",
      ...env,
      PORT: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const app: RunningApp = {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output: () => output,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (waitForReady) {
    const deadline = Date.now() + 45_000;
    while (!output.includes('"msg":"listening"')) {
      if (child.exitCode !== null)
        throw new Error(`app exited with ${child.exitCode} before listening:\n${output}`);
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`app did not start within 45 s:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return app;
}
