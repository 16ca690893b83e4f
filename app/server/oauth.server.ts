import { createCookie, redirect } from "react-router";
import {
  OAuth2RequestError,
  OAuth2Strategy,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
} from "remix-auth-oauth2";
import { z } from "zod";
import {
  type OAuthIdentity,
  OAuthSignInError,
  type SessionUser,
  safeRedirectPath,
  signInWithOAuth,
} from "./auth.server";
import { env } from "./env.server";
import { errorFields, log } from "./log.server";
import { createSession, type SessionMeta } from "./session.server";

/**
 * Sign-in with GitHub and Google through remix-auth-oauth2 (authorization code + PKCE + state).
 * Each provider is on only when both its client id and secret are set. The strategy keeps the
 * state and PKCE verifier in a short-lived cookie; we keep where to return to in a second one.
 * Account rules (link, create, refuse) live in auth.server.ts `signInWithOAuth`.
 */
const providerLabels = { github: "GitHub", google: "Google" } as const;
export type OAuthProviderId = keyof typeof providerLabels;
export interface OAuthProvider {
  id: OAuthProviderId;
  label: string;
}

/** Long enough to create a provider account or pass two-factor prompts mid-flow. */
const FLOW_MAX_AGE_SECONDS = 600;
const PROVIDER_TIMEOUT_MS = 10_000;

type Tokens = OAuth2Strategy.VerifyOptions["tokens"];

/** The provider answered, but not with something we can use. Shown as "sign-in failed". */
class OAuthProviderError extends Error {}

let strategies: Map<OAuthProviderId, OAuth2Strategy<SessionUser>> | undefined;

function configuredStrategies() {
  if (strategies) return strategies;
  const config = env();
  strategies = new Map();
  if (config.GITHUB_CLIENT_ID && config.GITHUB_CLIENT_SECRET) {
    strategies.set(
      "github",
      new OAuth2Strategy(
        {
          ...strategyOptions("github"),
          clientId: config.GITHUB_CLIENT_ID,
          clientSecret: config.GITHUB_CLIENT_SECRET,
          authorizationEndpoint: `${config.GITHUB_URL}/login/oauth/authorize`,
          tokenEndpoint: `${config.GITHUB_URL}/login/oauth/access_token`,
          // The primary email and whether it is verified come from /user/emails.
          scopes: ["user:email"],
        },
        async ({ tokens }) => signInWithOAuth(await githubIdentity(tokens)),
      ),
    );
  }
  if (config.GOOGLE_CLIENT_ID && config.GOOGLE_CLIENT_SECRET) {
    const clientId = config.GOOGLE_CLIENT_ID;
    strategies.set(
      "google",
      new OAuth2Strategy(
        {
          ...strategyOptions("google"),
          clientId,
          clientSecret: config.GOOGLE_CLIENT_SECRET,
          authorizationEndpoint: config.GOOGLE_AUTHORIZATION_URL,
          tokenEndpoint: config.GOOGLE_TOKEN_URL,
          scopes: ["openid", "email", "profile"],
        },
        async ({ tokens }) => signInWithOAuth(googleIdentity(tokens, clientId)),
      ),
    );
  }
  return strategies;
}

function strategyOptions(provider: OAuthProviderId) {
  return {
    redirectURI: `${env().APP_URL}/auth/${provider}/callback`,
    cookie: {
      name: stateCookiePrefix(provider),
      httpOnly: true as const,
      ...(isSecure() ? { secure: true as const } : {}),
      sameSite: "Lax" as const,
      path: "/",
      maxAge: FLOW_MAX_AGE_SECONDS,
    },
  };
}

const isSecure = () => env().APP_URL.startsWith("https:");
const cookiePrefix = () => (isSecure() ? "__Host-" : "");
/** The strategy appends ":<uuid>" per flow, so several tabs can sign in at once. */
const stateCookiePrefix = (provider: OAuthProviderId) => `${cookiePrefix()}ccai_oauth_state_${provider}`;

