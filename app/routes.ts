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
  route("chat", "routes/chat/layout.tsx", [
    index("routes/chat/new.tsx"),
    route(":chatId", "routes/chat/chat.tsx"),
  ]),
  route("chat/:chatId/live/:messageId", "routes/chat/live.ts"),
  route("theme", "routes/theme.ts"),
  route("docs/api", "routes/docs/api.tsx"),
  route("api/health", "routes/api/health.ts"),
  route("api/v1/openapi.json", "routes/api/v1/openapi.ts"),
  route("api/v1/*", "routes/api/v1/not-found.ts"),
  route("*", "routes/not-found.tsx"),
] satisfies RouteConfig;
