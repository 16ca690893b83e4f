import { env } from "../env.server";

/** What the origin of a request is worked out from: its headers and whether the socket was TLS. */
export interface OriginSource {
  header(name: string): string | null | undefined;
  encrypted: boolean;
}

// A host as a browser sends it: a name or an IPv4/IPv6 address, optionally with a port.
const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The origin this request was addressed to, as the browser saw it. With TRUST_PROXY, our own proxy's
 * X-Forwarded-Proto and X-Forwarded-Host (their first values: the client-facing hop) win over the
 * socket and Host; a missing or malformed host falls back to APP_URL's, never to a guess.
 */
export function requestOrigin(source: OriginSource): string {
  const config = env();
  const appUrl = new URL(config.APP_URL);
  const first = (name: string) => source.header(name)?.split(",")[0]?.trim().toLowerCase() || undefined;
  let protocol = source.encrypted ? "https:" : "http:";
  let host = first("host");
  if (config.TRUST_PROXY) {
    const forwardedProto = first("x-forwarded-proto");
    if (forwardedProto === "http" || forwardedProto === "https") protocol = `${forwardedProto}:`;
    host = first("x-forwarded-host") ?? host;
  }
  if (!host || !HOST.test(host)) host = appUrl.host;
  return `${protocol}//${host}`;
}

/** APP_URL's origin: the address users are told to open, always accepted as our own. */
export function publicOrigin() {
  return new URL(env().APP_URL).origin;
}

/**
 * Whether a state-changing request came from one of our own pages. Browsers send Origin on every
 * cross-site POST; a request without one (curl, a script) cannot carry a victim's cookies from
 * another site, so it is let through, as React Router's own check does. "null" (sandboxed frames,
 * privacy-stripped redirects) is refused.
 */
export function isSameOriginRequest(request: Request) {
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  return origin === new URL(request.url).origin || origin === publicOrigin();
}
