import { Agent, type Dispatcher, request } from "undici";
import { env } from "../env.server";

/**
 * The one way this app talks HTTP to Ollama: undici's `request` over a keep-alive agent of our
 * own, rather than the global `fetch`. Measured on the API hot path (docs/decisions/0005), fetch
 * cost about 0.3 ms of CPU per call in Web Request/Response/stream objects, which capped a whole
 * process at ~2,000 upstream calls a second before any of our own work; `request` is the same
 * HTTP client without that layer.
 *
 * undici is pinned to the 6.x line that Node 20 bundles: importing the package installs its Agent
 * as the process-wide dispatcher behind the global `fetch` too, and undici 7's Agent breaks Node
 * 20's built-in fetch (every request with a body failed with "invalid content-length header",
 * which took down OAuth token exchanges).
 *
 * undici's own timeouts are off: how long a model may think is ours to decide
 * (OLLAMA_TIMEOUT_MS on /api/v1, the user's Stop button in chat), and a non-streamed answer sends
 * no headers until it is complete, so the default 300 s headers timeout would cut long answers.
 */
const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000 });

export type OllamaResponse = Dispatcher.ResponseData;

interface OllamaTarget {
  /** Scheme, host, port and path prefix: never any credentials. */
  base: string;
  /** Basic credentials from OLLAMA_URL (Ollama behind an authenticating proxy), sent as a header. */
  authorization?: string;
}
let target: OllamaTarget | undefined;

/**
 * OLLAMA_URL split into where to send requests and how to authenticate. Credentials in the URL
 * (`http://user:pass@host`) go into an Authorization header and nowhere else, so no log line, error
 * message or page can show them: everything that names Ollama uses ollamaDisplayUrl().
 */
function ollamaTarget(): OllamaTarget {
  if (target) return target;
  const url = new URL(env().OLLAMA_URL);
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`
      : undefined;
  url.username = "";
  url.password = "";
  target = { base: url.href.replace(/\/+$/, ""), authorization };
  return target;
}

/**
 * A belt to the braces above: an error text that somehow carries OLLAMA_URL's password (a proxy
 * echoing its request line, a library quoting the URL) has it masked before anyone sees it.
 */
export function withoutOllamaCredentials(text: string) {
  const { password, username } = new URL(env().OLLAMA_URL);
  let safe = text;
  for (const secret of [password, decodeURIComponent(password)].filter((value) => value.length >= 1)) {
    safe = safe.split(secret).join("***");
  }
  if (username) safe = safe.split(`${username}:***@`).join("");
  return safe;
}

/** Where Ollama is, for logs and admins: scheme, host and port, without credentials. */
export function ollamaDisplayUrl() {
  return ollamaTarget().base;
}

export function ollamaRequest(
  path: string,
  options: { method?: "GET" | "POST" | "DELETE"; json?: unknown; signal?: AbortSignal } = {},
): Promise<OllamaResponse> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const { base, authorization } = ollamaTarget();
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (authorization) headers.authorization = authorization;
  return request(`${base}${path}`, {
    dispatcher: agent,
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    signal: options.signal,
  });
}

export function isOk(response: OllamaResponse) {
  return response.statusCode >= 200 && response.statusCode < 300;
}

/** At shutdown, after the grace period: whatever is still open to Ollama is cut. */
export function closeOllamaConnections() {
  return agent.destroy();
}