export function enabledOAuthProviders(): OAuthProvider[] {
  return [...configuredStrategies().keys()].map((id) => ({ id, label: providerLabels[id] }));
}

/** Configuration mistakes worth a warning at boot; none of them stops the server. */
export function oauthConfigProblems(): string[] {
  const config = env();
  const problems: string[] = [];
  for (const [name, id, secret] of [
    ["GITHUB", config.GITHUB_CLIENT_ID, config.GITHUB_CLIENT_SECRET],
    ["GOOGLE", config.GOOGLE_CLIENT_ID, config.GOOGLE_CLIENT_SECRET],
  ] as const) {
    if (Boolean(id) !== Boolean(secret))
      problems.push(`${name} sign-in is off: set both ${name}_CLIENT_ID and ${name}_CLIENT_SECRET`);
  }
  const enabled = configuredStrategies();
  const endpoints = [
    ...(enabled.has("github") ? [config.GITHUB_URL, config.GITHUB_API_URL] : []),
    ...(enabled.has("google") ? [config.GOOGLE_AUTHORIZATION_URL, config.GOOGLE_TOKEN_URL] : []),
  ];
  // Access tokens, and the ID token whose signature we do not check, rely on TLS (see googleIdentity).
  if (endpoints.some((url) => !url.startsWith("https:")))
    problems.push("an OAuth provider endpoint is not https: only acceptable for a local test provider");
  return problems;
}

function strategyFor(provider: string | undefined) {
  const id = provider as OAuthProviderId;
  const strategy = Object.hasOwn(providerLabels, id) ? configuredStrategies().get(id) : undefined;
  if (!strategy) throw new Response("There is no such sign-in provider.", { status: 404 });
  return { id, strategy };
}

// Where to go after signing in, bound to the flow's state so another tab cannot swap it. Not signed:
// it is re-validated with safeRedirectPath when read, and only this origin can set it.
const returnCookie = () =>
  createCookie(`${cookiePrefix()}ccai_oauth_return`, {
    httpOnly: true,
    secure: isSecure(),
    sameSite: "lax",
    path: "/",
    maxAge: FLOW_MAX_AGE_SECONDS,
  });

/** Starts a sign-in: the redirect to the provider, with the flow's cookies. Unknown provider: 404. */
export async function startOAuthSignIn(
  request: Request,
  provider: string | undefined,
  redirectTo: FormDataEntryValue | string | null,
): Promise<Response> {
  const { strategy } = strategyFor(provider);
  let response: Response;
  try {
    // Without ?state= in its URL the strategy starts a flow, which it does by throwing the redirect.
    const url = new URL(request.url);
    url.search = "";
    await strategy.authenticate(new Request(url));
    throw new Error("the OAuth strategy did not redirect to the provider");
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown;
    response = thrown;
  }
  const location = response.headers.get("Location") ?? "";
  const state = new URL(location).searchParams.get("state");
  const headers = new Headers(response.headers);
  headers.append("Set-Cookie", await returnCookie().serialize({ state, to: safeRedirectPath(redirectTo) }));
  headers.set("Cache-Control", "no-store");
  return new Response(null, { status: 302, headers });
}

export type OAuthFailure = "denied" | "state" | "provider" | OAuthSignInError["reason"];

/**
 * Finishes a sign-in on the provider's redirect back: a session and a redirect to where the user
 * was going, or a redirect to /login?error=… with a readable reason. Never throws for anything the
 * provider or the browser sent; an unknown provider is a 404.
 */
