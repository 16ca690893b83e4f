/**
 * Fake OAuth provider for tests: GitHub (OAuth app web flow and REST API) and Google (OpenID
 * Connect) on one `node:http` server, each under a path prefix the app's endpoint settings point at:
 *
 *   GitHub web  {url}/github      GET /login/oauth/authorize, POST /login/oauth/access_token
 *   GitHub API  {url}/github-api  GET /user, GET /user/emails
 *   Google      {url}/google      GET /o/oauth2/v2/auth, POST /token, GET /oauth2/v3/certs
 *                                 (ID tokens are issued by {url}/google)
 *
 * It behaves like the real services where the app depends on it: authorization codes are one-time
 * and bound to the client, redirect URI and PKCE challenge; clients authenticate with HTTP Basic or
 * form fields; GitHub answers token errors with 200 and an `error` body, Google with 400/401; GitHub's
 * API wants `Authorization: Bearer|token`; Google's ID token is an RS256 JWT (keys at /certs).
 *
 * There is no consent page: the authorize endpoint redirects straight back with code and state, for
 * the identity given as JSON in the test-only `fake_identity` query parameter (a test that drives
 * the flow by hand adds it), else for the default identity (`setIdentity`, or the start option).
 * An identity with `deny: true` comes back as error=access_denied, one with `badCode: true` gets a
 * code the token endpoint then refuses.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface FakeIdentity {
  /** GitHub's numeric user id, or Google's `sub`. */
  id: number | string;
  /** GitHub login; defaults to "user<id>". */
  login?: string;
  name?: string | null;
  /** GitHub's primary email, Google's `email` claim; null: none shared. */
  email: string | null;
  /** Defaults to true. */
  emailVerified?: boolean;
  /** The user refuses consent. */
  deny?: boolean;
  /** The code issued is refused by the token endpoint (expired, revoked, ...). */
  badCode?: boolean;
  /** Merged over the Google ID token's claims (use undefined to drop one). */
  idTokenClaims?: Record<string, unknown>;
}

export interface FakeClient {
  id: string;
  secret: string;
}

export interface FakeOAuthRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: Record<string, string>;
}

export interface FakeOAuthProvider {
  url: string;
  clients: { github: FakeClient; google: FakeClient };
  /** App environment that turns both providers on and points them here. */
  env: Record<string, string>;
  /** Every request received, oldest first. */
  requests: FakeOAuthRequest[];
  setIdentity(identity: FakeIdentity): void;
  close(): Promise<void>;
}

type Provider = "github" | "google";

interface Grant {
  provider: Provider;
  identity: FakeIdentity;
  clientId: string;
  redirectUri: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  scope: string;
}

