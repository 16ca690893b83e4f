import { randomBytes } from "node:crypto";
import { env } from "../env.server";

/** A fresh nonce per document: the only inline scripts allowed are React Router's own, carrying it. */
export function createNonce() {
  return randomBytes(16).toString("base64");
}

/**
 * Headers every HTML document and data response gets.
 * - Content-Security-Policy: scripts only from this origin or with the document's nonce, so
 *   injected markup cannot run script even if it got past rendering; no plugins, no <base>
 *   hijacking; images from this origin or data:/blob: only (a message cannot load a tracking
 *   pixel); forms only to this origin and to the configured sign-in providers (the OAuth start
 *   page redirects there, which form-action also governs). Inline style attributes are allowed:
 *   code highlighting sets colours that way. Left off under `react-router dev`, whose
 *   hot-reload client needs inline scripts and websockets.
 * - Cache-Control: private, no-store, unless the route chose otherwise: pages show signed-in
 *   users' chats and keys, which no shared cache or back/forward restore should keep.
 */
export function setDocumentHeaders(headers: Headers, nonce?: string) {
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Referrer-Policy", "strict-origin-when-cross-origin");
  // Pages may not be framed by other sites; the embed routes (a later issue) opt out explicitly.
  const framable = headers.has("X-Frame-Options");
  if (!framable) headers.set("X-Frame-Options", "DENY");
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", "private, no-store");
  if (nonce && env().NODE_ENV !== "development" && !headers.has("Content-Security-Policy")) {
    headers.set("Content-Security-Policy", contentSecurityPolicy(nonce, framable));
  }
}

function contentSecurityPolicy(nonce: string, framable: boolean) {
  const config = env();
  const formTargets = ["'self'"];
  if (config.GITHUB_CLIENT_ID) formTargets.push(new URL(config.GITHUB_URL).origin);
  if (config.GOOGLE_CLIENT_ID) formTargets.push(new URL(config.GOOGLE_AUTHORIZATION_URL).origin);
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action ${formTargets.join(" ")}`,
    ...(framable ? [] : ["frame-ancestors 'none'"]),
  ].join("; ");
}