export async function finishOAuthSignIn(
  request: Request,
  provider: string | undefined,
  meta: SessionMeta,
): Promise<Response> {
  const { id, strategy } = strategyFor(provider);
  const state = new URL(request.url).searchParams.get("state");
  const saved = await returnCookie().parse(request.headers.get("cookie"));
  const returnTo = saved && saved.state === state ? safeRedirectPath(saved.to) : "/";
  const headers = new Headers({ "Cache-Control": "no-store" });
  for (const cookie of await expiredFlowCookies(request, id)) headers.append("Set-Cookie", cookie);

  try {
    // Without a state the strategy would quietly start a new flow; a genuine callback always has one.
    if (!state) throw new RangeError("Missing state in the callback URL.");
    const user = await strategy.authenticate(request);
    headers.append("Set-Cookie", await createSession(user.id, meta));
    return redirect(returnTo, { headers });
  } catch (error) {
    const reason = failureReason(error);
    const fields = { provider: id, reason, ...errorFields(error) };
    if (reason !== "provider") log.info("oauth sign-in refused", fields);
    else if (isProviderError(error)) log.warn("oauth sign-in failed", fields);
    // Our side failed (database, session store, a bug): the user still gets the login page.
    else log.error("oauth sign-in failed", { ...fields, stack: (error as Error)?.stack });
    const params = new URLSearchParams({ error: reason, provider: id });
    if (returnTo !== "/") params.set("redirectTo", returnTo);
    return redirect(`/login?${params}`, { headers });
  }
}

function failureReason(error: unknown): OAuthFailure {
  if (error instanceof OAuthSignInError) return error.reason;
  if (error instanceof OAuth2RequestError) return error.code === "access_denied" ? "denied" : "provider";
  // remix-auth-oauth2 reports a missing or mismatched state cookie, or a missing code, this way.
  if (error instanceof RangeError || error instanceof ReferenceError) return "state";
  return "provider";
}

function isProviderError(error: unknown) {
  return (
    error instanceof OAuthProviderError ||
    error instanceof OAuth2RequestError ||
    error instanceof UnexpectedResponseError ||
    error instanceof UnexpectedErrorResponseBodyError
  );
}

/** The flow is over either way: expire its state cookies (every tab's, for this provider). */
async function expiredFlowCookies(request: Request, provider: OAuthProviderId) {
  const prefix = stateCookiePrefix(provider);
  const names = (request.headers.get("cookie") ?? "")
    .split(";")
    .map((pair) => pair.split("=")[0].trim())
    .filter((name) => name.startsWith(prefix));
  const secure = isSecure() ? "; Secure" : "";
  return [
    ...names.map((name) => `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure}`),
    await returnCookie().serialize("", { maxAge: 0 }),
  ];
}

/** What the login page says for /login?error=…&provider=…, and the status it answers with. */
export function describeOAuthFailure(reason: string | null, provider: string | null) {
  const label = Object.hasOwn(providerLabels, provider ?? "")
    ? providerLabels[provider as OAuthProviderId]
    : "The provider";
  const failures: Record<OAuthFailure, { status: number; message: string }> = {
    denied: { status: 401, message: `Signing in with ${label} was cancelled.` },
    state: {
      status: 400,
      message: "That sign-in attempt expired or was started in another browser. Try again.",
    },
    provider: { status: 502, message: `Signing in with ${label} failed. Try again in a moment.` },
    disabled: { status: 403, message: "This account is disabled. Ask an administrator." },
    "email-unverified": {
      status: 409,
      message: `An account with this email already exists, but ${label} has not verified the address, so it was not linked. Log in with your password, or verify the email with ${label} and try again.`,
    },
    "signup-closed": {
      status: 403,
      message: `There is no account for this ${label} identity, and new accounts can only be created by an administrator.`,
    },
    "no-verified-email": {
      status: 400,
      message: `${label} did not share a verified email address. Verify your email with ${label} and try again.`,
    },
  };
  return Object.hasOwn(failures, reason ?? "") ? failures[reason as OAuthFailure] : null;
}

// ---------------------------------------------------------------------------------------------
// GitHub: the token response carries no identity; ask the REST API with the access token.

const githubUserSchema = z.object({
  id: z.number(),
  login: z.string(),
  name: z.string().nullish(),
});
const githubEmailsSchema = z.array(
  z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }),
);