export async function startFakeOAuthProvider(
  options: { identity?: FakeIdentity; host?: string; port?: number } = {},
): Promise<FakeOAuthProvider> {
  const host = options.host ?? "127.0.0.1";
  const clients = {
    github: { id: "fake-github-client", secret: `github-secret-${randomBytes(8).toString("hex")}` },
    google: {
      id: "fake-google-client.apps.googleusercontent.com",
      secret: `google-secret-${randomBytes(8).toString("hex")}`,
    },
  };
  let defaultIdentity: FakeIdentity = options.identity ?? {
    id: 1,
    login: "octocat",
    name: "The Octocat",
    email: "octocat@example.com",
  };
  const codes = new Map<string, Grant>();
  const accessTokens = new Map<string, Grant>();
  const requests: FakeOAuthRequest[] = [];
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyId = randomBytes(8).toString("hex");
  let baseUrl = "";

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: "fake_provider_error", message: String(error) });
      else res.destroy();
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", baseUrl);
    const body = req.method === "POST" ? Object.fromEntries(new URLSearchParams(await readBody(req))) : {};
    requests.push({
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    });
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case "GET /github/login/oauth/authorize":
        return authorize(url, res, "github");
      case "POST /github/login/oauth/access_token":
        return githubToken(req, body, res);
      case "GET /github-api/user":
        return githubUser(req, res);
      case "GET /github-api/user/emails":
        return githubEmails(req, res);
      case "GET /google/o/oauth2/v2/auth":
        return authorize(url, res, "google");
      case "POST /google/token":
        return googleToken(req, body, res);
      case "GET /google/oauth2/v3/certs":
        return json(res, 200, {
          keys: [{ ...publicKey.export({ format: "jwk" }), kid: keyId, alg: "RS256", use: "sig" }],
        });
      default:
        return json(res, 404, { message: "Not Found" });
    }
  }

  function authorize(url: URL, res: ServerResponse, provider: Provider) {
    const query = url.searchParams;
    const clientId = query.get("client_id");
    const redirectUri = query.get("redirect_uri");
    if (clientId !== clients[provider].id || !redirectUri || query.get("response_type") !== "code") {
      // Both providers show an error page here rather than redirecting to an unverified redirect URI.
      res
        .writeHead(400, { "Content-Type": "text/plain" })
        .end("invalid_request: unknown client or bad request");
      return;
    }
    const identityParam = query.get("fake_identity");
    const identity: FakeIdentity = identityParam ? JSON.parse(identityParam) : defaultIdentity;
    const back = new URL(redirectUri);
    const state = query.get("state");
    if (identity.deny) {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "The user has denied your application access.");
    } else {
      const code = randomBytes(10).toString("hex");
      codes.set(code, {
        provider,
        identity,
        clientId,
        redirectUri,
        codeChallenge: query.get("code_challenge") ?? undefined,
        codeChallengeMethod: query.get("code_challenge_method") ?? undefined,
        scope: query.get("scope") ?? "",
      });
      back.searchParams.set("code", identity.badCode ? `bad-${code}` : code);
    }
    if (state !== null) back.searchParams.set("state", state);
    res.writeHead(302, { Location: back.toString() }).end();
  }

  /** Checks client authentication and the code; returns the grant or an OAuth error code. */
  function redeem(
    req: IncomingMessage,
    body: Record<string, string>,
    provider: Provider,
  ): { error: string } | { grant: Grant } {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const [clientId, clientSecret] = basic
      ? Buffer.from(basic, "base64").toString("utf8").split(/:(.*)/s)
      : [body.client_id, body.client_secret];
    if (clientId !== clients[provider].id || clientSecret !== clients[provider].secret)
      return { error: "invalid_client" };
    if (body.grant_type !== "authorization_code") return { error: "unsupported_grant_type" };
    const grant = codes.get(body.code ?? "");
    codes.delete(body.code ?? ""); // one use only, even when the rest of the request is wrong
    if (!grant || grant.provider !== provider || grant.clientId !== clientId)
      return { error: "invalid_grant" };
    if (body.redirect_uri !== grant.redirectUri) return { error: "redirect_uri_mismatch" };
    if (grant.codeChallenge) {
      const verifier = body.code_verifier ?? "";
      const expected =
        grant.codeChallengeMethod === "S256"
          ? createHash("sha256").update(verifier).digest("base64url")
          : verifier;
      if (expected !== grant.codeChallenge) return { error: "invalid_grant" };
    }
    return { grant };
  }

  function githubToken(req: IncomingMessage, body: Record<string, string>, res: ServerResponse) {
    const result = redeem(req, body, "github");
    const wantsJson = (req.headers.accept ?? "").includes("application/json");
    // GitHub reports token errors with status 200, and form-encodes unless asked for JSON.
    const reply = (payload: Record<string, string>) =>
      wantsJson
        ? json(res, 200, payload)
        : res
            .writeHead(200, { "Content-Type": "application/x-www-form-urlencoded" })
            .end(new URLSearchParams(payload).toString());
    if ("error" in result) {
      const githubCodes: Record<string, string> = {
        invalid_client: "incorrect_client_credentials",
        redirect_uri_mismatch: "redirect_uri_mismatch",
      };
      return reply({
        error: githubCodes[result.error] ?? "bad_verification_code",
        error_description: "The code passed is incorrect or expired.",
        error_uri:
          "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/",
      });
    }
    const token = `gho_${randomBytes(18).toString("hex")}`;
    accessTokens.set(token, result.grant);
    reply({ access_token: token, token_type: "bearer", scope: result.grant.scope.replaceAll(" ", ",") });
  }

  function githubGrant(req: IncomingMessage, res: ServerResponse) {
    const token = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const grant = accessTokens.get(token);
    if (grant?.provider !== "github") {
      json(res, 401, {
        message: "Bad credentials",
        documentation_url: "https://docs.github.com/rest",
        status: "401",
      });
      return null;
    }
    return grant;
  }

  function githubUser(req: IncomingMessage, res: ServerResponse) {
    const grant = githubGrant(req, res);
    if (!grant) return;
    const { id, login, name } = grant.identity;
    json(res, 200, {
      login: login ?? `user${id}`,
      id: Number(id),
      node_id: `U_${Buffer.from(String(id)).toString("base64url")}`,
      type: "User",
      name: name ?? null,
      email: null, // the public email; private by default
    });
  }

  function githubEmails(req: IncomingMessage, res: ServerResponse) {
    const grant = githubGrant(req, res);
    if (!grant) return;
    if (!grant.scope.split(/[ ,]/).includes("user:email")) {
      json(res, 404, {
        message: "Not Found",
        documentation_url: "https://docs.github.com/rest",
        status: "404",
      });
      return;
    }
    const { email, emailVerified = true } = grant.identity;
    json(res, 200, email ? [{ email, primary: true, verified: emailVerified, visibility: "private" }] : []);
  }

  function googleToken(req: IncomingMessage, body: Record<string, string>, res: ServerResponse) {
    const result = redeem(req, body, "google");
    if ("error" in result) {
      if (result.error === "invalid_client")
        return json(res, 401, {
          error: "invalid_client",
          error_description: "The OAuth client was not found.",
        });
      return json(res, 400, { error: result.error, error_description: "Bad Request" });
    }
    const { grant } = result;
    const now = Math.floor(Date.now() / 1000);
    const { id, email, emailVerified = true, name } = grant.identity;
    const claims: Record<string, unknown> = {
      iss: `${baseUrl}/google`,
      azp: grant.clientId,
      aud: grant.clientId,
      sub: String(id),
      ...(email ? { email, email_verified: emailVerified } : {}),
      ...(name ? { name } : {}),
      iat: now,
      exp: now + 3600,
      ...grant.identity.idTokenClaims,
    };
    json(res, 200, {
      access_token: `ya29.${randomBytes(24).toString("base64url")}`,
      expires_in: 3599,
      scope: grant.scope,
      token_type: "Bearer",
      id_token: signJwt(claims),
    });
  }

  function signJwt(claims: Record<string, unknown>) {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const input = `${encode({ alg: "RS256", kid: keyId, typ: "JWT" })}.${encode(claims)}`;
    return `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  baseUrl = `http://${host}:${port}`;

  return {
    url: baseUrl,
    clients,
    env: {
      GITHUB_CLIENT_ID: clients.github.id,
      GITHUB_CLIENT_SECRET: clients.github.secret,
      GITHUB_URL: `${baseUrl}/github`,
      GITHUB_API_URL: `${baseUrl}/github-api`,
      GOOGLE_CLIENT_ID: clients.google.id,
      GOOGLE_CLIENT_SECRET: clients.google.secret,
      GOOGLE_ISSUER: `${baseUrl}/google`,
      GOOGLE_AUTHORIZATION_URL: `${baseUrl}/google/o/oauth2/v2/auth`,
      GOOGLE_TOKEN_URL: `${baseUrl}/google/token`,
    },
    requests,
    setIdentity(identity) {
      defaultIdentity = identity;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, payload: unknown) {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify(payload));
}

async function readBody(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
