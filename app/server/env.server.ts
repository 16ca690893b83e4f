import { z } from "zod";

/**
 * The whole configuration surface. Parsed once at boot; nothing else reads process.env.
 * Empty strings count as unset, because docker-compose passes `FOO=` for blank .env entries.
 */
const emptyAsUndefined = (value: unknown) => (value === "" ? undefined : value);

const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());
const optionalUrl = (protocols: string[]) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((value) => isUrlWithProtocol(value, protocols), {
        message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
      })
      .optional(),
  );
const urlWithDefault = (fallback: string) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((value) => isUrlWithProtocol(value, ["http:", "https:"]), {
        message: "expected a URL starting with http:// or https://",
      })
      .default(fallback)
      .transform((value) => value.replace(/\/+$/, "")),
  );
const integer = (fallback: number, min: number, max: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ message: "expected an integer" })
      .int({ message: "expected an integer" })
      .min(min, { message: `expected an integer >= ${min}` })
      .max(max, { message: `expected an integer <= ${max}` })
      .default(fallback),
  );
const booleanFlag = (fallback: boolean) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { message: "expected true or false" })
      .default(fallback ? "true" : "false")
      .transform((value) => value === "true" || value === "1" || value === "yes"),
  );

function isUrlWithProtocol(value: string, protocols: string[]) {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export const envSchema = z
  .object({
    NODE_ENV: z.preprocess(
      emptyAsUndefined,
      z.enum(["development", "production", "test"]).default("production"),
    ),
    PORT: integer(3000, 0, 65535),
    HOST: z.preprocess(emptyAsUndefined, z.string().default("0.0.0.0")),
    APP_URL: optionalUrl(["http:", "https:"]),
    DATABASE_URL: optionalUrl(["postgres:", "postgresql:"]),
    DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default("./data")),
    REDIS_URL: optionalUrl(["redis:", "rediss:"]),
    REDIS_KEY_PREFIX: z.preprocess(emptyAsUndefined, z.string().default("ccai:")),
    OLLAMA_URL: optionalUrl(["http:", "https:"]),
    LLM_API_BASE_URL: optionalUrl(["http:", "https:"]),
    SESSION_SECRET: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .refine((value) => value.split(",").every((secret) => secret.trim().length >= 32), {
          message: "expected one or more comma-separated secrets of at least 32 characters each",
        })
        .optional(),
    ),
    SESSION_MAX_AGE_DAYS: integer(30, 1, 365),
    RATE_LIMIT_REQUESTS: integer(100, 1, 1_000_000),
    RATE_LIMIT_WINDOW: integer(60_000, 1_000, 86_400_000),
    // Default tokens per minute per API key; 0 = no token limit unless an admin sets one on a key.
    RATE_LIMIT_TOKENS_PER_MINUTE: integer(0, 0, 1_000_000_000),
    // Raw API usage events are deleted after this many days; daily roll-ups after USAGE_DAILY_RETENTION_DAYS.
    USAGE_RETENTION_DAYS: integer(90, 1, 3650),
    USAGE_DAILY_RETENTION_DAYS: integer(730, 1, 36_500),
    // Stored Responses API responses (/api/v1/responses, store: true) are deleted after this many days.
    RESPONSES_RETENTION_DAYS: integer(30, 1, 3650),
    LOGIN_MAX_FAILURES: integer(5, 1, 1000),
    LOGIN_MAX_FAILURES_PER_IP: integer(50, 1, 100_000),
    LOGIN_BLOCK_SECONDS: integer(900, 1, 86_400),
    SIGNUP_MAX_PER_IP: integer(20, 1, 1_000_000),
    // Whether anyone may create an account (password or OAuth). The default for the switch on
    // /admin/users, which overrides it once used; the very first account can always be created.
    ALLOW_SIGNUP: booleanFlag(true),
    GOOGLE_CLIENT_ID: optionalString,
    GOOGLE_CLIENT_SECRET: optionalString,
    GITHUB_CLIENT_ID: optionalString,
    GITHUB_CLIENT_SECRET: optionalString,
    // Provider endpoints: overridable for GitHub Enterprise Server and for tests against a fake provider.
    GITHUB_URL: urlWithDefault("https://github.com"),
    GITHUB_API_URL: urlWithDefault("https://api.github.com"),
    GOOGLE_ISSUER: urlWithDefault("https://accounts.google.com"),
    GOOGLE_AUTHORIZATION_URL: urlWithDefault("https://accounts.google.com/o/oauth2/v2/auth"),
    GOOGLE_TOKEN_URL: urlWithDefault("https://oauth2.googleapis.com/token"),
    // Unlocks /api/health's details (versions, timings, error messages) for monitoring; admins see them too.
    HEALTH_TOKEN: z.preprocess(
      emptyAsUndefined,
      z.string().min(16, { message: "expected at least 16 characters" }).optional(),
    ),
    // Who may call /api/v1 from a browser: "*" (any site; keys, not cookies, authenticate) or a
    // comma-separated list of origins such as https://app.example,http://localhost:5173.
    CORS_ORIGINS: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .default("*")
        .transform((value, context) => {
          if (value.trim() === "*") return "*" as const;
          const origins = value
            .split(",")
            .map((origin) => origin.trim())
            .filter(Boolean);
          for (const origin of origins) {
            let parsed: URL | undefined;
            try {
              parsed = new URL(origin);
            } catch {}
            if (!parsed || parsed.origin !== origin) {
              context.addIssue({
                code: "custom",
                message: `expected "*" or origins like https://app.example (got "${origin}")`,
              });
              return z.NEVER;
            }
          }
          return origins;
        }),
    ),
    TRUST_PROXY: booleanFlag(false),
    // server.ts answers /api/v1 itself instead of through React Router (docs/decisions/0005).
    API_FAST_PATH: booleanFlag(true),
    LOG_LEVEL: z.preprocess(
      emptyAsUndefined,
      z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
    ),
    SHUTDOWN_GRACE_MS: integer(10_000, 0, 600_000),
    CHAT_MAX_CONTEXT_TOKENS: integer(8192, 512, 1_048_576),
    OLLAMA_TIMEOUT_MS: integer(300_000, 1_000, 3_600_000),
    MAX_REQUEST_BYTES: integer(10_485_760, 1_024, 104_857_600),
    // Page forms (everything outside /api/v1): a chat message is at most 32,000 characters.
    MAX_FORM_BYTES: integer(1_048_576, 1_024, 104_857_600),
    // How long a request body may take to arrive, on pages and the API alike (413/408 answers).
    REQUEST_BODY_TIMEOUT_MS: integer(60_000, 1_000, 3_600_000),
  })
  .transform((env) => {
    const port = env.PORT;
    return {
      ...env,
      APP_URL: (env.APP_URL ?? `http://localhost:${port || 3000}`).replace(/\/+$/, ""),
      // The brief's LLM_API_BASE_URL pointed at Ollama's /v1 layer; we talk to the native API.
      OLLAMA_URL: (
        env.OLLAMA_URL ??
        env.LLM_API_BASE_URL?.replace(/\/v1\/?$/, "") ??
        "http://127.0.0.1:11434"
      ).replace(/\/+$/, ""),
      SESSION_SECRETS: env.SESSION_SECRET?.split(",").map((secret) => secret.trim()),
    };
  });

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {}

/** Parses an environment; throws EnvError with one line per problem, naming the variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    // Secrets and connection URLs (which may embed passwords) are never echoed back.
    const shown = /SECRET|_URL$/.test(name) ? "" : ` (got ${JSON.stringify(source[name] ?? "")})`;
    return `Invalid environment variable ${name}: ${issue.message}${shown}`;
  });
  throw new EnvError(lines.join("\n"));
}

let current: Env | undefined;

export function loadEnv(): Env {
  current ??= parseEnv(process.env);
  return current;
}

export function env(): Env {
  return current ?? loadEnv();
}