async function githubIdentity(tokens: Tokens): Promise<OAuthIdentity> {
  // GitHub answers a bad or reused code with 200 and an error body instead of an access token.
  const error = (tokens.data as { error?: unknown }).error;
  if (typeof error === "string") throw new OAuthProviderError(`GitHub token error: ${error}`);
  const accessToken = tokens.accessToken();
  const [user, emails] = await Promise.all([
    githubApi(accessToken, "/user", githubUserSchema),
    githubApi(accessToken, "/user/emails", githubEmailsSchema),
  ]);
  const primary = emails.find((email) => email.primary);
  return {
    provider: "github",
    // The numeric id is stable; the login can be renamed and then taken by someone else.
    providerId: String(user.id),
    email: primary?.email ?? null,
    emailVerified: primary?.verified ?? false,
    name: user.name || user.login,
  };
}

async function githubApi<T>(accessToken: string, path: string, schema: z.ZodType<T>): Promise<T> {
  const response = await fetch(`${env().GITHUB_API_URL}${path}`, {
    headers: {
      Accept: "application/vnd.github+json",
      Authorization: `Bearer ${accessToken}`,
      "User-Agent": "CustomChatAI",
      "X-GitHub-Api-Version": "2022-11-28",
    },
    signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new OAuthProviderError(`GitHub API ${path} answered ${response.status}`);
  }
  const parsed = schema.safeParse(await response.json());
  if (!parsed.success) throw new OAuthProviderError(`GitHub API ${path} returned an unexpected body`);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Google (OpenID Connect): the identity is the ID token's claims.

const googleClaimsSchema = z.object({
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  azp: z.string().optional(),
  exp: z.number(),
  sub: z.string().min(1),
  email: z.string().optional(),
  // Google sends a boolean; some older tokens carried the string "true".
  email_verified: z
    .union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")])
    .optional(),
  name: z.string().optional(),
});

/** Clock skew tolerated on the ID token's expiry. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * Reads and checks the ID token from the token response. Its signature is not checked: OpenID
 * Connect Core 1.0 §3.1.3.7 (6) allows TLS server validation in place of it when the token comes
 * straight from the token endpoint to the client, as here (we called GOOGLE_TOKEN_URL over https
 * ourselves, authenticated with the client secret). Checking it would need Google's rotating keys
 * (a JWKS fetch and cache) and a JOSE library we do not otherwise need. The claims that bind the
 * token to us are still checked: issuer, audience, authorized party and expiry (steps 2–5, 9).
 * See docs/decisions/0003-oauth-linking.md.
 */
function googleIdentity(tokens: Tokens, clientId: string): OAuthIdentity {
  const claims = googleClaimsSchema.safeParse(decodeJwtPayload(tokens.idToken()));
  if (!claims.success) throw new OAuthProviderError("Google ID token has missing or malformed claims");
  const { iss, aud, azp, exp, sub, email, email_verified, name } = claims.data;
  const issuer = env().GOOGLE_ISSUER;
  // Google documents both spellings of its issuer.
  const issuers = issuer === "https://accounts.google.com" ? [issuer, "accounts.google.com"] : [issuer];
  const audiences = typeof aud === "string" ? [aud] : aud;
  if (!issuers.includes(iss)) throw new OAuthProviderError(`Google ID token from unexpected issuer ${iss}`);
  if (!audiences.includes(clientId)) throw new OAuthProviderError("Google ID token is for another client");
  if ((audiences.length > 1 || azp !== undefined) && azp !== clientId)
    throw new OAuthProviderError("Google ID token was issued to another party");
  if (exp + CLOCK_SKEW_SECONDS < Date.now() / 1000) throw new OAuthProviderError("Google ID token expired");
  return {
    provider: "google",
    providerId: sub,
    email: email ?? null,
    emailVerified: email_verified ?? false,
    name: name ?? null,
  };
}

function decodeJwtPayload(token: string): unknown {
  const parts = token.split(".");
  if (parts.length !== 3) throw new OAuthProviderError("Google ID token is not a JWT");
  try {
    return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    throw new OAuthProviderError("Google ID token payload is not JSON");
  }
}
