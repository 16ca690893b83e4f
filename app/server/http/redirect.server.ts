import { publicOrigin } from "./origin.server";

/**
 * A redirect target from a form or query string, made safe: parsed as a URL against our own
 * origin, exactly as a browser would parse the Location header (tabs and newlines dropped,
 * backslashes read as slashes), and kept only if it stays on this origin. "/\t/evil.example",
 * "/\\evil.example" and "//evil.example" all name another host, so they fall back. What is
 * returned is the parser's normalised, percent-encoded path, so CR/LF cannot reach a header.
 */
export function safeRedirectPath(value: FormDataEntryValue | string | null | undefined, fallback = "/") {
  if (typeof value !== "string" || !value.startsWith("/")) return fallback;
  const origin = publicOrigin();
  let target: URL;
  try {
    target = new URL(value, origin);
  } catch {
    return fallback;
  }
  if (target.origin !== origin) return fallback;
  return target.pathname + target.search + target.hash;
}
