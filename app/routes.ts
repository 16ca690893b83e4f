import { index, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  route("signup", "routes/auth/signup.tsx"),
  route("login", "routes/auth/login.tsx"),
  route("logout", "routes/auth/logout.ts"),
  route("auth/:provider", "routes/auth/oauth.tsx"),
  route("auth/:provider/callback", "routes/auth/oauth-callback.tsx"),
  route("settings", "routes/settings/account.tsx"),
  route("settings/chat", "routes/settings/chat.tsx"),
  route("settings/keys", "routes/settings/keys.tsx"),
  route("settings/usage", "routes/settings/usage.tsx"),
  route("dashboard/keys", "routes/settings/dashboard-keys.ts"),
  route("chat", "routes/chat/layout.tsx", [
    index("routes/chat/new.tsx"),
    route(":chatId", "routes/chat/chat.tsx"),
  ]),
  route("chat/:chatId/live/:messageId", "routes/chat/live.ts"),
  route("theme", "routes/theme.ts"),
  route("docs/api", "routes/docs/api.tsx"),
  route("api/health", "routes/api/health.ts"),
  route("api/v1/openapi.json", "routes/api/v1/openapi.ts"),
  route("api/v1/me", "routes/api/v1/me.ts"),
  route("api/v1/chat/completions", "routes/api/v1/chat-completions.ts"),
  route("api/v1/models", "routes/api/v1/models.ts"),
  // A splat, so model ids containing "/" (sent as %2F) match whether or not the path is decoded.
  route("api/v1/models/*", "routes/api/v1/model.ts"),
  route("api/v1/embeddings", "routes/api/v1/embeddings.ts"),
  route("api/v1/*", "routes/api/v1/not-found.ts"),
  route("*", "routes/not-found.tsx"),
] satisfies RouteConfig;
